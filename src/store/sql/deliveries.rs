//! Deliveries and their attempts, as the log shows them.

macro_rules! delivery_queries {
    ($store:ident, $db:ty) => {
        const _: () = {
            use sqlx::QueryBuilder;
            use std::collections::HashMap;
            use $crate::domain::{Attempt, Delivery, Page};
            use $crate::store::rows::{AttemptRow, DeliveryRow, ATTEMPT_COLUMNS, DELIVERY_COLUMNS};
            use $crate::store::{
                filters, into_page, page_limit, DeliveryFilter, LastAttempt, LatestDelivery, StoreError, StoreResult,
            };

            impl $store {
                /// One delivery, if `scope` may see it.
                pub async fn get_delivery(&self, id: &str, scope: Option<&str>) -> StoreResult<Delivery> {
                    let row: Option<DeliveryRow> = sqlx::query_as(&format!(
                        "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = $1 AND ($2 IS NULL OR tenant = $2)"
                    ))
                    .bind(id)
                    .bind(scope)
                    .fetch_optional(&self.pool)
                    .await?;
                    row.map(DeliveryRow::into_delivery).ok_or(StoreError::NotFound("delivery"))
                }

                /// The attempts of a delivery, oldest first.
                pub async fn list_attempts(&self, delivery_id: &str) -> StoreResult<Vec<Attempt>> {
                    let rows: Vec<AttemptRow> = sqlx::query_as(&format!(
                        "SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE delivery_id = $1 ORDER BY attempt, started_at"
                    ))
                    .bind(delivery_id)
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows.into_iter().map(AttemptRow::into_attempt).collect())
                }

                /// A page of the delivery log, newest first.
                pub async fn list_deliveries(&self, filter: &DeliveryFilter) -> StoreResult<Page<Delivery>> {
                    self.page_of_deliveries(filter, page_limit(filter.limit)).await
                }

                /// A page of `limit` deliveries (the export reads in larger pages than the API serves).
                pub async fn page_of_deliveries(
                    &self,
                    filter: &DeliveryFilter,
                    limit: i64,
                ) -> StoreResult<Page<Delivery>> {
                    let mut q =
                        QueryBuilder::<$db>::new(format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE 1 = 1"));
                    filters::deliveries(&mut q, filter);
                    filters::page_end(&mut q, "id", filter.cursor.as_ref(), limit);
                    let rows: Vec<DeliveryRow> = q.build_query_as().fetch_all(&self.pool).await?;
                    let deliveries = rows.into_iter().map(DeliveryRow::into_delivery).collect();
                    Ok(into_page(deliveries, limit, |d: &Delivery| d.id.clone()))
                }

                /// How many deliveries `filter` selects, counted up to `cap` (its cursor is ignored).
                pub async fn count_deliveries(&self, filter: &DeliveryFilter, cap: i64) -> StoreResult<i64> {
                    let mut q = QueryBuilder::<$db>::new("SELECT COUNT(*) FROM (SELECT 1 FROM deliveries WHERE 1 = 1");
                    filters::deliveries(&mut q, filter);
                    q.push(" LIMIT ").push_bind(cap).push(") AS selected");
                    Ok(q.build_query_scalar().fetch_one(&self.pool).await?)
                }

                /// The last attempt of each of these deliveries (those with none are absent).
                pub async fn last_attempts(
                    &self,
                    delivery_ids: &[String],
                ) -> StoreResult<HashMap<String, LastAttempt>> {
                    let mut out = HashMap::new();
                    for chunk in delivery_ids.chunks(500) {
                        let mut q = QueryBuilder::<$db>::new(
                            "SELECT delivery_id, attempt, started_at, duration_ms, response_status, error_kind
                             FROM attempts WHERE delivery_id IN",
                        );
                        $crate::store::filters::in_list(&mut q, chunk);
                        let rows: Vec<LastAttempt> = q.build_query_as().fetch_all(&self.pool).await?;
                        for row in rows {
                            let keep = out.get(&row.delivery_id).is_none_or(|seen: &LastAttempt| {
                                (row.attempt, row.started_at) > (seen.attempt, seen.started_at)
                            });
                            if keep {
                                out.insert(row.delivery_id.clone(), row);
                            }
                        }
                    }
                    Ok(out)
                }

                /// The latest delivery of each of these webhooks (those with none are absent): one
                /// index probe per webhook (`deliveries (webhook_id, id)`), however long its log.
                pub async fn latest_deliveries(
                    &self,
                    webhook_ids: &[String],
                    scope: Option<&str>,
                ) -> StoreResult<Vec<LatestDelivery>> {
                    if webhook_ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    let mut q = QueryBuilder::<$db>::new(
                        "SELECT webhook_id, created_at, status FROM deliveries WHERE id IN
                         (SELECT (SELECT MAX(d.id) FROM deliveries d WHERE d.webhook_id = w.id)
                          FROM webhooks w WHERE w.id IN",
                    );
                    $crate::store::filters::in_list(&mut q, webhook_ids);
                    if let Some(scope) = scope {
                        q.push(" AND w.tenant = ").push_bind(scope);
                    }
                    q.push(")");
                    let rows: Vec<(String, i64, String)> = q.build_query_as().fetch_all(&self.pool).await?;
                    Ok(rows
                        .into_iter()
                        .map(|(webhook_id, created_at, status)| LatestDelivery {
                            webhook_id,
                            created_at: $crate::store::to_time(created_at),
                            status: $crate::domain::DeliveryStatus::parse(&status)
                                .unwrap_or($crate::domain::DeliveryStatus::Pending),
                        })
                        .collect())
                }
            }
        };
    };
}

pub(crate) use delivery_queries;
