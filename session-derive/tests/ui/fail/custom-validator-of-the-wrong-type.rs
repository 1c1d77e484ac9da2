use session_runtime::Session;

fn short(value: &str) -> Result<(), String> {
    if value.len() < 10 { Ok(()) } else { Err("too long".into()) }
}

#[derive(Session)]
#[session(backend = "memory")]
struct Shop {
    // `short` takes `&str`, the field is an `Option<String>`.
    #[session(custom = short)]
    nickname: Option<String>,
}

fn main() {}
