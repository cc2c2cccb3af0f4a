//! Webhook secrets at rest: sealed on the way in and opened on the way out when the store has a
//! key (see `crypto::seal`); checked, and sealed where still in the clear, when the store opens.

use super::StoreResult;
use super::{OpenError, SqliteStore};
use crate::crypto::seal;

impl SqliteStore {
    /// The value to store for the webhook `id`'s secret.
    pub(super) fn seal_secret(&self, id: &str, secret: &str) -> String {
        seal::store(self.sealer.as_ref(), id, secret)
    }

    /// The secret held in a stored value of the webhook `id`.
    pub(super) fn open_secret(&self, id: &str, stored: &str) -> StoreResult<String> {
        Ok(seal::open(self.sealer.as_ref(), id, stored)?)
    }

    /// At open: every stored secret must open with the keys given (or with none, when there is
    /// none); with a key, secrets stored in the clear or sealed with the previous key are sealed
    /// with the current one, in one transaction.
    pub(super) async fn check_sealing(&self) -> Result<(), OpenError> {
        let rows: Vec<(String, String, Option<String>)> =
            sqlx::query_as("SELECT id, secret, previous_secret FROM webhooks").fetch_all(&self.writer).await?;
        let again = crate::store::rows::to_reseal(self.sealer.as_ref(), rows)?;
        if again.is_empty() {
            return Ok(());
        }
        let mut tx = self.writer.begin().await?;
        for (id, secret, previous) in &again {
            sqlx::query("UPDATE webhooks SET secret = $1, previous_secret = $2 WHERE id = $3")
                .bind(secret)
                .bind(previous)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        tracing::info!("{} webhooks' secrets are now sealed with the current WEBHOOK_ENCRYPTION_KEY", again.len());
        Ok(())
    }
}
