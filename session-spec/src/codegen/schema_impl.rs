//! `impl Shop { KEY_* constants, validate_* }` and `impl SessionSchema for Shop`.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::quote;

use super::context::{GenCtxt, doc_attrs};
use super::field::FieldCx;
use super::settings;
use crate::ir::Schema;

/// The key constants and per-field validators, as inherent items of the session type.
pub(crate) fn inherent(cx: &mut GenCtxt, name: &Ident, fields: &[FieldCx<'_>]) -> TokenStream {
    let vis = &cx.vis;
    let items = fields.iter().map(|f| {
        let key = &f.field.key;
        let key_const = &f.key_const;
        let validator = &f.validator;
        let ty = &f.ty;
        let checks = &f.checks;
        let key_doc = doc_attrs(&format!("Storage key of the `{}` field.", f.plain));
        let mut vdoc = format!(
            "Checks a value of the `{}` field against its rules; returns the first broken rule.",
            f.plain
        );
        let rules = describe_rules(f);
        if !rules.is_empty() {
            vdoc.push_str(&format!("\n\nRules: {rules}."));
        }
        vdoc.push_str(
            "\n\n# Errors\nA [`ValidationError`](session_runtime::ValidationError) naming the \
             field and the rule.",
        );
        let vdoc = doc_attrs(&vdoc);
        let param = if checks.is_empty() {
            quote!(_value)
        } else {
            quote!(value)
        };
        // `&String` and `&Vec<T>` are what `upgrade` and custom validators (`fn(&T)`) have.
        let allow = match &f.field.ty.value {
            crate::ir::FieldType::String | crate::ir::FieldType::Vec(_) => {
                quote!(#[allow(clippy::ptr_arg)])
            }
            _ => TokenStream::new(),
        };
        quote! {
            #key_doc
            #vis const #key_const: &'static ::core::primitive::str = #key;

            #vdoc
            #allow
            #vis fn #validator(#param: &#ty) -> ::core::result::Result<(), ::session_runtime::ValidationError> {
                #checks
                ::core::result::Result::Ok(())
            }
        }
    });
    quote! {
        #[allow(dead_code)]
        impl #name {
            #(#items)*
        }
    }
}

fn describe_rules(f: &FieldCx<'_>) -> String {
    let r = &f.field.rules;
    let mut out = Vec::new();
    let num = |n: &crate::ir::Number| match n {
        crate::ir::Number::Int(i) => i.to_string(),
        crate::ir::Number::Float(x) => x.to_string(),
    };
    if let Some(v) = &r.min {
        out.push(format!("`min = {}`", num(&v.value)));
    }
    if let Some(v) = &r.max {
        out.push(format!("`max = {}`", num(&v.value)));
    }
    if let Some(v) = &r.min_length {
        out.push(format!("`min_length = {}`", v.value));
    }
    if let Some(v) = &r.max_length {
        out.push(format!("`max_length = {}`", v.value));
    }
    if let Some(v) = &r.max_items {
        out.push(format!("`max_items = {}`", v.value));
    }
    if let Some(v) = &r.max_key_length {
        out.push(format!("`max_key_length = {}`", v.value));
    }
    if let Some(v) = &r.pattern {
        out.push(format!("`pattern = {:?}`", v.value));
    }
    if let Some(v) = &r.one_of {
        let items: Vec<String> = v.value.iter().map(|v| v.to_json().to_string()).collect();
        out.push(format!("`one_of = [{}]`", items.join(", ")));
    }
    if let Some(v) = &r.custom {
        out.push(format!("`custom = {:?}`", v.value));
    }
    out.join(", ")
}

/// `impl ::session_runtime::SessionSchema for Shop`.
pub(crate) fn session_schema(schema: &Schema, name: &Ident, fields: &[FieldCx<'_>]) -> TokenStream {
    let schema_name = &schema.name;
    let version = schema.version;
    let keys = fields.iter().map(|f| &f.key_const);
    let sensitive = fields
        .iter()
        .filter(|f| f.field.sensitive)
        .map(|f| &f.key_const);
    // Written only when a field is shown: the trait's default is empty, and the output of
    // every other schema stays as it was.
    let shown: Vec<_> = fields
        .iter()
        .filter(|f| f.field.shown)
        .map(|f| &f.key_const)
        .collect();
    let shown = (!shown.is_empty()).then(
        || quote!(const SHOWN: &'static [&'static ::core::primitive::str] = &[#(#name::#shown),*];),
    );
    let settings = settings::expr(&schema.settings);
    // The worst case of the data, computed here once, so that the runtime can refuse at
    // start-up a deployment that moves an overflowing schema to the cookie backend.
    let cookie_data = match crate::budget::cookie_budget(schema).data() {
        Some(bytes) => quote!(::core::option::Option::Some(#bytes)),
        None => quote!(::core::option::Option::None),
    };
    let upgrades = fields.iter().map(upgrade_field);
    let errors = if fields.is_empty() {
        quote!(let errors = ::std::vec::Vec::new();)
    } else {
        quote!(let mut errors = ::std::vec::Vec::new();)
    };
    let load_payload = load_payload(name, fields);
    quote! {
        #[automatically_derived]
        impl ::session_runtime::SessionSchema for #name {
            const NAME: &'static ::core::primitive::str = #schema_name;
            const VERSION: ::core::primitive::u32 = #version;
            const KEYS: &'static [&'static ::core::primitive::str] = &[#(#name::#keys),*];
            const SENSITIVE: &'static [&'static ::core::primitive::str] = &[#(#name::#sensitive),*];
            const COOKIE_DATA_BYTES: ::core::option::Option<::core::primitive::usize> = #cookie_data;
            #shown
            type Data = __SessionData;

            fn settings() -> ::session_runtime::__private::Settings {
                #settings
            }

            fn upgrade(
                data: &mut ::session_runtime::Map,
            ) -> ::core::result::Result<(), ::session_runtime::ValidationErrors> {
                ::session_runtime::__private::retain_keys(
                    data,
                    <Self as ::session_runtime::SessionSchema>::KEYS,
                );
                #errors
                #(#upgrades)*
                ::session_runtime::__private::finish(errors)
            }

            fn load(
                data: ::session_runtime::Map,
            ) -> ::core::result::Result<__SessionData, ::session_runtime::ValidationErrors> {
                <__SessionData as ::session_runtime::SessionData>::from_map(data)
            }

            #load_payload
        }
    }
}

/// `load_payload`: a format-2 payload decoded field by field straight into the struct
/// (no map, one walk over the bytes), with the same defaults and rules as `from_map`;
/// other data, and data with a declared key written twice, goes to `load`.
fn load_payload(name: &Ident, fields: &[FieldCx<'_>]) -> TokenStream {
    if fields.is_empty() {
        // Nothing to decode: the trait's default (through `load`) gives the empty struct.
        return TokenStream::new();
    }
    let private = quote!(::session_runtime::__private);
    let arms = fields.iter().enumerate().map(|(index, f)| {
        let ident = &f.ident;
        let field = f.field.name.as_str();
        let ty = &f.ty;
        let validator = &f.validator;
        quote! {
            #index => match value.decode::<#ty>(#field) {
                ::core::result::Result::Ok(value) => {
                    if let ::core::result::Result::Err(error) = #name::#validator(&value) {
                        errors.push(error);
                    }
                    out.#ident = ::core::option::Option::Some(value);
                }
                ::core::result::Result::Err(error) => errors.push(error),
            },
        }
    });
    let defaults = fields.iter().enumerate().map(|(index, f)| {
        let field = f.field.name.as_str();
        let ty = &f.ty;
        let store = check_and_store(name, f);
        if let Some(default) = &f.default {
            quote! {
                if !entries.seen(#index) {
                    let value: #ty = #default;
                    #store
                }
            }
        } else if let Some(json) = &f.default_json {
            quote! {
                if !entries.seen(#index) {
                    match #private::decode_owned::<#ty>(#field, #json) {
                        ::core::result::Result::Ok(value) => { #store }
                        ::core::result::Result::Err(error) => errors.push(error),
                    }
                }
            }
        } else {
            TokenStream::new()
        }
    });
    let errors = quote!(let mut errors = ::std::vec::Vec::new(););
    let out = quote!(let mut out = <__SessionData as ::core::default::Default>::default(););
    quote! {
        fn load_payload(
            data: ::session_runtime::schema::ObjectReader<'_>,
        ) -> ::core::result::Result<__SessionData, ::session_runtime::ValidationErrors> {
            let mut entries = match data.fields(<Self as ::session_runtime::SessionSchema>::KEYS) {
                ::core::result::Result::Ok(entries) => entries,
                ::core::result::Result::Err(map) => {
                    return <Self as ::session_runtime::SessionSchema>::load(map);
                }
            };
            #errors
            #out
            while let ::core::option::Option::Some((index, value)) = entries.next() {
                match index {
                    #(#arms)*
                    _ => {
                        let _ = value;
                    }
                }
            }
            // A declared key written twice: the map decides, as for a map.
            if let ::core::option::Option::Some(map) = entries.repeated() {
                return <Self as ::session_runtime::SessionSchema>::load(map);
            }
            #(#defaults)*
            #private::finish_with(out, errors)
        }
    }
}

/// The data struct `__SessionData` (one `Option` per field: `None` when the session holds
/// no value) and its `SessionData` impl: what a session handle of the schema holds, decoded
/// once at load, read and written by the accessors, written straight into the payload.
pub(crate) fn data(name: &Ident, fields: &[FieldCx<'_>]) -> TokenStream {
    let private = quote!(::session_runtime::__private);
    let idents: Vec<&Ident> = fields.iter().map(|f| &f.ident).collect();
    let keys: Vec<&Ident> = fields.iter().map(|f| &f.key_const).collect();
    let tys = fields.iter().map(|f| &f.ty);
    let loads = fields.iter().map(|f| load_field(name, f));
    let (errors, map) = if fields.is_empty() {
        (
            quote!(let errors = ::std::vec::Vec::new();),
            quote!(#[allow(clippy::let_and_return)] let map = ::session_runtime::Map::new();),
        )
    } else {
        (
            quote!(let mut errors = ::std::vec::Vec::new();),
            quote!(let mut map = ::session_runtime::Map::new();),
        )
    };
    let data_mut = if fields.is_empty() {
        quote!(_data)
    } else {
        quote!(mut data)
    };
    let out_mut = if fields.is_empty() {
        quote!(out)
    } else {
        quote!(mut out)
    };
    let (empty, count) = if fields.is_empty() {
        (quote!(true), quote!(0))
    } else {
        (
            quote!(#(self.#idents.is_none())&&*),
            // By path: the generated code compiles without the prelude (`From`).
            quote!(#(<::core::primitive::usize as ::core::convert::From<::core::primitive::bool>>::from(
                self.#idents.is_some(),
            ))+*),
        )
    };
    // `copy_fields` knows the first 128 fields by their bit (the runtime tracks no more).
    let copied = (0..fields.len().min(128)).map(|i| Literal::u128_suffixed(1 << i));
    let copy_idents = idents.iter().take(128);
    quote! {
        #[doc(hidden)]
        #[derive(::core::clone::Clone, ::core::cmp::PartialEq, ::core::default::Default)]
        pub struct __SessionData {
            #(#idents: ::core::option::Option<#tys>,)*
        }

        #[automatically_derived]
        impl ::session_runtime::SessionData for __SessionData {
            fn from_map(
                #data_mut: ::session_runtime::Map,
            ) -> ::core::result::Result<Self, ::session_runtime::ValidationErrors> {
                #errors
                let #out_mut = <Self as ::core::default::Default>::default();
                #(#loads)*
                #private::finish_with(out, errors)
            }

            fn is_empty(&self) -> ::core::primitive::bool {
                #empty
            }

            fn clear(&mut self) {
                *self = <Self as ::core::default::Default>::default();
            }

            fn same(&self, other: &Self, key: &::core::primitive::str) -> ::core::primitive::bool {
                #(
                    if key == #name::#keys {
                        return #private::same(&self.#idents, &other.#idents);
                    }
                )*
                let _ = (other, key);
                true
            }

            fn value(
                &self,
                key: &::core::primitive::str,
            ) -> ::core::option::Option<::std::borrow::Cow<'_, #private::serde_json::Value>> {
                #(
                    if key == #name::#keys {
                        return self.#idents
                            .as_ref()
                            .and_then(#private::to_json)
                            .map(::std::borrow::Cow::Owned);
                    }
                )*
                let _ = key;
                ::core::option::Option::None
            }

            fn to_map(&self) -> ::session_runtime::Map {
                #map
                #(
                    if let ::core::option::Option::Some(json) =
                        self.#idents.as_ref().and_then(#private::to_json)
                    {
                        map.insert(::std::borrow::ToOwned::to_owned(#name::#keys), json);
                    }
                )*
                map
            }

            fn write(
                &self,
                out: &mut #private::ObjectWriter<'_>,
            ) -> ::core::result::Result<(), #private::serde_json::Error> {
                out.count(#count);
                #(
                    if let ::core::option::Option::Some(value) = &self.#idents {
                        out.entry(#name::#keys, value)?;
                    }
                )*
                ::core::result::Result::Ok(())
            }

            const FIELDS: ::core::primitive::bool = true;

            const SCHEMA_NAME: ::core::option::Option<&'static ::core::primitive::str> =
                ::core::option::Option::Some(<#name as ::session_runtime::SessionSchema>::NAME);

            fn copy_fields(&mut self, from: &Self, fields: ::core::primitive::u128) {
                #(
                    if fields & #copied != 0 {
                        self.#copy_idents = ::core::clone::Clone::clone(&from.#copy_idents);
                    }
                )*
                let _ = (from, fields);
            }
        }
    }
}

/// Check a decoded `value` with the field's validator (collecting the error) and store it.
fn check_and_store(name: &Ident, f: &FieldCx<'_>) -> TokenStream {
    let ident = &f.ident;
    let validator = &f.validator;
    quote! {
        if let ::core::result::Result::Err(error) = #name::#validator(&value) {
            errors.push(error);
        }
        out.#ident = ::core::option::Option::Some(value);
    }
}

/// Decode a field out of the loaded map (its default when missing) and check it.
fn load_field(name: &Ident, f: &FieldCx<'_>) -> TokenStream {
    let private = quote!(::session_runtime::__private);
    let key = &f.key_const;
    let field = f.field.name.as_str();
    let ty = &f.ty;
    let store = check_and_store(name, f);
    let decode = quote! {
        match #private::decode_owned::<#ty>(#field, json) {
            ::core::result::Result::Ok(value) => { #store }
            ::core::result::Result::Err(error) => errors.push(error),
        }
    };
    if let Some(default) = &f.default {
        quote! {
            match data.remove(#name::#key) {
                ::core::option::Option::Some(json) => { #decode }
                ::core::option::Option::None => {
                    let value: #ty = #default;
                    #store
                }
            }
        }
    } else if let Some(json) = &f.default_json {
        quote! {
            let json = data.remove(#name::#key).unwrap_or_else(|| #json);
            #decode
        }
    } else {
        quote! {
            if let ::core::option::Option::Some(json) = data.remove(#name::#key) {
                #decode
            }
        }
    }
}

/// Fill the default of a missing field, then decode and check a present one.
fn upgrade_field(f: &FieldCx<'_>) -> TokenStream {
    let key = &f.key_const;
    let field = f.field.name.as_str();
    let ty = &f.ty;
    let validator = &f.validator;
    let fill = if let Some(default) = &f.default {
        quote! {
            if !data.contains_key(Self::#key) {
                match ::session_runtime::__private::encode(#field, &#default) {
                    ::core::result::Result::Ok(json) => {
                        data.insert(::std::borrow::ToOwned::to_owned(Self::#key), json);
                    }
                    ::core::result::Result::Err(error) => errors.push(error),
                }
            }
        }
    } else if let Some(json) = &f.default_json {
        quote! {
            if !data.contains_key(Self::#key) {
                data.insert(::std::borrow::ToOwned::to_owned(Self::#key), #json);
            }
        }
    } else {
        TokenStream::new()
    };
    quote! {
        #fill
        if let ::core::option::Option::Some(json) = data.get(Self::#key) {
            match ::session_runtime::__private::decode::<#ty>(#field, json) {
                ::core::result::Result::Ok(value) => {
                    if let ::core::result::Result::Err(error) = Self::#validator(&value) {
                        errors.push(error);
                    }
                }
                ::core::result::Result::Err(error) => errors.push(error),
            }
        }
    }
}
