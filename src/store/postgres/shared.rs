//! The store methods whose SQL PostgreSQL shares with SQLite (`store::sql`), and what that SQL
//! needs from PostgreSQL in particular: telling the other nodes what changed, through `NOTIFY`.

use super::{channel, notify, PgStore};
use crate::store::StoreResult;
use sqlx::{Postgres, QueryBuilder, Transaction};

crate::store::sql::audit_queries!(PgStore, Postgres);
crate::store::sql::delivery_queries!(PgStore, Postgres);
crate::store::sql::event_queries!(PgStore, Postgres);
crate::store::sql::event_type_queries!(PgStore, Postgres);
crate::store::sql::key_queries!(PgStore, Postgres);
crate::store::sql::lane_queries!(PgStore, Postgres);
crate::store::sql::node_queries!(PgStore, Postgres);
crate::store::sql::recovery_queries!(PgStore, Postgres);
crate::store::sql::retention_queries!(PgStore, Postgres);
crate::store::sql::rollup_queries!(PgStore, Postgres);
crate::store::sql::sealing_queries!(PgStore, Postgres);
crate::store::sql::webhook_queries!(PgStore, Postgres);

impl PgStore {
    /// Case-insensitive matching.
    const LIKE: &'static str = "ILIKE";
    /// Rows read to decide a write are locked until it commits (two nodes may decide at once).
    const FOR_UPDATE: &'static str = " FOR UPDATE";
    /// Rows another transaction holds are left to it rather than waited for.
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";

    /// `AND` the webhook would receive `event`: exactly, by `*`, by its category, or by a
    /// `prefix.*` that starts it.
    fn push_receives(q: &mut QueryBuilder<'_, Postgres>, event: &str) {
        q.push(
            " AND EXISTS (SELECT 1 FROM jsonb_array_elements_text(webhooks.events::jsonb) AS j(value) WHERE j.value = ",
        )
        .push_bind(event.to_string())
        .push(" OR j.value = (SELECT 'category:' || category FROM event_types WHERE name = ")
        .push_bind(event.to_string())
        .push(")")
        .push(" OR j.value = '*' OR (j.value LIKE '%.*' AND length(")
        .push_bind(event.to_string())
        .push(") > length(j.value) - 1 AND starts_with(")
        .push_bind(event.to_string())
        .push(", left(j.value, -1))))");
    }

    /// Deliveries were queued in `tx`: every node's idle workers look for them after the commit.
    async fn queued_in(&self, tx: &mut Transaction<'_, Postgres>) -> Result<(), sqlx::Error> {
        notify(&mut **tx, channel::QUEUED, "").await
    }

    /// A key was revoked in `tx`: every node forgets the keys it remembers, after the commit.
    async fn revoked_in(&self, tx: &mut Transaction<'_, Postgres>, key_id: &str) -> Result<(), sqlx::Error> {
        notify(&mut **tx, channel::KEYS, key_id).await
    }

    /// An event type was added: every node reads the catalog again.
    async fn types_changed(&self) -> StoreResult<()> {
        Ok(notify(&self.pool, channel::TYPES, "").await?)
    }
}
