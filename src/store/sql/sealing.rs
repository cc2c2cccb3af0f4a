//! Webhook secrets at rest, checked when the store opens: every stored secret must open with the
//! keys given (or with none, when there is none); with a key, secrets stored in the clear or sealed
//! with the previous key are sealed with the current one, in one transaction (rows locked where
//! several nodes may start at once).

macro_rules! sealing_queries {
    ($store:ident, $db:ty) => {
        const _: () = {
            use $crate::store::OpenError;

            impl $store {
                pub(super) async fn check_sealing(&self) -> Result<(), OpenError> {
                    let mut tx = self.writer.begin().await?;
                    let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(&format!(
                        "SELECT id, secret, previous_secret FROM webhooks{}",
                        Self::FOR_UPDATE
                    ))
                    .fetch_all(&mut *tx)
                    .await?;
                    let again = $crate::store::rows::to_reseal(self.sealer.as_ref(), rows)?;
                    for (id, secret, previous) in &again {
                        sqlx::query("UPDATE webhooks SET secret = $1, previous_secret = $2 WHERE id = $3")
                            .bind(secret)
                            .bind(previous)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                    }
                    tx.commit().await?;
                    if !again.is_empty() {
                        tracing::info!(
                            "{} webhooks' secrets are now sealed with the current WEBHOOK_ENCRYPTION_KEY",
                            again.len()
                        );
                    }
                    Ok(())
                }
            }
        };
    };
}

pub(crate) use sealing_queries;
