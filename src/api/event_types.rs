//! `/api/event-types`: the catalog, and custom types added by admins.

use super::auth::{require_admin, Actor};
use super::extract::Body;
use super::openapi::{get, post, Access, Routes};
use crate::domain::event_type::{validate_name, CATEGORIES};
use crate::domain::{EventType, Principal};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub fn routes() -> Routes {
    Routes::new("Event types")
        .op(get("/event-types", list_event_types)
            .summary("List event types")
            .json::<EventTypeList>(200, "Every known type with its category, and the categories."))
        .op(post("/event-types", create_event_type)
            .summary("Add a custom event type")
            .access(Access::Admin)
            .body::<EventTypeIn>()
            .json::<EventType>(201, "The new type.")
            .error(409, "The type exists already."))
}

#[derive(Serialize, JsonSchema)]
pub(crate) struct EventTypeList {
    pub(crate) data: Vec<EventType>,
    pub(crate) categories: Vec<&'static str>,
}

#[derive(Deserialize, JsonSchema)]
struct EventTypeIn {
    /// Lowercase dotted parts, each starting with a letter: `invoice.paid`.
    #[schemars(length(max = 100), regex(pattern = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"))]
    name: String,
    /// Letters or `_` (stored lowercase); default: the name's first part.
    #[schemars(regex(pattern = r"^[A-Za-z_]{0,40}$"))]
    category: Option<String>,
    #[schemars(length(max = 500))]
    description: Option<String>,
}

/// `GET /api/event-types`: every known type with its category and description.
pub(crate) async fn list_event_types(
    State(state): State<AppState>,
    _principal: Principal,
) -> AppResult<Json<EventTypeList>> {
    let data = state.store.list_event_types().await?;
    Ok(Json(EventTypeList { data, categories: CATEGORIES.to_vec() }))
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
