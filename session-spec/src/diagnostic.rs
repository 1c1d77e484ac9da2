//! Diagnostics that point at the source of a spec, rendered like rustc's.
//!
//! Both front-ends and the one validator ([`crate::validate`]) report problems as
//! [`Diagnostic`] values carrying an [`Origin`]. The TOML front-end collects them into
//! [`Diagnostics`], which knows the file name and source text and renders each one as
//!
//! ```text
//! error: unknown key `defualt` in field `count`
//!  --> session.toml:4:1
//!   |
//! 4 | defualt = 3
//!   | ^^^^^^^ unknown key
//!   |
//!   = help: did you mean `default`?
//! ```
//!
//! Lines and columns are 1-based; columns count characters, not bytes.
//!
//! ```
//! use session_spec::diagnostic::{Diagnostic, Diagnostics};
//! use session_spec::Origin;
//!
//! let source = "name = \"Shop\"\nversoin = 1\n";
//! let d = Diagnostic::error("unknown key `versoin`", Origin::Toml { span: 14..21 })
//!     .with_label("unknown key")
//!     .with_help("did you mean `version`?");
//! let all = Diagnostics::new("session.toml", source, vec![d]);
//! let text = all.to_string();
//! assert!(text.starts_with("error: unknown key `versoin`\n --> session.toml:2:1\n"));
//! assert!(text.contains("2 | versoin = 1\n  | ^^^^^^^ unknown key"));
//! assert!(text.contains("= help: did you mean `version`?"));
//! assert_eq!(all.locations(), vec![Some((2, 1))]);
//! ```

use std::fmt::{self, Write as _};
use std::ops::Range;

use crate::ir::Origin;

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Something worth knowing that does not stop the build.
    Warning,
    /// A mistake: the spec is rejected.
    #[default]
    Error,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
        }
    }
}

/// One problem, with where it was found and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// How serious it is.
    pub severity: Severity,
    /// The headline: lower case, no trailing period, code in backticks.
    pub message: String,
    /// Where the problem is (the smallest origin available).
    pub origin: Origin,
    /// A short text printed beside the carets.
    pub label: Option<String>,
    /// `= help: ...` lines: what to do instead.
    pub help: Vec<String>,
    /// `= note: ...` lines: why, or more context.
    pub notes: Vec<String>,
    /// Other places involved (the other half of a conflict), each with its own label,
    /// drawn with `-` under the primary place's `^`.
    pub secondary: Vec<(Origin, String)>,
}

impl Diagnostic {
    /// An error at `origin`.
    pub fn error(message: impl Into<String>, origin: Origin) -> Self {
        Self {
            severity: Severity::Error,
            message: message.into(),
            origin,
            label: None,
            help: Vec::new(),
            notes: Vec::new(),
            secondary: Vec::new(),
        }
    }

    /// A warning at `origin`.
    pub fn warning(message: impl Into<String>, origin: Origin) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(message, origin)
        }
    }

    /// Sets the text printed beside the carets.
    #[must_use]
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Adds a `= help:` line.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help.push(help.into());
        self
    }

    /// Adds a `= note:` line.
    #[must_use]
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Adds a secondary label: another place involved, with a short text. Places without
    /// a position (or the primary place itself) are skipped when rendering.
    #[must_use]
    pub fn with_secondary(mut self, origin: Origin, label: impl Into<String>) -> Self {
        self.secondary.push((origin, label.into()));
        self
    }

    /// Whether this is an error (not a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// The diagnostic without source context: `error: message`, then help and notes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.severity.as_str(), self.message)?;
        for h in &self.help {
            write!(f, "\n  = help: {h}")?;
        }
        for n in &self.notes {
            write!(f, "\n  = note: {n}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// The diagnostics of one spec file, with the text they point into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostics {
    /// The file name shown after `-->` (as given by the caller).
    pub file_name: String,
    /// The spec's source text.
    pub source: String,
    /// The diagnostics, in the order they were found.
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Diagnostics of `source`, shown as `file_name`.
    pub fn new(
        file_name: impl Into<String>,
        source: impl Into<String>,
        items: Vec<Diagnostic>,
    ) -> Self {
        Self {
            file_name: file_name.into(),
            source: source.into(),
            items,
        }
    }

    /// Whether there are no diagnostics at all.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The number of diagnostics.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// The number of errors (warnings excluded).
    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    /// The diagnostics.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.items.iter()
    }

    /// The 1-based line and character column of each diagnostic, `None` for one without a
    /// position in this file.
    pub fn locations(&self) -> Vec<Option<(usize, usize)>> {
        self.items
            .iter()
            .map(|d| match &d.origin {
                Origin::Toml { span } => Some(line_col(&self.source, span.start)),
                _ => None,
            })
            .collect()
    }

    /// Renders every diagnostic, one after the other, with ANSI colours when `color` is
    /// true. `Display` renders without colour.
    pub fn render(&self, color: bool) -> String {
        let mut out = String::new();
        for (i, d) in self.items.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            render_one(&mut out, &self.file_name, &self.source, d, color);
        }
        out
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

impl std::error::Error for Diagnostics {}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

/// The 1-based line and 1-based character column of byte `offset` in `source`.
///
/// An offset past the end, or inside a multi-byte character, is moved back to the nearest
/// character boundary.
///
/// ```
/// use session_spec::diagnostic::line_col;
/// assert_eq!(line_col("a\nbc", 3), (2, 2));
/// assert_eq!(line_col("éé = 1", 5), (1, 4)); // `=` is byte 5 but column 4
/// ```
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(source, offset);
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = source[line_start..offset].chars().count() + 1;
    (line, col)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

const BOLD_RED: &str = "1;31";
const BOLD_YELLOW: &str = "1;33";
const BOLD_BLUE: &str = "1;34";
const BOLD: &str = "1";

fn render_one(out: &mut String, file: &str, source: &str, d: &Diagnostic, color: bool) {
    let st = Style { on: color };
    let level_color = match d.severity {
        Severity::Error => BOLD_RED,
        Severity::Warning => BOLD_YELLOW,
    };
    let _ = writeln!(
        out,
        "{}{}",
        st.paint(level_color, d.severity.as_str()),
        st.paint(BOLD, &format!(": {}", d.message))
    );
    let span = match &d.origin {
        Origin::Toml { span } => Some(span.clone()),
        _ => None,
    };
    let Some(span) = span else {
        let _ = writeln!(out, " {} {file}", st.paint(BOLD_BLUE, "-->"));
        if let Some(label) = &d.label {
            let _ = writeln!(out, "  {} {label}", st.paint(BOLD_BLUE, "="));
        }
        render_footer(out, &st, 1, d);
        return;
    };
    let (line, col) = line_col(source, span.start);
    let gutter = d
        .secondary
        .iter()
        .filter_map(|(o, _)| match o {
            Origin::Toml { span } => Some(line_col(source, span.start).0),
            _ => None,
        })
        .chain([line])
        .max()
        .unwrap_or(line)
        .to_string()
        .len();
    let pad = " ".repeat(gutter);
    let bar = st.paint(BOLD_BLUE, "|");
    let _ = writeln!(
        out,
        "{pad}{} {file}:{line}:{col}",
        st.paint(BOLD_BLUE, "-->")
    );
    let _ = writeln!(out, "{pad} {bar}");
    let (text, carets_from, carets_len) = line_excerpt(source, span.clone());
    let _ = writeln!(
        out,
        "{} {bar} {text}",
        st.paint(BOLD_BLUE, &format!("{line:>gutter$}"))
    );
    let mut marker = format!(
        "{}{}",
        " ".repeat(carets_from),
        st.paint(level_color, &"^".repeat(carets_len))
    );
    if let Some(label) = &d.label {
        marker.push(' ');
        marker.push_str(&st.paint(level_color, label));
    }
    let _ = writeln!(out, "{pad} {bar} {marker}");
    for (origin, label) in &d.secondary {
        let Origin::Toml { span: other } = origin else {
            continue;
        };
        if other.start == span.start {
            continue;
        }
        let (other_line, _) = line_col(source, other.start);
        let (text, from, len) = line_excerpt(source, other.clone());
        let _ = writeln!(
            out,
            "{pad} {} {file}:{other_line}",
            st.paint(BOLD_BLUE, ":::")
        );
        let number = format!("{other_line:>gutter$}");
        let _ = writeln!(out, "{} {bar} {text}", st.paint(BOLD_BLUE, &number));
        let _ = writeln!(
            out,
            "{pad} {bar} {}{}",
            " ".repeat(from),
            st.paint(BOLD_BLUE, &format!("{} {label}", "-".repeat(len)))
        );
    }
    render_footer(out, &st, gutter, d);
}

fn render_footer(out: &mut String, st: &Style, gutter: usize, d: &Diagnostic) {
    if d.help.is_empty() && d.notes.is_empty() {
        return;
    }
    let pad = " ".repeat(gutter);
    if !matches!(d.origin, Origin::Unknown | Origin::Rust { .. }) {
        let _ = writeln!(out, "{pad} {}", st.paint(BOLD_BLUE, "|"));
    }
    for h in &d.help {
        let _ = writeln!(out, "{pad} {} {h}", st.paint(BOLD, "= help:"));
    }
    for n in &d.notes {
        let _ = writeln!(out, "{pad} {} {n}", st.paint(BOLD, "= note:"));
    }
}

/// The source line holding `span.start` (tabs shown as four spaces), the character column
/// where the carets start and how many carets to draw (at least one, at most to the end of
/// the line).
fn line_excerpt(source: &str, span: Range<usize>) -> (String, usize, usize) {
    let start = floor_char_boundary(source, span.start);
    let end = floor_char_boundary(source, span.end.max(start));
    let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = source[start..]
        .find('\n')
        .map_or(source.len(), |i| start + i);
    let line = source[line_start..line_end].trim_end_matches('\r');
    let width = |s: &str| {
        s.chars()
            .map(|c| if c == '\t' { 4 } else { 1 })
            .sum::<usize>()
    };
    let before = &source[line_start..start];
    let under_end = end.min(line_start + line.len()).max(start);
    let under = &source[start..under_end];
    (
        line.replace('\t', "    "),
        width(before),
        width(under).max(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toml(span: Range<usize>) -> Origin {
        Origin::Toml { span }
    }

    #[test]
    fn columns_count_characters() {
        let src = "[fields.café]\ntype = \"u8\"\nmax_length = 3\n";
        let at = src.find("max_length").unwrap();
        let d = Diagnostic::error("`max_length` does not apply", toml(at..at + 10));
        let all = Diagnostics::new("s.toml", src, vec![d]);
        assert_eq!(all.locations(), vec![Some((3, 1))]);
        let src = "x = \"é\" # ü\ny = 1";
        let at = src.find('#').unwrap();
        assert_eq!(line_col(src, at), (1, 9));
    }

    #[test]
    fn renders_like_rustc() {
        let src = "name = \"Shop\"\n\n[fields.count]\ntype = \"u32\"\nmax_length = 3\n";
        let at = src.find("max_length").unwrap();
        let d = Diagnostic::error(
            "rule `max_length` does not apply to `u32`",
            toml(at..at + 10),
        )
        .with_label("only for strings")
        .with_help("use `min` and `max` for numbers");
        let text = Diagnostics::new("session.toml", src, vec![d]).to_string();
        let expected = "\
error: rule `max_length` does not apply to `u32`
 --> session.toml:5:1
  |
5 | max_length = 3
  | ^^^^^^^^^^ only for strings
  |
  = help: use `min` and `max` for numbers
";
        assert_eq!(text, expected);
    }

    #[test]
    fn wide_gutter_and_multiline_span() {
        let mut src = "\n".repeat(11);
        src.push_str("a = [\n  1,\n]\n");
        let at = src.find('[').unwrap();
        let d = Diagnostic::error("bad", toml(at..src.len()));
        let text = Diagnostics::new("f.toml", src, vec![d]).to_string();
        assert_eq!(
            text,
            "error: bad\n  --> f.toml:12:5\n   |\n12 | a = [\n   |     ^\n"
        );
    }

    #[test]
    fn no_position_and_colour() {
        let d = Diagnostic::error("cannot read `x.toml`", Origin::Unknown).with_note("gone");
        let all = Diagnostics::new("x.toml", "", vec![d]);
        assert_eq!(
            all.to_string(),
            "error: cannot read `x.toml`\n --> x.toml\n  = note: gone\n"
        );
        assert!(all.render(true).contains("\x1b[1;31merror\x1b[0m"));
        assert!(!all.to_string().contains('\x1b'));
        assert_eq!(all.locations(), vec![None]);
    }

    #[test]
    fn span_at_end_of_file_and_inside_a_character() {
        let src = "a = \"é";
        let d = Diagnostic::error("unterminated", toml(src.len()..src.len()));
        let text = Diagnostics::new("f.toml", src, vec![d]).to_string();
        assert!(text.contains("1:7"), "{text}");
        assert_eq!(line_col(src, 6), (1, 6));
    }
}
