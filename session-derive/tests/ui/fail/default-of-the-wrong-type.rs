use session_runtime::Session;

#[derive(Session)]
struct Shop {
    #[session(default = "ten")]
    visits: u32,
}

fn main() {}
