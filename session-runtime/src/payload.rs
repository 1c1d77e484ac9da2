//! The plaintext of a session: what the cookie backend seals into the cookie and what a
//! server-side store keeps as a record's payload.
//!
//! Compact JSON with one-letter keys:
//!
//! ```text
//! {"f":1,"n":"shop","s":3,"id":"...","c":1700000000,"i":1700000000,"l":1700000100,"e":1700086400,"d":{...}}
//! ```
//!
//! `f` is this format's version, `n` the schema's name (store records only: the cookie
//! codec binds it into the MAC or the associated data instead), `s` the schema version the
//! data was written under, `id` the session id (cookie backend only: a store keys records
//! by the id's hash instead),
//! `c` created, `i` id issued, `l` last seen, `e` the sliding expiry (Unix seconds), `d`
//! the data. The timestamps sit inside the authenticated payload or the record, so the
//! server, not the cookie's own attributes, decides when a session ends.

use serde::{Deserialize, Serialize};

use crate::schema::Map;
use crate::session::Times;
use crate::time::Timestamp;

/// The version of this payload format.
pub(crate) const FORMAT: u32 = 1;

#[derive(Serialize)]
struct EnvelopeRef<'a> {
    f: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    n: Option<&'a str>,
    s: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    c: i64,
    i: i64,
    l: i64,
    e: i64,
    d: &'a Map,
}

/// A decoded payload.
#[derive(Deserialize)]
pub(crate) struct Envelope {
    f: u32,
    /// The schema's name (store records).
    #[serde(default)]
    pub(crate) n: Option<String>,
    /// The schema version the data was written under.
    pub(crate) s: u32,
    #[serde(default)]
    pub(crate) id: Option<String>,
    c: i64,
    i: i64,
    l: i64,
    e: i64,
    /// The data.
    pub(crate) d: Map,
}

impl Envelope {
    /// The timestamps.
    pub(crate) fn times(&self) -> Times {
        Times {
            created_at: Timestamp(self.c),
            id_issued_at: Timestamp(self.i),
            last_seen: Timestamp(self.l),
            expires_at: Timestamp(self.e),
        }
    }
}

/// Why a payload could not be decoded.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PayloadError {
    #[error("session payload is not valid: {0}")]
    Json(#[from] serde_json::Error),
    #[error("session payload format {0} is not supported (expected {FORMAT})")]
    Format(u32),
}

/// Serializes a session.
pub(crate) fn encode(
    schema_name: Option<&str>,
    schema_version: u32,
    id: Option<&str>,
    times: &Times,
    data: &Map,
) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&EnvelopeRef {
        f: FORMAT,
        n: schema_name,
        s: schema_version,
        id,
        c: times.created_at.as_secs(),
        i: times.id_issued_at.as_secs(),
        l: times.last_seen.as_secs(),
        e: times.expires_at.as_secs(),
        d: data,
    })
}

/// Deserializes a session.
pub(crate) fn decode(bytes: &[u8]) -> Result<Envelope, PayloadError> {
    let env: Envelope = serde_json::from_slice(bytes)?;
    if env.f != FORMAT {
        return Err(PayloadError::Format(env.f));
    }
    Ok(env)
}
