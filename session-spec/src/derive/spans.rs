//! The span table kept beside the IR: `Origin::Rust { index }` points into it.
//!
//! The IR stays free of compiler types (it is also built from TOML and compared in plain
//! tests); the derive front-end records, for every node it creates, the first and last
//! token of its source, so that a diagnostic from the one validator can be reported at
//! exactly those tokens.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;

use crate::ir::Origin;

/// The source tokens of every `Origin::Rust` handed out while lowering one derive input.
#[derive(Clone, Debug, Default)]
pub struct SpanTable {
    // First and last token of each recorded node.
    entries: Vec<(Span, Span)>,
}

impl SpanTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the tokens of `node` and returns the origin that points at them.
    pub fn origin<T: ToTokens + ?Sized>(&mut self, node: &T) -> Origin {
        let tokens = node.to_token_stream();
        let mut iter = tokens.into_iter();
        let first = iter.next().map_or_else(Span::call_site, |t| t.span());
        let last = iter.last().map_or(first, |t| t.span());
        self.push(first, last)
    }

    /// Records a single span.
    pub fn origin_at(&mut self, span: Span) -> Origin {
        self.push(span, span)
    }

    fn push(&mut self, first: Span, last: Span) -> Origin {
        self.entries.push((first, last));
        Origin::Rust {
            index: self.entries.len() - 1,
        }
    }

    /// The number of recorded nodes.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// An error at the tokens `origin` points to; `fallback` is used for an origin that is
    /// not in this table (made up by the toolkit, or from another front-end).
    pub fn error(
        &self,
        origin: &Origin,
        fallback: Span,
        message: impl std::fmt::Display,
    ) -> syn::Error {
        let (first, last) = match origin {
            Origin::Rust { index } => self
                .entries
                .get(*index)
                .copied()
                .unwrap_or((fallback, fallback)),
            _ => (fallback, fallback),
        };
        // `new_spanned` reports from the first to the last token it is given.
        let tokens: TokenStream = [first, last]
            .into_iter()
            .map(|span| TokenTree::Ident(proc_macro2::Ident::new("x", span)))
            .collect();
        syn::Error::new_spanned(tokens, message)
    }
}

impl SpanTable {
    /// The span of the first token `origin` points to (for the code generator's
    /// `generate_tokens_with`); `None` for an origin that is not in this table.
    pub fn span(&self, origin: &Origin) -> Option<Span> {
        match origin {
            Origin::Rust { index } => self.entries.get(*index).map(|(first, _)| *first),
            _ => None,
        }
    }
}
