//! The Rust front-end: `#[derive(Session)]` input lowered into the schema IR.
//!
//! The module is named after the cargo feature it sits behind (`derive`). The split follows
//! serde_derive's internals: `symbol` names every attribute key (the keys of the TOML spec
//! format), `ctxt` collects every error of one derive, `meta` reads the item syntax and
//! literal values (and finds duplicates), `policy` reads `backend(...)`, `keys(...)` and
//! checks for secrets, `attr` reads `#[session(...)]` with them, `lower` builds the
//! [`Schema`](crate::Schema) and runs the one validator
//! ([`crate::validate`]) on it, mapping each diagnostic back to the tokens it came from
//! through the [`SpanTable`], and `fallback` emits errors plus a stub (and turns warnings
//! into deprecation warnings) so that the user sees only the real mistakes.
//!
//! ```
//! use session_spec::derive::lower_derive_input;
//! use session_spec::FieldType;
//!
//! let lowered = lower_derive_input(&syn::parse_quote! {
//!     #[session(cookie_name = "shop", expiration_time = 30, refresh_each_request)]
//!     struct Shop {
//!         /// Signed-in user.
//!         #[session(max_length = 64)]
//!         username: Option<String>,
//!         #[session(max_items = 50, default)]
//!         cart: Vec<String>,
//!     }
//! })
//! .unwrap();
//! let schema = lowered.schema;
//! assert_eq!(schema.settings.cookie_name, "shop");
//! assert_eq!(schema.settings.expiration_time.as_seconds(), 30 * 60);
//! assert!(schema.settings.refresh_each_request);
//! assert_eq!(schema.fields[0].doc.as_deref(), Some("Signed-in user."));
//! assert_eq!(schema.fields[1].ty.value, FieldType::Vec(Box::new(FieldType::String)));
//!
//! let err = lower_derive_input(&syn::parse_quote! {
//!     struct Shop {
//!         #[session(max_lenght = 64)]
//!         username: String,
//!     }
//! })
//! .unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "unknown session field attribute `max_lenght`, did you mean `max_length`?"
//! );
//! ```

mod attr;
mod ctxt;
#[cfg(feature = "codegen")]
mod fallback;
mod lower;
mod meta;
mod policy;
mod spans;
pub(crate) mod symbol;

#[cfg(test)]
mod tests;

pub use lower::Lowered;
pub use spans::SpanTable;

/// Lowers a derive input into the IR and validates it: the entry point of the front-end.
///
/// # Errors
/// Every mistake in the input, each spanned at its tokens, combined into one error.
pub fn lower_derive_input(input: &syn::DeriveInput) -> syn::Result<Lowered> {
    lower::lower(input)
}

/// The whole derive: parse, lower, validate, then expand with the one generator
/// (`Mode::Derive`), or, on any mistake, the errors plus a stub implementation.
#[cfg(feature = "codegen")]
pub fn expand(input: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    let input: syn::DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    match lower::lower(&input) {
        Ok(lowered) => {
            // The generated API is as visible as the struct, and the user's types and
            // validator paths keep their spans, so that rustc's errors point at them.
            let table = &lowered.spans;
            let span_of = |origin: &crate::ir::Origin| table.span(origin);
            let options = crate::codegen::Options {
                visibility: quote::ToTokens::to_token_stream(&input.vis),
                span_of: &span_of,
            };
            let mut out = crate::codegen::generate_tokens_with(
                &lowered.schema,
                crate::codegen::Mode::Derive,
                &options,
            );
            out.extend(fallback::declared_fields_are_used(&input));
            for warning in &lowered.warnings {
                let span = table.span(&warning.origin).unwrap_or(input.ident.span());
                out.extend(fallback::warning(&lower::message(warning), span));
            }
            out
        }
        Err(errors) => fallback::dummy(&input, &errors),
    }
}
