//! The enums declared in a spec (standalone mode): unit variants stored as their keys.

use proc_macro2::TokenStream;
use quote::quote;

use super::context::{GenCtxt, doc_attrs, ident};
use crate::ir::{EnumDef, Schema};

/// Every enum of the schema, in declaration order.
pub(crate) fn expand(cx: &mut GenCtxt, schema: &Schema) -> TokenStream {
    schema.enums.iter().map(|e| one(cx, e)).collect()
}

fn one(cx: &mut GenCtxt, def: &EnumDef) -> TokenStream {
    let Some(name) = ident(&def.name) else {
        cx.error(format!(
            "the enum name `{}` is not a valid Rust identifier",
            def.name
        ));
        return TokenStream::new();
    };
    let mut variants = Vec::new();
    let mut paths = Vec::new();
    let mut arms = Vec::new();
    let mut keys = Vec::new();
    let mut from_key = Vec::new();
    for v in &def.variants {
        let Some(vname) = ident(&v.name) else {
            cx.error(format!(
                "the variant `{}` of enum `{}` is not a valid Rust identifier",
                v.name, def.name
            ));
            continue;
        };
        let key = &v.key;
        let doc = doc_attrs(&format!("Stored as `\"{key}\"`."));
        variants.push(quote! {
            #doc
            #vname
        });
        keys.push(key);
        from_key.push(quote!(#key => ::core::result::Result::Ok(#name::#vname)));
        paths.push(quote!(#name::#vname));
        arms.push(quote!(#name::#vname => #key));
    }
    let doc = match &def.doc {
        Some(d) => doc_attrs(d),
        None => doc_attrs(&format!("The `{}` enum of the session spec.", def.name)),
    };
    let serde = quote!(::session_runtime::__private::serde);
    let expecting = format!(
        "one of {}",
        keys.iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // The serde impls are written out rather than derived: serde's derive output names
    // `str` and other primitives unqualified, which local items could shadow.
    quote! {
        #doc
        #[allow(dead_code)]
        #[derive(
            ::core::clone::Clone,
            ::core::marker::Copy,
            ::core::fmt::Debug,
            ::core::cmp::PartialEq,
            ::core::cmp::Eq,
            ::core::hash::Hash,
            ::core::cmp::PartialOrd,
            ::core::cmp::Ord,
        )]
        pub enum #name {
            #(#variants,)*
        }

        #[allow(dead_code)]
        impl #name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [#name] = &[#(#paths),*];

            /// The name the variant is stored as.
            #[must_use]
            pub const fn as_str(self) -> &'static ::core::primitive::str {
                match self {
                    #(#arms,)*
                }
            }
        }

        #[automatically_derived]
        impl ::core::fmt::Display for #name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        const _: () = {
            #[automatically_derived]
            impl #serde::Serialize for #name {
                fn serialize<S>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error>
                where
                    S: #serde::Serializer,
                {
                    serializer.serialize_str(self.as_str())
                }
            }

            #[automatically_derived]
            impl<'de> #serde::Deserialize<'de> for #name {
                fn deserialize<D>(deserializer: D) -> ::core::result::Result<Self, D::Error>
                where
                    D: #serde::Deserializer<'de>,
                {
                    struct __SessionSpecVisitor;

                    #[automatically_derived]
                    impl #serde::de::Visitor<'_> for __SessionSpecVisitor {
                        type Value = #name;

                        fn expecting(
                            &self,
                            f: &mut ::core::fmt::Formatter<'_>,
                        ) -> ::core::fmt::Result {
                            f.write_str(#expecting)
                        }

                        fn visit_str<E>(
                            self,
                            value: &::core::primitive::str,
                        ) -> ::core::result::Result<#name, E>
                        where
                            E: #serde::de::Error,
                        {
                            match value {
                                #(#from_key,)*
                                _ => ::core::result::Result::Err(E::unknown_variant(
                                    value,
                                    &[#(#keys),*],
                                )),
                            }
                        }
                    }

                    deserializer.deserialize_str(__SessionSpecVisitor)
                }
            }
        };
    }
}
