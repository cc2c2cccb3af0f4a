//! Lanes: the deliveries of webhooks with delivery controls (`rateLimit`, `maxInFlight`, `fifo`).
//! They are never handed over at publish nor taken by the common claim; each webhook's lane claims
//! what the webhook may be sent, its row locked meanwhile (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so
//! one node at a time works out a webhook's lane; SQLite has one writer), so the limits hold across
//! nodes. What waits stays `pending` in the queue: not failed, not counted against the webhook.
//!
//! - `maxInFlight`: at most that many of its deliveries `delivering` at once.
//! - `rateLimit`: each claimed delivery gets a start time, one every `1/rate` s after the previous
//!   one (kept in `webhooks.rate_tat_us`), claimed up to `lookahead` ahead; the worker waits for
//!   that time without holding a slot, so other webhooks are not slowed.
//! - `fifo`: one at a time, the oldest unfinished first (ids sort in publish order); while it is
//!   being sent or waits for a retry, the later ones wait behind it.

macro_rules! lane_queries {
    ($store:ident, $db:ty) => {
        const _: () = {
            use $crate::store::rows::{DueRow, DUE_SELECT};
            use $crate::store::{now_ms, payload_cost, ClaimRoom, DueDelivery, StoreResult};
            use sqlx::QueryBuilder;

            /// The deliveries of a lane still to finish (the terms of its partial index).
            const UNDER_WAY: &str = "controlled = TRUE AND status IN ('pending', 'delivering')";
            /// The same, of deliveries named `d`.
            const D_UNDER_WAY: &str = "d.controlled = TRUE AND d.status IN ('pending', 'delivering')";

            impl $store {
                /// Claims, lane by lane, deliveries within `room` (its tenants to skip left out) that the
                /// controlled webhooks may be sent now or within `lookahead_ms`, each with the time it
                /// may start (`DueDelivery::lane`).
                pub async fn claim_lanes(
                    &self,
                    lease_ms: i64,
                    lookahead_ms: i64,
                    room: &ClaimRoom,
                ) -> StoreResult<Vec<DueDelivery>> {
                    if room.limit == 0 || room.bytes == 0 {
                        return Ok(Vec::new());
                    }
                    let now = now_ms();
                    let hooks: Vec<(String, String)> = sqlx::query_as(&format!(
                        "SELECT w.id, w.tenant FROM webhooks w WHERE w.controlled = TRUE AND w.active = TRUE AND EXISTS (
                             SELECT 1 FROM deliveries WHERE webhook_id = w.id AND {UNDER_WAY}
                             AND status = 'pending' AND next_attempt_at <= $1)"
                    ))
                    .bind(now)
                    .fetch_all(&self.pool)
                    .await?;
                    let mut due: Vec<DueDelivery> = Vec::new();
                    let mut left = room.clone();
                    for (hook, tenant) in hooks {
                        if left.limit == 0 || left.bytes == 0 {
                            break;
                        }
                        if room.skip_tenants.contains(&tenant) {
                            continue;
                        }
                        let claimed = self.claim_lane(&hook, now, lease_ms, lookahead_ms, &left).await?;
                        let spent: usize = claimed.iter().map(|d| payload_cost(d.data.len())).sum();
                        left.limit -= claimed.len().min(left.limit);
                        left.bytes = left.bytes.saturating_sub(spent);
                        due.extend(claimed);
                    }
                    Ok(due)
                }

                /// Is a delivery of a tenant other than `skip_tenants` due in the common queue (work
                /// that waits while those tenants hold the workers)?
                pub async fn others_due(&self, skip_tenants: &[String]) -> StoreResult<bool> {
                    let mut q = QueryBuilder::<$db>::new(
                        "SELECT id FROM deliveries WHERE status = 'pending' AND controlled = FALSE AND next_attempt_at <= ",
                    );
                    q.push_bind(now_ms());
                    if !skip_tenants.is_empty() {
                        q.push(" AND tenant NOT IN");
                        $crate::store::filters::in_list(&mut q, skip_tenants);
                    }
                    q.push(" LIMIT 1");
                    let found: Option<(String,)> = q.build_query_as().fetch_optional(&self.pool).await?;
                    Ok(found.is_some())
                }

                /// The head of the line of each of these webhooks that delivers in FIFO order: the
                /// delivery the later ones wait behind.
                pub async fn fifo_heads(&self, webhook_ids: &[String]) -> StoreResult<Vec<(String, String)>> {
                    if webhook_ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    let mut q = QueryBuilder::<$db>::new(format!(
                        "SELECT w.id, (SELECT id FROM deliveries WHERE webhook_id = w.id AND {UNDER_WAY} ORDER BY id LIMIT 1)
                         FROM webhooks w WHERE w.ordering = 'fifo' AND w.id IN"
                    ));
                    $crate::store::filters::in_list(&mut q, webhook_ids);
                    let heads: Vec<(String, Option<String>)> = q.build_query_as().fetch_all(&self.pool).await?;
                    Ok(heads.into_iter().filter_map(|(hook, head)| head.map(|h| (hook, h))).collect())
                }

                /// One webhook's lane: what it may be sent, claimed for this node.
                async fn claim_lane(
                    &self,
                    hook: &str,
                    now: i64,
                    lease_ms: i64,
                    lookahead_ms: i64,
                    room: &ClaimRoom,
                ) -> StoreResult<Vec<DueDelivery>> {
                    let mut tx = self.writer.begin().await?;
                    let controls: Option<(Option<i64>, Option<i64>, String, i64)> = sqlx::query_as(&format!(
                        "SELECT rate_limit, max_in_flight, ordering, rate_tat_us FROM webhooks
                         WHERE id = $1 AND controlled = TRUE AND active = TRUE{}",
                        Self::SKIP_LOCKED
                    ))
                    .bind(hook)
                    .fetch_optional(&mut *tx)
                    .await?;
                    // Gone, switched off, or another node is working its lane out right now.
                    let Some((rate, max_in_flight, ordering, tat_us)) = controls else { return Ok(Vec::new()) };
                    let in_flight: i64 = sqlx::query_scalar(&format!(
                        "SELECT COUNT(*) FROM deliveries WHERE webhook_id = $1 AND {UNDER_WAY} AND status = 'delivering'"
                    ))
                    .bind(hook)
                    .fetch_one(&mut *tx)
                    .await?;
                    let fifo = ordering == "fifo";
                    let step_us = rate.filter(|r| *r > 0).map(|r| (1_000_000 / r).max(1));
                    let mut start_us = tat_us.max(now * 1000);
                    let may = $crate::store::sql::lane_room(fifo, max_in_flight, in_flight, step_us, start_us, (now + lookahead_ms) * 1000)
                        .min(room.limit as i64);
                    if may <= 0 {
                        return Ok(Vec::new());
                    }
                    const SIZED: &str = "SELECT d.id, CAST(COALESCE(octet_length(e.data), 0) AS BIGINT) FROM deliveries d JOIN events e ON e.id = d.event_id";
                    let candidates: Vec<(String, i64)> = if fifo {
                        // The head of the line goes when it is due; nothing passes it meanwhile.
                        let head: Option<(String, String, Option<i64>, i64)> = sqlx::query_as(&format!(
                            "SELECT d.id, d.status, d.next_attempt_at, CAST(COALESCE(octet_length(e.data), 0) AS BIGINT)
                             FROM deliveries d JOIN events e ON e.id = d.event_id
                             WHERE d.webhook_id = $1 AND {D_UNDER_WAY} ORDER BY d.id LIMIT 1"
                        ))
                        .bind(hook)
                        .fetch_optional(&mut *tx)
                        .await?;
                        match head {
                            Some((id, status, Some(at), len)) if status == "pending" && at <= now => vec![(id, len)],
                            _ => Vec::new(),
                        }
                    } else {
                        sqlx::query_as(&format!(
                            "{SIZED} WHERE d.webhook_id = $1 AND {D_UNDER_WAY}
                             AND d.status = 'pending' AND d.next_attempt_at <= $2 ORDER BY d.id LIMIT $3"
                        ))
                        .bind(hook)
                        .bind(now)
                        .bind(may)
                        .fetch_all(&mut *tx)
                        .await?
                    };
                    let ids = room.fitting(candidates);
                    if ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    let mut starts = std::collections::HashMap::with_capacity(ids.len());
                    for id in &ids {
                        starts.insert(id.clone(), start_us.div_euclid(1000));
                        start_us += step_us.unwrap_or(0);
                    }
                    if step_us.is_some() {
                        sqlx::query("UPDATE webhooks SET rate_tat_us = $1 WHERE id = $2")
                            .bind(start_us)
                            .bind(hook)
                            .execute(&mut *tx)
                            .await?;
                    }
                    let mut q = QueryBuilder::<$db>::new("UPDATE deliveries SET status = 'delivering', lease_until = ");
                    q.push_bind(now + lease_ms)
                        .push(", leased_by = ")
                        .push_bind(self.node().to_string())
                        .push(", updated_at = ")
                        .push_bind(now)
                        .push(" WHERE status = 'pending' AND id IN");
                    $crate::store::filters::in_list(&mut q, &ids);
                    q.build().execute(&mut *tx).await?;
                    tx.commit().await?;
                    let mut q = QueryBuilder::<$db>::new(format!("{DUE_SELECT} WHERE d.id IN"));
                    $crate::store::filters::in_list(&mut q, &ids);
                    let rows: Vec<DueRow> = q.build_query_as().fetch_all(&self.pool).await?;
                    let mut due = Vec::with_capacity(rows.len());
                    for row in rows {
                        let start = starts.get(&row.id).copied().unwrap_or(now);
                        let mut delivery = row.into_due(self.sealer.as_ref(), now)?;
                        delivery.lane = Some(start);
                        due.push(delivery);
                    }
                    due.sort_by(|a, b| a.delivery_id.cmp(&b.delivery_id));
                    Ok(due)
                }
            }
        };
    };
}

pub(crate) use lane_queries;

/// How many deliveries a lane may claim now: what `maxInFlight` (1 for FIFO) leaves beside those
/// in flight, and, with a rate (a start every `step_us`, the next at `start_us`), how many starts
/// fall before `horizon_us`. `i64::MAX` when nothing limits it.
pub(crate) fn lane_room(
    fifo: bool,
    max_in_flight: Option<i64>,
    in_flight: i64,
    step_us: Option<i64>,
    start_us: i64,
    horizon_us: i64,
) -> i64 {
    let by_count = match (fifo, max_in_flight) {
        (true, _) => 1 - in_flight,
        (false, Some(max)) => max - in_flight,
        (false, None) => i64::MAX,
    };
    let by_rate = match step_us {
        Some(_) if start_us > horizon_us => 0,
        Some(step) => (horizon_us - start_us) / step + 1,
        None => i64::MAX,
    };
    by_count.min(by_rate)
}

#[cfg(test)]
mod tests {
    use super::lane_room;

    #[test]
    fn a_lane_takes_what_its_limits_leave() {
        // 5/s, a second ahead, nothing owed: five starts (now, +200 ms, … +800 ms) and one at +1 s.
        assert_eq!(lane_room(false, None, 0, Some(200_000), 0, 1_000_000), 6);
        // The next start is past the horizon: nothing yet.
        assert_eq!(lane_room(false, None, 0, Some(200_000), 1_200_000, 1_000_000), 0);
        assert_eq!(lane_room(false, Some(3), 1, None, 0, 0), 2);
        assert_eq!(lane_room(false, Some(3), 3, Some(1), 0, 1_000_000), 0);
        assert_eq!(lane_room(true, None, 0, None, 0, 0), 1);
        assert_eq!(lane_room(true, Some(10), 1, None, 0, 0), 0, "FIFO: one at a time whatever maxInFlight says");
        assert_eq!(lane_room(false, None, 0, None, 0, 0), i64::MAX);
    }
}
