//! The shop's HTTP contract on actix-web: the `actix_shop` binary (the same shop through
//! `session_runtime::actix::SessionMiddleware`) passes the contract tests of the axum
//! `shop`, run unchanged (`crate::shop::on_actix` points them at the other binary).

/// One `#[test]` per shared contract test, of the same name, driving `actix_shop`.
macro_rules! on_actix {
    ($($module:ident :: $test:ident),* $(,)?) => {
        $(#[test]
        fn $test() {
            crate::shop::on_actix(crate::$module::$test);
        })*
    };
}

on_actix!(
    shop::first_login_sets_a_cookie_with_the_secure_flags,
    shop::login_rotates_the_session_id_and_keeps_the_cart,
    shop::a_missing_or_wrong_csrf_token_is_refused_with_403,
    shop::invalid_cart_items_give_422_naming_the_rule,
    shop::a_full_session_fits_the_cookie_backend,
    shop::the_admin_page_is_for_admins_only,
    shop::a_refused_username_is_422_and_changes_nothing,
    shop::flash_messages_show_once,
    shop::logout_destroys_the_session,
    shop::api_session_reports_user_cart_and_expiry,
    shop::config_file_and_environment_override_the_compiled_policy,
    shop::the_shipped_production_config_hardens_the_cookie,
    shop::an_invalid_override_stops_the_program_with_a_clear_error,
    shop::a_session_ends_after_its_two_second_lifetime,
    shop::the_same_binary_runs_on_the_cookie_backend,
    shop::five_failed_logins_give_429_with_retry_after_and_a_readable_page,
    shop::a_throttled_session_may_log_in_again_after_its_window,
    shop::a_successful_login_resets_the_failure_count,
    shop::an_invalid_login_window_stops_the_program_with_a_clear_error,
    shop::two_clients_one_ends_the_other_from_the_active_sessions_page,
    shop::the_cookie_backend_with_a_revocation_store_ends_the_other_sessions,
    races::fifty_concurrent_cart_adds_all_land,
    races::fifty_concurrent_cart_adds_all_land_with_a_rotation_due,
    races::twenty_concurrent_pages_after_login_never_fail,
    races::logout_racing_rotation_never_resurrects,
    races::parallel_failed_logins_each_count,
    races::a_burst_at_the_limit_tries_exactly_the_allowed_attempts,
    hardening::anonymous_visitors_cost_no_record,
    hardening::bad_startup_configurations_stop_the_shop_with_a_clear_error,
    hardening::the_cookie_backend_with_a_principal_and_an_overflowing_budget,
    logging::a_store_failure_is_logged_as_one_error_line,
    logging::rust_log_turns_on_the_runtime_debug_lines,
    browser::shop_in_a_real_browser,
    browser::one_browser_ends_the_other_from_the_active_sessions_page,
);

/// The one place the two shops differ: the framework. Same page, same cookie, and the
/// response headers the session rules add (`Vary: Cookie`, `Cache-Control: private`).
#[test]
fn both_shops_answer_alike() {
    use crate::http::Client;
    use crate::server::TempDir;
    use crate::shop::{csrf_of, start_shop};
    let run = || {
        let dir = TempDir::new("shop-alike");
        let shop = start_shop(&dir, &[]);
        let mut client = Client::new(shop.addr);
        let page = client.get("/");
        let csrf = csrf_of(&page);
        let login = client.post_form("/login", &[("username", "ada"), ("csrf", &csrf)]);
        let csrf = csrf_of(&client.get("/"));
        let cart = client.post_form("/cart", &[("item", "tea"), ("csrf", &csrf)]);
        let home = client.get("/");
        let cookie = login.header("set-cookie").unwrap_or("").to_owned();
        let attributes: Vec<String> = cookie
            .split(';')
            .skip(1)
            .map(|a| a.trim().to_owned())
            .collect();
        (
            [page.status, login.status, cart.status, home.status],
            attributes,
            login.header("vary").map(str::to_owned),
            login.header("cache-control").map(str::to_owned),
            home.header("vary").map(str::to_owned),
            home.header("content-type").map(str::to_owned),
        )
    };
    let axum = run();
    let actix = crate::shop::on_actix(run);
    assert_eq!(axum, actix);
    assert_eq!(axum.0, [200, 303, 303, 200]);
    assert_eq!(axum.2.as_deref(), Some("Cookie"));
    assert_eq!(axum.3.as_deref(), Some("private"));
}
