//! The extension trait `ShopExt`, implemented for `::session_runtime::Session<Shop>`: per
//! field a getter, a validating setter, a remover, collection helpers, and `validate()`.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::context::doc_attrs;
use super::field::{DefaultKind, FieldCx};
use crate::ir::FieldType;

/// The trait declaration (nameable, outside the `const _` block) and its impl.
pub(crate) fn expand(
    vis: &TokenStream,
    name: &Ident,
    fields: &[FieldCx<'_>],
) -> (TokenStream, TokenStream) {
    let ext = format_ident!("{}Ext", name);
    let session = quote!(::session_runtime::Session<#name>);
    let mut decls = Vec::new();
    let mut impls = Vec::new();
    for f in fields {
        for (docs, sig, body) in field_methods(name, &ext, f) {
            impls.push(quote!(#sig #body));
            decls.push(quote!(#docs #sig;));
        }
    }
    let vdoc = doc_attrs(
        "Checks every stored field against its type and rules and returns every error at \
         once.\n\n# Errors\nOne [`ValidationError`](session_runtime::ValidationError) per \
         field that is of the wrong type or breaks a rule.",
    );
    let validate_sig = quote! {
        fn validate(&self) -> ::core::result::Result<(), ::session_runtime::ValidationErrors>
    };
    let tdoc = doc_attrs(&format!(
        "Typed accessors of the [`{name}`] session, implemented for \
         [`Session<{name}>`](struct@session_runtime::Session).\n\nBring the trait into scope \
         (`use ...::{ext};`) to call them on a session handle."
    ));
    let decl = quote! {
        #tdoc
        #[allow(dead_code)]
        #vis trait #ext {
            #(#decls)*
            #vdoc
            #validate_sig;
        }
    };
    let imp = quote! {
        #[automatically_derived]
        impl #ext for #session {
            #(#impls)*
            #validate_sig {
                // Inherent methods by path: a field's accessor cannot shadow them.
                let mut data = ::session_runtime::Session::get_all(self);
                <#name as ::session_runtime::SessionSchema>::upgrade(&mut data)
            }
        }
    };
    (decl, imp)
}

/// `(docs, signature, body)` of each method of one field.
fn field_methods(
    name: &Ident,
    ext: &Ident,
    f: &FieldCx<'_>,
) -> Vec<(TokenStream, TokenStream, TokenStream)> {
    let private = quote!(::session_runtime::__private);
    let result = quote!(::core::result::Result<(), ::session_runtime::ValidationError>);
    let plain = &f.plain;
    let getter = &f.ident;
    let key = &f.key_const;
    let validator = &f.validator;
    let field = f.field.name.as_str();
    let ty = &f.ty;
    let user_doc = f.field.doc.as_deref().map(doc_attrs).unwrap_or_default();
    let sep = if f.field.doc.is_some() {
        doc_attrs("\n")
    } else {
        TokenStream::new()
    };
    let mut out = Vec::new();

    // Getter.
    let slot = quote!(|d: &mut __SessionData| &mut d.#getter);
    let get = quote!(#private::field::<#name, #ty>(self, #name::#key, #slot));
    let (ret, body, how) = match (&f.default, f.field.ty.value.is_option()) {
        (Some(default), _) => (
            quote!(#ty),
            // The form clippy expects for each kind of default.
            match &f.default_kind {
                DefaultKind::TypeDefault => quote!(#get.unwrap_or_default()),
                DefaultKind::Constant => quote!(#get.unwrap_or(#default)),
                DefaultKind::Computed => quote!(#get.unwrap_or_else(|| #default)),
            },
            "The stored value, or the field's default when the session holds none.",
        ),
        (None, true) => (
            quote!(#ty),
            quote!(#get.flatten()),
            "The stored value; `None` when the session holds none.",
        ),
        (None, false) => (
            quote!(::core::option::Option<#ty>),
            quote!(#get),
            "The stored value; `None` when the session holds none.",
        ),
    };
    let gdoc = doc_attrs(&format!(
        "{how} A stored value of the wrong type reads as absent."
    ));
    out.push((
        quote!(#user_doc #sep #gdoc),
        quote! {
            fn #getter(&self) -> #ret
        },
        quote!({ #body }),
    ));

    // Setter.
    let set = format_ident!("set_{}", plain);
    let sdoc = doc_attrs(&format!(
        "Validates `value` with [`{name}::{validator}`] and stores it; a refused value leaves \
         the session unchanged.\n\n# Errors\nThe first rule `value` breaks."
    ));
    out.push((
        quote!(#user_doc #sep #sdoc),
        quote! {
            fn #set(&self, value: #ty) -> #result
        },
        if holds_user_type(&f.field.ty.value) {
            // A user type may not be representable as JSON (a map with non-string keys):
            // refused here, as a `type` error, rather than at commit.
            quote!({
                #name::#validator(&value)?;
                #private::encode(#field, &value)?;
                #private::set_field(self, #name::#key, #slot, value);
                ::core::result::Result::Ok(())
            })
        } else {
            quote!({
                #name::#validator(&value)?;
                #private::set_field(self, #name::#key, #slot, value);
                ::core::result::Result::Ok(())
            })
        },
    ));

    // Remover.
    let remove = format_ident!("remove_{}", plain);
    let rdoc = doc_attrs(&if f.default.is_some() {
        format!(
            "Removes the stored `{plain}`; returns whether one was present. The getter then \
             returns the default again."
        )
    } else {
        format!("Removes the stored `{plain}`; returns whether one was present.")
    });
    out.push((
        quote!(#rdoc),
        quote! {
            fn #remove(&self) -> ::core::primitive::bool
        },
        quote!({ #private::remove_field(self, #name::#key, #slot) }),
    ));

    // The current collection, for the helpers: the getter's value, empty when unset.
    // In a helper's update closure (`s`: the data the step runs on, now or on replay).
    let current = if f.getter_is_total() {
        quote!(<Self as #ext>::#getter(s))
    } else {
        quote!(<Self as #ext>::#getter(s).unwrap_or_default())
    };
    let clear = format_ident!("clear_{}", plain);
    let one = OneElement {
        private: &private,
        ext,
        set: &set,
        current: &current,
    };
    match &f.field.ty.value {
        FieldType::Vec(_) => {
            let push = format_ident!("push_{}", plain);
            let item_ty = &f.item_ty;
            let pdoc = doc_attrs(&format!(
                "Appends `item` to `{plain}`, validating the new list (`max_items`, item \
                 rules, custom validator) before storing it.\n\n# Errors\nThe first rule the \
                 new list breaks; the session is left unchanged."
            ));
            out.push((
                quote!(#pdoc),
                quote! {
                    fn #push(&self, item: #item_ty) -> #result
                },
                // One operation, replayed on top of concurrent requests' changes.
                quote!({
                    #private::update(self, move |s: &Self| {
                        let mut value = #current;
                        value.push(::core::clone::Clone::clone(&item));
                        <Self as #ext>::#set(s, value)
                    })
                }),
            ));
        }
        FieldType::Set(_) => {
            let insert = format_ident!("insert_{}", plain);
            let remove_item = format_ident!("remove_{}_item", plain);
            let contains = format_ident!("contains_{}", plain);
            let item_ty = &f.item_ty;
            // A set of strings is looked up by `&str` (`BTreeSet<String>: Borrow<str>`); any
            // other item by reference (clippy's `ptr_arg` allowed for `Vec` items).
            let (item_ref, allow) = match &f.field.ty.value {
                FieldType::Set(item) if **item == FieldType::String => {
                    (quote!(&::core::primitive::str), TokenStream::new())
                }
                _ => (quote!(&#item_ty), quote!(#[allow(clippy::ptr_arg)])),
            };
            let idoc = doc_attrs(&format!(
                "Adds `item` to `{plain}`, validating the new set (`max_items`, item rules, \
                 custom validator) before storing it; `Ok(false)` when it was there \
                 already.\n\n# Errors\nThe first rule the new set breaks; the session is \
                 left unchanged."
            ));
            out.push((
                quote!(#idoc),
                quote! {
                    fn #insert(
                        &self,
                        item: #item_ty,
                    ) -> ::core::result::Result<::core::primitive::bool, ::session_runtime::ValidationError>
                },
                one.body(
                    quote!(contains(&item)),
                    quote!(present),
                    TokenStream::new(),
                    "set",
                    quote!(!set.insert(::core::clone::Clone::clone(&item))),
                ),
            ));
            let rdoc = doc_attrs(&format!(
                "Removes `item` from `{plain}`; `Ok(false)` when it was not there.\n\n\
                 # Errors\nThe custom validator refuses the smaller set."
            ));
            out.push((
                quote!(#rdoc),
                quote! {
                    #allow
                    fn #remove_item(
                        &self,
                        item: #item_ref,
                    ) -> ::core::result::Result<::core::primitive::bool, ::session_runtime::ValidationError>
                },
                one.body(
                    quote!(contains(item)),
                    quote!(!present),
                    quote!(let item: #item_ty = ::std::borrow::ToOwned::to_owned(item);),
                    "set",
                    quote!(!set.remove(&item)),
                ),
            ));
            let kdoc = doc_attrs(&format!("Whether `{plain}` holds `item`."));
            out.push((
                quote!(#kdoc),
                quote! {
                    #allow
                    fn #contains(&self, item: #item_ref) -> ::core::primitive::bool
                },
                quote!({
                    let s = self;
                    #current.contains(item)
                }),
            ));
        }
        FieldType::Map(_) => {
            let insert = format_ident!("insert_{}", plain);
            let remove_entry = format_ident!("remove_{}_entry", plain);
            let item_ty = &f.item_ty;
            let idoc = doc_attrs(&format!(
                "Inserts `value` under `key` in `{plain}`, validating the new map \
                 (`max_items`, value rules, custom validator) before storing it.\n\n# Errors\n\
                 The first rule the new map breaks; the session is left unchanged."
            ));
            out.push((
                quote!(#idoc),
                quote! {
                    fn #insert(&self, key: ::std::string::String, value: #item_ty) -> #result
                },
                quote!({
                    #private::update(self, move |s: &Self| {
                        let mut map = #current;
                        map.insert(
                            ::core::clone::Clone::clone(&key),
                            ::core::clone::Clone::clone(&value),
                        );
                        <Self as #ext>::#set(s, map)
                    })
                }),
            ));
            let edoc = doc_attrs(&format!(
                "Removes the entry under `key` from `{plain}`; `Ok(false)` when there was \
                 none.\n\n# Errors\nThe custom validator refuses the smaller map."
            ));
            out.push((
                quote!(#edoc),
                quote! {
                    fn #remove_entry(
                        &self,
                        key: &::core::primitive::str,
                    ) -> ::core::result::Result<::core::primitive::bool, ::session_runtime::ValidationError>
                },
                one.body(
                    quote!(contains_key(key)),
                    quote!(!present),
                    quote!(let key = <::std::string::String as ::core::convert::From<&::core::primitive::str>>::from(key);),
                    "map",
                    quote!(map.remove(key.as_str()).is_none()),
                ),
            ));
        }
        _ => {}
    }
    let empty = match &f.field.ty.value {
        FieldType::Vec(_) => Some(("list", quote!(::std::vec::Vec::new()))),
        FieldType::Set(_) => Some(("set", quote!(::std::collections::BTreeSet::new()))),
        FieldType::Map(_) => Some(("map", quote!(::std::collections::BTreeMap::new()))),
        _ => None,
    };
    if let Some((noun, empty)) = empty {
        let cdoc = doc_attrs(&format!(
            "Stores an empty `{plain}` (unlike `remove_{plain}`, which brings back the \
             default).\n\n# Errors\nThe custom validator refuses an empty {noun}."
        ));
        out.push((
            quote!(#cdoc),
            quote! {
                fn #clear(&self) -> #result
            },
            quote!({ <Self as #ext>::#set(self, #empty) }),
        ));
    }
    out
}

/// The body of a helper that changes one element of a collection (`insert_*`,
/// `remove_*_item`, `remove_*_entry`): `Ok(false)` without a write when `skip` holds of
/// the current collection (`present`), else one update replayed on top of concurrent
/// requests' changes, which stores nothing when `unchanged` holds after the change.
struct OneElement<'a> {
    private: &'a TokenStream,
    ext: &'a Ident,
    set: &'a Ident,
    current: &'a TokenStream,
}

impl OneElement<'_> {
    fn body(
        &self,
        lookup: TokenStream,
        skip: TokenStream,
        owned: TokenStream,
        var: &str,
        unchanged: TokenStream,
    ) -> TokenStream {
        let Self {
            private,
            ext,
            set,
            current,
        } = self;
        let var = format_ident!("{}", var);
        quote!({
            let present =
                ::session_runtime::Session::untracked(self, |s| #current.#lookup);
            if #skip {
                return ::core::result::Result::Ok(false);
            }
            #owned
            #private::update(self, move |s: &Self| {
                let mut #var = #current;
                if #unchanged {
                    return ::core::result::Result::Ok(());
                }
                <Self as #ext>::#set(s, #var)
            })?;
            ::core::result::Result::Ok(true)
        })
    }
}

/// The type holds a user type by path somewhere (`Vec<my::Point>`).
fn holds_user_type(ty: &FieldType) -> bool {
    match ty {
        FieldType::Path(_) => true,
        FieldType::Option(t) | FieldType::Vec(t) | FieldType::Set(t) | FieldType::Map(t) => {
            holds_user_type(t)
        }
        _ => false,
    }
}
