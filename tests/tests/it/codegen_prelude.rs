//! The generated code depends on nothing in the prelude: it compiles, warning-free, next
//! to local items named like the prelude's (`Result`, `Option`, `Some`, `Ok`, `None`,
//! `Err`, `String`, `Vec`, `Box`, `Default`, ...).
#![deny(warnings)]

/// Local items named like the prelude's, in scope of the included code.
macro_rules! shadow_prelude {
    () => {
        pub struct Result;
        pub struct Option;
        pub struct Some;
        pub struct None;
        pub struct Ok;
        pub struct Err;
        pub struct String;
        pub struct Vec;
        pub struct Box;
        pub struct ToOwned;
        pub struct Into;
        pub struct From;
        #[allow(non_camel_case_types)]
        pub struct bool;
        #[allow(non_camel_case_types)]
        pub struct str;
        #[allow(non_camel_case_types)]
        pub struct u32;
        pub trait Default {
            fn shadowed() -> Self;
        }
        impl Default for Ok {
            fn shadowed() -> Self {
                Ok
            }
        }

        /// Uses every local item, so that none is dead code.
        pub fn shadows() -> usize {
            let all = (
                Result,
                Option,
                Some,
                None,
                <Ok as Default>::shadowed(),
                Err,
                String,
                Vec,
                Box,
                ToOwned,
                Into,
                From,
                bool,
                str,
                u32,
            );
            ::core::mem::size_of_val(&all)
        }
    };
}

/// One module per name holding the code generated (by `build.rs`) from the spec of that
/// name, next to the shadowed names.
macro_rules! generated_next_to_shadows {
    ($($name:ident),* $(,)?) => {
        $(
            // Generated items are `pub`, for the including module to re-export.
            #[allow(unreachable_pub)]
            mod $name {
                shadow_prelude!();
                include!(concat!(env!("OUT_DIR"), "/", stringify!($name), ".rs"));
            }
        )*
    };
}

generated_next_to_shadows!(rules, types, minimal, auth, cart, sets, csrf_flash, shop);

/// The input of session-spec's generated-code snapshots (`tests/specs/shop.toml`, every
/// type and every rule) builds, here next to the shadowed names, and its rules hold.
#[test]
fn the_snapshot_spec_builds_and_its_rules_hold() {
    use shop::ShopExt as _;
    let s = session_runtime::Session::<shop::Shop>::detached();
    assert!(s.set_username("ab".to_owned()).is_err(), "min_length = 3");
    s.set_username("ada_1".to_owned()).unwrap();
    assert_eq!(s.visits(), 0);
    assert!(s.set_visits(1001).is_err(), "max = 1000");
    assert_eq!(s.role(), shop::Role::Guest);
    assert!(
        s.set_csrf_token("short".to_owned()).is_err(),
        "custom validator"
    );
    s.set_csrf_token("x".repeat(16)).unwrap();
    assert!(!s.kind());
    s.set_kind(true).unwrap();
    assert_eq!(shop::Shop::KEY_KIND, "type");
    assert_eq!(shop::Shop::KEY_PREFS, "p");
}

#[test]
fn generated_code_works_next_to_shadowed_prelude_names() {
    use rules::RulesExt as _;
    let session = session_runtime::Session::<rules::Rules>::detached();
    session.set_nickname("ada".to_owned()).unwrap();
    assert_eq!(session.nickname().as_deref(), Some("ada"));
    assert_eq!(session.plan(), rules::Plan::Free);
    assert!(session.set_nickname("ADA".to_owned()).is_err());

    use cart::CartSessionExt as _;
    let cart = session_runtime::Session::<cart::CartSession>::detached();
    cart.push_items("apple".to_owned()).unwrap();
    assert_eq!(cart.items(), ["apple"]);

    use auth::AuthSessionExt as _;
    let auth = session_runtime::Session::<auth::AuthSession>::detached();
    auth.push_roles(auth::Role::Admin).unwrap();
    assert_eq!(auth.roles(), [auth::Role::Admin]);

    use csrf_flash::CsrfFlashExt as _;
    let site = session_runtime::Session::<csrf_flash::CsrfFlash>::detached();
    site.push_flash("saved".to_owned()).unwrap();
    assert_eq!(site.flash(), ["saved"]);

    use sets::SetsExt as _;
    let sets = session_runtime::Session::<sets::Sets>::detached();
    assert!(sets.insert_roles(sets::Role::Editor).unwrap());
    assert!(sets.contains_tags("new"));
    assert!(sets.remove_tags_item("new").unwrap());

    use types::TypesExt as _;
    let typed = session_runtime::Session::<types::Types>::detached();
    typed.push_colors(types::Color::Green).unwrap();
    assert_eq!(typed.colors(), [types::Color::Red, types::Color::Green]);
    assert_eq!(typed.single(), 2.0);

    use minimal::AppSessionExt as _;
    let app = session_runtime::Session::<minimal::AppSession>::detached();
    app.set_user_id(Some(7)).unwrap();
    assert_eq!(app.user_id(), Some(7));

    // The shadowing items exist and are in scope of the included code.
    for n in [
        rules::shadows(),
        types::shadows(),
        minimal::shadows(),
        auth::shadows(),
        cart::shadows(),
        csrf_flash::shadows(),
        sets::shadows(),
        shop::shadows(),
    ] {
        assert_eq!(n, 0);
    }
}
