//! Statistics over a time window (the queries are shared with SQLite: `store::stats_sql`).

use super::PgStore;

crate::store::stats_sql::stats_queries!(PgStore, sqlx::Postgres, pool, "");
