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
            "<p class=\"meta\">This session ends at <span id=\"expires\">{at}</span> \
             (Unix time) unless renewed. <a href=\"/api/session\">/api/session</a></p>"
        );
    }
    page("Session shop", &body)
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
