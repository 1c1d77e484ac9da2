use session_runtime::Session;

#[derive(Session)]
#[session(backend = "memory")]
struct Shop {
    #[session(default = "EN", max_length = 5, pattern = "[a-z]{2}(-[A-Z]{2})?")]
    locale: String,
}

fn main() {}
