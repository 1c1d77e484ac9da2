//! What the derive emits when the input has mistakes: every error as a `compile_error!`,
//! and beside them a stub `impl SessionSchema`, so that code using the type as a session
//! schema still type-checks and the user sees only the real errors, not a cascade.

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

/// The errors plus a stub implementation for `input` (none for a generic input, whose
/// parameters cannot be assumed to satisfy the trait's bounds).
pub(super) fn dummy(input: &DeriveInput, errors: &syn::Error) -> TokenStream {
    let errors = errors.to_compile_error();
    if !input.generics.params.is_empty() {
        return errors;
    }
    let ident = &input.ident;
    let name = ident.to_string();
    quote! {
        #errors
        const _: () = {
            #[automatically_derived]
            impl ::session_runtime::SessionSchema for #ident {
                const NAME: &'static str = #name;
                const VERSION: u32 = 1;
                const KEYS: &'static [&'static str] = &[];
                const SENSITIVE: &'static [&'static str] = &[];
                type Data = ::session_runtime::Map;

                fn settings() -> ::session_runtime::Settings {
                    ::core::default::Default::default()
                }

                fn upgrade(
                    _: &mut ::session_runtime::Map,
                ) -> ::core::result::Result<(), ::session_runtime::ValidationErrors> {
                    ::core::result::Result::Ok(())
                }
            }
        };
    }
}

/// A compiler warning at `span` on stable Rust, where a derive cannot emit one directly:
/// the use of a deprecated item whose note is the message (the technique of the
/// `proc-macro-warning` crate). It reads
/// `warning: use of deprecated unit struct `...::session_warning`: <message>`.
pub(super) fn warning(message: &str, span: proc_macro2::Span) -> TokenStream {
    let item = quote::quote_spanned!(span=> session_warning);
    quote! {
        const _: () = {
            #[deprecated(note = #message)]
            #[allow(non_camel_case_types)]
            struct session_warning;
            let _ = #item;
        };
    }
}

/// The struct's fields declare the session; the generated accessors never read them. This
/// reads each one in a function nobody calls, so that `dead_code` does not flag fields the
/// user wrote only as a declaration.
pub(super) fn declared_fields_are_used(input: &DeriveInput) -> TokenStream {
    let syn::Data::Struct(data) = &input.data else {
        return TokenStream::new();
    };
    let fields = data.fields.iter().filter_map(|f| f.ident.as_ref());
    let ident = &input.ident;
    quote! {
        const _: () = {
            #[allow(dead_code)]
            fn declared_fields_are_used(value: &#ident) {
                #( let _ = &value.#fields; )*
            }
        };
    }
}
