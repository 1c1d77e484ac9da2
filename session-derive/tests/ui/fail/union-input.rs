use session_runtime::Session;

#[derive(Session)]
union Shop {
    visits: u32,
    flags: u32,
}

fn main() {}
