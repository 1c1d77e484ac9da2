//! The browser test: the shop in headless Chromium, driven through WebDriver.
//!
//! Needs Debian's `chromium` and `chromium-driver` (paths from `CHROMIUM` and
//! `CHROMEDRIVER`, else `/usr/bin`); `bash tests/run-all.sh` installs them. It fails when
//! they are missing, and leaves a screenshot in `target/artifacts/shop.png`.

use std::path::PathBuf;

use crate::server::TempDir;
use crate::shop::start_shop;
use crate::webdriver::{Driver, locate};

/// Where the screenshot goes: `target/artifacts/shop.png` at the workspace root
/// (`actix_shop.png` for the actix-web shop).
fn screenshot_path() -> PathBuf {
    let binary = std::path::Path::new(crate::shop::shop_binary());
    let name = binary
        .file_stem()
        .and_then(|n| n.to_str())
        .unwrap_or("shop");
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../target/artifacts/{name}.png"))
}

#[test]
pub(crate) fn shop_in_a_real_browser() {
    let chromium = locate(
        "CHROMIUM",
        &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
    );
    let chromedriver = locate("CHROMEDRIVER", &["/usr/bin/chromedriver"]);
    let dir = TempDir::new("shop-browser");
    let shop = start_shop(&dir, &[]);
    let driver = Driver::start(&chromedriver);
    let profile = TempDir::new("chromium-profile");
    let browser = driver.new_session(&chromium, profile.path());

    // A first visit: signed out, empty cart.
    browser.goto(&shop.url("/"));
    assert!(browser.text("#user").starts_with("Not signed in"));
    assert_eq!(browser.count("#cart-empty"), 1);

    // Log in.
    browser.type_into("#username", "ada");
    browser.submit("#login");
    assert_eq!(
        browser.url(),
        shop.url("/"),
        "the 303 lands on the home page"
    );
    assert_eq!(browser.text("#user"), "Signed in as ada (customer)");
    assert!(browser.text("#flash").contains("Welcome, ada."));

    // Add items.
    for item in ["green tea", "oat milk", "<b>not bold</b>"] {
        browser.type_into("#item", item);
        browser.submit("#add");
    }
    // Reload: the cart comes from the session, the flash messages are gone.
    browser.refresh();
    assert_eq!(browser.count("#cart li"), 3);
    assert_eq!(
        browser.text("#cart"),
        "green tea\noat milk\n<b>not bold</b>"
    );
    assert_eq!(browser.count("#flash"), 0, "flash messages show once");

    // The session cookie is HttpOnly: the browser holds it, page scripts cannot see it.
    let cookies = browser.cookies();
    let session = cookies
        .iter()
        .find(|c| c["name"] == "shop")
        .expect("the browser holds `shop`");
    assert_eq!(session["httpOnly"], true);
    assert_eq!(session["secure"], true);
    assert_eq!(session["sameSite"], "Lax");
    let visible = browser.execute("return document.cookie;");
    let visible = visible.as_str().expect("document.cookie is a string");
    assert!(
        !visible.contains("shop="),
        "document.cookie shows the session: `{visible}`"
    );

    // An invalid item: the server's 422 page names the rule.
    browser.type_into("#item", &"x".repeat(65));
    browser.submit("#add");
    assert!(browser.text("#error").contains("max_length"));
    browser.goto(&shop.url("/"));

    let png = browser.screenshot();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    let path = screenshot_path();
    std::fs::create_dir_all(path.parent().expect("parent")).expect("create target/artifacts");
    std::fs::write(&path, &png).expect("write the screenshot");
    eprintln!("screenshot: {}", path.display());

    // Log out: the cart is gone, even after a reload.
    browser.submit("#logout");
    assert!(browser.text("#user").starts_with("Not signed in"));
    browser.refresh();
    assert_eq!(browser.count("#cart li"), 0);
    assert_eq!(browser.count("#cart-empty"), 1);
}

/// Two browsers signed in as one user: the first sees both sessions on the "Active
/// sessions" page, ends the other, and the other is signed out at its next page.
#[test]
pub(crate) fn one_browser_ends_the_other_from_the_active_sessions_page() {
    let chromium = locate(
        "CHROMIUM",
        &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
    );
    let chromedriver = locate("CHROMEDRIVER", &["/usr/bin/chromedriver"]);
    let dir = TempDir::new("shop-browser-sessions");
    let shop = start_shop(&dir, &[]);
    let driver = Driver::start(&chromedriver);
    let (laptop_profile, phone_profile) = (
        TempDir::new("chromium-laptop"),
        TempDir::new("chromium-phone"),
    );
    let laptop = driver.new_session(&chromium, laptop_profile.path());
    let phone = driver.new_session(&chromium, phone_profile.path());
    for browser in [&laptop, &phone] {
        browser.goto(&shop.url("/"));
        browser.type_into("#username", "ada");
        browser.submit("#login");
        assert_eq!(browser.text("#user"), "Signed in as ada (customer)");
    }

    laptop.submit("#sessions");
    assert_eq!(laptop.url(), shop.url("/sessions"));
    assert_eq!(laptop.count("tr.session"), 2);
    assert_eq!(laptop.count(".current"), 1);
    assert!(laptop.text("#session-list").contains(" UTC"));
    laptop.submit(".end");
    assert!(laptop.text("#flash").contains("The session was ended."));
    assert_eq!(laptop.count("tr.session"), 1);

    phone.refresh();
    assert!(
        phone.text("#user").starts_with("Not signed in"),
        "the other browser is signed out at its next page"
    );
    laptop.goto(&shop.url("/"));
    assert_eq!(laptop.text("#user"), "Signed in as ada (customer)");
}
