//! Webhooks: registration, reads scoped to a tenant, filtered lists, updates and deletion.

use super::{channel, into_page, notify, now_ms, page_limit, PgStore};
use super::{StoreError, StoreResult};
use crate::crypto;
use crate::domain::{Page, Webhook};
use crate::store::filters;
use crate::store::model::{NewWebhook, WebhookFilter, WebhookPatch};
use crate::store::rows::{WebhookRow, WEBHOOK_COLUMNS as COLUMNS};
use sqlx::{Postgres, QueryBuilder, Transaction};

impl PgStore {
    /// Stores a new webhook.
    pub async fn create_webhook(&self, new: NewWebhook) -> StoreResult<Webhook> {
        let now = now_ms();
        let row = WebhookRow {
            id: crypto::new_id("wh_"),
            tenant: new.tenant,
            url: new.url,
            events: serde_json::to_string(&new.events)?,
            description: new.description,
            secret: new.secret,
            active: new.active,
            disabled_reason: None,
            consecutive_failures: 0,
            created_at: now,
            updated_at: now,
        };
        sqlx::query(&format!("INSERT INTO webhooks ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"))
            .bind(&row.id)
            .bind(&row.tenant)
            .bind(&row.url)
            .bind(&row.events)
            .bind(&row.description)
            .bind(self.seal_secret(&row.id, &row.secret))
            .bind(row.active)
            .bind(&row.disabled_reason)
            .bind(row.consecutive_failures)
            .bind(row.created_at)
            .bind(row.updated_at)
            .execute(&self.pool)
            .await?;
        row.into_webhook(self.sealer.as_ref())
    }

    /// One webhook, if it exists and `scope` (a tenant, or `None` for all) may see it.
    pub async fn get_webhook(&self, id: &str, scope: Option<&str>) -> StoreResult<Webhook> {
        let row: Option<WebhookRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM webhooks WHERE id = $1 AND ($2::text IS NULL OR tenant = $2)"
        ))
        .bind(id)
        .bind(scope)
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or(StoreError::NotFound("webhook"))?.into_webhook(self.sealer.as_ref())
    }

    /// A page of webhooks, newest first.
    pub async fn list_webhooks(&self, filter: &WebhookFilter) -> StoreResult<Page<Webhook>> {
        let limit = page_limit(filter.limit);
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!("SELECT {COLUMNS} FROM webhooks WHERE 1 = 1"));
        filters::webhooks(&mut q, filter, "ILIKE");
        if let Some(event) = &filter.event {
            // Would this webhook receive `event`? Exact, `*`, its category, or a `prefix.*` that starts it.
            q.push(" AND EXISTS (SELECT 1 FROM jsonb_array_elements_text(webhooks.events::jsonb) AS j(value) WHERE j.value = ")
                .push_bind(event.clone())
                .push(" OR j.value = (SELECT 'category:' || category FROM event_types WHERE name = ")
                .push_bind(event.clone())
                .push(")")
                .push(" OR j.value = '*' OR (j.value LIKE '%.*' AND starts_with(")
                .push_bind(event.clone())
                .push(", left(j.value, -1)) AND length(")
                .push_bind(event.clone())
                .push(") > length(j.value) - 1))");
        }
        filters::page_end(&mut q, "id", filter.cursor.as_ref(), limit);
        let rows: Vec<WebhookRow> = q.build_query_as().fetch_all(&self.pool).await?;
        let hooks = rows.into_iter().map(|r| r.into_webhook(self.sealer.as_ref())).collect::<StoreResult<Vec<_>>>()?;
        Ok(into_page(hooks, limit, |w: &Webhook| w.id.clone()))
    }

    /// Applies an update. Switching a webhook off holds its pending deliveries; switching it on
    /// clears its failure count and disabled reason and resumes what was held.
    pub async fn update_webhook(&self, id: &str, scope: Option<&str>, patch: WebhookPatch) -> StoreResult<Webhook> {
        let current = self.get_webhook(id, scope).await?;
        let events = match &patch.events {
            Some(events) => serde_json::to_string(events)?,
            None => serde_json::to_string(&current.events)?,
        };
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE webhooks SET url = $1, events = $2, description = $3, updated_at = $4 WHERE id = $5")
            .bind(patch.url.as_deref().unwrap_or(&current.url))
            .bind(events)
            .bind(patch.description.as_deref().unwrap_or(&current.description))
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let resumed = patch.active == Some(true) && !current.active;
        match patch.active {
            Some(true) if !current.active => enable_in(&mut tx, id, now).await?,
            Some(false) if current.active => {
                super::queue::disable_in(&mut tx, id, "disabled by user", false, now).await?
            }
            _ => {}
        }
        tx.commit().await?;
        if resumed {
            self.queued.notify_one();
        }
        self.get_webhook(id, scope).await
    }

    /// Deletes a webhook with its deliveries and their attempts.
    pub async fn delete_webhook(&self, id: &str, scope: Option<&str>) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM webhooks WHERE id = $1 AND ($2::text IS NULL OR tenant = $2)")
            .bind(id)
            .bind(scope)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("webhook"));
        }
        Ok(())
    }
}

/// Switches a webhook on, clears its failures and resumes its held deliveries, inside a transaction.
async fn enable_in(tx: &mut Transaction<'_, Postgres>, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE webhooks SET active = TRUE, disabled_reason = NULL, hold_new = FALSE, consecutive_failures = 0,
             updated_at = $1
         WHERE id = $2",
    )
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE deliveries SET status = 'pending', next_attempt_at = $1, updated_at = $1
         WHERE webhook_id = $2 AND status = 'held'",
    )
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    notify(&mut **tx, channel::QUEUED, "").await
}
