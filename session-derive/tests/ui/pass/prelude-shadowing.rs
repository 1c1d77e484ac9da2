//! The derive's output uses fully qualified paths only: it compiles next to local types
//! named like the prelude's, and without the prelude at all.
#![deny(warnings)]
#![no_implicit_prelude]

extern crate session_runtime;
extern crate std;

#[allow(dead_code)]
mod shadows {
    pub struct Result;
    pub struct Option;
    pub struct Some;
    pub struct Ok;
    pub struct Err;
    pub struct String;
    pub struct Vec;
    pub struct Box;
    pub struct Default;
    pub struct None;
}
#[allow(unused_imports)]
use shadows::{Box, Default, Err, None, Ok, Option, Result, Some, String, Vec};

use session_runtime::{Session, SessionSchema};

#[derive(Session)]
#[session(cookie_name = "shadow", backend = "memory")]
struct Shadowed {
    #[session(max_length = 8, default = "anon")]
    name: ::std::string::String,
    #[session(max_items = 3, default)]
    tags: ::std::vec::Vec<::std::string::String>,
    #[session(min = 1, max = 10)]
    count: ::core::option::Option<u32>,
    #[session(default)]
    prefs: ::std::collections::BTreeMap<::std::string::String, bool>,
}

fn main() {
    let session: Session<Shadowed> = Session::detached();
    ::std::assert_eq!(session.name(), "anon");
    session.set_count(::core::option::Option::Some(3)).unwrap();
    ::std::assert_eq!(session.count(), ::core::option::Option::Some(3));
    ::std::assert!(session.set_count(::core::option::Option::Some(11)).is_err());
    ::std::assert_eq!(Shadowed::KEYS.len(), 4);
}
