//! [`Prepared`]: a statement of the database stores that Diesel prepares once per
//! connection and then only executes.
//!
//! [`diesel::sql_query`] marks its statement unsafe to cache, so Diesel prepares it anew
//! on every execution: with libpq an unnamed `PQprepare` (one round trip) and then the
//! execution (a second one), for every load and every save. The stores' statements are
//! fixed per store (the table name is validated and quoted once; no value is ever spliced
//! into the text), so they are safe to cache: this query type walks the same SQL text with
//! the same typed binds, without opting out of Diesel's statement cache. Each statement is
//! then prepared once per pooled connection (a named prepared statement on PostgreSQL, a
//! server-side statement on MySQL) and every later execution is a single round trip.
//!
//! The SQL is written as for `sql_query`, with the backend's placeholders (`$1`, `$2`, ...
//! on PostgreSQL, `?` on MySQL): `$k` is replaced by the k-th bind (it may appear more than
//! once), each `?` by the next bind; every bind must be used.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Binary, HasSqlType, Text, Untyped};
use diesel::{QueryResult, RunQueryDsl};

/// One bound value.
#[derive(Clone, Copy, Debug)]
pub enum Bind<'a> {
    /// `BYTEA` / `VARBINARY`.
    Bytes(&'a [u8]),
    /// `BIGINT`.
    Int(i64),
    /// `TEXT` / `VARCHAR`.
    Text(&'a str),
}

/// A fixed statement with its binds, cached as a prepared statement by the connection.
#[derive(Debug)]
#[must_use = "a query runs only when executed or loaded"]
pub(crate) struct Prepared<'a> {
    sql: &'a str,
    binds: &'a [Bind<'a>],
}

impl<'a> Prepared<'a> {
    /// The statement `sql` (with one placeholder per bind) and its binds in order.
    pub(crate) fn new(sql: &'a str, binds: &'a [Bind<'a>]) -> Self {
        Self { sql, binds }
    }
}

impl Prepared<'_> {
    /// The error of a statement whose placeholders (`more` or `fewer`) do not match its
    /// binds.
    fn mismatch(&self, placeholders: &str) -> diesel::result::Error {
        let (binds, sql) = (self.binds.len(), self.sql);
        let message = format!("{placeholders} placeholders than the {binds} binds in `{sql}`");
        diesel::result::Error::QueryBuilderError(message.into())
    }
}

/// The byte range of the next placeholder in `sql` (`?`, or `$` and digits), if any.
fn next_placeholder(sql: &str) -> Option<(usize, usize)> {
    let bytes = sql.as_bytes();
    let start = bytes.iter().position(|&b| b == b'?' || b == b'$')?;
    let mut end = start + 1;
    if bytes[start] == b'$' {
        while end < bytes.len() && bytes[end].is_ascii_digit() {
            end += 1;
        }
    }
    Some((start, end))
}

impl<DB> QueryFragment<DB> for Prepared<'_>
where
    DB: Backend + HasSqlType<Binary> + HasSqlType<BigInt> + HasSqlType<Text>,
    [u8]: diesel::serialize::ToSql<Binary, DB>,
    i64: diesel::serialize::ToSql<BigInt, DB>,
    str: diesel::serialize::ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let mut rest = self.sql;
        // The next bind of a `?`; the binds used so far (one bit each).
        let (mut next, mut used) = (0, 0u64);
        while let Some((start, end)) = next_placeholder(rest) {
            out.push_sql(&rest[..start]);
            // `$k` is the k-th bind (PostgreSQL's numbered placeholders may repeat one, each
            // occurrence sent as a bind of its own), `?` the next one.
            let index = match rest[start + 1..end].parse::<usize>() {
                Ok(k) => k.wrapping_sub(1),
                Err(_) => {
                    next += 1;
                    next - 1
                }
            };
            match self.binds.get(index).filter(|_| index < 64) {
                Some(Bind::Bytes(bytes)) => out.push_bind_param::<Binary, [u8]>(bytes)?,
                Some(Bind::Int(n)) => out.push_bind_param::<BigInt, i64>(n)?,
                Some(Bind::Text(text)) => out.push_bind_param::<Text, str>(text)?,
                None => return Err(self.mismatch("more")),
            }
            used |= 1 << index;
            rest = &rest[end..];
        }
        out.push_sql(rest);
        if used.count_ones() as usize != self.binds.len() {
            return Err(self.mismatch("fewer"));
        }
        Ok(())
    }
}

impl QueryId for Prepared<'_> {
    type QueryId = ();
    // Not static: Diesel keys its statement cache by the SQL text (and bind types).
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Prepared<'_> {
    type SqlType = Untyped;
}

impl<Conn> RunQueryDsl<Conn> for Prepared<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against the PostgreSQL server of `tests/run-all.sh`: a statement run three times is
    /// prepared once, as a named statement of the connection (an unnamed one, what
    /// `sql_query` uses, is prepared anew on every run and not listed).
    #[cfg(feature = "postgres")]
    #[test]
    fn a_statement_is_prepared_once_per_connection() {
        use diesel::connection::SimpleConnection;
        use diesel::{Connection, PgConnection};

        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }

        let url = std::env::var("SESSION_TEST_POSTGRES_URL")
            .expect("SESSION_TEST_POSTGRES_URL: run the tests with `bash tests/run-all.sh`");
        let mut conn = PgConnection::establish(&url).expect("a connection");
        conn.batch_execute("CREATE TEMPORARY TABLE prepared_once (id BYTEA, n BIGINT)")
            .unwrap();
        let insert = "INSERT INTO prepared_once (id, n) VALUES ($1, $2)";
        let select = "SELECT n FROM prepared_once WHERE id = $1 AND n > $2";
        for i in 0..3 {
            Prepared::new(insert, &[Bind::Bytes(b"k"), Bind::Int(i)])
                .execute(&mut conn)
                .unwrap();
            let rows: Vec<N> = Prepared::new(select, &[Bind::Bytes(b"k"), Bind::Int(0)])
                .load(&mut conn)
                .unwrap();
            assert_eq!(
                rows.len() as i64,
                i,
                "{:?}",
                rows.iter().map(|r| r.n).collect::<Vec<_>>()
            );
        }
        let prepared: Vec<N> = diesel::sql_query(
            "SELECT count(*) AS n FROM pg_prepared_statements WHERE statement LIKE '%prepared_once%'",
        )
        .load(&mut conn)
        .unwrap();
        assert_eq!(
            prepared[0].n, 2,
            "one prepared statement each for the insert and the select"
        );
    }

    #[test]
    fn placeholders_of_both_dialects_are_found() {
        assert_eq!(next_placeholder("a = $12 AND"), Some((4, 7)));
        assert_eq!(next_placeholder("a = ? AND"), Some((4, 5)));
        assert_eq!(next_placeholder("$1"), Some((0, 2)));
        assert_eq!(next_placeholder("no binds"), None);
    }
}
