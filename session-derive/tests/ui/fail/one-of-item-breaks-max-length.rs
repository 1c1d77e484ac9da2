use session_runtime::Session;

#[derive(Session)]
#[session(backend = "memory")]
struct Shop {
    #[session(default = "free", max_length = 5, one_of = ["free", "basic", "premium"])]
    plan: String,
}

fn main() {}
