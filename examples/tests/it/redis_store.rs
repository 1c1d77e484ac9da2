//! The user-written Redis store of `custom_store`, against a real `redis-server`: the
//! shared store conformance suite, as any user's store would run it.
//!
//! `SESSION_TEST_REDIS_URL` names the server (`tests/run-all.sh` starts one); without it
//! these tests fail.

use examples::redis_store::RedisStore;

fn redis_url() -> String {
    std::env::var("SESSION_TEST_REDIS_URL").expect(
        "`SESSION_TEST_REDIS_URL` is not set: start a redis-server and point it there \
         (`bash tests/run-all.sh` does both)",
    )
}

/// A store under a key prefix no other test run shares.
async fn fresh_store() -> RedisStore {
    let prefix = format!(
        "it-{}-{}",
        std::process::id(),
        examples::csrf::new_token().unwrap()
    );
    RedisStore::connect(&redis_url(), &prefix)
        .await
        .expect("connect to redis")
}

session_runtime::store_conformance_tests!(conformance, fresh_store());

/// The `custom_store` program end to end: its sessions live in Redis.
#[test]
fn custom_store_app_counts_visits_in_redis() {
    let app = crate::server::Server::start(
        env!("CARGO_BIN_EXE_custom_store"),
        &[],
        &[("REDIS_URL", &redis_url())],
    );
    let mut client = crate::http::Client::new(app.addr);
    for expected in 1..=3 {
        let page = client.get("/");
        assert_eq!(page.status, 200);
        assert!(
            page.body
                .contains(&format!("<b id=\"visits\">{expected}</b>")),
            "{}",
            page.body
        );
    }
    let json = client.get("/api/session").json();
    assert_eq!(json["visits"], 3);
    assert!(json["first_visit"].is_i64());
    // A browser without the cookie starts over.
    let mut other = crate::http::Client::new(app.addr);
    assert!(other.get("/").body.contains("<b id=\"visits\">1</b>"));
}
