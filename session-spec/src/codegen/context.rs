//! What every emitter shares: the generation mode, the context that collects errors and
//! knows the spans of the user's source, and identifier and doc-attribute tokens.

use proc_macro2::{Group, Ident, Span, TokenStream, TokenTree};
use quote::quote;

use crate::ir::Origin;

/// What the generator emits besides the impls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// From a TOML spec: also emit the session marker type (`pub struct Shop;`) and the
    /// enums declared in the spec.
    Standalone,
    /// From `#[derive(Session)]`: the user's struct exists already; emit only the key
    /// constants, validators, the `SessionSchema` impl and the extension trait. User types
    /// are referred to by path.
    Derive,
}

/// Errors collected while generating (each becomes a `compile_error!`), and the spans of
/// the user's source.
pub(crate) struct GenCtxt<'a> {
    pub(super) errors: Vec<String>,
    /// The visibility of the extension trait, key constants and validators.
    pub(crate) vis: TokenStream,
    pub(super) span_of: &'a dyn Fn(&Origin) -> Option<Span>,
}

impl GenCtxt<'_> {
    pub(crate) fn error(&mut self, message: String) {
        self.errors.push(message);
    }

    /// `tokens` spanned at the source of `origin`, when it is known.
    pub(crate) fn respan(&self, tokens: TokenStream, origin: &Origin) -> TokenStream {
        match (self.span_of)(origin) {
            Some(span) => respan(tokens, span),
            None => tokens,
        }
    }
}

fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|tree| match tree {
            TokenTree::Group(g) => {
                let mut group = Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                TokenTree::Group(group)
            }
            mut other => {
                other.set_span(span);
                other
            }
        })
        .collect()
}

/// `name` as an identifier: raw (`r#type`) for a keyword, `None` when it is not an ASCII
/// identifier or a keyword that cannot be raw (`self`).
pub(crate) fn ident(name: &str) -> Option<Ident> {
    let plain = name.strip_prefix("r#").unwrap_or(name);
    let ascii_ident = plain.starts_with(|c: char| c == '_' || c.is_ascii_alphabetic())
        && plain.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
        && plain != "_";
    if !ascii_ident {
        return None;
    }
    if syn::parse_str::<Ident>(plain).is_ok() {
        return Some(Ident::new(plain, Span::call_site()));
    }
    // A keyword: raw, except the ones that cannot be raw.
    match plain {
        "self" | "Self" | "super" | "crate" => None,
        _ => Some(Ident::new_raw(plain, Span::call_site())),
    }
}

/// `#[doc = "..."]` attributes, one per line, each with the leading space of `///`.
pub(crate) fn doc_attrs(text: &str) -> TokenStream {
    let lines = text.lines().map(|l| {
        let l = if l.is_empty() {
            String::new()
        } else {
            format!(" {l}")
        };
        quote!(#[doc = #l])
    });
    quote!(#(#lines)*)
}
