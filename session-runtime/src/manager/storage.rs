//! Building a manager from an opened [`Storage`] (here, not in `store`, so that the stores
//! stay below the manager that uses them).

use session_spec::Settings;

use super::SessionManager;
use crate::error::Result;
use crate::keys::Keys;
use crate::schema::SessionSchema;
use crate::store::Storage;

impl Storage {
    /// A [`SessionManager`] keeping its data here: in the cookie, sealed with `keys`
    /// (after `settings.cookie_mode`), or in the server-side store (the cookie then holds
    /// only the id, and `keys` are not needed by the manager).
    ///
    /// ```
    /// use session_runtime::keys::Keys;
    /// use session_runtime::spec::settings::Backend;
    /// use session_runtime::store::{self, OpenOptions};
    /// use session_runtime::Settings;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let settings = Settings { backend: Backend::Memory, ..Settings::default() };
    /// let storage = store::open(&settings.backend, &OpenOptions::new()).await.unwrap();
    /// let manager: session_runtime::manager::SessionManager =
    ///     storage.manager(settings, Keys::generate()).unwrap();
    /// let session = manager.load(None::<&str>).await.unwrap();
    /// session.set("user", "ada").unwrap();
    /// assert_eq!(manager.commit(&session, false).await.unwrap().len(), 1);
    /// # });
    /// ```
    ///
    /// # Errors
    /// As [`SessionManager::cookie`]: settings that break a rule.
    pub fn manager<S: SessionSchema>(
        &self,
        settings: Settings,
        keys: Keys,
    ) -> Result<SessionManager<S>> {
        match self {
            Self::Cookie => SessionManager::cookie(settings, keys),
            Self::Server(store) => SessionManager::with_store(settings, store.clone()),
        }
    }
}
