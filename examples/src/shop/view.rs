//! The shop's pages, rendered from plain values (no session types here).

use std::fmt::Write;

use crate::html::{csrf_field, escape, page};

/// What the home page shows.
#[derive(Clone, Debug, Default)]
pub struct Home<'a> {
    /// The signed-in user, if any.
    pub user: Option<&'a str>,
    /// The user's role, shown next to the name.
    pub role: &'a str,
    /// The cart's items.
    pub cart: &'a [String],
    /// Flash messages, shown once.
    pub flash: &'a [String],
    /// The session's CSRF token, written into every form.
    pub csrf: &'a str,
    /// When the session ends (Unix seconds), if known.
    pub expires_at: Option<i64>,
}

/// The home page: who is signed in, the cart, flash messages, and the forms.
pub fn home(view: &Home<'_>) -> String {
    let mut body = String::from("<h1>Session shop</h1>\n");
    if !view.flash.is_empty() {
        body.push_str("<ul class=\"flash\" id=\"flash\">");
        for message in view.flash {
            let _ = write!(body, "<li>{}</li>", escape(message));
        }
        body.push_str("</ul>\n");
    }
    let csrf = csrf_field(view.csrf);
    match view.user {
        Some(user) => {
            let _ = write!(
                body,
                "<p id=\"user\">Signed in as <b>{}</b> ({})</p>\n\
                 <form method=\"post\" action=\"/logout\">{csrf}\
                 <button id=\"logout\" type=\"submit\">Log out</button></form>\n",
                escape(user),
                escape(view.role),
            );
            if view.role == "admin" {
                body.push_str("<p><a id=\"admin\" href=\"/admin\">Admin page</a></p>\n");
            }
        }
        None => {
            let _ = write!(
                body,
                "<p id=\"user\">Not signed in. User <code>admin</code> signs in as an \
                 admin; any other name as a customer.</p>\n\
                 <form method=\"post\" action=\"/login\">{csrf}\
                 <input id=\"username\" name=\"username\" placeholder=\"username\" \
                 autocomplete=\"username\"> \
                 <button id=\"login\" type=\"submit\">Log in</button></form>\n",
            );
        }
    }
    let _ = writeln!(
        body,
        "<h2>Cart ({} of at most 50 items)</h2>",
        view.cart.len()
    );
    if view.cart.is_empty() {
        body.push_str("<p id=\"cart-empty\">Your cart is empty.</p>\n");
    } else {
        body.push_str("<ul id=\"cart\">");
        for item in view.cart {
            let _ = write!(body, "<li>{}</li>", escape(item));
        }
        body.push_str("</ul>\n");
    }
    let _ = writeln!(
        body,
        "<form method=\"post\" action=\"/cart\">{csrf}\
         <input id=\"item\" name=\"item\" placeholder=\"item (at most 64 characters)\"> \
         <button id=\"add\" type=\"submit\">Add to cart</button></form>",
    );
    if let Some(at) = view.expires_at {
        let _ = writeln!(
            body,
            "<p class=\"meta\">This session ends at <span id=\"expires\" data-unix=\"{at}\">{}</span> \
             unless renewed. <a href=\"/api/session\">/api/session</a></p>",
            human_time(at)
        );
    }
    if view.user.is_some() {
        body.push_str("<p><a id=\"sessions\" href=\"/sessions\">Active sessions</a></p>\n");
    }
    page("Session shop", &body)
}

/// One row of the "Active sessions" page.
#[derive(Clone, Debug)]
pub struct SessionRow {
    /// The opaque handle that ends it.
    pub handle: String,
    /// When it began (Unix seconds).
    pub created_at: i64,
    /// Its last recorded activity (Unix seconds).
    pub last_seen: i64,
    /// When it ends unless used (Unix seconds).
    pub expires_at: i64,
    /// Whether it is the session viewing the page.
    pub current: bool,
    /// The device label set at its login (the spec's `shown` field `device`).
    pub device: Option<String>,
}

/// The `device` label of a browser from its `User-Agent`: the browser and the system
/// (`Firefox on Linux`), else the header's first printable ASCII characters, at most
/// [`DEVICE_LABEL_LEN`] (the spec's `max_length`, whose pattern allows printable ASCII
/// only); `None` without a usable header. A client's header is never trusted further:
/// the label is escaped wherever it is shown.
pub fn device_label(user_agent: Option<&str>) -> Option<String> {
    let ua = user_agent?;
    // Order matters: Edge's and Chrome's headers also name Safari, Edge's names Chrome.
    let browser = [
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ]
    .into_iter()
    .find(|(token, _)| ua.contains(token))
    .map(|(_, name)| name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(token, _)| ua.contains(token))
    .map(|(_, name)| name);
    let label = match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(s)) => format!("a browser on {s}"),
        (None, None) => ua
            .chars()
            .filter(|c| (' '..='~').contains(c))
            .take(DEVICE_LABEL_LEN)
            .collect::<String>()
            .trim()
            .to_owned(),
    };
    (!label.is_empty()).then_some(label)
}

/// The longest device label, as the spec's `max_length` of `device`.
pub const DEVICE_LABEL_LEN: usize = 40;

/// The "Active sessions" page: `rows`, or `None` when the backend cannot list them (the
/// cookie backend), with the buttons to end one or all others.
pub fn sessions(user: &str, rows: Option<&[SessionRow]>, flash: &[String], csrf: &str) -> String {
    let csrf = csrf_field(csrf);
    let mut body = format!("<h1>Active sessions of {}</h1>\n", escape(user));
    if !flash.is_empty() {
        body.push_str("<ul class=\"flash\" id=\"flash\">");
        for message in flash {
            let _ = write!(body, "<li>{}</li>", escape(message));
        }
        body.push_str("</ul>\n");
    }
    match rows {
        Some(rows) => {
            let _ = writeln!(
                body,
                "<table id=\"session-list\"><tr><th>Device</th><th>Signed in</th>\
                 <th>Last seen</th><th>Ends</th><th></th></tr>"
            );
            for row in rows {
                let action = if row.current {
                    "<b class=\"current\">this browser</b>".to_owned()
                } else {
                    format!(
                        "<form method=\"post\" action=\"/sessions/end\">{csrf}\
                         <input type=\"hidden\" name=\"handle\" value=\"{}\">\
                         <button class=\"end\" type=\"submit\">End</button></form>",
                        escape(&row.handle)
                    )
                };
                let _ = writeln!(
                    body,
                    "<tr class=\"session\"><td class=\"device\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{action}</td></tr>",
                    escape(row.device.as_deref().unwrap_or("unknown device")),
                    human_time(row.created_at),
                    human_time(row.last_seen),
                    human_time(row.expires_at),
                );
            }
            body.push_str("</table>\n");
        }
        None => body.push_str(
            "<p id=\"no-list\">This deployment keeps sessions in cookies: they cannot be \
             listed, but all others can be ended.</p>\n",
        ),
    }
    let _ = writeln!(
        body,
        "<form method=\"post\" action=\"/sessions/end-others\">{csrf}\
         <button id=\"end-others\" type=\"submit\">End all other sessions</button></form>\
         <p><a href=\"/\">Back to the shop</a></p>"
    );
    page("Active sessions", &body)
}

/// Unix seconds as a UTC date and time a person reads (`2026-11-29 21:45:00 UTC`).
pub fn human_time(unix: i64) -> String {
    session_runtime::Timestamp(unix).to_string()
}

/// The admin page.
pub fn admin(user: &str) -> String {
    page(
        "Admin",
        &format!(
            "<h1>Admin</h1><p id=\"admin-greeting\">Welcome, {}. Only admins see this page.</p>\
             <p><a href=\"/\">Back to the shop</a></p>",
            escape(user)
        ),
    )
}

/// An error page (403, 422, ...): `message` is shown as text.
pub fn error(title: &str, message: &str) -> String {
    page(
        title,
        &format!(
            "<h1>{}</h1><p class=\"error\" id=\"error\">{}</p><p><a href=\"/\">Back to the shop</a></p>",
            escape(title),
            escape(message)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_escapes_and_carries_the_token_in_every_form() {
        let cart = vec!["<script>alert(1)</script>".to_owned(), "tea".to_owned()];
        let flash = vec!["Added \"tea\"".to_owned()];
        let html = home(&Home {
            user: Some("ada"),
            role: "customer",
            cart: &cart,
            flash: &flash,
            csrf: "tok123",
            expires_at: Some(1_900_000_000),
        });
        assert!(!html.contains("<script>alert"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("Added &quot;tea&quot;"));
        let forms = html.matches("<form").count();
        assert_eq!(forms, 2, "logout and cart forms when signed in");
        assert_eq!(html.matches(r#"name="csrf" value="tok123""#).count(), forms);
        assert!(
            !html.contains("id=\"admin\""),
            "customers get no admin link"
        );
    }

    #[test]
    fn device_labels_are_short_and_printable() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(
            device_label(Some(firefox)).as_deref(),
            Some("Firefox on Linux")
        );
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0";
        assert_eq!(device_label(Some(edge)).as_deref(), Some("Edge on Windows"));
        let odd = format!("robot\u{7}\u{e9}{}", "x".repeat(100));
        let label = device_label(Some(&odd)).unwrap();
        assert!(label.len() <= DEVICE_LABEL_LEN && label.starts_with("robotx"));
        assert_eq!(device_label(Some(" \u{1}")), None);
        assert_eq!(device_label(None), None);
    }

    #[test]
    fn times_are_human_readable() {
        assert_eq!(human_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(human_time(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(human_time(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(human_time(-1), "1969-12-31 23:59:59 UTC");
    }

    #[test]
    fn signed_out_page_has_login_form_and_empty_cart() {
        let html = home(&Home {
            role: "guest",
            csrf: "t",
            ..Home::default()
        });
        assert!(html.contains("action=\"/login\""));
        assert!(html.contains("id=\"cart-empty\""));
        assert_eq!(
            html.matches("<form").count(),
            html.matches("name=\"csrf\"").count()
        );
    }
}
