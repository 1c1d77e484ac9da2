//! Active sessions: a principal's sessions listed and ended through the manager, with two
//! clients of one user, on every indexing store; an ended session never comes back.

use std::sync::Arc;

use session_runtime::manager::SessionHandle;
use session_runtime::store::{MemoryStore, SessionStore};
use session_runtime::{MockClock, Session, SessionManager, Settings, StoreError, Timestamp};

use crate::stores::support::TempFileStore;
use crate::support::{T0, settings, value_of};

fn with_principal() -> Settings {
    Settings {
        principal: Some("user".to_owned()),
        ..settings()
    }
}

/// One browser: its cookie, and a request helper.
struct Client {
    jar: Option<String>,
}

impl Client {
    fn new() -> Self {
        Self { jar: None }
    }

    async fn load(&self, m: &SessionManager) -> Session {
        let header = self
            .jar
            .as_ref()
            .map(|v| format!("{}={v}", m.cookie_name()));
        m.load(header.as_deref()).await.expect("load")
    }

    async fn commit(&mut self, m: &SessionManager, s: &Session) {
        for c in m.commit(s, false).await.expect("commit") {
            let v = value_of(&c);
            self.jar = (!v.is_empty() && !c.contains("Max-Age=0;")).then(|| v.to_owned());
        }
    }

    async fn login(&mut self, m: &SessionManager, user: &str, device: &str) {
        let s = self.load(m).await;
        s.set("user", user).unwrap();
        s.set("device", device).unwrap();
        s.cycle();
        self.commit(m, &s).await;
    }

    /// The user this client's next request sees (`None`: anonymous).
    async fn user(&self, m: &SessionManager) -> Option<String> {
        self.load(m).await.get::<String>("user")
    }
}

fn manager(store: Arc<dyn SessionStore>, clock: &MockClock) -> SessionManager {
    SessionManager::with_store(with_principal(), store)
        .unwrap()
        .with_clock(Arc::new(clock.clone()))
}

async fn two_clients_one_ends_the_other(store: Arc<dyn SessionStore>) {
    let clock = MockClock::new(Timestamp(T0));
    let m = manager(store, &clock);
    let (mut laptop, mut phone, mut other) = (Client::new(), Client::new(), Client::new());
    laptop.login(&m, "ada", "laptop").await;
    clock.advance(60);
    phone.login(&m, "ada", "phone").await;
    other.login(&m, "bob", "tablet").await;

    let current = laptop.load(&m).await;
    let listed = m
        .sessions_of_showing("ada", Some(&current), &["device"])
        .await
        .unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(
        listed[0].current && !listed[1].current,
        "oldest first, the laptop's marked"
    );
    assert_eq!(listed[1].fields["device"], "phone");
    assert_eq!(listed[0].created_at, Timestamp(T0));
    assert!(listed[1].expires_at > listed[1].last_seen);
    // The handle is not the id, nor its store key.
    let phone_id = phone.jar.clone().unwrap();
    assert!(!listed[1].handle.as_str().contains(&phone_id));

    assert!(m.end_session_of("ada", &listed[1].handle).await.unwrap());
    assert_eq!(phone.user(&m).await, None, "the ended session is anonymous");
    assert_eq!(laptop.user(&m).await.as_deref(), Some("ada"));
    assert_eq!(
        other.user(&m).await.as_deref(),
        Some("bob"),
        "another user's is untouched"
    );
    // A handle works only once, and only for its own principal.
    assert!(!m.end_session_of("ada", &listed[1].handle).await.unwrap());
    let bobs = m.sessions_of("bob", None).await.unwrap();
    assert!(!m.end_session_of("ada", &bobs[0].handle).await.unwrap());
    assert_eq!(other.user(&m).await.as_deref(), Some("bob"));
}

/// A request of the ended session still in flight commits after the end: its write fails
/// (or is dropped), and the session stays ended.
async fn an_ended_session_never_comes_back(store: Arc<dyn SessionStore>) {
    let clock = MockClock::new(Timestamp(T0));
    let m = manager(store, &clock);
    let (mut laptop, mut phone) = (Client::new(), Client::new());
    laptop.login(&m, "ada", "laptop").await;
    phone.login(&m, "ada", "phone").await;

    let in_flight = phone.load(&m).await;
    in_flight.set("cart", &3).unwrap();
    let current = laptop.load(&m).await;
    assert_eq!(m.end_other_sessions(&current).await.unwrap(), 1);
    assert_ended(m.commit(&in_flight, false).await);
    assert_eq!(phone.user(&m).await, None);
    assert!(m.sessions_of("ada", None).await.unwrap().len() == 1);

    // A session that rotates (a privilege change) just before "end all" is ended under
    // its new id too.
    phone.login(&m, "ada", "phone").await;
    let s = phone.load(&m).await;
    s.cycle();
    phone.commit(&m, &s).await;
    assert_eq!(m.end_all_sessions("ada").await.unwrap(), 2);
    assert_eq!(phone.user(&m).await, None);
    assert_eq!(laptop.user(&m).await, None);
    assert!(m.sessions_of("ada", None).await.unwrap().is_empty());
}

/// A fresh store of each kind that keeps a principal index: memory and file (the database
/// and Redis stores run the same checks in their own modules).
fn indexing_stores() -> [Arc<dyn SessionStore>; 2] {
    [Arc::new(MemoryStore::new()), Arc::new(TempFileStore::new())]
}

/// Runs `check` on a fresh store of each kind of [`indexing_stores`].
async fn on_every_store(check: impl AsyncFn(Arc<dyn SessionStore>)) {
    for store in indexing_stores() {
        check(store).await;
    }
}

/// Asserts that a commit was refused because its session had been ended.
#[track_caller]
fn assert_ended<T: std::fmt::Debug>(commit: Result<T, session_runtime::Error>) {
    assert!(
        matches!(
            commit,
            Err(session_runtime::Error::Store(StoreError::NotFound))
        ),
        "{commit:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_one_ends_the_other_on_every_store() {
    on_every_store(two_clients_one_ends_the_other).await;
    on_every_store(an_ended_session_never_comes_back).await;
}

#[tokio::test]
async fn a_logout_leaves_the_index() {
    let clock = MockClock::new(Timestamp(T0));
    let m = manager(Arc::new(MemoryStore::new()), &clock);
    let mut c = Client::new();
    c.login(&m, "ada", "laptop").await;
    assert_eq!(m.sessions_of("ada", None).await.unwrap().len(), 1);
    let s = c.load(&m).await;
    s.delete("user");
    c.commit(&m, &s).await;
    assert!(m.sessions_of("ada", None).await.unwrap().is_empty());
    let s = c.load(&m).await;
    s.destroy();
    c.commit(&m, &s).await;
    assert!(c.jar.is_none());
}

#[test]
fn handles_are_checked_when_read_back() {
    assert!(SessionHandle::parse("").is_none());
    assert!(SessionHandle::parse("0123456789ABCDEF0123456789abcdef").is_none());
}

#[tokio::test]
async fn a_principal_needs_an_indexing_store_and_the_cookie_backend_cannot_list() {
    let store = crate::support::CountingStore::new();
    let refused = SessionManager::<session_runtime::Dynamic>::with_store(with_principal(), store);
    assert!(
        matches!(
            refused,
            Err(session_runtime::Error::Store(StoreError::Unsupported(_)))
        ),
        "{refused:?}"
    );
    let cookie: SessionManager =
        SessionManager::cookie(settings(), session_runtime::keys::Keys::generate()).unwrap();
    assert!(matches!(
        cookie.sessions_of("ada", None).await,
        Err(session_runtime::Error::Store(StoreError::Unsupported(_)))
    ));
}

/// The cookie backend with a revocation store: the laptop ends every other session of
/// its user; the phone's next request is anonymous, the laptop's cookie still works, and
/// a request of the phone in flight cannot re-issue its cookie.
#[tokio::test]
async fn cookie_backend_with_a_revocation_store() {
    let clock = MockClock::new(Timestamp(T0));
    let settings = Settings {
        revocation_store: Some(session_runtime::spec::Backend::Memory),
        ..with_principal()
    };
    let m: SessionManager =
        SessionManager::cookie(settings.clone(), session_runtime::keys::Keys::generate())
            .unwrap()
            .with_revocation_store(Arc::new(MemoryStore::new()))
            .with_clock(Arc::new(clock.clone()));
    let (mut laptop, mut phone, mut other) = (Client::new(), Client::new(), Client::new());
    laptop.login(&m, "ada", "laptop").await;
    phone.login(&m, "ada", "phone").await;
    other.login(&m, "bob", "tablet").await;
    let in_flight = phone.load(&m).await;

    let current = laptop.load(&m).await;
    m.end_other_sessions(&current).await.unwrap();
    laptop.commit(&m, &current).await;
    clock.advance(5);
    assert_eq!(phone.user(&m).await, None, "the other cookie is refused");
    assert_eq!(laptop.user(&m).await.as_deref(), Some("ada"));
    assert_eq!(other.user(&m).await.as_deref(), Some("bob"));
    // The phone's request in flight ends with a removal cookie, not a fresh one.
    in_flight.set("cart", &1).unwrap();
    in_flight.cycle();
    let set = m.commit(&in_flight, false).await.unwrap();
    assert!(set.len() == 1 && set[0].contains("Max-Age=0"), "{set:?}");
    // Logging in again after the revocation works; "end all" ends every one.
    phone.login(&m, "ada", "phone").await;
    assert_eq!(phone.user(&m).await.as_deref(), Some("ada"));
    m.end_all_sessions("ada").await.unwrap();
    assert_eq!(phone.user(&m).await, None);
    assert_eq!(laptop.user(&m).await, None);
    assert_eq!(other.user(&m).await.as_deref(), Some("bob"));

    // Without the store attached, the principal cannot be checked: loads fail loudly.
    let detached: SessionManager =
        SessionManager::cookie(settings, session_runtime::keys::Keys::generate()).unwrap();
    let mut c = Client::new();
    let s = c.load(&detached).await;
    s.set("user", "ada").unwrap();
    c.commit(&detached, &s).await;
    let header = format!("session={}", c.jar.unwrap());
    assert!(matches!(
        detached.load(Some(header.as_str())).await,
        Err(session_runtime::Error::Store(StoreError::Unsupported(_)))
    ));
    // And the cookie backend refuses a principal without a revocation store at all.
    assert!(
        SessionManager::<session_runtime::Dynamic>::cookie(
            with_principal(),
            session_runtime::keys::Keys::generate()
        )
        .is_err()
    );
}

fn limited(max: u32, policy: session_runtime::spec::OnMaxSessions) -> Settings {
    Settings {
        max_sessions: Some(max),
        on_max_sessions: policy,
        ..with_principal()
    }
}

/// `max_sessions = 5`, ending the oldest: six clients log in one after the other; the
/// first is anonymous at its next request, the five others stay logged in, and a request
/// of the first still in flight cannot bring it back.
async fn a_sixth_login_ends_the_oldest(store: Arc<dyn SessionStore>) {
    use session_runtime::spec::OnMaxSessions;
    let clock = MockClock::new(Timestamp(T0));
    let m = SessionManager::with_store(limited(5, OnMaxSessions::EndOldest), store)
        .unwrap()
        .with_clock(Arc::new(clock.clone()));
    let mut clients: Vec<Client> = (0..6).map(|_| Client::new()).collect();
    for (i, c) in clients.iter_mut().take(5).enumerate() {
        c.login(&m, "ada", &format!("device {i}")).await;
        clock.advance(10);
    }
    let in_flight = clients[0].load(&m).await;
    in_flight.set("cart", &1).unwrap();
    clients[5].login(&m, "ada", "device 5").await;
    assert_eq!(clients[0].user(&m).await, None, "the oldest session ended");
    for c in &clients[1..] {
        assert_eq!(c.user(&m).await.as_deref(), Some("ada"));
    }
    assert_ended(m.commit(&in_flight, false).await);
    assert_eq!(m.sessions_of("ada", None).await.unwrap().len(), 5);
    // Saving a logged-in session again is no login: nothing more ends.
    let s = clients[1].load(&m).await;
    s.set("cart", &2).unwrap();
    clients[1].commit(&m, &s).await;
    assert_eq!(m.sessions_of("ada", None).await.unwrap().len(), 5);
}

/// `on_max_sessions = "refuse"`: the sixth login fails with the typed error, stores
/// nothing, and leaves the client's anonymous session as it was; the handler's question
/// `at_session_limit` answers before it tries.
async fn a_sixth_login_is_refused(store: Arc<dyn SessionStore>) {
    use session_runtime::spec::OnMaxSessions;
    let clock = MockClock::new(Timestamp(T0));
    let m = SessionManager::with_store(limited(5, OnMaxSessions::Refuse), store)
        .unwrap()
        .with_clock(Arc::new(clock.clone()));
    let mut clients: Vec<Client> = (0..6).map(|_| Client::new()).collect();
    for c in clients.iter_mut().take(5) {
        c.login(&m, "ada", "a device").await;
    }
    // An anonymous session with a cart, then a login attempt.
    let s = clients[5].load(&m).await;
    s.set("cart", &7).unwrap();
    clients[5].commit(&m, &s).await;
    let s = clients[5].load(&m).await;
    assert!(m.at_session_limit("ada", Some(&s)).await.unwrap());
    assert!(!m.at_session_limit("bob", Some(&s)).await.unwrap());
    s.set("user", "ada").unwrap();
    s.cycle();
    let refused = m.commit(&s, false).await;
    assert!(
        matches!(
            refused,
            Err(session_runtime::Error::SessionLimit { max: 5 })
        ),
        "{refused:?}"
    );
    let after = clients[5].load(&m).await;
    assert_eq!(after.get::<String>("user"), None);
    assert_eq!(
        after.get::<u32>("cart"),
        Some(7),
        "the anonymous session is kept"
    );
    for c in &clients[..5] {
        assert_eq!(c.user(&m).await.as_deref(), Some("ada"));
    }
    assert_eq!(m.sessions_of("ada", None).await.unwrap().len(), 5);
}

/// Logins racing through managers (as on several server processes): exactly `max` stay
/// logged in, and the index lists exactly them.
async fn racing_logins_leave_exactly_max(store: Arc<dyn SessionStore>) {
    use session_runtime::spec::OnMaxSessions;
    for policy in [OnMaxSessions::EndOldest, OnMaxSessions::Refuse] {
        let m = SessionManager::with_store(limited(3, policy), store.clone()).unwrap();
        let logins = (0..10).map(|_| {
            let m = m.clone();
            tokio::spawn(async move {
                let mut c = Client::new();
                let s = c.load(&m).await;
                s.set("user", "racer").unwrap();
                s.cycle();
                match m.commit(&s, false).await {
                    Ok(cookies) => {
                        c.jar = cookies.first().map(|v| value_of(v).to_owned());
                        Some(c)
                    }
                    Err(session_runtime::Error::SessionLimit { max: 3 })
                        if policy == OnMaxSessions::Refuse =>
                    {
                        None
                    }
                    Err(e) => panic!("a racing login failed: {e}"),
                }
            })
        });
        let mut logged_in = Vec::new();
        for login in logins.collect::<Vec<_>>() {
            if let Some(c) = login.await.unwrap() {
                logged_in.push(c);
            }
        }
        let mut live = 0;
        for c in &logged_in {
            if c.user(&m).await.is_some() {
                live += 1;
            }
        }
        assert_eq!(live, 3, "{policy:?}");
        assert_eq!(m.sessions_of("racer", None).await.unwrap().len(), 3);
        if policy == OnMaxSessions::Refuse {
            assert_eq!(logged_in.len(), 3, "the refused logins got the typed error");
        }
        m.end_all_sessions("racer").await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_sessions_on_every_store() {
    on_every_store(a_sixth_login_ends_the_oldest).await;
    on_every_store(a_sixth_login_is_refused).await;
    on_every_store(racing_logins_leave_exactly_max).await;
}

#[tokio::test]
async fn max_sessions_needs_a_store_that_limits() {
    let store = crate::support::CountingStore::new();
    let refused = SessionManager::<session_runtime::Dynamic>::with_store(
        limited(5, session_runtime::spec::OnMaxSessions::EndOldest),
        store,
    );
    assert!(
        matches!(
            refused,
            Err(session_runtime::Error::Store(StoreError::Unsupported(_)))
        ),
        "{refused:?}"
    );
}

/// Runs the `session-db` command with `args` and the extra environment `env`; its exit
/// code and its output (stdout, then stderr).
#[cfg(feature = "db-cli")]
fn session_db(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_session-db"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run session-db");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}

/// `session-db sessions` for support staff, on a store of its own that the command opens
/// from `store_args` (and `env`) while the application holds `store`: the command lists
/// a user's three sessions (handles and UTC times, never a session id) as the application
/// does, ends one by its handle (that client is logged out at its next request, the others
/// are not), says when a handle names no live session (exit code 3), ends all of the
/// user's (another user's session lives on), and ends every session of the store only
/// with `--yes` (exit code 2 without).
#[cfg(feature = "db-cli")]
pub(crate) async fn cli_lists_and_ends_sessions(
    store: Arc<dyn SessionStore>,
    store_args: &[&str],
    env: &[(&str, &str)],
) {
    let m: SessionManager = SessionManager::with_store(with_principal(), store).unwrap();
    let mut ada: Vec<Client> = (0..3).map(|_| Client::new()).collect();
    for (i, client) in ada.iter_mut().enumerate() {
        client.login(&m, "ada", &format!("device {i}")).await;
    }
    let mut bob = Client::new();
    bob.login(&m, "bob", "tablet").await;
    let mut anonymous = Client::new();
    let s = anonymous.load(&m).await;
    s.set("cart", &3).unwrap();
    anonymous.commit(&m, &s).await;
    let cli = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend_from_slice(store_args);
        session_db(&all, env)
    };

    let (code, out) = cli(&["sessions", "list", "--principal", "ada"]);
    assert_eq!(code, 0, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "a header and three sessions: {out}");
    assert!(
        lines[0].starts_with("handle") && lines[0].contains("last seen"),
        "{out}"
    );
    assert!(
        lines[1..].iter().all(|l| l.matches(" UTC").count() == 3),
        "{out}"
    );
    for client in ada.iter().chain([&bob]) {
        let cookie = client.jar.as_deref().unwrap();
        assert!(!out.contains(cookie), "a session id was printed: {out}");
    }
    let mut handles: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let mut listed: Vec<String> = m
        .sessions_of("ada", None)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.handle.to_string())
        .collect();
    handles.sort_unstable();
    listed.sort_unstable();
    assert_eq!(
        handles, listed,
        "the command lists what the application lists"
    );

    // End the second device's session by its handle.
    let second = ada[1].load(&m).await;
    let handle = m
        .sessions_of("ada", Some(&second))
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.current)
        .unwrap()
        .handle;
    let end_handle = [
        "sessions",
        "end",
        "--principal",
        "ada",
        "--handle",
        handle.as_str(),
    ];
    let (code, out) = cli(&end_handle);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        ada[1].user(&m).await,
        None,
        "the ended client is logged out"
    );
    assert_eq!(ada[0].user(&m).await.as_deref(), Some("ada"));
    assert_eq!(ada[2].user(&m).await.as_deref(), Some("ada"));
    // The request in flight of the ended session does not bring it back.
    second.set("cart", &1).unwrap();
    assert_ended(m.commit(&second, false).await);
    assert_eq!(ada[1].user(&m).await, None);
    assert_eq!(m.sessions_of("ada", None).await.unwrap().len(), 2);
    let (code, out) = cli(&end_handle);
    assert_eq!(code, 3, "an ended handle names nothing: {out}");

    let (code, out) = cli(&["sessions", "end-all", "--principal", "ada"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ended 2 sessions of `ada`"), "{out}");
    for client in &ada {
        assert_eq!(client.user(&m).await, None);
    }
    assert_eq!(bob.user(&m).await.as_deref(), Some("bob"));
    let (code, out) = cli(&["sessions", "list", "--principal", "ada"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("no live sessions of `ada`"), "{out}");

    let (code, out) = cli(&["sessions", "end-everyone"]);
    assert_eq!(code, 2, "refused without `--yes`: {out}");
    assert!(out.contains("--yes"), "{out}");
    assert_eq!(bob.user(&m).await.as_deref(), Some("bob"));
    let (code, out) = cli(&["sessions", "end-everyone", "--yes"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("ended every session: 2 records removed"),
        "{out}"
    );
    assert_eq!(bob.user(&m).await, None);
    assert_eq!(anonymous.load(&m).await.get::<u64>("cart"), None);
}

/// A file store for the command: its directory and the key text the command reads from
/// `SESSION_KEY`.
#[cfg(feature = "db-cli")]
fn file_store_with_key_text() -> (tempfile::TempDir, Arc<dyn SessionStore>, String) {
    use session_runtime::keys::{Key, Keys};
    let text = Key::generate_text().unwrap();
    let keys = Keys::single(Key::from_text(&text, "a test key").unwrap());
    let dir = tempfile::tempdir().unwrap();
    let store = session_runtime::store::FileStore::builder(dir.path().join("sessions"), keys)
        .open()
        .unwrap();
    (dir, Arc::new(store), text)
}

#[cfg(feature = "db-cli")]
#[tokio::test]
async fn cli_lists_and_ends_file_sessions() {
    let (dir, store, key) = file_store_with_key_text();
    let sessions = dir.path().join("sessions");
    let sessions = sessions.to_str().unwrap();
    cli_lists_and_ends_sessions(
        store,
        &["--backend", "file", "--dir", sessions],
        &[("SESSION_KEY", &key)],
    )
    .await;
}

/// The command's errors on the file store: no keys, another key than the application's,
/// a directory that does not exist (never created), a malformed handle (exit code 2).
#[cfg(feature = "db-cli")]
#[tokio::test]
async fn cli_errors_on_the_file_store() {
    let (dir, store, _key) = file_store_with_key_text();
    let m: SessionManager = SessionManager::with_store(with_principal(), store).unwrap();
    Client::new().login(&m, "ada", "laptop").await;
    let sessions = dir.path().join("sessions");
    let sessions = sessions.to_str().unwrap();
    let list = [
        "sessions",
        "list",
        "--principal",
        "ada",
        "--backend",
        "file",
    ];
    let (code, out) = session_db(
        &[&list[..], &["--dir", sessions, "--key-env", "S3_UNSET_KEY"]].concat(),
        &[],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("set `S3_UNSET_KEY` to its key"), "{out}");
    // Another key reads no record: the store's records are authenticated.
    let other = session_runtime::keys::Key::generate_text().unwrap();
    let (code, out) = session_db(
        &[&list[..], &["--dir", sessions]].concat(),
        &[("SESSION_KEY", &other)],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("no live sessions"), "{out}");
    let missing = dir.path().join("typo");
    let (code, out) = session_db(
        &[&list[..], &["--dir", missing.to_str().unwrap()]].concat(),
        &[("SESSION_KEY", &other)],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("does not exist") && !missing.exists(), "{out}");
    let (code, out) = session_db(
        &[
            "sessions",
            "end",
            "--principal",
            "ada",
            "--handle",
            "../x",
            "--backend",
            "file",
            "--dir",
            sessions,
        ],
        &[("SESSION_KEY", &other)],
    );
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("is not a session handle"), "{out}");
}

/// `session-db revoke` on the cookie backend's revocation store (a file store): the
/// user's cookies issued before it are refused at their next request, another user's are
/// not (a login after it works: `cookie_backend_with_a_revocation_store`, on a mock clock).
#[cfg(feature = "db-cli")]
#[tokio::test]
async fn cli_revokes_cookies_in_the_revocation_store() {
    let (dir, revocations, key) = file_store_with_key_text();
    let settings = Settings {
        revocation_store: Some(session_runtime::spec::Backend::Memory),
        ..with_principal()
    };
    let m: SessionManager =
        SessionManager::cookie(settings, session_runtime::keys::Keys::generate())
            .unwrap()
            .with_revocation_store(revocations);
    let (mut laptop, mut phone, mut other) = (Client::new(), Client::new(), Client::new());
    laptop.login(&m, "ada", "laptop").await;
    phone.login(&m, "ada", "phone").await;
    other.login(&m, "bob", "tablet").await;
    let sessions = dir.path().join("sessions");
    let (code, out) = session_db(
        &[
            "revoke",
            "--backend",
            "file",
            "--dir",
            sessions.to_str().unwrap(),
            "--schema",
            <session_runtime::Dynamic as session_runtime::SessionSchema>::NAME,
            "--expiration-time",
            "30m",
            "--principal",
            "ada",
        ],
        &[("SESSION_KEY", &key)],
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("revoked the cookies of `ada` issued before"),
        "{out}"
    );
    assert_eq!(laptop.user(&m).await, None);
    assert_eq!(phone.user(&m).await, None);
    assert_eq!(other.user(&m).await.as_deref(), Some("bob"));
}
