//! Type tokens: IR types to fully qualified Rust types, resolved against the schema's enums
//! and the generation mode.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};

use super::context::{GenCtxt, Mode, ident};
use crate::ir::{EnumDef, FieldType, Schema};

/// Resolves types against the schema (spec enums) and the mode.
pub(crate) struct Types<'a> {
    pub(crate) schema: &'a Schema,
    pub(crate) mode: Mode,
}

impl Types<'_> {
    /// The spec enum a type refers to (standalone mode only; the derive refers to user
    /// enums by path).
    pub(crate) fn spec_enum(&self, name: &str) -> Option<&EnumDef> {
        match self.mode {
            Mode::Standalone => self.schema.enums.iter().find(|e| e.name == name),
            Mode::Derive => None,
        }
    }

    /// The Rust type of `ty`, fully qualified.
    pub(crate) fn rust_type(&self, cx: &mut GenCtxt, ty: &FieldType) -> Option<TokenStream> {
        Some(match ty {
            FieldType::Bool => quote!(::core::primitive::bool),
            FieldType::Int(i) => {
                let i = ident(i.as_str())?;
                quote!(::core::primitive::#i)
            }
            FieldType::Float(f) => {
                let f = ident(f.as_str())?;
                quote!(::core::primitive::#f)
            }
            FieldType::String => quote!(::std::string::String),
            FieldType::Option(t) => {
                let t = self.rust_type(cx, t)?;
                quote!(::core::option::Option<#t>)
            }
            FieldType::Vec(t) => {
                let t = self.rust_type(cx, t)?;
                quote!(::std::vec::Vec<#t>)
            }
            FieldType::Map(t) => {
                let t = self.rust_type(cx, t)?;
                quote!(::std::collections::BTreeMap<::std::string::String, #t>)
            }
            FieldType::Set(t) => {
                let t = self.rust_type(cx, t)?;
                quote!(::std::collections::BTreeSet<#t>)
            }
            FieldType::Enum(name) if self.mode == Mode::Standalone => {
                if self.spec_enum(name).is_none() {
                    cx.error(format!("unknown enum `{name}`: declare it under `[enums]`"));
                    return None;
                }
                match ident(name) {
                    Some(i) => i.into_token_stream(),
                    None => {
                        cx.error(format!(
                            "the enum name `{name}` is not a valid Rust identifier"
                        ));
                        return None;
                    }
                }
            }
            FieldType::Enum(path) | FieldType::Path(path) => {
                match syn::parse_str::<syn::Type>(path) {
                    Ok(t) => t.into_token_stream(),
                    Err(_) => {
                        cx.error(format!("`{path}` is not a Rust type"));
                        return None;
                    }
                }
            }
        })
    }
}
