//! Reading `Cookie` headers and writing `Set-Cookie` headers.
//!
//! The `Set-Cookie` values are built here by hand, in one fixed attribute order, so that
//! tests can compare exact strings:
//!
//! `name=value; Path=/; Domain=example.com; Max-Age=600; Expires=Thu, 01 Jan 1970 00:10:00 GMT; Secure; HttpOnly; SameSite=Lax; Partitioned`

use std::borrow::Cow;

use session_spec::Settings;

use crate::time::Timestamp;

pub(crate) use session_spec::budget::MAX_COOKIE_BYTES;

/// At most this many distinct values of cookies of our name are considered per request
/// (bounds the work a client can cause by repeating the cookie; far more than a browser
/// sends for one name unless someone tosses cookies at it).
pub(crate) const MAX_CANDIDATES: usize = 64;

/// The distinct values of a request's cookies of our name, in order: the first held
/// inline (a browser sends one), the others in a list allocated only when there are any.
/// Values found in the request's first `Cookie` header are borrowed from it (a browser
/// sends one header); those of later headers are copied.
///
/// Every value is UTF-8 (checked), but kept as bytes: what reads them (an id, a sealed
/// value) needs their bytes only, and an ASCII value is checked without `from_utf8`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Values<'a> {
    first: Option<Cow<'a, [u8]>>,
    rest: Vec<Cow<'a, [u8]>>,
}

impl<'a> Values<'a> {
    /// How many values.
    pub(crate) fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }

    /// The values, in order (UTF-8 text, as bytes).
    pub(crate) fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.first.iter().chain(&self.rest).map(|v| &**v)
    }

    /// The values as text, in order.
    #[cfg(test)]
    fn strs(&self) -> Vec<&str> {
        self.iter()
            .map(|v| std::str::from_utf8(v).expect("values are UTF-8"))
            .collect()
    }

    fn push(&mut self, value: Cow<'a, [u8]>) {
        match self.first {
            None => self.first = Some(value),
            Some(_) => self.rest.push(value),
        }
    }

    /// Adds the values of one header's pairs named `name`; `false` when a value was left
    /// out because [`MAX_CANDIDATES`] are held already.
    fn read<'h>(
        &mut self,
        header: &'h [u8],
        name: &str,
        keep: impl Fn(&'h [u8]) -> Cow<'a, [u8]>,
    ) -> bool {
        for pair in pairs(header) {
            let Some(v) = value_of(pair, name).and_then(trim_utf8) else {
                continue;
            };
            let v = v
                .strip_prefix(b"\"")
                .and_then(|v| v.strip_suffix(b"\""))
                .unwrap_or(v);
            if v.is_empty() || v.len() > MAX_COOKIE_BYTES || self.iter().any(|seen| seen == v) {
                continue;
            }
            if self.len() == MAX_CANDIDATES {
                return false;
            }
            self.push(keep(v));
        }
        true
    }
}

/// The pieces of `header` between `;`s, as `header.split(|b| *b == b';')` gives them
/// (an empty piece after a trailing `;`), found eight bytes at a time ([`find_semicolon`]):
/// a sealed cookie is a hundred bytes or more, scanned on every request.
fn pairs(header: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(header);
    std::iter::from_fn(move || {
        let piece = rest?;
        match find_semicolon(piece) {
            Some(i) => {
                rest = Some(&piece[i + 1..]);
                Some(&piece[..i])
            }
            None => {
                rest = None;
                Some(piece)
            }
        }
    })
}

/// The index of the first `;` in `bytes` (`memchr`: a word or a vector at a time).
fn find_semicolon(bytes: &[u8]) -> Option<usize> {
    memchr::memchr(b';', bytes)
}

/// The distinct values of every cookie named `name` in the request's `Cookie` headers
/// (`first`, then `rest`), in order, at most [`MAX_CANDIDATES`], and whether more were
/// left out. Pairs that are not UTF-8 are skipped; quotes around a value are removed;
/// empty values and values no browser would keep (over [`MAX_COOKIE_BYTES`]) are dropped
/// without counting. The values of `first` are borrowed from it.
pub(crate) fn cookie_values<'a, I>(
    first: Option<&'a [u8]>,
    rest: I,
    name: &str,
) -> (Values<'a>, bool)
where
    I: IntoIterator,
    I::Item: AsRef<[u8]>,
{
    let mut out = Values::default();
    if let Some(first) = first
        && !out.read(first, name, Cow::Borrowed)
    {
        return (out, true);
    }
    for header in rest {
        if !out.read(header.as_ref(), name, |v| Cow::Owned(v.to_vec())) {
            return (out, true);
        }
    }
    (out, false)
}

/// The value of a `name=value` pair (untrimmed, not yet checked for UTF-8) when its name,
/// trimmed of white space, is `name` (and, for a name that is not ASCII, the pair is
/// UTF-8).
///
/// The usual pair is ASCII: its name is compared as bytes, and only the value of a
/// matching pair is checked for UTF-8 ([`trim_utf8`]), instead of the whole pair of every
/// cookie. A pair whose name holds other bytes takes the general path (`str::trim` also
/// trims Unicode white space, such as U+3000).
fn value_of<'a>(pair: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let eq = pair.iter().position(|b| *b == b'=')?;
    let (n, v) = (&pair[..eq], &pair[eq + 1..]);
    if trim_ascii_space(n) == name.as_bytes() {
        // The name part is `name` (UTF-8) and ASCII white space: the pair is UTF-8
        // exactly when its value is.
        return Some(v);
    }
    if n.is_ascii() {
        // ASCII white space is all `str::trim` could have removed: not our name.
        return None;
    }
    let (n, v) = std::str::from_utf8(pair).ok()?.split_once('=')?;
    (n.trim() == name).then_some(v.as_bytes())
}

/// `value` trimmed as `str::trim` trims it, when it is UTF-8 (`None` otherwise). An ASCII
/// value (a session id, a sealed value) is checked by `is_ascii` and trimmed of ASCII white
/// space, which is all `str::trim` removes from it; any other goes through `str::trim`.
fn trim_utf8(value: &[u8]) -> Option<&[u8]> {
    if value.is_ascii() {
        return Some(trim_ascii_space(value));
    }
    Some(std::str::from_utf8(value).ok()?.trim().as_bytes())
}

/// `bytes` without leading and trailing ASCII characters that `str::trim` removes (its
/// White_Space set within ASCII, vertical tab included).
fn trim_ascii_space(bytes: &[u8]) -> &[u8] {
    let space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r');
    let start = bytes.iter().position(|b| !space(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !space(b))
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// The cookie attributes of a policy, ready to format: everything but the value and the
/// lifetime is formatted once, when the manager is built.
#[derive(Clone, Debug)]
pub(crate) struct CookiePolicy {
    pub(crate) name: String,
    pub(crate) permanent: bool,
    /// `; Path=...` and `; Domain=...`: what comes before `Max-Age`.
    head: String,
    /// `; Secure`, `; HttpOnly`, `; SameSite=...` and `; Partitioned`: what comes after
    /// `Expires`.
    tail: String,
}

impl CookiePolicy {
    pub(crate) fn new(settings: &Settings) -> Self {
        let mut head = format!("; Path={}", settings.path);
        if let Some(domain) = &settings.domain {
            head.push_str("; Domain=");
            head.push_str(domain);
        }
        let mut tail = String::new();
        if settings.secure {
            tail.push_str("; Secure");
        }
        if settings.http_only {
            tail.push_str("; HttpOnly");
        }
        tail.push_str("; SameSite=");
        tail.push_str(settings.same_site.as_str());
        if settings.partitioned {
            tail.push_str("; Partitioned");
        }
        Self {
            name: settings.full_cookie_name(),
            permanent: settings.permanent,
            head,
            tail,
        }
    }

    /// A `Set-Cookie` value carrying `value`. A permanent cookie gets `Max-Age` (seconds
    /// from `now` to `deadline`) and `Expires`; otherwise a browser-session cookie.
    pub(crate) fn set(&self, value: &str, now: Timestamp, deadline: Timestamp) -> String {
        let written: Result<String, std::convert::Infallible> =
            self.set_with(value.len(), now, deadline, |out| {
                out.push_str(value);
                Ok(())
            });
        match written {
            Ok(set_cookie) => set_cookie,
            Err(never) => match never {},
        }
    }

    /// [`set`](Self::set) with the value written into the header by `value` (about
    /// `value_len` bytes long: a sealed cookie, encoded in place rather than copied).
    ///
    /// # Errors
    /// The error of `value`.
    pub(crate) fn set_with<E>(
        &self,
        value_len: usize,
        now: Timestamp,
        deadline: Timestamp,
        value: impl FnOnce(&mut String) -> Result<(), E>,
    ) -> Result<String, E> {
        let lifetime = self.permanent.then(|| {
            (
                deadline.as_secs().saturating_sub(now.as_secs()).max(0),
                deadline,
            )
        });
        self.format(value_len, value, lifetime)
    }

    /// A `Set-Cookie` value that makes the browser drop the cookie: the same name, path,
    /// domain and flags, an empty value, `Max-Age=0` and an `Expires` in 1970.
    pub(crate) fn removal(&self) -> String {
        let removal: Result<String, std::convert::Infallible> =
            self.format(0, |_| Ok(()), Some((0, Timestamp(0))));
        match removal {
            Ok(set_cookie) => set_cookie,
            Err(never) => match never {},
        }
    }

    fn format<E>(
        &self,
        value_len: usize,
        value: impl FnOnce(&mut String) -> Result<(), E>,
        lifetime: Option<(i64, Timestamp)>,
    ) -> Result<String, E> {
        use std::fmt::Write;
        // Exactly the length written (for a value of `value_len` bytes): an adapter hands
        // the string to its framework as the header's bytes, which keeps a string that
        // fills its allocation without a second allocation.
        let lifetime_len = lifetime.map_or(0, |(max_age, _)| {
            "; Max-Age=".len() + decimal_len(max_age) + "; Expires=".len() + HTTP_DATE_LEN
        });
        // The attributes that do not change are formatted once, in `new`.
        let mut s = String::with_capacity(
            self.name.len() + 1 + value_len + self.head.len() + lifetime_len + self.tail.len(),
        );
        s.push_str(&self.name);
        s.push('=');
        value(&mut s)?;
        s.push_str(&self.head);
        if let Some((max_age, expires)) = lifetime {
            let _ = write!(s, "; Max-Age={max_age}; Expires=");
            write_http_date(&mut s, expires);
        }
        s.push_str(&self.tail);
        Ok(s)
    }
}

/// Whether `text` can go into a `Set-Cookie` attribute unescaped (no `;`, no control or
/// non-ASCII characters): the rule of `session-spec`, which refuses such a spec first.
pub(crate) use session_spec::settings::is_attribute_safe;

/// The length of an HTTP date as [`write_http_date`] writes it (the year is clamped to
/// four digits).
const HTTP_DATE_LEN: usize = "Thu, 01 Jan 1970 00:00:00 GMT".len();

/// How many characters `n` takes in decimal (a `-` included).
fn decimal_len(n: i64) -> usize {
    let digits = n
        .unsigned_abs()
        .checked_ilog10()
        .map_or(1, |d| d as usize + 1);
    digits + usize::from(n < 0)
}

/// Formats `t` as an HTTP date (IMF-fixdate): `Thu, 01 Jan 1970 00:00:00 GMT`.
#[cfg(test)]
pub(crate) fn http_date(t: Timestamp) -> String {
    let mut s = String::with_capacity(29);
    write_http_date(&mut s, t);
    s
}

/// Appends `t` as an HTTP date (IMF-fixdate) to `out`, without a string of its own.
fn write_http_date(out: &mut String, t: Timestamp) {
    use std::fmt::Write;
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    // Cookie dates before 1970 or after 9999 mean nothing to browsers; clamp.
    let secs = t.as_secs().clamp(0, 253_402_300_799);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let _ = write!(
        out,
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        DAYS[days.rem_euclid(7) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates() {
        assert_eq!(http_date(Timestamp(0)), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(
            http_date(Timestamp(784_111_777)),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
        assert_eq!(
            http_date(Timestamp(951_782_400)),
            "Tue, 29 Feb 2000 00:00:00 GMT"
        );
        assert_eq!(
            http_date(Timestamp(1_700_000_000)),
            "Tue, 14 Nov 2023 22:13:20 GMT"
        );
        assert_eq!(http_date(Timestamp(-5)), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn partitioned_cookies_say_so_last() {
        let settings = Settings {
            partitioned: true,
            same_site: session_spec::SameSite::None,
            ..Settings::default()
        };
        let set = CookiePolicy::new(&settings).set("v", Timestamp(0), Timestamp(60));
        assert_eq!(
            set,
            "session=v; Path=/; Secure; HttpOnly; SameSite=None; Partitioned"
        );
        let plain = CookiePolicy::new(&Settings::default()).removal();
        assert!(!plain.contains("Partitioned"), "{plain}");
    }

    proptest::proptest! {
        /// Every `Set-Cookie` value fills its allocation exactly (an adapter hands it to
        /// its framework without a copy only then), permanent or not, with a domain or
        /// without, and a removal too; the lengths the capacity is computed from agree
        /// with what is written.
        #[test]
        fn set_cookie_values_are_allocated_at_their_length(
            value_len in 0usize..200,
            now in -10i64..4_000_000_000,
            lifetime in proptest::prop_oneof![
                0i64..12,
                0i64..1_000_000_000,
                proptest::strategy::Just(i64::MAX / 2),
            ],
            permanent: bool,
            domain: bool,
        ) {
            let settings = Settings {
                permanent,
                domain: domain.then(|| "example.com".to_owned()),
                ..Settings::default()
            };
            let policy = CookiePolicy::new(&settings);
            let value = "v".repeat(value_len);
            let deadline = Timestamp(now.saturating_add(lifetime));
            let set = policy.set(&value, Timestamp(now), deadline);
            proptest::prop_assert_eq!(set.capacity(), set.len(), "{}", set);
            proptest::prop_assert_eq!(set.contains("Max-Age="), permanent);
            let removal = policy.removal();
            proptest::prop_assert_eq!(removal.capacity(), removal.len(), "{}", removal);
            proptest::prop_assert_eq!(decimal_len(lifetime), lifetime.to_string().len());
            proptest::prop_assert_eq!(decimal_len(-lifetime), (-lifetime).to_string().len());
        }
    }

    /// `cookie_values` of a request's headers, as the manager calls it.
    fn split<'a, H: AsRef<[u8]>>(headers: &'a [H], name: &str) -> (Values<'a>, bool) {
        cookie_values(
            headers.first().map(AsRef::as_ref),
            headers.iter().skip(1),
            name,
        )
    }

    /// The values of the first header are borrowed from it, later headers' copied; the
    /// same values either way.
    #[test]
    fn values_of_the_first_header_are_borrowed() {
        let headers = ["a=1; session=x; session=y", "session=z; session=x"];
        let (values, truncated) = split(&headers, "session");
        assert!(!truncated);
        assert_eq!(values.strs(), ["x", "y", "z"]);
        assert!(matches!(values.first, Some(Cow::Borrowed(b"x"))));
        assert!(matches!(values.rest[..], [Cow::Borrowed(b"y"), Cow::Owned(ref z)] if z == b"z"));
        let (none, truncated) = cookie_values(None, headers, "session");
        assert!(!truncated);
        assert_eq!(none.strs(), ["x", "y", "z"]);
    }

    #[test]
    fn cookie_values_are_found_in_every_header() {
        let headers = ["a=1; session=x", "session=\"y\";other=2", "session"];
        let values = |(values, _): (Values, bool)| {
            values
                .strs()
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(values(split(&headers, "session")), ["x", "y"]);
        let raw: [&[u8]; 1] = [b"session=\xff; session=z"];
        assert_eq!(values(split(&raw, "session")), ["z"]);
        // Repeats and empty values cost nothing; distinct values are bounded.
        let sames = ["session=1; session=;".repeat(100)];
        let (one, truncated) = split(&sames, "session");
        assert_eq!((one.strs(), truncated), (vec!["1"], false));
        assert!(one.rest.is_empty(), "one value: no list");
        let manys: [String; 1] = [(0..100).map(|i| format!("session={i};")).collect()];
        let (values, truncated) = split(&manys, "session");
        assert_eq!(values.len(), MAX_CANDIDATES);
        assert!(truncated);
    }

    /// The request's cookies as read before `value_of` (every pair checked as UTF-8,
    /// names trimmed by `str::trim`): the reference the fast path must agree with.
    fn reference(headers: &[&[u8]], name: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for header in headers {
            for pair in header.split(|b| *b == b';') {
                let Ok(pair) = std::str::from_utf8(pair) else {
                    continue;
                };
                let Some((n, v)) = pair.split_once('=') else {
                    continue;
                };
                if n.trim() != name {
                    continue;
                }
                let v = v.trim();
                let v = v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(v);
                if v.is_empty() || v.len() > MAX_COOKIE_BYTES || out.iter().any(|s| s == v) {
                    continue;
                }
                out.push(v.to_owned());
            }
        }
        out
    }

    #[test]
    fn names_are_trimmed_and_pairs_checked_as_before() {
        let cases: &[&[u8]] = &[
            b"session=a",
            b" session =b",
            b"\tsession\x0b=c",
            b"\x0csession\r\n=d",
            "\u{3000}session\u{a0}=e".as_bytes(),
            "session\u{2009}=f".as_bytes(),
            "s\u{e9}ssion=g".as_bytes(),
            b"session=\xff",
            b"session=h\xff",
            b"\xffsession=i",
            b"session\xff=j",
            b"session==k=",
            b"=session",
            b"sessio=l",
            b"sessions=m",
            b"session=\" n \"",
            "session= \u{3000}o\u{3000} ".as_bytes(),
            b"session",
            b"",
        ];
        for case in cases {
            for name in ["session", "s\u{e9}ssion", "session\u{a0}"] {
                let ours: Vec<String> = split(&[*case], name)
                    .0
                    .strs()
                    .into_iter()
                    .map(str::to_owned)
                    .collect();
                assert_eq!(ours, reference(&[*case], name), "{case:?} {name}");
            }
        }
        let all: Vec<u8> = cases.join(&b';');
        let ours: Vec<String> = split(&[&all], "session")
            .0
            .strs()
            .into_iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(ours, reference(&[&all], "session"));
        assert_eq!(ours, ["a", "b", "c", "d", "e", "f", "=k=", " n ", "o"]);
    }

    proptest::proptest! {
        /// The word-at-a-time search finds the first `;` wherever it is (every offset
        /// within and across words, bytes next to `;` and with the high bit set around
        /// it), and the pieces are those of `split`.
        #[test]
        fn semicolons_are_found_as_split_finds_them(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just(b';'),
                    proptest::strategy::Just(b':'),
                    proptest::strategy::Just(b'<'),
                    proptest::strategy::Just(0xbb),
                    proptest::strategy::Just(0x1b),
                    proptest::strategy::Just(0x00),
                    proptest::strategy::Just(0xff),
                    proptest::prelude::any::<u8>(),
                ],
                0..40,
            )
        ) {
            proptest::prop_assert_eq!(
                find_semicolon(&bytes),
                bytes.iter().position(|b| *b == b';')
            );
            let ours: Vec<&[u8]> = pairs(&bytes).collect();
            let split: Vec<&[u8]> = bytes.split(|b| *b == b';').collect();
            proptest::prop_assert_eq!(ours, split);
        }
    }

    #[test]
    fn a_semicolon_is_found_at_every_offset() {
        for len in 0..24 {
            for at in 0..len {
                let mut bytes = vec![b'a'; len];
                bytes[at] = b';';
                if at + 1 < len {
                    // A second one after it does not hide the first.
                    bytes[len - 1] = b';';
                }
                assert_eq!(find_semicolon(&bytes), Some(at), "{len} {at}");
            }
            assert_eq!(find_semicolon(&vec![b':'; len]), None);
        }
    }

    /// Values are trimmed as `str::trim` trims them: ASCII and Unicode white space, mixed,
    /// at either edge, inside quotes or around them.
    #[test]
    fn values_are_trimmed_as_str_trim_trims_them() {
        let cases: &[&str] = &[
            "session= \t a \x0b\r\n",
            "session=\u{3000} b \t",
            "session= \t\u{85}c\u{2028} \x0c",
            "session=d\u{a0}\x0b ",
            "session=\x0b\u{2009}\x0c",
            "session= \u{e9} ",
            "session=\u{e9}\u{3000}e\u{3000}\u{e9}",
            "session= \"\u{3000}f\u{3000}\" ",
            "session=\u{3000}\"g\"\u{3000}",
            "session=\t\u{feff}h ",
        ];
        for case in cases {
            let ours: Vec<String> = split(&[*case], "session")
                .0
                .strs()
                .into_iter()
                .map(str::to_owned)
                .collect();
            assert_eq!(ours, reference(&[case.as_bytes()], "session"), "{case:?}");
        }
        let all = cases.join(";");
        let ours: Vec<String> = split(&[&all], "session")
            .0
            .strs()
            .into_iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(
            ours,
            [
                "a",
                "b",
                "c",
                "d",
                "\u{e9}",
                "\u{e9}\u{3000}e\u{3000}\u{e9}",
                "\u{3000}f\u{3000}",
                "g",
                "\u{feff}h"
            ]
        );
    }

    proptest::proptest! {
        #[test]
        fn cookie_values_agree_with_the_reference(
            header in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just(b"session".to_vec()),
                    proptest::strategy::Just(b"=".to_vec()),
                    proptest::strategy::Just(b";".to_vec()),
                    proptest::strategy::Just(b" ".to_vec()),
                    proptest::strategy::Just(b"\"".to_vec()),
                    proptest::strategy::Just("\u{3000}".as_bytes().to_vec()),
                    proptest::strategy::Just(b"\t".to_vec()),
                    proptest::strategy::Just("\u{85}".as_bytes().to_vec()),
                    proptest::strategy::Just("\u{e9}".as_bytes().to_vec()),
                    proptest::strategy::Just(vec![0xff]),
                    proptest::collection::vec(proptest::prelude::any::<u8>(), 0..3),
                ],
                0..12,
            )
        ) {
            let header: Vec<u8> = header.concat();
            let ours: Vec<String> = split(&[&header], "session").0.strs().into_iter().map(str::to_owned).collect();
            proptest::prop_assert_eq!(ours, reference(&[&header], "session"));
        }
    }
}
