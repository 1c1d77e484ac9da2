//! Typed sessions (a schema declared with the derive): the data is the generated struct,
//! decoded once at load, read and written field by field, and committed as a small
//! transaction like untyped data (replay on a lost race, conflict on a changed read).

use std::cell::Cell;

use serde::{Deserialize, Deserializer, Serialize};
use session_runtime::{Error, Session, SessionData, SessionSchema, StoreError};

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
