use session_runtime::Session;

// Braces in a Redis key prefix: a Redis Cluster would read them as the hash tag, which the
// store sets itself.
#[derive(Session)]
#[session(backend(type = "redis", url_env = "REDIS_URL", prefix = "shop{sessions}"))]
struct Shop {
    user: Option<u64>,
}

fn main() {}
