//! The cookie budget: the largest cookie a schema's rules allow.
//!
//! On the cookie backend the whole session travels in the cookie, and browsers drop a
//! cookie whose name and value exceed 4096 bytes (RFC 6265bis, section 5.6), so a spec
//! whose rules allow more fails at run time, for one user, with an empty `500`. This
//! module computes the worst case from the schema alone: every field present and at the
//! largest size its rules allow, in the runtime's binary payload (format 2 of
//! `session_runtime::schema`'s envelope: a tag byte a value, LEB128 varint lengths and counts,
//! integers as varints, floats in 8 bytes, strings as UTF-8), each character at its longest
//! UTF-8 encoding (a `pattern` that only admits ASCII counts one byte a character, no
//! pattern counts four), wrapped in the runtime's binary envelope, sealed and encoded in
//! base64url. The validator refuses a cookie-backend spec whose worst case exceeds the
//! limit, and warns about a field without a bound, whose size cannot be proven.
//!
//! The runtime's format is described by the constants of [`Overhead`]; a test in the
//! workspace's `tests/` crate checks them against the real runtime's sealed cookie for a
//! worst-case session, so that the two cannot drift apart.
//!
//! ```
//! use session_spec::budget::cookie_budget;
//! use session_spec::parse::parse_str;
//!
//! let schema = parse_str(
//!     "name = \"Shop\"\n[fields.cart]\ntype = \"Vec<String>\"\nmax_items = 50\nmax_length = 64\n",
//!     "session.toml",
//! )
//! .unwrap_err(); // 50 items of 64 characters of any kind cannot fit in a cookie
//! assert!(schema.to_string().contains("over the 4096 bytes"));
//!
//! let ok = parse_str(
//!     "name = \"Shop\"\n[fields.cart]\ntype = \"Vec<String>\"\nmax_items = 20\nmax_length = 32\npattern = \"[a-z0-9-]+\"\n",
//!     "session.toml",
//! )
//! .unwrap();
//! let budget = cookie_budget(&ok);
//! assert!(budget.total().unwrap() <= 4096);
//! ```

use std::fmt::Write as _;

use crate::ir::{Field, FieldType, Number, Schema};
use crate::settings::CookieMode;

/// Browsers keep cookies whose name and value together fit in this many bytes.
pub const MAX_COOKIE_BYTES: usize = 4096;

/// The size of the runtime's cookie format around the session data, in one place: its
/// binary envelope (format 2: a marker and flags byte that also holds a schema version of
/// 1 to 7, else a varint version; the session id's raw bytes; four zigzag-varint times)
/// and the sealing of codec format 2 (header byte, one-byte key hint, then the truncated
/// HMAC tag, or the nonce and GCM tag). A cookie carries no schema name (the codec binds
/// it instead). A test in the workspace's `tests/` crate checks these numbers against a
/// worst-case cookie sealed by the real runtime.
#[derive(Clone, Copy, Debug)]
pub struct Overhead;

impl Overhead {
    /// The first byte: the format's marker bit, the flags, and a schema version of 1 to 7.
    pub const FLAGS: usize = 1;
    /// The session id's raw bytes at their longest: an id issued before ids were shortened
    /// to 16 bytes keeps its 32 bytes in the cookie until the session ends.
    pub const SESSION_ID: usize = 32;
    /// The longest time: a zigzag varint of any `i64` (created, as seconds from
    /// 2026-01-01, and three differences of seconds).
    pub const TIMESTAMP: usize = 10;
    /// How many times the envelope holds (created, last seen, expiry, id issued).
    pub const TIMESTAMPS: usize = 4;
    /// Sealing overhead of a signed cookie: header, key hint, HMAC-SHA256 tag truncated to
    /// 16 bytes.
    pub const SIGNED: usize = 1 + 1 + 16;
    /// Sealing overhead of an encrypted cookie: header, key hint, nonce, GCM tag.
    pub const ENCRYPTED: usize = 1 + 1 + 12 + 16;

    /// The bytes the schema version takes after the first byte: none for 1 to 7 (held in
    /// the flags byte), else its varint.
    pub const fn schema_version(version: u32) -> usize {
        if version >= 1 && version <= 7 {
            0
        } else {
            varint_len(version as u64)
        }
    }

    /// The envelope around the data, at its largest, for a schema of `schema_version`.
    pub const fn envelope(schema_version: u32) -> usize {
        Self::FLAGS
            + Self::schema_version(schema_version)
            + Self::SESSION_ID
            + Self::TIMESTAMPS * Self::TIMESTAMP
    }

    /// The sealing overhead of `mode`.
    pub const fn sealing(mode: CookieMode) -> usize {
        match mode {
            CookieMode::Signed => Self::SIGNED,
            CookieMode::Encrypted => Self::ENCRYPTED,
        }
    }

    /// The cookie's name and value at their largest, the bytes browsers count against
    /// [`MAX_COOKIE_BYTES`], for a cookie name (prefix included) of `name_len` bytes,
    /// sealed with `mode`, for a schema of `schema_version` whose data takes at most
    /// `data` bytes (a schema's [`CookieBudget::data`], which generated code carries as
    /// `SessionSchema::COOKIE_DATA_BYTES`). The runtime checks it at start-up, when a
    /// deployment chooses the cookie backend.
    ///
    /// ```
    /// use session_spec::CookieMode;
    /// use session_spec::budget::{Overhead, MAX_COOKIE_BYTES};
    /// let small = Overhead::cookie_bytes("session".len(), CookieMode::Encrypted, 1, 200);
    /// assert!(small < 500);
    /// let big = Overhead::cookie_bytes("session".len(), CookieMode::Encrypted, 1, 3200);
    /// assert!(big > MAX_COOKIE_BYTES);
    /// ```
    pub const fn cookie_bytes(
        name_len: usize,
        mode: CookieMode,
        schema_version: u32,
        data: usize,
    ) -> usize {
        let sealed = Self::envelope(schema_version)
            .saturating_add(data)
            .saturating_add(Self::sealing(mode));
        name_len.saturating_add(base64_len(sealed))
    }
}

/// The length of `n` bytes in unpadded base64.
pub const fn base64_len(n: usize) -> usize {
    n.saturating_mul(4).div_ceil(3)
}

/// The length of `v` as a LEB128 varint (seven bits a byte).
///
/// ```
/// use session_spec::budget::varint_len;
/// assert_eq!(varint_len(0), 1);
/// assert_eq!(varint_len(127), 1);
/// assert_eq!(varint_len(128), 2);
/// assert_eq!(varint_len(u64::MAX), 10);
/// ```
pub const fn varint_len(v: u64) -> usize {
    let bits = 64 - v.leading_zeros() as usize;
    if bits == 0 { 1 } else { bits.div_ceil(7) }
}

/// [`varint_len`] of a `usize` (saturating).
fn varint_len_of(n: usize) -> usize {
    varint_len(u64::try_from(n).unwrap_or(u64::MAX))
}

/// The worst case of one field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldCost {
    /// The field's name.
    pub name: String,
    /// The largest encoded key and value (binary payload) the rules allow, or why there is
    /// no bound.
    pub bytes: Result<usize, String>,
}

/// The largest cookie a schema allows, part by part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieBudget {
    /// The cookie name, prefix included.
    pub cookie_name: String,
    /// How the payload is sealed.
    pub mode: CookieMode,
    /// The schema version written into the envelope.
    pub schema_version: u32,
    /// Every field, in declaration order.
    pub fields: Vec<FieldCost>,
}

impl CookieBudget {
    /// The session data's binary encoding (field count, then each key and value) at its
    /// largest, when every field is bounded.
    pub fn data(&self) -> Option<usize> {
        let mut sum = varint_len_of(self.fields.len());
        for f in &self.fields {
            sum += f.bytes.as_ref().ok()?;
        }
        Some(sum)
    }

    /// The data's size counting only the bounded fields (a lower bound of the worst case).
    pub fn data_bounded_part(&self) -> usize {
        varint_len_of(self.fields.len())
            + self
                .fields
                .iter()
                .filter_map(|f| f.bytes.as_ref().ok())
                .sum::<usize>()
    }

    /// The envelope around the data, at its largest.
    pub fn envelope(&self) -> usize {
        Overhead::envelope(self.schema_version)
    }

    /// Name plus sealed, encoded value for a data size of `data` bytes.
    pub fn total_for(&self, data: usize) -> usize {
        Overhead::cookie_bytes(self.cookie_name.len(), self.mode, self.schema_version, data)
    }

    /// Name plus sealed value at the worst case, when every field is bounded: what the
    /// runtime compares with [`MAX_COOKIE_BYTES`].
    pub fn total(&self) -> Option<usize> {
        self.data().map(|d| self.total_for(d))
    }

    /// The fields without a bound.
    pub fn unbounded(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().filter_map(|f| {
            f.bytes
                .as_ref()
                .err()
                .map(|why| (f.name.as_str(), why.as_str()))
        })
    }

    /// The bounded fields, largest first.
    pub fn largest(&self) -> Vec<(&str, usize)> {
        let mut v: Vec<(&str, usize)> = self
            .fields
            .iter()
            .filter_map(|f| f.bytes.as_ref().ok().map(|b| (f.name.as_str(), *b)))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v
    }

    /// The budget as a table, for `session-spec check --explain`.
    pub fn explain(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "cookie budget of `{}` ({} cookie, at most {MAX_COOKIE_BYTES} bytes of name and value):",
            self.cookie_name,
            match self.mode {
                CookieMode::Signed => "signed",
                CookieMode::Encrypted => "encrypted",
            }
        );
        for f in &self.fields {
            match &f.bytes {
                Ok(b) => {
                    let _ = writeln!(out, "  field {:<24} {b:>7} bytes", f.name);
                }
                Err(why) => {
                    let _ = writeln!(out, "  field {:<24} unbounded ({why})", f.name);
                }
            }
        }
        let data = self.data_bounded_part();
        let _ = writeln!(out, "  data (binary)                {data:>7} bytes");
        let _ = writeln!(
            out,
            "  envelope                     {:>7} bytes",
            self.envelope()
        );
        let _ = writeln!(
            out,
            "  sealing                      {:>7} bytes",
            Overhead::sealing(self.mode)
        );
        let total = self.total_for(data);
        let _ = writeln!(
            out,
            "  name + base64 value          {total:>7} bytes{}",
            if self.data().is_none() {
                " (at least; some fields are unbounded)"
            } else {
                ""
            }
        );
        if total <= MAX_COOKIE_BYTES {
            let _ = writeln!(
                out,
                "  room left                    {:>7} bytes",
                MAX_COOKIE_BYTES - total
            );
        } else {
            let _ = writeln!(
                out,
                "  over the limit by            {:>7} bytes",
                total - MAX_COOKIE_BYTES
            );
        }
        out
    }
}

/// The cookie budget of `schema` (as if it used the cookie backend).
pub fn cookie_budget(schema: &Schema) -> CookieBudget {
    let fields = schema
        .fields
        .iter()
        .map(|f| FieldCost {
            name: f.name.clone(),
            bytes: field_bytes(schema, f),
        })
        .collect();
    CookieBudget {
        cookie_name: schema.settings.full_cookie_name(),
        mode: schema.settings.cookie_mode,
        schema_version: schema.version,
        fields,
    }
}

/// A key (varint length and UTF-8 bytes, no tag) and its value.
fn field_bytes(schema: &Schema, f: &Field) -> Result<usize, String> {
    let key = str_bytes(f.key.len());
    value_bytes(schema, f, &f.ty.value).map(|v| key.saturating_add(v))
}

/// A string of `len` bytes without its tag: varint length and bytes.
fn str_bytes(len: usize) -> usize {
    varint_len_of(len).saturating_add(len)
}

/// A tagged array or object of `n` entries of `entry` bytes each.
fn collection_bytes(n: usize, entry: usize) -> usize {
    1usize
        .saturating_add(varint_len_of(n))
        .saturating_add(n.saturating_mul(entry))
}

/// The largest binary encoding of a value of `ty` under the field's rules.
fn value_bytes(schema: &Schema, f: &Field, ty: &FieldType) -> Result<usize, String> {
    let r = &f.rules;
    match ty {
        // `None` is the one byte of a null.
        FieldType::Option(inner) => value_bytes(schema, f, inner).map(|n| n.max(1)),
        FieldType::Vec(inner) => {
            let Some(max_items) = &r.max_items else {
                return Err("no `max_items`".into());
            };
            let n = usize::try_from(max_items.value).unwrap_or(usize::MAX);
            if n == 0 {
                return Ok(collection_bytes(0, 0));
            }
            let item = scalar_bytes(schema, f, inner)?;
            Ok(collection_bytes(n, item))
        }
        // A set of a type with few values (a `bool`, a spec enum, a `one_of`) holds at
        // most that many items, with or without `max_items`.
        FieldType::Set(inner) => {
            let limit = r
                .max_items
                .as_ref()
                .map(|m| usize::try_from(m.value).unwrap_or(usize::MAX));
            let n = match (limit, set_domain(schema, f, inner)) {
                (Some(a), Some(b)) => a.min(b),
                (Some(n), None) | (None, Some(n)) => n,
                (None, None) => return Err("no `max_items`".into()),
            };
            if n == 0 {
                return Ok(collection_bytes(0, 0));
            }
            let item = scalar_bytes(schema, f, inner)?;
            Ok(collection_bytes(n, item))
        }
        FieldType::Map(inner) => {
            let Some(max_items) = &r.max_items else {
                return Err("no `max_items`".into());
            };
            let n = usize::try_from(max_items.value).unwrap_or(usize::MAX);
            if n == 0 {
                return Ok(collection_bytes(0, 0));
            }
            let value = scalar_bytes(schema, f, inner)?;
            let Some(key_len) = &r.max_key_length else {
                return Err("no `max_key_length` for its keys".into());
            };
            // Keys are not restricted by `pattern`: any character, four bytes at most.
            let key = str_bytes(
                usize::try_from(key_len.value)
                    .unwrap_or(usize::MAX)
                    .saturating_mul(MAX_CHAR_COST),
            );
            Ok(collection_bytes(n, key.saturating_add(value)))
        }
        scalar => scalar_bytes(schema, f, scalar),
    }
}

/// How many distinct items a set of `item` can hold at all, when that is few: two
/// booleans, the variants of a spec enum, the values of a `one_of`.
pub(crate) fn set_domain(schema: &Schema, f: &Field, item: &FieldType) -> Option<usize> {
    if let Some(one_of) = &f.rules.one_of {
        if !matches!(item, FieldType::Path(_)) {
            return Some(one_of.value.len());
        }
    }
    match item {
        FieldType::Bool => Some(2),
        FieldType::Enum(name) => schema
            .enums
            .iter()
            .find(|e| e.name == *name)
            .map(|e| e.variants.len()),
        _ => None,
    }
}

fn scalar_bytes(schema: &Schema, f: &Field, ty: &FieldType) -> Result<usize, String> {
    let r = &f.rules;
    if let Some(one_of) = &r.one_of {
        if !one_of.value.is_empty() && !matches!(ty, FieldType::Path(_)) {
            return Ok(one_of
                .value
                .iter()
                .map(|v| encoded_len(&v.to_json()))
                .max()
                .unwrap_or(1));
        }
    }
    match ty {
        FieldType::Bool => Ok(1),
        FieldType::Int(int) => {
            let (mut lo, mut hi) = int.range();
            if let Some(m) = &r.min {
                if let Number::Int(m) = m.value {
                    lo = lo.max(i128::from(m));
                }
            }
            if let Some(m) = &r.max {
                if let Number::Int(m) = m.value {
                    hi = hi.min(i128::from(m));
                }
            }
            Ok(1 + int_varint_len(lo).max(int_varint_len(hi)))
        }
        // A tag and the 8 bytes of an IEEE 754 double.
        FieldType::Float(_) => Ok(9),
        FieldType::String => {
            let Some(max) = &r.max_length else {
                return Err("no `max_length`".into());
            };
            let per_char = r
                .pattern
                .as_ref()
                .map_or(MAX_CHAR_COST, |p| pattern_char_cost(&p.value));
            let n = usize::try_from(max.value).unwrap_or(usize::MAX);
            Ok(1usize.saturating_add(str_bytes(n.saturating_mul(per_char))))
        }
        FieldType::Enum(name) => schema
            .enums
            .iter()
            .find(|e| e.name == *name)
            .map(|e| {
                e.variants
                    .iter()
                    .map(|v| 1 + str_bytes(v.key.len()))
                    .max()
                    .unwrap_or(1)
            })
            .ok_or_else(|| format!("unknown type `{name}`")),
        FieldType::Path(p) => Err(format!("a user type (`{p}`) has no size limit")),
        FieldType::Option(inner) => scalar_bytes(schema, f, inner).map(|n| n.max(1)),
        FieldType::Vec(_) | FieldType::Set(_) | FieldType::Map(_) => {
            Err("`max_items` bounds the outer collection only".into())
        }
    }
}

/// The varint of an integer without its tag: `n` for `n >= 0`, `-(n + 1)` below.
fn int_varint_len(n: i128) -> usize {
    let magnitude = if n < 0 { -(n + 1) } else { n };
    varint_len(u64::try_from(magnitude).unwrap_or(u64::MAX))
}

/// The length of `v` in the runtime's binary encoding of values (tag and content).
///
/// ```
/// use session_spec::budget::encoded_len;
/// assert_eq!(encoded_len(&serde_json::json!(null)), 1);
/// assert_eq!(encoded_len(&serde_json::json!(-1)), 2);
/// assert_eq!(encoded_len(&serde_json::json!(u64::MAX)), 11);
/// assert_eq!(encoded_len(&serde_json::json!(0.5)), 9);
/// assert_eq!(encoded_len(&serde_json::json!("é")), 4);
/// assert_eq!(encoded_len(&serde_json::json!({"a": [true]})), 7);
/// ```
pub fn encoded_len(v: &serde_json::Value) -> usize {
    use serde_json::Value as J;
    match v {
        J::Null | J::Bool(_) => 1,
        J::Number(n) => {
            if let Some(u) = n.as_u64() {
                1 + varint_len(u)
            } else if let Some(i) = n.as_i64() {
                1 + int_varint_len(i128::from(i))
            } else {
                9
            }
        }
        J::String(s) => 1 + str_bytes(s.len()),
        J::Array(items) => {
            1 + varint_len_of(items.len()) + items.iter().map(encoded_len).sum::<usize>()
        }
        J::Object(map) => {
            1 + varint_len_of(map.len())
                + map
                    .iter()
                    .map(|(k, v)| str_bytes(k.len()) + encoded_len(v))
                    .sum::<usize>()
        }
    }
}

/// The longest UTF-8 encoding of one character.
pub const MAX_CHAR_COST: usize = 4;

/// The encoded length of one character: its UTF-8 length (strings are written as their
/// UTF-8 bytes, with no escapes).
pub fn char_cost(c: char) -> usize {
    c.len_utf8()
}

/// The largest UTF-8 length of a character in `lo..=hi`.
fn range_cost(lo: u32, hi: u32) -> usize {
    const BANDS: [(u32, u32, usize); 4] = [
        (0x00, 0x7f, 1),
        (0x80, 0x7ff, 2),
        (0x800, 0xffff, 3),
        (0x1_0000, 0x10_ffff, 4),
    ];
    let mut cost = 0;
    for (a, b, c) in BANDS {
        if lo <= b && a <= hi {
            cost = cost.max(c);
        }
    }
    cost
}

/// The largest encoded length (UTF-8) of one character a `pattern` can match, found by a
/// conservative reading of the pattern: literal characters, escapes, `\d`, `\w` (ASCII in
/// regex-lite) and classes with ranges and negation are understood; anything else (`.`,
/// `\s`, flags, POSIX classes) counts as any character, [`MAX_CHAR_COST`]. A pattern that
/// only admits ASCII costs one byte a character.
///
/// ```
/// use session_spec::budget::pattern_char_cost;
/// assert_eq!(pattern_char_cost("[a-z0-9_]+"), 1);
/// assert_eq!(pattern_char_cost("[^\\x00-\\x1f]*"), 4);
/// assert_eq!(pattern_char_cost("caf\u{e9}"), 2);
/// assert_eq!(pattern_char_cost(".*"), 4);
/// ```
pub fn pattern_char_cost(pattern: &str) -> usize {
    read_pattern(pattern).unwrap_or(MAX_CHAR_COST)
}

fn read_pattern(p: &str) -> Option<usize> {
    let chars: Vec<char> = p.chars().collect();
    let mut i = 0;
    let mut cost = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '\\' => {
                let (ranges, next) = escape(&chars, i)?;
                i = next;
                for (lo, hi) in ranges {
                    cost = cost.max(range_cost(lo, hi));
                }
            }
            '[' => {
                let (ranges, next) = class(&chars, i)?;
                i = next;
                for (lo, hi) in ranges {
                    cost = cost.max(range_cost(lo, hi));
                }
            }
            '(' => {
                if chars.get(i) == Some(&'?') {
                    // Only non-capturing and named groups; flags may widen what matches.
                    match chars.get(i + 1) {
                        Some(':') => i += 2,
                        Some('P') | Some('<') => {
                            let close = chars[i..].iter().position(|c| *c == '>')?;
                            i += close + 1;
                        }
                        _ => return None,
                    }
                }
            }
            '{' => {
                let close = chars[i..].iter().position(|c| *c == '}')?;
                if !chars[i..i + close]
                    .iter()
                    .all(|c| c.is_ascii_digit() || *c == ',' || *c == ' ')
                {
                    return None;
                }
                i += close + 1;
            }
            ')' | '|' | '*' | '+' | '?' | '^' | '$' => {}
            '.' => return None,
            c => cost = cost.max(char_cost(c)),
        }
    }
    Some(cost)
}

/// An escape after `\` at `i`: the characters it matches (empty for an anchor) and where
/// reading goes on.
fn escape(chars: &[char], i: usize) -> Option<(Vec<(u32, u32)>, usize)> {
    let e = *chars.get(i)?;
    let one = |c: char| vec![(c as u32, c as u32)];
    Some(match e {
        'd' => (vec![(0x30, 0x39)], i + 1),
        'w' => (
            vec![(0x30, 0x39), (0x41, 0x5a), (0x5f, 0x5f), (0x61, 0x7a)],
            i + 1,
        ),
        'b' | 'B' | 'A' | 'z' => (Vec::new(), i + 1),
        'n' => (one('\n'), i + 1),
        't' => (one('\t'), i + 1),
        'r' => (one('\r'), i + 1),
        'x' => {
            if chars.get(i + 1) == Some(&'{') {
                let close = chars[i + 2..].iter().position(|c| *c == '}')?;
                let hex: String = chars[i + 2..i + 2 + close].iter().collect();
                let c = char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?;
                (one(c), i + 3 + close)
            } else {
                let hex: String = chars.get(i + 1..i + 3)?.iter().collect();
                let c = char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?;
                (one(c), i + 3)
            }
        }
        c if c.is_ascii_punctuation() || c == ' ' => (one(c), i + 1),
        _ => return None,
    })
}

/// A class after `[` at `i`: the characters it matches and where reading goes on.
fn class(chars: &[char], mut i: usize) -> Option<(Vec<(u32, u32)>, usize)> {
    let negated = chars.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    let mut first = true;
    loop {
        let c = *chars.get(i)?;
        if c == ']' && !first {
            i += 1;
            break;
        }
        first = false;
        if c == '[' || (c == '&' && chars.get(i + 1) == Some(&'&')) {
            // Nested classes and set operations: not read.
            return None;
        }
        if (c == '-' && chars.get(i + 1) == Some(&'-'))
            || (c == '~' && chars.get(i + 1) == Some(&'~'))
        {
            return None;
        }
        let (lo_set, next) = if c == '\\' {
            escape(chars, i + 1)?
        } else {
            (vec![(c as u32, c as u32)], i + 1)
        };
        i = next;
        // A range `a-z` (a `-` before `]` is a literal).
        if lo_set.len() == 1
            && lo_set[0].0 == lo_set[0].1
            && chars.get(i) == Some(&'-')
            && chars.get(i + 1).is_some_and(|c| *c != ']')
        {
            let (hi_set, next) = if chars[i + 1] == '\\' {
                escape(chars, i + 2)?
            } else {
                (vec![(chars[i + 1] as u32, chars[i + 1] as u32)], i + 2)
            };
            if hi_set.len() != 1 || hi_set[0].0 != hi_set[0].1 {
                return None;
            }
            i = next;
            ranges.push((lo_set[0].0, hi_set[0].0));
        } else {
            ranges.extend(lo_set);
        }
    }
    if negated {
        ranges.sort_unstable();
        let mut out = Vec::new();
        let mut next = 0u32;
        for (lo, hi) in ranges {
            if lo > next {
                out.push((next, lo - 1));
            }
            next = next.max(hi.saturating_add(1));
        }
        if next <= 0x10_ffff {
            out.push((next, 0x10_ffff));
        }
        ranges = out;
    }
    Some((ranges, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_of_characters_and_patterns() {
        assert_eq!(char_cost('a'), 1);
        assert_eq!(char_cost('"'), 1);
        assert_eq!(char_cost('\u{1}'), 1);
        assert_eq!(char_cost('é'), 2);
        assert_eq!(char_cost('€'), 3);
        assert_eq!(char_cost('😀'), 4);
        assert_eq!(pattern_char_cost("[0-9a-f]+"), 1);
        assert_eq!(pattern_char_cost("[A-Za-z0-9 ._-]+"), 1);
        assert_eq!(pattern_char_cost("\\d{4}-\\d{2}"), 1);
        assert_eq!(pattern_char_cost("(?:ab|c\"d)"), 1);
        assert_eq!(pattern_char_cost("(?:ab|c€)"), 3);
        assert_eq!(pattern_char_cost("(?i)abc"), 4);
        assert_eq!(pattern_char_cost("[^a]"), 4);
        assert_eq!(pattern_char_cost("[^\\x00-\\x1f\"\\\\]+"), 4);
        assert_eq!(pattern_char_cost("[\\x00-\\x7f]"), 1);
        assert_eq!(pattern_char_cost("[\\x00-\\x{7ff}]"), 2);
        assert_eq!(pattern_char_cost("\\s"), 4);
        assert_eq!(pattern_char_cost("a{2,3}"), 1);
        assert_eq!(pattern_char_cost(""), 0);
    }

    #[test]
    fn every_character_of_a_class_is_within_its_cost() {
        // The analysis must never be below the truth: check it against the regex engine.
        for pattern in [
            "[a-z]",
            "[^a-z]",
            "[\\x00-\\x7f]",
            "[^\\x00-\\x1f]",
            "[é-ü]",
            "\\w",
            "[-a]",
        ] {
            let re = crate::rules::compile_pattern(pattern).unwrap();
            let cost = pattern_char_cost(pattern);
            for c in (0..0x11_0000u32)
                .step_by(7)
                .filter_map(char::from_u32)
                .chain(['"', '\\', '\u{1f}'])
            {
                if re.is_match(&c.to_string()) {
                    assert!(
                        char_cost(c) <= cost,
                        "{pattern}: {c:?} costs {}",
                        char_cost(c)
                    );
                }
            }
        }
    }

    #[test]
    fn varints_and_envelope_are_counted_right() {
        assert_eq!(varint_len(0), 1);
        assert_eq!(varint_len(0x7f), 1);
        assert_eq!(varint_len(0x80), 2);
        assert_eq!(varint_len(0x3fff), 2);
        assert_eq!(varint_len(0x4000), 3);
        assert_eq!(varint_len(u64::from(u32::MAX)), 5);
        assert_eq!(varint_len(i64::MAX as u64), 9);
        assert_eq!(varint_len(u64::MAX), 10);
        // A zigzag varint of any i64 fits in `Overhead::TIMESTAMP` bytes.
        let zigzag = |v: i64| ((v << 1) ^ (v >> 63)) as u64;
        for v in [i64::MIN, i64::MAX, -1, 0] {
            assert!(varint_len(zigzag(v)) <= Overhead::TIMESTAMP);
        }
        assert_eq!(varint_len(zigzag(i64::MIN)), Overhead::TIMESTAMP);
        // Integers: `n` for `n >= 0`, `-(n + 1)` below.
        assert_eq!(int_varint_len(-1), 1);
        assert_eq!(int_varint_len(-128), 1);
        assert_eq!(int_varint_len(-129), 2);
        assert_eq!(int_varint_len(i128::from(i64::MIN)), 9);
        assert_eq!(int_varint_len(i128::from(u64::MAX)), 10);
        // The schema version: inline for 1 to 7.
        assert_eq!(Overhead::schema_version(1), 0);
        assert_eq!(Overhead::schema_version(7), 0);
        assert_eq!(Overhead::schema_version(0), 1);
        assert_eq!(Overhead::schema_version(8), 1);
        assert_eq!(Overhead::schema_version(u32::MAX), 5);
        assert_eq!(Overhead::envelope(1), 1 + 32 + 40);
        assert_eq!(base64_len(3), 4);
        assert_eq!(base64_len(4), 6);
    }
}
