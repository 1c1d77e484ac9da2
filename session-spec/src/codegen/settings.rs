//! The compiled-in policy: a `Settings` struct expression written out field by field.
//!
//! Destructuring and matching are exhaustive on purpose: a field or variant added to
//! [`Settings`] fails to compile here until the generator writes it out.

use proc_macro2::TokenStream;
use quote::quote;

use crate::settings::{
    Backend, CookieMode, CookiePrefix, DatabaseBackend, FileDurability, KeySource, Lifetime,
    OnMaxSessions, RedisBackend, SameSite, Settings,
};

const SPEC: &str = "::session_runtime::__private::session_spec";

fn spec_path(item: &str) -> TokenStream {
    format!("{SPEC}::{item}").parse().expect("a valid path")
}

/// The `Settings { .. }` expression of `settings`.
pub(crate) fn expr(settings: &Settings) -> TokenStream {
    let Settings {
        cookie_name,
        secure,
        http_only,
        same_site,
        path,
        domain,
        partitioned,
        prefix,
        expiration_time,
        permanent,
        refresh_each_request,
        idle_timeout,
        absolute_timeout,
        rotation_interval,
        rotation_grace,
        cookie_mode,
        backend,
        keys,
        principal,
        revocation_store,
        max_sessions,
        on_max_sessions,
    } = settings;
    let max_sessions = option(max_sessions.map(|n| quote!(#n)));
    let on_max_sessions = {
        let p = spec_path("OnMaxSessions");
        match on_max_sessions {
            OnMaxSessions::EndOldest => quote!(#p::EndOldest),
            OnMaxSessions::Refuse => quote!(#p::Refuse),
        }
    };
    let principal = option(principal.as_deref().map(string));
    let revocation_store = option(revocation_store.as_ref().map(backend_expr));
    let cookie_name = string(cookie_name);
    let same_site = {
        let p = spec_path("SameSite");
        match same_site {
            SameSite::Strict => quote!(#p::Strict),
            SameSite::Lax => quote!(#p::Lax),
            SameSite::None => quote!(#p::None),
        }
    };
    let path = string(path);
    let domain = option(domain.as_deref().map(string));
    let prefix = option(prefix.map(|p| {
        let t = spec_path("CookiePrefix");
        match p {
            CookiePrefix::Host => quote!(#t::Host),
            CookiePrefix::Secure => quote!(#t::Secure),
        }
    }));
    let expiration_time = lifetime(*expiration_time);
    let idle_timeout = option(idle_timeout.map(lifetime));
    let absolute_timeout = option(absolute_timeout.map(lifetime));
    let rotation_interval = option(rotation_interval.map(lifetime));
    let rotation_grace = lifetime(*rotation_grace);
    let cookie_mode = {
        let p = spec_path("CookieMode");
        match cookie_mode {
            CookieMode::Signed => quote!(#p::Signed),
            CookieMode::Encrypted => quote!(#p::Encrypted),
        }
    };
    let backend = backend_expr(backend);
    let keys = {
        let KeySource {
            env,
            fallback_env,
            file,
        } = keys;
        let p = spec_path("KeySource");
        let env = string(env);
        let fallback_env = if fallback_env.is_empty() {
            quote!(::std::vec::Vec::new())
        } else {
            let items = fallback_env.iter().map(|s| string(s));
            quote!(::std::vec![#(#items),*])
        };
        let file = option(file.as_deref().map(path_buf));
        quote!(#p { env: #env, fallback_env: #fallback_env, file: #file })
    };
    let settings = quote!(::session_runtime::__private::Settings);
    quote! {
        #settings {
            cookie_name: #cookie_name,
            secure: #secure,
            http_only: #http_only,
            same_site: #same_site,
            path: #path,
            domain: #domain,
            partitioned: #partitioned,
            prefix: #prefix,
            expiration_time: #expiration_time,
            permanent: #permanent,
            refresh_each_request: #refresh_each_request,
            idle_timeout: #idle_timeout,
            absolute_timeout: #absolute_timeout,
            rotation_interval: #rotation_interval,
            rotation_grace: #rotation_grace,
            cookie_mode: #cookie_mode,
            backend: #backend,
            keys: #keys,
            principal: #principal,
            revocation_store: #revocation_store,
            max_sessions: #max_sessions,
            on_max_sessions: #on_max_sessions,
        }
    }
}

fn backend_expr(backend: &Backend) -> TokenStream {
    let p = spec_path("Backend");
    match backend {
        Backend::Cookie => quote!(#p::Cookie),
        Backend::Memory => quote!(#p::Memory),
        Backend::File {
            dir,
            encrypt,
            durability,
        } => {
            let dir = path_buf(dir);
            let d = spec_path("FileDurability");
            let durability = match durability {
                FileDurability::Fsync => quote!(#d::Fsync),
                FileDurability::Group => quote!(#d::Group),
                FileDurability::None => quote!(#d::None),
            };
            quote!(#p::File { dir: #dir, encrypt: #encrypt, durability: #durability })
        }
        Backend::Postgres(db) => {
            let db = database(db);
            quote!(#p::Postgres(#db))
        }
        Backend::Mysql(db) => {
            let db = database(db);
            quote!(#p::Mysql(#db))
        }
        Backend::Redis(redis) => {
            let RedisBackend {
                url_env,
                prefix,
                max_payload,
                encrypt,
            } = redis;
            let r = spec_path("RedisBackend");
            let url_env = string(url_env);
            let prefix = string(prefix);
            quote!(#p::Redis(#r {
                url_env: #url_env,
                prefix: #prefix,
                max_payload: #max_payload,
                encrypt: #encrypt,
            }))
        }
    }
}

fn database(db: &DatabaseBackend) -> TokenStream {
    let DatabaseBackend {
        url_env,
        table,
        max_payload,
        encrypt,
    } = db;
    let p = spec_path("DatabaseBackend");
    let url_env = string(url_env);
    let table = string(table);
    quote!(#p { url_env: #url_env, table: #table, max_payload: #max_payload, encrypt: #encrypt })
}

fn string(s: &str) -> TokenStream {
    quote!(::std::borrow::ToOwned::to_owned(#s))
}

fn path_buf(p: &std::path::Path) -> TokenStream {
    let s = p.to_string_lossy();
    let s = s.as_ref();
    quote!(::std::path::Path::new(#s).to_path_buf())
}

fn lifetime(l: Lifetime) -> TokenStream {
    let p = spec_path("Lifetime");
    let secs = l.as_seconds();
    quote!(#p::from_seconds(#secs))
}

fn option(value: Option<TokenStream>) -> TokenStream {
    match value {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}
