//! Statistics over a time window (the queries are shared with PostgreSQL: `store::stats_sql`).

use super::SqliteStore;

crate::store::stats_sql::stats_queries!(SqliteStore, sqlx::Sqlite, pool, "+");
