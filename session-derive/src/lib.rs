//! `#[derive(Session)]`: the proc-macro entry point. All logic lives in `session-spec`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use proc_macro::TokenStream;

/// Declares a session on a struct; see the `session-runtime` reference.
#[proc_macro_derive(Session, attributes(session))]
pub fn derive_session(input: TokenStream) -> TokenStream {
    let _ = input;
    TokenStream::new()
}
