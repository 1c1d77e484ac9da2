//! The contract between generated code and the runtime.
//!
//! Code generated from a `session.toml` or by `#[derive(Session)]` implements
//! [`SessionSchema`] for the session type; the runtime is generic over it. [`Dynamic`] is
//! the untyped, map-like schema that gives the plain key/value API.

use std::borrow::Cow;

use session_spec::Settings;
pub use session_spec::rules::{Rule, ValidationError};

pub use envelope::{Entries, Field, FieldValue, Fields, ObjectReader, ObjectWriter};

pub(crate) mod envelope;

/// The session data as stored: storage key to JSON value.
pub type Map = serde_json::Map<String, serde_json::Value>;

/// The data a session handle holds while a request runs: a [`Map`] for the untyped
/// [`Dynamic`] schema and for hand-written schemas, a generated struct (one `Option` per
/// declared field) for a schema declared in TOML or with `#[derive(Session)]`.
///
/// Typed data is decoded and validated once, when the session is loaded
/// ([`SessionSchema::load`]); the typed accessors then read and write its fields directly,
/// and the commit writes it straight into the payload, with no JSON map in the middle.
/// Implemented by generated code; the methods are what the runtime needs of the data.
pub trait SessionData: Clone + PartialEq + Default + Send + Sync + 'static {
    /// The data holding `map`: for a struct, every known key decoded into its field (a
    /// missing one filled with its default) and checked against its rules.
    ///
    /// # Errors
    /// Every field that is of the wrong type or breaks a rule.
    fn from_map(map: Map) -> Result<Self, ValidationErrors>;
    /// No value is stored.
    fn is_empty(&self) -> bool;
    /// Removes every value.
    fn clear(&mut self);
    /// Whether the value stored under the storage key `key` (or its absence) is the same
    /// in `self` and `other`.
    fn same(&self, other: &Self, key: &str) -> bool;
    /// The value stored under the storage key `key`, as JSON.
    fn value(&self, key: &str) -> Option<Cow<'_, serde_json::Value>>;
    /// Every stored value as JSON, by storage key.
    fn to_map(&self) -> Map;
    /// Writes the data as the payload's object (the envelope's format 2, see the crate docs).
    ///
    /// # Errors
    /// A value cannot be represented in the JSON data model (a map with keys that are
    /// neither strings nor integers, an integer beyond 64 bits).
    fn write(&self, out: &mut ObjectWriter<'_>) -> Result<(), serde_json::Error>;

    /// Whether [`copy_fields`](Self::copy_fields) copies the declared fields (generated
    /// data: `true`). The runtime then keeps what a typed setter replaced and stored in
    /// spare values of the data, copied back by field, rather than in a closure per set.
    const FIELDS: bool = false;

    /// Copies from `from` the declared fields whose bit is set in `fields` (bit `i`: the
    /// schema's `i`-th storage key, in declaration order), a value or its absence. The
    /// default copies nothing: [`FIELDS`](Self::FIELDS) is then `false`.
    fn copy_fields(&mut self, from: &Self, fields: u128) {
        let _ = (from, fields);
    }

    /// The name of the schema whose data this is, when one schema has this data type
    /// (generated data: its schema's [`NAME`](SessionSchema::NAME)). Decoding a stored
    /// payload compares the name it holds with this one as bytes, and only reads a name
    /// that differs as UTF-8 text. A hint: the outcome is the same with any value, or
    /// with the default, `None`.
    const SCHEMA_NAME: Option<&'static str> = None;
}

impl SessionData for Map {
    fn from_map(map: Map) -> Result<Self, ValidationErrors> {
        Ok(map)
    }

    fn is_empty(&self) -> bool {
        serde_json::Map::is_empty(self)
    }

    fn clear(&mut self) {
        serde_json::Map::clear(self);
    }

    fn same(&self, other: &Self, key: &str) -> bool {
        self.get(key) == other.get(key)
    }

    fn value(&self, key: &str) -> Option<Cow<'_, serde_json::Value>> {
        self.get(key).map(Cow::Borrowed)
    }

    fn to_map(&self) -> Map {
        self.clone()
    }

    fn write(&self, out: &mut ObjectWriter<'_>) -> Result<(), serde_json::Error> {
        out.map(self);
        Ok(())
    }

    /// The untyped schema's: hand-written schemas' records read their names as text.
    const SCHEMA_NAME: Option<&'static str> = Some(Dynamic::NAME);
}

/// Every validation error of a session's data at once.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{} validation error(s), first: {}", .0.len(), .0.first().map(ToString::to_string).unwrap_or_default())]
pub struct ValidationErrors(pub Vec<ValidationError>);

/// A declared session shape and policy.
///
/// Implemented by generated code; hand-written impls are possible but the generator is the
/// intended source. The contract is small on purpose:
///
/// - [`NAME`](Self::NAME) is bound into the cookie MAC or the encryption's associated
///   data, so a value cannot move to another schema; [`VERSION`](Self::VERSION) is
///   deliberately not bound (a new version must not log everyone out): it is written into
///   the authenticated payload, and [`upgrade`](Self::upgrade) brings older data up to it;
/// - [`settings`](Self::settings) gives the compiled-in policy (a deployment may override
///   it at start-up);
/// - [`upgrade`](Self::upgrade) brings loaded data up to the current schema: it fills
///   defaults for missing fields, drops keys the schema does not know, and checks every
///   field's type and rules. An error resets the session (logged), never a panic.
pub trait SessionSchema: Send + Sync + 'static {
    /// The schema's name (`Shop`).
    const NAME: &'static str;
    /// The schema's version.
    const VERSION: u32;
    /// The storage keys of the declared fields, in declaration order; empty for [`Dynamic`].
    const KEYS: &'static [&'static str];
    /// The storage keys whose values are redacted in `Debug` output and logs.
    const SENSITIVE: &'static [&'static str];
    /// The largest the session data can be in a cookie (its binary payload, before the
    /// envelope and the sealing), as the schema's rules allow; `None` when a field has no
    /// bound. Generated code computes it at build time with `session_spec::budget`; the
    /// cookie backend refuses at start-up a schema whose worst-case cookie exceeds what
    /// browsers keep, for instance when a deployment switches to it with
    /// `SESSION_BACKEND=cookie`. The default, `None`, proves nothing and refuses nothing.
    const COOKIE_DATA_BYTES: Option<usize> = None;
    /// The storage keys the spec marks `shown`: copied into the principal's list of active
    /// sessions ([`SessionManager::sessions_of`](crate::SessionManager::sessions_of)), such
    /// as a device label. The default shows none.
    const SHOWN: &'static [&'static str] = &[];

    /// The data a session handle holds: [`Map`] for the untyped schema and hand-written
    /// ones, the generated struct for a declared schema.
    type Data: SessionData;

    /// The compiled-in policy.
    fn settings() -> Settings;

    /// Brings stored data up to date with the schema and validates it.
    ///
    /// # Errors
    /// Every field that cannot be repaired (wrong type, broken rule, missing without a
    /// default).
    fn upgrade(data: &mut Map) -> Result<(), ValidationErrors>;

    /// Brings loaded data up to date ([`upgrade`](Self::upgrade)) and turns it into the
    /// session's [`Data`](Self::Data), once per load. The default upgrades the map and
    /// hands it to [`SessionData::from_map`]; generated code decodes each field into its
    /// Rust type in one pass instead, keeping the decoded values.
    ///
    /// # Errors
    /// As [`upgrade`](Self::upgrade).
    fn load(mut data: Map) -> Result<Self::Data, ValidationErrors> {
        Self::upgrade(&mut data)?;
        Self::Data::from_map(data)
    }

    /// Turns the data of a loaded payload into the session's [`Data`](Self::Data), as
    /// [`load`](Self::load) does with a map. The default builds the map and calls `load`;
    /// generated code reads a payload of the current format field by field into its struct
    /// ([`ObjectReader::fields`]), with no map in the middle, and falls back to `load` for
    /// the data of earlier formats.
    ///
    /// # Errors
    /// As [`load`](Self::load).
    fn load_payload(data: ObjectReader<'_>) -> Result<Self::Data, ValidationErrors> {
        Self::load(data.into_map())
    }
}

/// The untyped schema: any key, any JSON value, the default policy.
///
/// ```
/// use session_runtime::{Dynamic, SessionSchema};
/// let mut data = session_runtime::Map::new();
/// data.insert("anything".into(), 1.into());
/// assert!(Dynamic::upgrade(&mut data).is_ok());
/// assert_eq!(Dynamic::NAME, "dynamic");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dynamic;

impl SessionSchema for Dynamic {
    const NAME: &'static str = "dynamic";
    const VERSION: u32 = 1;
    const KEYS: &'static [&'static str] = &[];
    const SENSITIVE: &'static [&'static str] = &[];
    type Data = Map;

    fn settings() -> Settings {
        Settings::default()
    }

    fn upgrade(_data: &mut Map) -> Result<(), ValidationErrors> {
        Ok(())
    }
}
