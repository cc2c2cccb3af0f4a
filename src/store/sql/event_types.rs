//! The event-type catalog: the built-in types, seeded at start, and custom ones added by admins.
//! Each process keeps the catalog in memory; adding a type makes every node read it again.

macro_rules! event_type_queries {
    ($store:ident, $db:ty) => {
        const _: () = {
            use $crate::domain::event_type::BUILT_IN;
            use $crate::domain::EventType;
            use $crate::store::rows::TypeRow;
            use $crate::store::{is_unique_violation, now_ms, StoreError, StoreResult};

            impl $store {
                /// Adds the built-in types that are missing (at open).
                pub(super) async fn seed_event_types(&self) -> Result<(), sqlx::Error> {
                    let mut tx = self.writer.begin().await?;
                    for (name, category, description) in BUILT_IN {
                        sqlx::query(
                            "INSERT INTO event_types (name, category, description, custom, created_at)
                             VALUES ($1, $2, $3, FALSE, $4) ON CONFLICT (name) DO NOTHING",
                        )
                        .bind(name)
                        .bind(category)
                        .bind(description)
                        .bind(now_ms())
                        .execute(&mut *tx)
                        .await?;
                    }
                    tx.commit().await
                }

                /// The whole catalog, by category then name.
                pub async fn list_event_types(&self) -> StoreResult<Vec<EventType>> {
                    let rows: Vec<TypeRow> = sqlx::query_as(
                        "SELECT name, category, description, custom FROM event_types ORDER BY category, name",
                    )
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows.into_iter().map(EventType::from).collect())
                }

                /// Every known type as `(name, category)`.
                pub async fn event_type_names(&self) -> StoreResult<Vec<(String, String)>> {
                    Ok(sqlx::query_as("SELECT name, category FROM event_types").fetch_all(&self.pool).await?)
                }

                /// The catalog category of `name`, `None` when the type is unknown (from memory after
                /// the first call; a type unknown in memory is looked up again, so one added by
                /// another node is found. Types are never removed).
                pub async fn event_type_category(&self, name: &str) -> StoreResult<Option<String>> {
                    if let Some(category) = self.type_names.category(name) {
                        return Ok(Some(category));
                    }
                    Ok(self.type_names.load(self.event_type_names().await?, name))
                }

                /// Is `name` in the catalog?
                pub async fn event_type_exists(&self, name: &str) -> StoreResult<bool> {
                    Ok(self.event_type_category(name).await?.is_some())
                }

                /// Adds a custom type.
                pub async fn create_event_type(&self, event_type: &EventType) -> StoreResult<()> {
                    let result = sqlx::query(
                        "INSERT INTO event_types (name, category, description, custom, created_at)
                         VALUES ($1, $2, $3, TRUE, $4)",
                    )
                    .bind(&event_type.name)
                    .bind(&event_type.category)
                    .bind(&event_type.description)
                    .bind(now_ms())
                    .execute(&self.writer)
                    .await;
                    self.type_names.clear();
                    match result {
                        Ok(_) => self.types_changed().await,
                        Err(e) if is_unique_violation(&e) => Err(StoreError::EventTypeExists(event_type.name.clone())),
                        Err(e) => Err(e.into()),
                    }
                }
            }
        };
    };
}

pub(crate) use event_type_queries;
