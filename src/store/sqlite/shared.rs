//! The store methods whose SQL SQLite shares with PostgreSQL (`store::sql`), and what that SQL
//! needs from SQLite in particular.

use super::SqliteStore;
use crate::store::StoreResult;
use sqlx::{QueryBuilder, Sqlite, Transaction};

crate::store::sql::audit_queries!(SqliteStore, Sqlite);
crate::store::sql::delivery_queries!(SqliteStore, Sqlite);
crate::store::sql::event_queries!(SqliteStore, Sqlite);
crate::store::sql::event_type_queries!(SqliteStore, Sqlite);
crate::store::sql::key_queries!(SqliteStore, Sqlite);
crate::store::sql::lane_queries!(SqliteStore, Sqlite);
crate::store::sql::node_queries!(SqliteStore, Sqlite);
crate::store::sql::recovery_queries!(SqliteStore, Sqlite);
crate::store::sql::retention_queries!(SqliteStore, Sqlite);
crate::store::sql::rollup_queries!(SqliteStore, Sqlite);
crate::store::sql::sealing_queries!(SqliteStore, Sqlite);
crate::store::sql::webhook_queries!(SqliteStore, Sqlite);

impl SqliteStore {
    /// Case-insensitive matching (for ASCII, in SQLite).
    const LIKE: &'static str = "LIKE";
    /// No row locks: SQLite's one writer runs one write transaction at a time.
    const FOR_UPDATE: &'static str = "";
    const SKIP_LOCKED: &'static str = "";

    /// `AND` the webhook would receive `event`: exactly, by `*`, by its category, or by a
    /// `prefix.*` that starts it.
    fn push_receives(q: &mut QueryBuilder<'_, Sqlite>, event: &str) {
        q.push(" AND EXISTS (SELECT 1 FROM json_each(webhooks.events) j WHERE j.value = ")
            .push_bind(event.to_string())
            .push(" OR j.value = (SELECT 'category:' || category FROM event_types WHERE name = ")
            .push_bind(event.to_string())
            .push(")")
            .push(" OR j.value = '*' OR (j.value LIKE '%.*' AND length(")
            .push_bind(event.to_string())
            .push(") > length(j.value) - 1 AND substr(")
            .push_bind(event.to_string())
            .push(", 1, length(j.value) - 1) = substr(j.value, 1, length(j.value) - 1)))");
    }

    /// Deliveries were queued in `tx`: nothing to tell, this process is the only one (its workers
    /// are woken after the commit).
    async fn queued_in(&self, _tx: &mut Transaction<'_, Sqlite>) -> Result<(), sqlx::Error> {
        Ok(())
    }

    /// A key was revoked in `tx`: nothing to tell, this process forgets it itself.
    async fn revoked_in(&self, _tx: &mut Transaction<'_, Sqlite>, _key_id: &str) -> Result<(), sqlx::Error> {
        Ok(())
    }

    /// An event type was added: nothing to tell, this process forgot its catalog itself.
    async fn types_changed(&self) -> StoreResult<()> {
        Ok(())
    }
}
