// The warnings a TOML user sees, made errors here with `deny`: `secure = false`,
// `same_site = "none"`... and a field whose size the cookie budget cannot bound.
#![deny(deprecated)]

use session_runtime::Session;

#[derive(Session)]
#[session(secure = false, http_only = false, cookie_mode = "signed")]
struct Shop {
    #[session(sensitive, max_length = 64)]
    token: Option<String>,
    note: Option<String>,
}

fn main() {}
