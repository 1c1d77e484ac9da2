//! Minimal HTML helpers: escaping and the page frame shared by the example apps.

use std::fmt::Write;

/// Escapes text for an HTML text node or a double-quoted attribute value.
///
/// ```
/// assert_eq!(
///     examples::html::escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
///     "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
/// );
/// ```
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "\
body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}\
h1{font-size:1.6rem}h2{font-size:1.1rem;margin-top:1.5rem}\
.flash{list-style:none;padding:0}.flash li{background:#e8f4ea;border:1px solid #9c9;padding:.4rem .6rem;margin:.3rem 0}\
.error{background:#fbeaea;border:1px solid #d99;padding:.4rem .6rem}\
form{margin:.5rem 0}input{padding:.3rem}button{padding:.3rem .8rem}\
#cart li{margin:.15rem 0}.meta{color:#666;font-size:.85rem}";

/// Wraps `body` (already escaped HTML) in a complete page titled `title`.
///
/// ```
/// let page = examples::html::page("Shop <1>", "<p>hi</p>");
/// assert!(page.starts_with("<!doctype html>"));
/// assert!(page.contains("<title>Shop &lt;1&gt;</title>"));
/// assert!(page.contains("<p>hi</p>"));
/// ```
pub fn page(title: &str, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + 1024);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>{}</title><style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n",
        escape(title)
    );
    out
}

/// A hidden CSRF field for a form.
///
/// ```
/// assert_eq!(
///     examples::html::csrf_field("t0k"),
///     r#"<input type="hidden" name="csrf" value="t0k">"#
/// );
/// ```
pub fn csrf_field(token: &str) -> String {
    format!(
        r#"<input type="hidden" name="csrf" value="{}">"#,
        escape(token)
    )
}
