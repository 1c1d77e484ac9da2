//! A session store written by a user against the public [`SessionStore`] trait: Redis
//! through the `redis` crate, the backend the Nexios documentation shows as its custom
//! store example.
//!
//! Nothing here is private to the toolkit: the trait, [`Record`], [`StoreKey`] and
//! [`StoreError`] are all public, and the shared conformance suite checks this store as it
//! checks the built-in ones.
//!
//! **For Redis in production, use the library's store** (`session_runtime::store::redis`,
//! feature `redis`, declared as `backend = { type = "redis", url_env = "REDIS_URL" }`):
//! it works on a Redis Cluster, reconnects after an outage, caps payloads and can encrypt
//! them at rest. This one stays as the example of a store a user writes for a backend the
//! toolkit does not ship, kept short: one expiry index for all records, so its scripts
//! span several hash slots and it runs on a single Redis server only.
//!
//! # Layout in Redis
//!
//! - `PREFIX:rec:HEX` is a hash `{payload, expires_at, version}` per session, where `HEX` is
//!   the SHA-256 of the session id ([`StoreKey::to_hex`]): a dump of Redis holds no usable
//!   cookie.
//! - `PREFIX:expiry` is a sorted set of `HEX` scored by `expires_at`, so that
//!   [`SessionStore::purge_expired`] finds expired records without scanning.
//!
//! Every operation that reads and then writes is one Lua script, which Redis runs
//! atomically: `create` never overwrites, `save` is a compare-and-swap on the version and
//! never brings back a deleted session, `rotate` replaces the old record by the new one
//! only while the old one is at the loaded version.
//!
//! Expiry is decided by the application's clock (the `now` the runtime passes), never by a
//! Redis TTL: the server's clock and the application's may differ, and the tests move time.

use redis::aio::MultiplexedConnection;
use redis::{RedisError, Script};
use session_runtime::store::{Result, Rotation};
use session_runtime::{Record, SessionStore, StoreError, StoreKey, Timestamp};

/// Creates the record unless its key exists; adds it to the expiry index.
/// Returns 1 when created, 0 when the key was taken.
const CREATE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'payload', ARGV[1], 'expires_at', ARGV[2], 'version', 1)
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
";

/// Replaces the record when its stored version is ARGV[3].
/// Returns the new version, -1 when the record is gone, -2 on a version conflict.
const SAVE: &str = r"
local current = redis.call('HGET', KEYS[1], 'version')
if not current then return -1 end
if current ~= ARGV[3] then return -2 end
local next = tonumber(current) + 1
redis.call('HSET', KEYS[1], 'payload', ARGV[1], 'expires_at', ARGV[2], 'version', next)
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[4])
return next
";

/// A rotation: when KEYS[1] is at version ARGV[1], creates KEYS[3] (if ARGV[2] is `1`) and
/// replaces KEYS[1] (if ARGV[6] is `1`) or deletes it. Returns 1 when done, -1 when the old
/// record is gone, -2 on a version conflict, -3 when the new key is taken.
const ROTATE: &str = r"
local current = redis.call('HGET', KEYS[1], 'version')
if not current then return -1 end
if current ~= ARGV[1] then return -2 end
if ARGV[2] == '1' and redis.call('EXISTS', KEYS[3]) == 1 then return -3 end
if ARGV[2] == '1' then
  redis.call('HSET', KEYS[3], 'payload', ARGV[3], 'expires_at', ARGV[4], 'version', 1)
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
end
if ARGV[6] == '1' then
  redis.call('HSET', KEYS[1], 'payload', ARGV[7], 'expires_at', ARGV[8], 'version', tonumber(current) + 1)
  redis.call('ZADD', KEYS[2], ARGV[8], ARGV[9])
else
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[9])
end
return 1
";

/// Deletes every record whose expiry is at or before ARGV[1]; returns how many.
const PURGE: &str = r"
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local removed = 0
for _, hex in ipairs(expired) do
  removed = removed + redis.call('DEL', ARGV[2] .. hex)
  redis.call('ZREM', KEYS[1], hex)
end
return removed
";

/// A [`SessionStore`] on Redis.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let store = examples::redis_store::RedisStore::connect("redis://127.0.0.1:6379/0", "shop").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    connection: MultiplexedConnection,
    prefix: String,
    create: Script,
    save: Script,
    rotate: Script,
    purge: Script,
}

/// The prefix only: the connection may carry a password in its URL.
impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RedisStore {{ prefix: {:?}, .. }}", self.prefix)
    }
}

impl RedisStore {
    /// Connects to the Redis server at `url` (`redis://host:port/db`); every key this store
    /// writes starts with `prefix`.
    ///
    /// # Errors
    /// The URL is invalid or the server cannot be reached ([`StoreError::Unavailable`]).
    pub async fn connect(url: &str, prefix: &str) -> Result<Self> {
        let client = redis::Client::open(url).map_err(|e| StoreError::Backend(Box::new(e)))?;
        let connection = client
            .get_multiplexed_async_connection()
            .await
            .map_err(map_err)?;
        Ok(Self {
            connection,
            prefix: prefix.to_owned(),
            create: Script::new(CREATE),
            save: Script::new(SAVE),
            rotate: Script::new(ROTATE),
            purge: Script::new(PURGE),
        })
    }

    fn record_key(&self, key: &StoreKey) -> String {
        format!("{}:rec:{}", self.prefix, key.to_hex())
    }

    fn index_key(&self) -> String {
        format!("{}:expiry", self.prefix)
    }

    fn lacks_a_field(&self, key: &StoreKey) -> StoreError {
        StoreError::Corrupt(format!(
            "redis hash `{}` lacks a field",
            self.record_key(key)
        ))
    }
}

/// Connection-level failures are worth a retry (503); anything else is a backend error.
fn map_err(e: RedisError) -> StoreError {
    if e.is_io_error() || e.is_connection_dropped() || e.is_timeout() || e.is_connection_refusal() {
        StoreError::Unavailable(e.to_string())
    } else {
        StoreError::Backend(Box::new(e))
    }
}

#[async_trait::async_trait]
impl SessionStore for RedisStore {
    async fn create(&self, key: &StoreKey, record: &Record) -> Result<()> {
        let mut con = self.connection.clone();
        let created: i64 = self
            .create
            .key(self.record_key(key))
            .key(self.index_key())
            .arg(record.payload.as_slice())
            .arg(record.expires_at.0)
            .arg(key.to_hex())
            .invoke_async(&mut con)
            .await
            .map_err(map_err)?;
        if created == 1 {
            Ok(())
        } else {
            Err(StoreError::Exists)
        }
    }

    async fn load(&self, key: &StoreKey, now: Timestamp) -> Result<Option<Record>> {
        let mut con = self.connection.clone();
        let (payload, expires_at, version): (Option<Vec<u8>>, Option<i64>, Option<u64>) =
            redis::cmd("HMGET")
                .arg(self.record_key(key))
                .arg("payload")
                .arg("expires_at")
                .arg("version")
                .query_async(&mut con)
                .await
                .map_err(map_err)?;
        let record = match (payload, expires_at, version) {
            (None, None, None) => return Ok(None),
            (Some(payload), Some(expires_at), Some(version)) => Record {
                payload,
                expires_at: Timestamp(expires_at),
                version,
                // This example keeps no principal index (`sessions_of` is not implemented).
                principal: None,
            },
            _ => return Err(self.lacks_a_field(key)),
        };
        Ok(record.live(now))
    }

    async fn save(&self, key: &StoreKey, record: &Record) -> Result<u64> {
        let mut con = self.connection.clone();
        let outcome: i64 = self
            .save
            .key(self.record_key(key))
            .key(self.index_key())
            .arg(record.payload.as_slice())
            .arg(record.expires_at.0)
            .arg(record.version)
            .arg(key.to_hex())
            .invoke_async(&mut con)
            .await
            .map_err(map_err)?;
        match outcome {
            -1 => Err(StoreError::NotFound),
            -2 => Err(StoreError::Conflict {
                expected: record.version,
            }),
            v => u64::try_from(v)
                .map_err(|_| StoreError::Corrupt(format!("save script returned {v}"))),
        }
    }

    async fn rotate(&self, rotation: &Rotation<'_>) -> Result<()> {
        let mut con = self.connection.clone();
        let empty = Record {
            payload: Vec::new(),
            expires_at: Timestamp(0),
            version: 0,
            principal: None,
        };
        let (new_key, new) = match rotation.new {
            Some((key, record)) => (Some(key), record),
            None => (None, &empty),
        };
        let keep = rotation.keep_old.unwrap_or(&empty);
        let outcome: i64 = self
            .rotate
            .key(self.record_key(rotation.old))
            .key(self.index_key())
            // An unused third key when nothing is created: the old one again.
            .key(self.record_key(new_key.unwrap_or(rotation.old)))
            .arg(rotation.version)
            .arg(u8::from(new_key.is_some()))
            .arg(new.payload.as_slice())
            .arg(new.expires_at.0)
            .arg(new_key.map(StoreKey::to_hex).unwrap_or_default())
            .arg(u8::from(rotation.keep_old.is_some()))
            .arg(keep.payload.as_slice())
            .arg(keep.expires_at.0)
            .arg(rotation.old.to_hex())
            .invoke_async(&mut con)
            .await
            .map_err(map_err)?;
        match outcome {
            1 => Ok(()),
            -1 => Err(StoreError::NotFound),
            -2 => Err(StoreError::Conflict {
                expected: rotation.version,
            }),
            -3 => Err(StoreError::Exists),
            v => Err(StoreError::Corrupt(format!("rotate script returned {v}"))),
        }
    }

    async fn delete(&self, key: &StoreKey) -> Result<()> {
        let mut con = self.connection.clone();
        redis::pipe()
            .atomic()
            .cmd("DEL")
            .arg(self.record_key(key))
            .ignore()
            .cmd("ZREM")
            .arg(self.index_key())
            .arg(key.to_hex())
            .ignore()
            .query_async::<()>(&mut con)
            .await
            .map_err(map_err)
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64> {
        let mut con = self.connection.clone();
        let removed: u64 = self
            .purge
            .key(self.index_key())
            .arg(now.0)
            .arg(format!("{}:rec:", self.prefix))
            .invoke_async(&mut con)
            .await
            .map_err(map_err)?;
        Ok(removed)
    }
}
