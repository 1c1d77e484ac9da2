use session_runtime::Session;

#[derive(Session)]
struct Shop {
    #[session(one_of = ["EUR", 840])]
    currency: String,
}

fn main() {}
