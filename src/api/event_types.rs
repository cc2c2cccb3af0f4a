//! `/api/event-types`: the catalog, and custom types added by admins.

use super::auth::{require_admin, Actor};
use super::extract::Body;
use crate::domain::event_type::{validate_name, CATEGORIES};
use crate::domain::{EventType, Principal};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new().route("/event-types", get(list_event_types).post(create_event_type))
}

#[derive(Deserialize)]
struct EventTypeIn {
    name: String,
    category: Option<String>,
    description: Option<String>,
}

/// `GET /api/event-types`: every known type with its category and description.
async fn list_event_types(State(state): State<AppState>, _principal: Principal) -> AppResult<Json<serde_json::Value>> {
    let types = state.store.list_event_types().await?;
    Ok(Json(serde_json::json!({ "data": types, "categories": CATEGORIES })))
}

/// `POST /api/event-types`: adds a custom type (admins).
async fn create_event_type(
    State(state): State<AppState>,
    principal: Actor,
    Body(input): Body<EventTypeIn>,
) -> AppResult<(StatusCode, Json<EventType>)> {
    require_admin(&principal)?;
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
    principal.audit(&state, "event_type.created", Some(&event_type.name), None).await;
    Ok((StatusCode::CREATED, Json(event_type)))
}
