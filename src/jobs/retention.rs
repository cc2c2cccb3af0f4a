//! The background purge of old attempts and payloads (`WEBHOOK_RETENTION_DAYS`) and of old audit
//! entries (`WEBHOOK_AUDIT_RETENTION_DAYS`).

use crate::store::Store;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Purges every `interval`, a small batch at a time with pauses between, until `stop`.
pub async fn run(store: Store, retention: Duration, audit: Duration, interval: Duration, stop: CancellationToken) {
    if retention.is_zero() && audit.is_zero() {
        return;
    }
    loop {
        let now = chrono::Utc::now().timestamp_millis();
        let cutoff = now - retention.as_millis() as i64;
        let mut purged = 0;
        // One node purges at a time; the others wait for their next round.
        let leads = super::leads(&store, "retention", interval).await;
        if leads && !audit.is_zero() {
            let audit_cutoff = now - audit.as_millis() as i64;
            loop {
                match store.purge_audit(audit_cutoff, 500).await {
                    Ok(0) => break,
                    Ok(n) => purged += n,
                    Err(e) => {
                        tracing::error!("audit purge failed: {e}");
                        break;
                    }
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                    _ = stop.cancelled() => return,
                }
            }
        }
        let mut more = leads && !retention.is_zero();
        while more {
            match store.purge_batch(cutoff).await {
                Ok(0) => more = false,
                Ok(n) => purged += n,
                Err(e) => {
                    tracing::error!("retention purge failed: {e}");
                    more = false;
                }
            }
            // Leave the writer to deliveries between batches.
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                _ = stop.cancelled() => return,
            }
        }
        if purged > 0 {
            tracing::info!(purged, "retention: old attempts and events purged");
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.cancelled() => return,
        }
    }
}
