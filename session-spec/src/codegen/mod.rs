//! The code generator: one [`Schema`] in, Rust source out.
//!
//! Both front-ends end here: a `session.toml` spec (through the build-script API,
//! [`Mode::Standalone`]) and `#[derive(Session)]` ([`Mode::Derive`]). The output talks to
//! the runtime only through `::session_runtime` paths, fully qualified, so it compiles next
//! to local items named `Option`, `Result`, `String` or `Some`.
//!
//! # The generated API
//!
//! For a schema named `Shop` with a field `username: String` (`max_length = 64`) and a
//! field `cart: Vec<String>` (`default = []`, `max_items = 50`), the generator emits:
//!
//! ```text
//! /// The `Shop` session type: a marker naming the schema (standalone mode only;
//! /// `#[derive(Session)]` uses the user's struct instead).
//! #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
//! pub struct Shop;
//!
//! impl Shop {
//!     pub const KEY_USERNAME: &'static str = "username";   // the storage key
//!     pub const KEY_CART: &'static str = "cart";
//!     pub fn validate_username(value: &String) -> Result<(), ValidationError>;
//!     pub fn validate_cart(value: &Vec<String>) -> Result<(), ValidationError>;
//! }
//!
//! impl session_runtime::SessionSchema for Shop { /* NAME, VERSION, KEYS, SENSITIVE,
//!                                                   settings(), upgrade() */ }
//!
//! pub trait ShopExt {                     // implemented for `Session<Shop>`
//!     fn username(&self) -> Option<String>;            // no default: `None` when unset
//!     fn set_username(&self, value: String) -> Result<(), ValidationError>;
//!     fn remove_username(&self) -> bool;
//!     fn cart(&self) -> Vec<String>;                    // has a default: never `None`
//!     fn set_cart(&self, value: Vec<String>) -> Result<(), ValidationError>;
//!     fn remove_cart(&self) -> bool;
//!     fn push_cart(&self, item: String) -> Result<(), ValidationError>;
//!     fn clear_cart(&self) -> Result<(), ValidationError>;
//!     fn validate(&self) -> Result<(), ValidationErrors>;
//! }
//! ```
//!
//! In detail:
//!
//! - **Key constants** `Shop::KEY_<FIELD>`: the storage key of each field (the field name
//!   unless the spec renamed it). They are prefixed with `KEY_` so that a field named
//!   `name` or `version` cannot shadow [`SessionSchema`]'s own constants.
//! - **Validators** `Shop::validate_<field>(&T)`: check one value against the field's rules
//!   and return the first error, which names the field and the rule. String rules apply to
//!   a `String`, to the string inside an `Option`, and to each string of a `Vec` or a map;
//!   number rules likewise; `max_items` to the (outermost) collection; `one_of` to the
//!   scalar values; a `custom` validator (`fn(&T) -> Result<(), String>`) to the whole value
//!   (it is called as `path(value)` with `value: &T`, so a validator of a `String` field may
//!   take `&str`, one of a `Vec<T>` field `&[T]`). Its path is resolved where the generated
//!   code is included; an absolute path (`crate::checks::even`) works anywhere.
//! - **Getters** `fn <field>(&self)`: the field's type `T` when the field is an `Option` or
//!   has a default (the stored value, else the default), `Option<T>` otherwise (`None` when
//!   unset). A stored value of the wrong type reads as unset. A user type by path with a
//!   literal default also reads as `Option<T>`, since the literal is only checked when the
//!   program runs.
//! - **Setters** `fn set_<field>(&self, value: T)`: validate, then store. A refused value
//!   leaves the session unchanged.
//! - **Removers** `fn remove_<field>(&self) -> bool`: drop the stored value (the getter then
//!   returns the default again); `true` when one was present.
//! - **Collections**: `Vec<T>` fields also get `push_<field>(item)` and `clear_<field>()`;
//!   map fields get `insert_<field>(key, value)`, `remove_<field>_entry(key)` and
//!   `clear_<field>()`. Each validates the whole new collection (`max_items`, item rules,
//!   custom validator) before storing it.
//! - **`validate(&self)`**: checks every stored field (type and rules) and returns every
//!   error at once.
//! - **[`SessionSchema`]**: `NAME` (the schema name), `VERSION`, `KEYS` (storage keys in
//!   declaration order), `SENSITIVE` (storage keys redacted in `Debug` and logs),
//!   `settings()` (the compiled-in policy, every field of [`Settings`](crate::Settings)
//!   written out) and `upgrade(&mut Map)`, which drops unknown keys, fills the defaults of
//!   missing fields, decodes every present field to its Rust type and runs its rules,
//!   collecting every error.
//! - **The data struct** `__SessionData` (inside an anonymous `const` block, named by
//!   `SessionSchema::Data`): one `Option<T>` per field (`None`: the session holds no
//!   value), which a session handle holds while a request runs. `SessionSchema::load`
//!   decodes a loaded map into it once, filling defaults and running every rule; the
//!   getters clone a field out of it, the setters validate and assign, the collection
//!   helpers change a copy of the field inside `Session::update` (replayed on a lost race),
//!   and the commit writes it straight into the payload (`SessionData::write`), with no
//!   JSON map in the middle. Its `SessionData::SCHEMA_NAME` is the schema's name, which a
//!   loaded record's stored name is compared with as bytes. Field types must therefore be `Clone + PartialEq + Send +
//!   Sync` besides serde's traits (user types by path included).
//! - In [`Mode::Standalone`], each enum declared in the spec becomes a Rust enum with unit
//!   variants stored as their keys (serde through the runtime's re-export), with
//!   `ALL`, `as_str()` and `Display`.
//!
//! The generated items a program may leave unused (the marker type, the extension trait,
//! the key constants and validators, a spec enum's helpers) carry `#[allow(dead_code)]`:
//! a binary that includes the code and calls only some accessors gets no warning for the
//! others. Nothing else is allowed; the code is free of warnings under `#![deny(warnings)]`
//! and clippy's default lints.
//!
//! For the derive, [`generate_tokens_with`] takes [`Options`]: the visibility of the
//! generated API (the struct's own) and the spans of the user's source, so that compiler
//! errors about user types and custom validators point at the struct.
//!
//! Doc text of the schema, its fields and enums is carried over. The output is
//! deterministic: the same schema always gives the same text.
//!
//! [`SessionSchema`]: https://docs.rs/session-runtime/latest/session_runtime/trait.SessionSchema.html
//!
//! ```
//! use session_spec::codegen::generate;
//! use session_spec::{Field, FieldType, Schema};
//!
//! let schema = Schema {
//!     fields: vec![Field {
//!         doc: Some("Who is logged in.".into()),
//!         ..Field::new("username", FieldType::String)
//!     }],
//!     ..Schema::new("Shop")
//! };
//! let code = generate(&schema);
//! assert!(code.starts_with("// @generated by session-spec; do not edit"));
//! assert!(code.contains("pub trait ShopExt"));
//! assert!(code.contains("fn set_username"));
//! assert_eq!(code, generate(&schema)); // deterministic
//! ```

mod accessors;
mod context;
mod enums;
mod field;
mod lit;
mod schema_impl;
mod settings;
mod types;
mod validators;

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::ir::{Origin, Schema};
pub use context::Mode;
use context::{GenCtxt, doc_attrs, ident};
use field::FieldCx;

/// The header of every generated file.
pub const HEADER: &str = "// @generated by session-spec; do not edit";

/// Generates the Rust tokens for `schema`.
///
/// Never panics: a schema the validator should have refused (an invalid identifier, a rule
/// that does not fit its field's type, an unknown enum) yields `compile_error!` items that
/// say what is wrong, instead of code.
pub fn generate_tokens(schema: &Schema, mode: Mode) -> TokenStream {
    generate_tokens_with(schema, mode, &Options::default())
}

/// Options of [`generate_tokens_with`], for the derive.
#[derive(Clone)]
pub struct Options<'a> {
    /// The visibility of the extension trait and of the key constants and validators
    /// (`pub` by default). The derive passes the struct's own, so that a private struct
    /// does not get a public trait that names private types.
    pub visibility: TokenStream,
    /// Maps an IR origin to the span of its source tokens (the derive front-end's span
    /// table, `|o| table.span(o)`). Tokens that come from the user's source (user types by
    /// path, custom validator paths) are then spanned there, and a compiler error about
    /// them (a type without serde's traits, a validator that does not exist) points at the
    /// user's code instead of the derive. By default no origin has a span.
    pub span_of: &'a dyn Fn(&Origin) -> Option<Span>,
}

fn no_span(_: &Origin) -> Option<Span> {
    None
}

impl Default for Options<'_> {
    fn default() -> Self {
        Self {
            visibility: quote!(pub),
            span_of: &no_span,
        }
    }
}

/// [`generate_tokens`] with [`Options`]: the visibility of the generated API and the spans
/// of the user's source.
pub fn generate_tokens_with(schema: &Schema, mode: Mode, options: &Options<'_>) -> TokenStream {
    let mut cx = GenCtxt {
        errors: Vec::new(),
        vis: options.visibility.clone(),
        span_of: options.span_of,
    };
    let body = expand(&mut cx, schema, mode);
    if cx.errors.is_empty() {
        return body;
    }
    let errors = cx.errors.iter().map(|e| {
        let msg = format!("session-spec: {e}");
        quote!(::core::compile_error!(#msg);)
    });
    // Keep the marker type so that uses of it do not cascade into more errors.
    let marker = match (mode, ident(&schema.name)) {
        (Mode::Standalone, Some(name)) => quote! {
            #[allow(missing_docs)]
            pub struct #name;
        },
        _ => TokenStream::new(),
    };
    quote!(#(#errors)* #marker)
}

/// Generates the formatted source of `schema` in [`Mode::Standalone`], with the
/// [`HEADER`] line: what the build-script API writes to `OUT_DIR`.
pub fn generate(schema: &Schema) -> String {
    let tokens = generate_tokens(schema, Mode::Standalone);
    let body = match syn::parse2::<syn::File>(tokens.clone()) {
        // One item at a time, so that top-level items are separated by a blank line.
        Ok(file) => file
            .items
            .into_iter()
            .map(|item| {
                prettyplease::unparse(&syn::File {
                    shebang: None,
                    attrs: Vec::new(),
                    items: vec![item],
                })
            })
            .collect::<Vec<_>>()
            .join("\n"),
        // Unreachable for tokens built by `quote!`, but never panic: emit them unformatted.
        Err(_) => tokens.to_string(),
    };
    format!("{HEADER}\n\n{body}")
}

fn expand(cx: &mut GenCtxt, schema: &Schema, mode: Mode) -> TokenStream {
    let Some(name) = ident(&schema.name) else {
        cx.error(format!(
            "the schema name `{}` is not a valid Rust identifier",
            schema.name
        ));
        return TokenStream::new();
    };
    let fields: Vec<FieldCx> = schema
        .fields
        .iter()
        .filter_map(|f| FieldCx::new(cx, schema, mode, f))
        .collect();
    check_collisions(cx, &fields);

    let marker = match mode {
        Mode::Standalone => marker(schema, &name),
        Mode::Derive => TokenStream::new(),
    };
    let enums = match mode {
        Mode::Standalone => enums::expand(cx, schema),
        Mode::Derive => TokenStream::new(),
    };
    let inherent = schema_impl::inherent(cx, &name, &fields);
    let schema_impl = schema_impl::session_schema(schema, &name, &fields);
    let data = schema_impl::data(&name, &fields);
    let (ext_trait, ext_impl) = accessors::expand(&cx.vis, &name, &fields);
    quote! {
        #marker
        #enums
        #ext_trait
        const _: () = {
            #inherent
            #data
            #schema_impl
            #ext_impl
        };
    }
}

fn marker(schema: &Schema, name: &Ident) -> TokenStream {
    let doc = match &schema.doc {
        Some(d) => doc_attrs(d),
        None => doc_attrs(&format!("The `{}` session.", schema.name)),
    };
    let more = doc_attrs(&format!(
        "\nA marker type naming the schema: the session handle is \
         `::session_runtime::Session<{name}>`, its typed accessors are in [`{name}Ext`]."
    ));
    quote! {
        #doc
        #more
        #[allow(dead_code)]
        #[derive(
            ::core::clone::Clone,
            ::core::marker::Copy,
            ::core::fmt::Debug,
            ::core::default::Default,
            ::core::cmp::PartialEq,
            ::core::cmp::Eq,
        )]
        pub struct #name;
    }
}

/// Two fields whose generated names clash (`a_b` and `A_B` share `KEY_A_B`), or a field
/// whose accessor is another item's name (`validate`, `push_cart` next to `cart`).
fn check_collisions(cx: &mut GenCtxt, fields: &[FieldCx<'_>]) {
    // The one table of generated names (`crate::ident`), which the validator reads too.
    let mut names: Vec<(String, &str)> = vec![("validate".into(), "the session")];
    for f in fields {
        for name in crate::ident::generated_item_names(f.field) {
            names.push((name, &f.field.name));
        }
    }
    let mut seen = std::collections::BTreeMap::new();
    for (name, owner) in names {
        if let Some(first) = seen.insert(name.clone(), owner) {
            cx.error(format!(
                "the generated item `{name}` of field `{owner}` clashes with the one of `{first}`; rename a field"
            ));
        }
    }
}
