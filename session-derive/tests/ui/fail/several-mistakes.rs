// Every mistake is reported in one compile, and nothing else: the stub implementation
// keeps the uses of `Shop` below from adding errors of their own.
use session_runtime::{Session, SessionSchema};

#[derive(Session)]
#[session(cookie_nmae = "shop", same_site = "none", secure = false)]
#[session(secret_key = "somthing-special")]
struct Shop {
    #[session(defualt, max_length = 3)]
    visits: u32,
    #[session(pattern = "(")]
    username: Option<String>,
    position: (i32, i32),
    #[session(key = "username")]
    display_name: Option<String>,
}

fn main() {
    let _session: Session<Shop> = Session::detached();
    let _ = Shop::NAME;
}
