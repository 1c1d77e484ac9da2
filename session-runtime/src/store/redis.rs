//! The Redis store (feature `redis`): sessions shared by every instance of an application
//! through one Redis server, or a Redis Cluster.
//!
//! Configured as `backend = { type = "redis", url_env = "REDIS_URL", prefix = "shop" }`
//! and opened by [`store::open`](super::open), or built directly with
//! [`RedisStore::connect`].
//!
//! # Layout in Redis
//!
//! Every key carries a hash tag `{XX}`, the first byte of the record's key in hex, so
//! records spread over 256 hash slots and every key one script touches lies in one slot:
//!
//! - `PREFIX:{XX}:HEX` is a hash `{payload, expires_at, version}` per session, where `HEX`
//!   is the SHA-256 of the session id ([`StoreKey::to_hex`]), so a dump of Redis holds no
//!   usable cookie (and, with `encrypt = true`, no readable session data either);
//! - `PREFIX:{XX}:expiry` is a sorted set of the `HEX` of that slot's records scored by
//!   `expires_at`, so that [`SessionStore::purge_expired`] finds expired records without
//!   scanning.
//! - `PREFIX:{XX}:p:<hex of the principal>` is the set of the `HEX` of that slot's records
//!   whose principal it is (the hash keeps the record's `principal` too), changed by the
//!   same script as the record; [`SessionStore::sessions_of`] reads the principal's set in
//!   every slot (one pipelined round trip) and checks each record.
//!
//! # Atomicity
//!
//! A session limit (`max_sessions`, [`SessionStore::limit_sessions`]) spans a principal's
//! sets in every slot, so it runs under a lock of the principal instead of in one script
//! (see the method).
//!
//! Every operation that reads and then writes is one Lua script on one slot, which Redis
//! runs atomically: `create` never overwrites, `save` is a compare-and-swap on the version
//! and never brings back a deleted session, and the rotation step replaces the old record
//! only while it is still at the loaded version.
//!
//! A rotation's new record usually lies in another slot than the old one (the new key is
//! random), and no script may span two slots of a cluster. The rotation therefore creates
//! the new record first (refused if its key is taken), then runs the compare-and-swap on
//! the old record; when that is refused, the new record is deleted again. This is atomic
//! for everyone else: until the rotation returns, nobody knows the new session id, so
//! nobody can observe the new record before the old one is replaced. (If the connection
//! fails between the two steps, the new record may stay behind, unreachable, until its
//! expiry.)
//!
//! # Time and expiry
//!
//! Expiry is decided by the application's clock (the `now` the runtime passes), never by a
//! Redis TTL: the server's clock and the application's may differ, and tests move time.
//! Expired records are invisible at once and removed by [`SessionStore::purge_expired`]
//! ([`spawn_purge_task`](super::spawn_purge_task)).
//!
//! # Outages and durability
//!
//! A connection that fails makes the operation fail with [`StoreError::Unavailable`] (a
//! `503`); the next operation connects again, so the store recovers by itself when the
//! server is back. What survives a restart of the server is the server's business: run it
//! with `appendonly yes` (and `appendfsync always` for no loss at all) when sessions must
//! outlive a restart.

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, RedisError, Script};
use session_spec::RedisBackend;

use super::{
    Limited, OpenOptions, Record, Result, Rotation, SessionLimit, SessionStore, Sessions,
    StoreError, StoreKey, plan_limit,
};
use crate::time::Timestamp;

/// The Lua helpers of the principal index: the set of a principal's records in one slot
/// is `PREFIX:{XX}:p:<hex of the principal>` (the record keys' start, then `p:`), in the
/// records' slot, so every script touches one slot only; `reindex` moves a record's hex
/// from its old principal's set (read from the hash) to the new one's (`''`: none).
macro_rules! with_index {
    ($body:literal) => {
        concat!(
            r"
local function pkey(start, p)
  return start .. 'p:' .. (string.gsub(p, '.', function(c) return string.format('%02x', string.byte(c)) end))
end
local function reindex(record, start, hex, new)
  local old = redis.call('HGET', record, 'principal')
  if old and old ~= '' and old ~= new then redis.call('SREM', pkey(start, old), hex) end
  if new ~= '' then redis.call('SADD', pkey(start, new), hex) end
end
",
            $body
        )
    };
}

/// Creates the record unless its key exists; adds it to the slot's expiry index and to
/// its principal's set. KEYS: record, index. ARGV: payload, expires_at, hex, start,
/// principal (`''`: none). Returns 1 when created, 0 when the key was taken.
const CREATE: &str = with_index!(
    r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
reindex(KEYS[1], ARGV[4], ARGV[3], ARGV[5])
redis.call('HSET', KEYS[1], 'payload', ARGV[1], 'expires_at', ARGV[2], 'version', 1, 'principal', ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"
);

/// Deletes the record and its index entries. KEYS: record, index. ARGV: hex, start.
const DELETE: &str = with_index!(
    r"
reindex(KEYS[1], ARGV[2], ARGV[1], '')
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
"
);

/// Replaces the record when its stored version is ARGV[3].
/// KEYS: record, index. ARGV: payload, expires_at, version, hex, start, principal.
/// Returns the new version, -1 when the record is gone, -2 on a version conflict.
const SAVE: &str = with_index!(
    r"
local current = redis.call('HGET', KEYS[1], 'version')
if not current then return -1 end
if current ~= ARGV[3] then return -2 end
local next = tonumber(current) + 1
reindex(KEYS[1], ARGV[5], ARGV[4], ARGV[6])
redis.call('HSET', KEYS[1], 'payload', ARGV[1], 'expires_at', ARGV[2], 'version', next, 'principal', ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[4])
return next
"
);

/// The rotation step on the old record: when it is at version ARGV[1], replaces it (if
/// ARGV[2] is `1`, by payload ARGV[3] expiring at ARGV[4]) or deletes it.
/// KEYS: record, index. ARGV[5]: hex, ARGV[6]: start, ARGV[7]: the kept record's
/// principal. Returns 1 when done, -1 when the record is gone, -2 on a version conflict.
const REPLACE: &str = with_index!(
    r"
local current = redis.call('HGET', KEYS[1], 'version')
if not current then return -1 end
if current ~= ARGV[1] then return -2 end
if ARGV[2] == '1' then
  reindex(KEYS[1], ARGV[6], ARGV[5], ARGV[7])
  redis.call('HSET', KEYS[1], 'payload', ARGV[3], 'expires_at', ARGV[4], 'version', tonumber(current) + 1, 'principal', ARGV[7])
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
else
  reindex(KEYS[1], ARGV[6], ARGV[5], '')
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[5])
end
return 1
"
);

/// Deletes every record of one slot whose expiry is at or before ARGV[1]; returns how
/// many. KEYS: index. ARGV[2]: the record keys' start (`PREFIX:{XX}:`), so every key the
/// script touches lies in the index's slot.
const PURGE: &str = with_index!(
    r"
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local removed = 0
for _, hex in ipairs(expired) do
  reindex(ARGV[2] .. hex, ARGV[2], hex, '')
  removed = removed + redis.call('DEL', ARGV[2] .. hex)
  redis.call('ZREM', KEYS[1], hex)
end
return removed
"
);

/// Releases the session-limit lock KEYS[1] if it still holds this holder's token ARGV[1].
const UNLOCK: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// How long a session limit's lock lives at most (should its holder die), in ms.
const LIMIT_LOCK_MS: u64 = 10_000;
/// How long a session limit waits for its principal's lock before failing, in tries of
/// [`LIMIT_LOCK_POLL`].
const LIMIT_LOCK_TRIES: u32 = 500;
/// The pause between two tries of a taken lock.
const LIMIT_LOCK_POLL: Duration = Duration::from_millis(10);

/// How long connecting, and each reply, may take before the operation fails with
/// [`StoreError::Unavailable`].
const TIMEOUT: Duration = Duration::from_secs(5);

/// The connection all requests share (redis' connection is multiplexed), and how many
/// connections were made so far.
#[derive(Default)]
struct Shared {
    current: Option<MultiplexedConnection>,
    generation: u64,
}

/// A [`SessionStore`] on Redis.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use session_runtime::store::redis::RedisStore;
/// let store = RedisStore::connect("redis://127.0.0.1:6379/0", "shop").await?;
/// # Ok(()) }
/// ```
pub struct RedisStore {
    client: redis::Client,
    /// The shared connection; none after it failed, until the next operation connects.
    connection: tokio::sync::Mutex<Shared>,
    prefix: String,
    max_payload: usize,
    create: Script,
    delete: Script,
    save: Script,
    replace: Script,
    purge: Script,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: print the prefix only.
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("max_payload", &self.max_payload)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects to the Redis server at `url` (`redis://host:port/db`, `rediss://` is not
    /// built in); every key this store writes starts with `prefix`. Payloads are limited
    /// to 1 MiB (see [`RedisStore::with_max_payload`]).
    ///
    /// # Errors
    /// [`StoreError::Config`] when the URL or the prefix is invalid
    /// ([`RedisBackend::prefix_problem`]), [`StoreError::Unavailable`] when the server
    /// cannot be reached.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self> {
        let store = Self::unconnected(url, prefix)?;
        // Fail at start-up, not at the first request, when the server is away.
        store.connection().await?;
        Ok(store)
    }

    /// The store, not connected yet.
    fn unconnected(url: &str, prefix: &str) -> Result<Self> {
        if let Some(why) = RedisBackend::prefix_problem(prefix) {
            return Err(StoreError::Config(format!(
                "invalid Redis key prefix `{}`: {why}",
                prefix.escape_debug()
            )));
        }
        let client = redis::Client::open(url)
            .map_err(|e| StoreError::Config(format!("invalid Redis URL: {e}")))?;
        Ok(Self {
            client,
            connection: tokio::sync::Mutex::new(Shared::default()),
            prefix: prefix.to_owned(),
            max_payload: 1 << 20,
            create: Script::new(CREATE),
            delete: Script::new(DELETE),
            save: Script::new(SAVE),
            replace: Script::new(REPLACE),
            purge: Script::new(PURGE),
        })
    }

    /// Opens the store a [`RedisBackend`] describes: its URL from the environment variable
    /// it names. (Sealing, for `encrypt = true`, is added by [`super::open`].)
    ///
    /// # Errors
    /// [`StoreError::Config`] when the variable is unset; as [`RedisStore::connect`].
    pub async fn open(config: &RedisBackend, options: &OpenOptions) -> Result<Self> {
        let url = std::env::var(&config.url_env).map_err(|_| {
            StoreError::Config(format!(
                "the environment variable `{}` (the Redis URL) is not set",
                config.url_env
            ))
        })?;
        let max = options
            .payload_limit()
            .unwrap_or_else(|| usize::try_from(config.max_payload).unwrap_or(usize::MAX));
        Ok(Self::connect(&url, &config.prefix)
            .await?
            .with_max_payload(max))
    }

    /// Refuses payloads larger than `bytes` with [`StoreError::TooLarge`].
    pub fn with_max_payload(mut self, bytes: usize) -> Self {
        self.max_payload = bytes;
        self
    }

    /// The shared connection and its generation, connecting first when there is none.
    async fn connection(&self) -> Result<(u64, MultiplexedConnection)> {
        let mut shared = self.connection.lock().await;
        if let Some(connection) = &shared.current {
            return Ok((shared.generation, connection.clone()));
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT));
        let connection = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| StoreError::Unavailable(format!("connecting to Redis: {e}")))?;
        shared.generation += 1;
        shared.current = Some(connection.clone());
        Ok((shared.generation, connection))
    }

    /// Maps a failed command on the connection of `generation`; a connection-level failure
    /// drops that connection (not a newer one another request made meanwhile), so that the
    /// next operation connects again.
    async fn failed(&self, e: RedisError, generation: u64) -> StoreError {
        if e.is_io_error()
            || e.is_connection_dropped()
            || e.is_timeout()
            || e.is_connection_refusal()
            || e.is_unrecoverable_error()
        {
            let mut shared = self.connection.lock().await;
            if shared.generation == generation {
                shared.current = None;
            }
            StoreError::Unavailable(e.to_string())
        } else {
            StoreError::Backend(Box::new(e))
        }
    }

    /// The hash tag of `key`'s slot, `{XX}`.
    fn tag(key: &StoreKey) -> String {
        format!("{{{:02x}}}", key.0[0])
    }

    fn record_key(&self, key: &StoreKey) -> String {
        format!("{}{}", self.records_start(key), key.to_hex())
    }

    /// The start of the keys of the records in `key`'s slot, `PREFIX:{XX}:`.
    fn records_start(&self, key: &StoreKey) -> String {
        format!("{}:{}:", self.prefix, Self::tag(key))
    }

    fn index_key(&self, key: &StoreKey) -> String {
        format!("{}:{}:expiry", self.prefix, Self::tag(key))
    }

    fn check_size(&self, record: &Record) -> Result<()> {
        if record.payload.len() > self.max_payload {
            return Err(StoreError::TooLarge {
                size: record.payload.len(),
                max: self.max_payload,
            });
        }
        Ok(())
    }

    /// Runs the compare-and-swap step of a rotation on the old record.
    async fn replace_old(&self, rotation: &Rotation<'_>) -> Result<()> {
        let (generation, mut con) = self.connection().await?;
        let old = rotation.old;
        let (keep, payload, expires_at) = match rotation.keep_old {
            Some(record) => (1u8, record.payload.as_slice(), record.expires_at.0),
            None => (0, &[][..], 0),
        };
        let outcome: std::result::Result<i64, _> = self
            .replace
            .key(self.record_key(old))
            .key(self.index_key(old))
            .arg(rotation.version)
            .arg(keep)
            .arg(payload)
            .arg(expires_at)
            .arg(old.to_hex())
            .arg(self.records_start(old))
            .arg(
                rotation
                    .keep_old
                    .and_then(|r| r.principal.as_deref())
                    .unwrap_or(""),
            )
            .invoke_async(&mut con)
            .await;
        match outcome {
            Ok(1) => Ok(()),
            Ok(-1) => Err(StoreError::NotFound),
            Ok(-2) => Err(StoreError::Conflict {
                expected: rotation.version,
            }),
            Ok(v) => Err(StoreError::Corrupt(format!("rotate script returned {v}"))),
            Err(e) => Err(self.failed(e, generation).await),
        }
    }
}

#[async_trait::async_trait]
impl SessionStore for RedisStore {
    async fn create(&self, key: &StoreKey, record: &Record) -> Result<()> {
        self.check_size(record)?;
        let (generation, mut con) = self.connection().await?;
        let created: std::result::Result<i64, _> = self
            .create
            .key(self.record_key(key))
            .key(self.index_key(key))
            .arg(record.payload.as_slice())
            .arg(record.expires_at.0)
            .arg(key.to_hex())
            .arg(self.records_start(key))
            .arg(record.principal.as_deref().unwrap_or(""))
            .invoke_async(&mut con)
            .await;
        match created {
            Ok(1) => Ok(()),
            Ok(_) => Err(StoreError::Exists),
            Err(e) => Err(self.failed(e, generation).await),
        }
    }

    async fn load(&self, key: &StoreKey, now: Timestamp) -> Result<Option<Record>> {
        let (generation, mut con) = self.connection().await?;
        type Fields = (Option<Vec<u8>>, Option<i64>, Option<u64>, Option<String>);
        let fields: std::result::Result<Fields, _> = redis::cmd("HMGET")
            .arg(self.record_key(key))
            .arg("payload")
            .arg("expires_at")
            .arg("version")
            .arg("principal")
            .query_async(&mut con)
            .await;
        let fields = match fields {
            Ok(fields) => fields,
            Err(e) => return Err(self.failed(e, generation).await),
        };
        match fields {
            (None, None, None, _) => Ok(None),
            (Some(payload), Some(expires_at), Some(version), principal) => Ok(Record {
                payload,
                expires_at: Timestamp(expires_at),
                version,
                principal: principal.filter(|p| !p.is_empty()),
            }
            .live(now)),
            _ => Err(StoreError::Corrupt(format!(
                "redis hash `{}` lacks a field",
                self.record_key(key)
            ))),
        }
    }

    async fn save(&self, key: &StoreKey, record: &Record) -> Result<u64> {
        self.check_size(record)?;
        let (generation, mut con) = self.connection().await?;
        let outcome: std::result::Result<i64, _> = self
            .save
            .key(self.record_key(key))
            .key(self.index_key(key))
            .arg(record.payload.as_slice())
            .arg(record.expires_at.0)
            .arg(record.version)
            .arg(key.to_hex())
            .arg(self.records_start(key))
            .arg(record.principal.as_deref().unwrap_or(""))
            .invoke_async(&mut con)
            .await;
        match outcome {
            Ok(-1) => Err(StoreError::NotFound),
            Ok(-2) => Err(StoreError::Conflict {
                expected: record.version,
            }),
            Ok(v) => u64::try_from(v)
                .map_err(|_| StoreError::Corrupt(format!("save script returned {v}"))),
            Err(e) => Err(self.failed(e, generation).await),
        }
    }

    async fn rotate(&self, rotation: &Rotation<'_>) -> Result<()> {
        if let Some((_, record)) = rotation.new {
            self.check_size(record)?;
        }
        if let Some(record) = rotation.keep_old {
            self.check_size(record)?;
        }
        // The new record first: nobody knows its id yet (see the module docs).
        if let Some((new_key, record)) = rotation.new {
            self.create(new_key, record).await?;
        }
        match self.replace_old(rotation).await {
            Ok(()) => Ok(()),
            Err(refused @ (StoreError::NotFound | StoreError::Conflict { .. })) => {
                // Refused for certain: take the new record back. (After an unavailable
                // server the old record may have been replaced all the same, and the new
                // one must then stay.)
                if let Some((new_key, _)) = rotation.new {
                    if let Err(error) = self.delete(new_key).await {
                        tracing::warn!(%error, "a refused rotation's new record stays until its expiry");
                    }
                }
                Err(refused)
            }
            Err(other) => Err(other),
        }
    }

    async fn delete(&self, key: &StoreKey) -> Result<()> {
        let (generation, mut con) = self.connection().await?;
        let done: std::result::Result<i64, _> = self
            .delete
            .key(self.record_key(key))
            .key(self.index_key(key))
            .arg(key.to_hex())
            .arg(self.records_start(key))
            .invoke_async(&mut con)
            .await;
        match done {
            Ok(_) => Ok(()),
            Err(e) => Err(self.failed(e, generation).await),
        }
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64> {
        let mut removed = 0u64;
        // One script per slot: a script may not span slots on a cluster.
        for byte in 0..=u8::MAX {
            let (generation, mut con) = self.connection().await?;
            let slot = StoreKey([byte; 32]);
            let outcome: std::result::Result<u64, _> = self
                .purge
                .key(self.index_key(&slot))
                .arg(now.0)
                .arg(self.records_start(&slot))
                .invoke_async(&mut con)
                .await;
            match outcome {
                Ok(n) => removed += n,
                Err(e) => return Err(self.failed(e, generation).await),
            }
        }
        Ok(removed)
    }

    fn indexes_principals(&self) -> bool {
        true
    }

    fn limits_sessions(&self) -> bool {
        true
    }

    /// A principal's sets lie in 256 slots, which no one script may span on a cluster: the
    /// step runs under a lock of the principal, `PREFIX:limit:<hex of the principal>`
    /// (`SET NX PX` with a random token, released by a script only by its holder; it
    /// expires after 10 s should its holder die). Under it the principal's sessions are
    /// listed and the ones [`plan_limit`] decides deleted, each by the delete script, so a
    /// save of one of them then finds nothing. Parallel limits of one principal, from any
    /// instance, run one after the other, as long as one step takes less than the lock's
    /// 10 s (each reply is bounded by 5 s; a step past that fails rather than waits).
    async fn limit_sessions(&self, limit: &SessionLimit<'_>, now: Timestamp) -> Result<Limited> {
        let hex: String = limit
            .principal
            .bytes()
            .map(|b| format!("{b:02x}"))
            .collect();
        let lock = format!("{}:limit:{hex}", self.prefix);
        let mut token = [0u8; 16];
        crate::random::fill_random(&mut token)
            .map_err(|e| StoreError::backend(format!("no randomness for a lock token: {e}")))?;
        let token: String = token.iter().map(|b| format!("{b:02x}")).collect();
        let started = std::time::Instant::now();
        let mut taken = false;
        for _ in 0..LIMIT_LOCK_TRIES {
            let (generation, mut con) = self.connection().await?;
            let reply: std::result::Result<Option<String>, _> = redis::cmd("SET")
                .arg(&lock)
                .arg(&token)
                .arg("NX")
                .arg("PX")
                .arg(LIMIT_LOCK_MS)
                .query_async(&mut con)
                .await;
            match reply {
                Ok(Some(_)) => {
                    taken = true;
                    break;
                }
                Ok(None) => tokio::time::sleep(LIMIT_LOCK_POLL).await,
                Err(e) => return Err(self.failed(e, generation).await),
            }
        }
        if !taken {
            return Err(StoreError::Unavailable(
                "redis: the session limit's lock was not granted in time".to_owned(),
            ));
        }
        let trimmed = async {
            let live: Vec<(StoreKey, Timestamp)> = self
                .sessions_of(limit.principal, now)
                .await?
                .into_iter()
                .map(|(key, record)| (key, record.expires_at))
                .collect();
            let (delete, refused) = plan_limit(limit, &live);
            for key in &delete {
                self.delete(key).await?;
            }
            Ok::<_, StoreError>(Limited::of(delete, refused))
        }
        .await;
        let (generation, mut con) = self.connection().await?;
        let released: std::result::Result<i64, _> = Script::new(UNLOCK)
            .key(&lock)
            .arg(&token)
            .invoke_async(&mut con)
            .await;
        let trimmed = trimmed?;
        match released {
            // 0: the lock expired while held, and the step may have overlapped another
            // (which then saw a list this one was trimming); what it did stands.
            Ok(0) => {
                tracing::warn!(
                    elapsed = ?started.elapsed(),
                    "redis: the session limit's lock expired during its step"
                );
                Ok(trimmed)
            }
            Ok(_) => Ok(trimmed),
            Err(e) => Err(self.failed(e, generation).await),
        }
    }

    /// The principal's set in every slot (one pipelined round trip), then each member
    /// loaded and checked.
    async fn sessions_of(&self, principal: &str, now: Timestamp) -> Result<Sessions> {
        let hex: String = principal.bytes().map(|b| format!("{b:02x}")).collect();
        let (generation, mut con) = self.connection().await?;
        let mut pipe = redis::pipe();
        for byte in 0..=u8::MAX {
            let slot = StoreKey([byte; 32]);
            pipe.cmd("SMEMBERS")
                .arg(format!("{}p:{hex}", self.records_start(&slot)));
        }
        let sets: Vec<Vec<String>> = match pipe.query_async(&mut con).await {
            Ok(sets) => sets,
            Err(e) => return Err(self.failed(e, generation).await),
        };
        let mut out = Vec::new();
        for member in sets.into_iter().flatten() {
            let Some(key) = parse_hex(&member) else {
                continue;
            };
            if let Some(record) = self.load(&key, now).await? {
                if record.principal.as_deref() == Some(principal) {
                    out.push((key, record));
                }
            }
        }
        Ok(out)
    }
}

/// A record key from its 64 hex digits.
fn parse_hex(hex: &str) -> Option<StoreKey> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(StoreKey(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hash tag of a Redis key: what a cluster hashes to choose the slot.
    fn hash_tag(key: &str) -> &str {
        match key.find('{') {
            Some(open) => match key[open + 1..].find('}') {
                Some(len) if len > 0 => &key[open + 1..open + 1 + len],
                _ => key,
            },
            None => key,
        }
    }

    /// Every script's keys (record and index; the purge's records built from
    /// `records_start`) lie in one slot; records spread over 256 slots.
    #[test]
    fn a_records_keys_share_one_slot_and_records_spread() {
        let store = RedisStore::unconnected("redis://127.0.0.1:1/", "shop:v1").unwrap();
        let mut a = StoreKey([0x11; 32]);
        a.0[0] = 0xab;
        let record = store.record_key(&a);
        assert_eq!(record, format!("shop:v1:{{ab}}:{}", a.to_hex()));
        assert_eq!(hash_tag(&record), "ab");
        assert_eq!(hash_tag(&store.index_key(&a)), "ab");
        assert_eq!(hash_tag(&store.records_start(&a)), "ab");
        let tags: std::collections::BTreeSet<String> = (0..=u8::MAX)
            .map(|b| hash_tag(&store.record_key(&StoreKey([b; 32]))).to_owned())
            .collect();
        assert_eq!(tags.len(), 256);
        assert!(RedisStore::unconnected("redis://127.0.0.1:1/", "a{b}").is_err());
    }
}
