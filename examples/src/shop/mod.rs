//! The `shop` application: server-rendered pages, login with id rotation, logout that
//! destroys the session, a validated cart, roles, CSRF tokens and flash messages.
//!
//! Its session is declared in `examples/shop/session.toml`; the build script compiles the
//! spec into [`Shop`], [`Role`] and the typed accessors of [`ShopExt`].
//!
//! The HTTP contract (the end-to-end and browser tests rely on it):
//!
//! | request | answer |
//! |---|---|
//! | `GET /` | the page: user, cart, flash messages, forms with CSRF tokens |
//! | `POST /login` (`username`, `csrf`) | `303` to `/`; the session id rotates; a refused name is a `422` and a failed login |
//! | `POST /login` after 5 failed logins in the session's window | `429` with `Retry-After` and a page saying when to try again ([`throttle`]) |
//! | `POST /logout` (`csrf`) | `303` to `/`; the session is destroyed |
//! | `POST /cart` (`item`, `csrf`) | `303` to `/`; an invalid item is a `422` naming the rule |
//! | any `POST` with a missing or wrong `csrf` | `403` |
//! | `GET /admin` | the admin page for role `admin`, else `403` |
//! | `GET /api/session` | `{"user": ..., "cart": [...], "expires_at": ...}` |
//! | `GET /sessions` | the signed-in user's active sessions (times in UTC), else `403`; on the cookie backend, no list |
//! | `POST /sessions/end` (`handle`, `csrf`) | `303` to `/sessions`; the session named by the handle ends |
//! | `POST /sessions/end-others` (`csrf`) | `303` to `/sessions`; every other session of the user ends |
//!
//! Two binaries serve it: `shop` on axum ([`app`]) and `actix_shop` on actix-web
//! ([`actix_app`]); the end-to-end tests run the contract on both.

pub mod actix_app;
pub mod app;
pub mod handlers;
pub mod throttle;
pub mod view;

#[allow(unreachable_pub)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/shop.rs"));
}

pub use generated::{Role, Shop, ShopExt};
