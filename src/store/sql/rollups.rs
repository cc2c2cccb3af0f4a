//! Statistics rollups, the part both backends share: where the rollup stands, where a first one
//! starts, and which settled buckets to fold next (each backend folds a bucket its own way, in
//! `roll_bucket`: `false` when it was not its turn).

macro_rules! rollup_queries {
    ($store:ident, $db:ty) => {
        const _: () = {
            use $crate::crypto::id_time;
            use $crate::store::tally::{BUCKET_MS, HORIZON_MS, SETTLE_MS};
            use $crate::store::StoreResult;

            impl $store {
                /// Where the rollup stands: everything before this time is in the rollup tables.
                pub async fn rolled_until(&self) -> StoreResult<Option<i64>> {
                    Ok(sqlx::query_scalar("SELECT rolled_until FROM stats_rollup WHERE id = 1")
                        .fetch_optional(&self.pool)
                        .await?)
                }

                /// Rolls up every bucket that has settled by `now` (the `rollups` job passes the clock
                /// the nodes share); returns how many buckets were rolled.
                pub async fn roll_up(&self, now: i64) -> StoreResult<usize> {
                    let mut from = match self.rolled_until().await? {
                        Some(t) => t,
                        None => self.first_bucket(now).await?,
                    };
                    let mut rolled = 0;
                    while from + BUCKET_MS + SETTLE_MS <= now && self.roll_bucket(from).await? {
                        from += BUCKET_MS;
                        rolled += 1;
                    }
                    Ok(rolled)
                }

                /// Where a first rollup starts: the oldest attempt or delivery, at most
                /// [`HORIZON_MS`] back.
                async fn first_bucket(&self, now: i64) -> StoreResult<i64> {
                    let (attempt, delivery): (Option<String>, Option<String>) =
                        sqlx::query_as("SELECT (SELECT MIN(id) FROM attempts), (SELECT MIN(id) FROM deliveries)")
                            .fetch_one(&self.pool)
                            .await?;
                    let oldest = [attempt, delivery].iter().flatten().filter_map(|id| id_time(id)).min().unwrap_or(now);
                    Ok(oldest.max(now - HORIZON_MS).div_euclid(BUCKET_MS) * BUCKET_MS)
                }
            }
        };
    };
}

pub(crate) use rollup_queries;
