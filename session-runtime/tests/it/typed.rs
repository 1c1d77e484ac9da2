//! Typed sessions (a schema declared with the derive): the data is the generated struct,
//! decoded once at load, read and written field by field, and committed as a small
//! transaction like untyped data (replay on a lost race, conflict on a changed read).

use std::cell::Cell;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize};
use session_runtime::store::MemoryStore;
use session_runtime::{
    Error, MockClock, Record, Session, SessionData, SessionManager, SessionSchema, SessionStore,
    StoreError, Timestamp,
};

use crate::support::{BOTH, Harness, Kind, settings};

thread_local! {
    /// How many `Counted` values this thread has deserialized.
    static DECODED: Cell<usize> = const { Cell::new(0) };
}

/// A user type that counts its deserializations.
#[derive(Clone, Debug, PartialEq, Serialize)]
struct Counted(u32);

impl<'de> Deserialize<'de> for Counted {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        DECODED.with(|n| n.set(n.get() + 1));
        u32::deserialize(deserializer).map(Counted)
    }
}

/// A typed cart.
#[derive(session_runtime::Session)]
#[session(cookie_name = "typed", backend = "memory")]
struct Cart {
    #[session(min_length = 1, max_length = 32)]
    user: Option<String>,
    #[session(default, max_items = 3)]
    items: Vec<String>,
    #[session(default)]
    visits: u64,
    counted: Counted,
}

async fn signed_in(kind: Kind) -> Harness<Cart> {
    let mut h: Harness<Cart> = Harness::new(kind, settings());
    h.request(|s| {
        s.set_user(Some("ada".into())).unwrap();
        s.set_counted(Counted(7)).unwrap();
    })
    .await;
    h
}

fn header(h: &Harness<Cart>) -> String {
    format!("{}={}", h.manager.cookie_name(), h.jar.clone().unwrap())
}

#[tokio::test]
async fn typed_fields_are_decoded_once_per_load_not_per_read() {
    for kind in BOTH {
        let h = signed_in(kind).await;
        DECODED.with(|n| n.set(0));
        let session = h.peek().await;
        assert_eq!(DECODED.with(Cell::get), 1, "{kind:?}: decoded at load");
        for _ in 0..3 {
            assert_eq!(session.counted(), Some(Counted(7)));
        }
        assert_eq!(session.user().as_deref(), Some("ada"));
        assert_eq!(
            DECODED.with(Cell::get),
            1,
            "{kind:?}: the getters read the decoded struct"
        );
    }
}

#[tokio::test]
async fn typed_data_round_trips_and_keeps_every_rule() {
    for kind in BOTH {
        let mut h = signed_in(kind).await;
        h.request(|s| {
            s.push_items("a".into()).unwrap();
            s.set_visits(2).unwrap();
            // Refused values leave the session unchanged.
            assert!(s.set_user(Some(String::new())).is_err());
            assert!(s.set_items(vec!["x".into(); 4]).is_err());
        })
        .await;
        let session = h.peek().await;
        assert_eq!(session.user().as_deref(), Some("ada"), "{kind:?}");
        assert_eq!(session.items(), ["a"]);
        assert_eq!(session.visits(), 2);
        let map = session.get_all();
        assert_eq!(map["user"], "ada");
        assert_eq!(map["items"], serde_json::json!(["a"]));
        assert_eq!(map["counted"], 7);
        assert!(session.validate().is_ok());
        // A removed field reads as its default again and is not written.
        h.request(|s| {
            assert!(s.remove_visits());
            assert!(!s.remove_visits());
        })
        .await;
        let session = h.peek().await;
        assert_eq!(session.visits(), 0);
    }
}

#[tokio::test]
async fn a_typed_commit_that_lost_a_race_replays_its_pushes() {
    let h = signed_in(Kind::Store).await;
    let header = header(&h);
    let a: Session<Cart> = h.manager.load([header.as_str()]).await.unwrap();
    let b: Session<Cart> = h.manager.load([header.as_str()]).await.unwrap();
    a.push_items("from a".into()).unwrap();
    b.push_items("from b".into()).unwrap();
    b.set_visits(5).unwrap();
    assert_eq!(h.manager.commit(&a, false).await.unwrap().len(), 1);
    assert_eq!(h.manager.commit(&b, false).await.unwrap().len(), 1);
    let session = h.manager.load([header.as_str()]).await.unwrap();
    assert_eq!(session.items(), ["from a", "from b"]);
    assert_eq!(session.visits(), 5);
    assert_eq!(session.user().as_deref(), Some("ada"));
}

#[tokio::test]
async fn a_typed_replay_that_breaks_a_rule_fails_the_commit() {
    let mut h = signed_in(Kind::Store).await;
    h.request(|s| {
        s.set_items(vec!["1".into(), "2".into()]).unwrap();
    })
    .await;
    let header = header(&h);
    let a: Session<Cart> = h.manager.load([header.as_str()]).await.unwrap();
    let b: Session<Cart> = h.manager.load([header.as_str()]).await.unwrap();
    a.push_items("3".into()).unwrap();
    b.push_items("4".into()).unwrap();
    h.manager.commit(&a, false).await.unwrap();
    match h.manager.commit(&b, false).await {
        Err(Error::Replay(e)) => assert_eq!(e.field, "items"),
        other => panic!("expected a replay error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_typed_read_changed_by_another_request_is_a_conflict() {
    let h = signed_in(Kind::Store).await;
    let header = header(&h);
    let a: Session<Cart> = h.manager.load([header.as_str()]).await.unwrap();
    let b: Session<Cart> = h.manager.load([header.as_str()]).await.unwrap();
    // `a` decides from the user; `b` changes the user first.
    let user = a.user().unwrap();
    a.set_items(vec![user]).unwrap();
    b.set_user(Some("bob".into())).unwrap();
    h.manager.commit(&b, false).await.unwrap();
    match h.manager.commit(&a, false).await {
        Err(Error::Store(StoreError::Conflict { .. })) => {}
        other => panic!("expected a conflict, got {other:?}"),
    }
    // A read of another field is no conflict: the change is replayed.
    let c: Session<Cart> = h.manager.load([header.as_str()]).await.unwrap();
    let d: Session<Cart> = h.manager.load([header.as_str()]).await.unwrap();
    let visits = c.visits();
    c.set_visits(visits + 1).unwrap();
    d.set_user(Some("cy".into())).unwrap();
    h.manager.commit(&d, false).await.unwrap();
    h.manager.commit(&c, false).await.unwrap();
    let session = h.manager.load([header.as_str()]).await.unwrap();
    assert_eq!(session.visits(), 1);
    assert_eq!(session.user().as_deref(), Some("cy"));
}

#[tokio::test]
async fn typed_data_written_directly_reads_back_as_the_map_it_stands_for() {
    let h = signed_in(Kind::Cookie).await;
    let session = h.peek().await;
    session.push_items("ü \"quoted\"".into()).unwrap();
    session.set_visits(u64::MAX).unwrap();
    let map = session.get_all();
    let data = <Cart as SessionSchema>::load(map.clone()).unwrap();
    assert_eq!(data.to_map(), map);
    assert!(!data.is_empty());
    // The commit writes the struct; the next load reads the same values.
    let set = h.manager.commit(&session, false).await.unwrap();
    let value = crate::support::value_of(&set[0]).to_owned();
    let again = h
        .manager
        .load([format!("{}={value}", h.manager.cookie_name()).as_str()])
        .await
        .unwrap();
    assert_eq!(again.get_all(), map);
}

thread_local! {
    /// How many `Heavy` values this thread has cloned.
    static CLONED: Cell<usize> = const { Cell::new(0) };
}

/// A user type that counts its clones.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Heavy(String);

impl Clone for Heavy {
    fn clone(&self) -> Self {
        CLONED.with(|n| n.set(n.get() + 1));
        Self(self.0.clone())
    }
}

/// A typed profile with one field that counts its clones.
#[derive(session_runtime::Session)]
#[session(cookie_name = "profile", backend = "memory")]
struct Profile {
    #[session(default)]
    visits: u64,
    heavy: Heavy,
}

#[tokio::test]
async fn a_commit_writes_the_data_from_the_handle_without_copying_it() {
    for kind in BOTH {
        let mut h: Harness<Profile> = Harness::new(kind, settings());
        h.request(|s| {
            s.set_heavy(Heavy("a long value".into())).unwrap();
            s.set_visits(1).unwrap();
        })
        .await;
        CLONED.with(|n| n.set(0));
        // A request that changes another field: the commit encodes the data where it is.
        let set = h.request(|s| s.set_visits(2).unwrap()).await;
        assert_eq!(set.len(), 1, "{kind:?}: written");
        assert_eq!(
            CLONED.with(Cell::get),
            0,
            "{kind:?}: the untouched field is not copied by the commit"
        );
        // And the handle still holds the data after the commit.
        let session = h.peek().await;
        assert_eq!(session.visits(), 2, "{kind:?}");
        assert_eq!(session.heavy(), Some(Heavy("a long value".into())));
    }
}

thread_local! {
    /// The deserializers `Traced` values were read from on this thread.
    static READ_FROM: std::cell::RefCell<Vec<&'static str>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A user type that records which deserializer it was read from: `serde_json`'s value
/// (the map path) or the payload's own reader (straight from the bytes).
#[derive(Clone, Debug, PartialEq, Serialize)]
struct Traced(String);

impl<'de> Deserialize<'de> for Traced {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        READ_FROM.with(|r| r.borrow_mut().push(std::any::type_name::<D>()));
        String::deserialize(deserializer).map(Traced)
    }
}

/// The deserializers recorded since the last call.
fn read_from() -> Vec<&'static str> {
    READ_FROM.with(|r| std::mem::take(&mut *r.borrow_mut()))
}

/// A typed schema with a traced field.
#[derive(session_runtime::Session)]
#[session(cookie_name = "notes", backend = "memory")]
struct Notes {
    #[session(default)]
    visits: u64,
    note: Traced,
    #[session(default, max_items = 3)]
    tags: Vec<String>,
}

const NOW: i64 = 1_790_000_000;

fn notes_manager() -> (
    Arc<MemoryStore>,
    SessionManager<Notes>,
    session_runtime::id::SessionId,
) {
    let store = Arc::new(MemoryStore::new());
    let manager = SessionManager::<Notes>::with_store(settings(), store.clone())
        .unwrap()
        .with_clock(Arc::new(MockClock::new(Timestamp(NOW))));
    let id = session_runtime::id::SessionId::generate().unwrap();
    (store, manager, id)
}

async fn put(store: &MemoryStore, id: &session_runtime::id::SessionId, payload: Vec<u8>) {
    let record = Record {
        payload,
        expires_at: Timestamp(NOW + 3600),
        version: 1,
        principal: None,
    };
    let key = id.store_key();
    let _ = store.delete(&key).await;
    store.create(&key, &record).await.unwrap();
}

/// A format-1 (JSON) record of the `Notes` schema holding `data`.
fn json_record(data: &serde_json::Value) -> Vec<u8> {
    json_record_of::<Notes>(data)
}

/// A format-1 (JSON) record of schema `S` holding `data`.
fn json_record_of<S: SessionSchema>(data: &serde_json::Value) -> Vec<u8> {
    format!(
        r#"{{"f":1,"n":"{}","s":{},"c":{c},"i":{c},"l":{c},"e":{e},"d":{data}}}"#,
        S::NAME,
        S::VERSION,
        c = NOW - 100,
        e = NOW + 3600,
    )
    .into_bytes()
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn text(out: &mut Vec<u8>, s: &str) {
    varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// A format-2 record of the `Notes` schema (as the payload module documents it) whose
/// object holds `entries`, each value given as its encoded bytes.
fn binary_record(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    binary_record_of::<Notes>(entries)
}

/// A format-2 record of schema `S` whose object holds `entries` (encoded values).
fn binary_record_of<S: SessionSchema>(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let version = S::VERSION;
    assert!((1..=7).contains(&version));
    // Binary, schema name present, id issued at creation, the version inline.
    let mut out = vec![0x80 | 0x01 | 0x08 | ((version as u8) << 4)];
    text(&mut out, S::NAME);
    let zigzag = |v: i64| ((v << 1) ^ (v >> 63)) as u64;
    varint(&mut out, zigzag(NOW - 100 - 1_767_225_600));
    varint(&mut out, zigzag(0));
    varint(&mut out, zigzag(3700));
    varint(&mut out, entries.len() as u64);
    for (key, value) in entries {
        text(&mut out, key);
        out.extend_from_slice(value);
    }
    out
}

fn string_value(s: &str) -> Vec<u8> {
    let mut out = vec![6];
    text(&mut out, s);
    out
}

fn uint_value(v: u64) -> Vec<u8> {
    let mut out = vec![3];
    varint(&mut out, v);
    out
}

fn strings_value(items: &[&str]) -> Vec<u8> {
    let mut out = vec![7];
    varint(&mut out, items.len() as u64);
    for item in items {
        out.extend(string_value(item));
    }
    out
}

async fn load_notes(
    manager: &SessionManager<Notes>,
    id: &session_runtime::id::SessionId,
) -> Session<Notes> {
    let cookie = format!("{}={}", manager.cookie_name(), id.as_str());
    manager.load([cookie.as_str()]).await.unwrap()
}

#[tokio::test]
async fn a_typed_load_of_a_binary_payload_reads_the_struct_without_a_map() {
    for kind in BOTH {
        let mut h: Harness<Notes> = Harness::new(kind, settings());
        h.request(|s| {
            s.set_note(Traced("hello".into())).unwrap();
            s.push_tags("t".into()).unwrap();
        })
        .await;
        read_from();
        let session = h.peek().await;
        let from = read_from();
        assert_eq!(from.len(), 1, "{kind:?}: {from:?}");
        assert!(
            !from[0].contains("serde_json"),
            "{kind:?}: read through a JSON value: {}",
            from[0]
        );
        assert_eq!(session.note(), Some(Traced("hello".into())));
        assert_eq!(session.tags(), ["t"]);
        assert_eq!(session.visits(), 0);
    }
}

#[tokio::test]
async fn typed_records_of_the_json_format_still_load_into_the_struct() {
    let (store, manager, id) = notes_manager();
    // A missing field takes its default; an unknown key is dropped.
    let data = serde_json::json!({"note": "old", "tags": ["a", "b"], "gone": 1});
    put(&store, &id, json_record(&data)).await;
    read_from();
    let session = load_notes(&manager, &id).await;
    assert_eq!(session.id(), Some(id.clone()));
    assert_eq!(session.note(), Some(Traced("old".into())));
    assert_eq!(session.tags(), ["a", "b"]);
    assert_eq!(session.visits(), 0);
    assert!(read_from()[0].contains("serde_json"), "the map path");
    // Re-saved in format 2, it is read without the map.
    session.set_visits(3).unwrap();
    manager.commit(&session, false).await.unwrap();
    let session = load_notes(&manager, &id).await;
    assert_eq!(session.visits(), 3);
    assert_eq!(session.note(), Some(Traced("old".into())));
    assert!(!read_from()[0].contains("serde_json"));
}

#[tokio::test]
async fn binary_and_json_records_load_alike_field_by_field() {
    let (store, manager, id) = notes_manager();
    /// Format-2 entries, the same data as JSON, the note loaded (`None`: a fresh session).
    type Case = (
        Vec<(&'static str, Vec<u8>)>,
        serde_json::Value,
        Option<&'static str>,
    );
    let cases: Vec<Case> = vec![
        (
            vec![
                ("x", strings_value(&["ignored"])),
                ("note", string_value("n")),
                ("visits", uint_value(9)),
            ],
            serde_json::json!({"x": ["ignored"], "note": "n", "visits": 9}),
            Some("n"),
        ),
        // Written twice: the last value counts, as in a map.
        (
            vec![
                ("note", string_value("first")),
                ("note", string_value("last")),
            ],
            serde_json::json!({"note": "last"}),
            Some("last"),
        ),
        // Wrong type, broken rule, wrong item type: the session starts afresh.
        (
            vec![("note", string_value("n")), ("visits", string_value("9"))],
            serde_json::json!({"note": "n", "visits": "9"}),
            None,
        ),
        (
            vec![("tags", strings_value(&["1", "2", "3", "4"]))],
            serde_json::json!({"tags": ["1", "2", "3", "4"]}),
            None,
        ),
        (
            vec![(
                "tags",
                [vec![7, 2], string_value("a"), uint_value(1)].concat(),
            )],
            serde_json::json!({"tags": ["a", 1]}),
            None,
        ),
        (
            vec![("visits", vec![4, 0])],
            serde_json::json!({"visits": -1}),
            None,
        ),
        // Written twice, the first of the wrong type, the last right: the last counts.
        (
            vec![
                ("visits", string_value("9")),
                ("note", string_value("n")),
                ("visits", uint_value(9)),
            ],
            serde_json::json!({"note": "n", "visits": 9}),
            Some("n"),
        ),
        // Written twice, the first right, the last of the wrong type: a fresh session.
        (
            vec![
                ("note", string_value("n")),
                ("visits", uint_value(9)),
                ("visits", string_value("9")),
            ],
            serde_json::json!({"note": "n", "visits": "9"}),
            None,
        ),
        // A field with a default written twice after an unknown key, the first breaking
        // its rule; then another field: the last value counts.
        (
            vec![
                ("x", uint_value(1)),
                ("tags", strings_value(&["1", "2", "3", "4"])),
                ("tags", strings_value(&["a"])),
                ("note", string_value("n")),
            ],
            serde_json::json!({"x": 1, "tags": ["a"], "note": "n"}),
            Some("n"),
        ),
        // An unknown key written twice is no repeat of a declared one.
        (
            vec![
                ("x", uint_value(1)),
                ("note", string_value("n")),
                ("x", strings_value(&["y"])),
                ("tags", strings_value(&["t"])),
            ],
            serde_json::json!({"x": ["y"], "note": "n", "tags": ["t"]}),
            Some("n"),
        ),
        // A wrong type before a later field (the reader goes on past the bad value).
        (
            vec![
                (
                    "tags",
                    [vec![7, 2], uint_value(1), string_value("a")].concat(),
                ),
                ("visits", string_value("v")),
                ("note", string_value("n")),
            ],
            serde_json::json!({"tags": [1, "a"], "visits": "v", "note": "n"}),
            None,
        ),
    ];
    for (entries, json, note) in cases {
        let mut seen = Vec::new();
        for payload in [binary_record(&entries), json_record(&json)] {
            put(&store, &id, payload).await;
            let session = load_notes(&manager, &id).await;
            let loaded = session.id().is_some();
            seen.push((loaded, session.note(), session.visits(), session.tags()));
        }
        assert_eq!(seen[0], seen[1], "{json}");
        assert_eq!(seen[0].0, note.is_some(), "{json}");
        assert_eq!(seen[0].1, note.map(|n| Traced(n.into())), "{json}");
    }
}

/// A user type whose `Deserialize` reads nothing of the value it is given.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
struct Blank;

impl<'de> Deserialize<'de> for Blank {
    fn deserialize<D: Deserializer<'de>>(_deserializer: D) -> Result<Self, D::Error> {
        Ok(Blank)
    }
}

/// A typed schema with fields that read nothing of their stored value.
#[derive(session_runtime::Session)]
#[session(cookie_name = "blank", backend = "memory")]
struct Blanks {
    blank: Blank,
    #[session(default)]
    blanks: Vec<Blank>,
    note: String,
}

#[tokio::test]
async fn a_field_that_reads_nothing_of_its_value_does_not_shift_the_next() {
    let store = Arc::new(MemoryStore::new());
    let manager = SessionManager::<Blanks>::with_store(settings(), store.clone())
        .unwrap()
        .with_clock(Arc::new(MockClock::new(Timestamp(NOW))));
    let id = session_runtime::id::SessionId::generate().unwrap();
    let cookie = format!("{}={}", manager.cookie_name(), id.as_str());
    let binary = binary_record_of::<Blanks>(&[
        ("blank", strings_value(&["a", "b"])),
        ("blanks", strings_value(&["c", "d", "e"])),
        ("note", string_value("n")),
    ]);
    let json = json_record_of::<Blanks>(
        &serde_json::json!({"blank": ["a", "b"], "blanks": ["c", "d", "e"], "note": "n"}),
    );
    for payload in [binary, json] {
        put(&store, &id, payload).await;
        let session = manager.load([cookie.as_str()]).await.unwrap();
        assert_eq!(session.id(), Some(id.clone()));
        assert_eq!(session.note(), Some("n".to_owned()));
        assert_eq!(session.blank(), Some(Blank));
        assert_eq!(session.blanks(), vec![Blank; 3]);
    }
}

#[tokio::test]
async fn garbage_binary_records_start_a_fresh_typed_session() {
    let (store, manager, id) = notes_manager();
    let good = binary_record(&[("note", string_value("n"))]);
    let mut bad = Vec::new();
    for n in 0..good.len() {
        bad.push(good[..n].to_vec());
    }
    let mut bad_utf8 = good.clone();
    *bad_utf8.last_mut().unwrap() = 0xff;
    bad.push(bad_utf8);
    let mut unknown_tag = binary_record(&[("note", vec![9])]);
    unknown_tag.push(0);
    bad.push(unknown_tag);
    bad.push([good.clone(), vec![0]].concat());
    for payload in bad {
        put(&store, &id, payload.clone()).await;
        let session = load_notes(&manager, &id).await;
        assert!(session.id().is_none(), "{payload:?} accepted");
    }
    put(&store, &id, good).await;
    assert_eq!(
        load_notes(&manager, &id).await.note(),
        Some(Traced("n".into()))
    );
}

/// The stored schema name is compared as bytes with the one the typed data expects
/// (`SessionData::SCHEMA_NAME`): a record under any other name (a byte off, a prefix,
/// longer, another case, empty) or under a name that is not UTF-8 starts a fresh session,
/// as when the name was read as text; the schema's own name loads.
#[tokio::test]
async fn a_record_under_another_or_a_broken_name_starts_a_fresh_typed_session() {
    let (store, manager, id) = notes_manager();
    let good = binary_record(&[("note", string_value("n"))]);
    let name = Notes::NAME.as_bytes();
    assert_eq!(&good[2..2 + name.len()], name);
    let named = |n: &[u8]| {
        let mut out = vec![good[0]];
        varint(&mut out, n.len() as u64);
        out.extend_from_slice(n);
        out.extend_from_slice(&good[2 + name.len()..]);
        out
    };
    let mut one_off = name.to_vec();
    *one_off.last_mut().unwrap() ^= 1;
    let mut not_utf8 = name.to_vec();
    not_utf8[0] = 0xff;
    let others = [
        one_off,
        name[..name.len() - 1].to_vec(),
        [name, b"s"].concat(),
        name.to_ascii_lowercase(),
        Vec::new(),
        not_utf8,
        [name, &[0xc3][..]].concat(),
    ];
    for other in others {
        put(&store, &id, named(&other)).await;
        let session = load_notes(&manager, &id).await;
        assert!(session.id().is_none(), "{other:?} accepted");
    }
    put(&store, &id, named(name)).await;
    assert_eq!(
        load_notes(&manager, &id).await.note(),
        Some(Traced("n".into()))
    );
}

/// The typed setters' values are kept for a replay without a closure each (copied by
/// field on the fresh record, before the request's other operations): sets before and
/// after an update, a removal and a value set twice replay in the request's order.
#[tokio::test]
async fn a_typed_replay_keeps_the_order_of_sets_removals_and_updates() {
    let h = signed_in(Kind::Store).await;
    let header = header(&h);
    let a: Session<Cart> = h.manager.load([header.as_str()]).await.unwrap();
    let b: Session<Cart> = h.manager.load([header.as_str()]).await.unwrap();
    a.push_items("a1".into()).unwrap();
    a.set_visits(1).unwrap();
    b.set_visits(5).unwrap();
    b.set_visits(4).unwrap();
    assert!(b.remove_user());
    // The update sees the value set before it, on replay too.
    b.update(|s| {
        let visits = s.visits();
        s.push_items(format!("b{visits}"))
    })
    .unwrap();
    b.set_visits(6).unwrap();
    assert_eq!(h.manager.commit(&a, false).await.unwrap().len(), 1);
    assert_eq!(h.manager.commit(&b, false).await.unwrap().len(), 1);
    assert_eq!(b.items(), ["a1", "b4"]);
    let session = h.manager.load([header.as_str()]).await.unwrap();
    assert_eq!(session.items(), ["a1", "b4"]);
    assert_eq!(session.visits(), 6);
    assert_eq!(session.user(), None);
    assert_eq!(session.counted(), Some(Counted(7)));
}
