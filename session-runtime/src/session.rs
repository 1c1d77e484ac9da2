//! The session handle.

use std::marker::PhantomData;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::schema::{Dynamic, Map, SessionSchema};

/// One request's session, typed by its schema.
///
/// Cloning is cheap and clones share the same session. Typed schemas read and write through
/// their generated accessors (an extension trait named `<Schema>Ext`); the untyped
/// [`Dynamic`] schema has the plain key/value API.
///
/// ```
/// use session_runtime::Session;
/// let session = Session::detached();
/// session.set("username", "Dunamis").unwrap();
/// assert_eq!(session.get::<String>("username").as_deref(), Some("Dunamis"));
/// assert!(session.is_modified());
/// ```
pub struct Session<S: SessionSchema = Dynamic> {
    inner: Arc<Mutex<Inner>>,
    _schema: PhantomData<fn() -> S>,
}

impl<S: SessionSchema> Clone for Session<S> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            _schema: PhantomData,
        }
    }
}

/// The state behind a handle.
#[derive(Debug, Default)]
pub(crate) struct Inner {
    pub(crate) data: Map,
    pub(crate) modified: bool,
}

impl<S: SessionSchema> Session<S> {
    /// A fresh, empty session not attached to any request (for tests and tools).
    pub fn detached() -> Self {
        Self::from_inner(Inner::default())
    }

    pub(crate) fn from_inner(inner: Inner) -> Self {
        Self {
            inner: Arc::new(Mutex::new(inner)),
            _schema: PhantomData,
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A handler that panicked while holding the lock leaves data that is still a valid
        // map; recover it instead of propagating the panic.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of all stored data (Nexios: `get_all`).
    pub fn get_all(&self) -> Map {
        self.lock().data.clone()
    }

    /// Removes every value; the session itself lives on.
    pub fn clear(&self) {
        let mut inner = self.lock();
        if !inner.data.is_empty() {
            inner.data.clear();
            inner.modified = true;
        }
    }

    /// Whether this request changed the session.
    pub fn is_modified(&self) -> bool {
        self.lock().modified
    }

    pub(crate) fn get_value<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let inner = self.lock();
        let value = inner.data.get(key)?;
        T::deserialize(value).ok()
    }

    pub(crate) fn insert_value(&self, key: &str, value: serde_json::Value) {
        let mut inner = self.lock();
        if inner.data.get(key) != Some(&value) {
            inner.data.insert(key.to_owned(), value);
            inner.modified = true;
        }
    }

    pub(crate) fn remove_value(&self, key: &str) -> Option<serde_json::Value> {
        let mut inner = self.lock();
        let old = inner.data.remove(key);
        if old.is_some() {
            inner.modified = true;
        }
        old
    }
}

impl Session<Dynamic> {
    /// The value under `key`, if present and of type `T` (Nexios: `get_session`).
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.get_value(key)
    }

    /// Stores `value` under `key` (Nexios: `set_session`).
    ///
    /// # Errors
    /// The value cannot be represented as JSON (a map with non-string keys, say).
    pub fn set<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<(), serde_json::Error> {
        let value = serde_json::to_value(value)?;
        self.insert_value(key, value);
        Ok(())
    }

    /// Removes `key` and returns whether it was present (Nexios: `delete_session`).
    pub fn delete(&self, key: &str) -> bool {
        self.remove_value(key).is_some()
    }
}

impl<S: SessionSchema> std::fmt::Debug for Session<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        let mut map = f.debug_map();
        for (k, v) in &inner.data {
            if S::SENSITIVE.contains(&k.as_str()) {
                map.entry(k, &"<redacted>");
            } else {
                map.entry(k, v);
            }
        }
        map.finish()
    }
}
