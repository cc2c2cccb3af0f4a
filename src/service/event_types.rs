//! The event catalog: every known type, and custom types added by admins.

use super::auth::require_admin;
use super::Actor;
use crate::domain::event_type::validate_name;
use crate::domain::EventType;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventTypeIn {
    /// Lowercase dotted parts, each starting with a letter: `invoice.paid`.
    #[schemars(length(max = 100), regex(pattern = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"))]
    pub name: String,
    /// Letters or `_` (stored lowercase); default: the name's first part.
    #[schemars(regex(pattern = r"^[A-Za-z_]{0,40}$"))]
    pub category: Option<String>,
    #[schemars(length(max = 500))]
    pub description: Option<String>,
}

/// Every known type with its category and description.
pub async fn list(state: &AppState) -> AppResult<Vec<EventType>> {
    Ok(state.store.list_event_types().await?)
}

/// Adds a custom type (admins).
pub async fn create(state: &AppState, actor: &Actor, input: EventTypeIn) -> AppResult<EventType> {
    require_admin(actor)?;
    let name = input.name.trim().to_string();
    validate_name(&name).map_err(|m| AppError::validation("name", m))?;
    let category = match input.category.map(|c| c.trim().to_lowercase()).filter(|c| !c.is_empty()) {
        Some(c) if c.len() <= 40 && c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_') => c,
        Some(_) => return Err(AppError::validation("category", "a category is 1 to 40 lowercase letters or '_'")),
        None => name.split('.').next().unwrap_or("custom").to_string(),
    };
    let description = input.description.unwrap_or_default().trim().to_string();
    if description.chars().count() > 500 {
        return Err(AppError::validation("description", "a description has at most 500 characters"));
    }
    let event_type = EventType { name, category, description, custom: true };
    state.store.create_event_type(&event_type).await?;
    actor.audit(state, "event_type.created", Some(&event_type.name), None).await;
    Ok(event_type)
}

/// The catalog category of event type `name`, if it is known.
pub async fn category(state: &AppState, name: &str) -> AppResult<Option<String>> {
    Ok(state.store.event_type_category(name).await?)
}
