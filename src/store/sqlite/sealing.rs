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

    /// At open: every stored secret must open with the key given (or with none, when there is
    /// none), and with a key, secrets stored in the clear are sealed.
    pub(super) async fn check_sealing(&self) -> Result<(), OpenError> {
        let rows: Vec<(String, String, Option<String>)> =
            sqlx::query_as("SELECT id, secret, previous_secret FROM webhooks").fetch_all(&self.writer).await?;
        let mut clear = 0usize;
        for (id, secret, previous) in &rows {
            for stored in std::iter::once(secret).chain(previous) {
                seal::open(self.sealer.as_ref(), id, stored)?;
                clear += usize::from(!seal::is_sealed(stored));
            }
        }
        if self.sealer.is_none() || clear == 0 {
            return Ok(());
        }
        let mut tx = self.writer.begin().await?;
        for (id, secret, previous) in rows {
            let seal_clear = |stored: String| {
                if seal::is_sealed(&stored) {
                    stored
                } else {
                    self.seal_secret(&id, &stored)
                }
            };
            sqlx::query("UPDATE webhooks SET secret = $1, previous_secret = $2 WHERE id = $3")
                .bind(seal_clear(secret))
                .bind(previous.map(seal_clear))
                .bind(&id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        tracing::info!("{clear} webhook secrets stored in the clear are now sealed with WEBHOOK_ENCRYPTION_KEY");
        Ok(())
    }
}
