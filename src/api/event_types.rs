//! `/api/event-types`: the catalog, and custom types added by admins (the rules are in
//! `service::event_types`).

use super::auth::Actor;
use super::extract::Body;
use super::openapi::{get, post, Access, Routes};
use crate::domain::event_type::CATEGORIES;
use crate::domain::{EventType, Principal};
use crate::error::AppResult;
use crate::service::event_types::{self, EventTypeIn};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;

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

/// `GET /api/event-types`: every known type with its category and description.
pub(crate) async fn list_event_types(
    State(state): State<AppState>,
    _principal: Principal,
) -> AppResult<Json<EventTypeList>> {
    Ok(Json(EventTypeList { data: event_types::list(&state).await?, categories: CATEGORIES.to_vec() }))
}

/// `POST /api/event-types`: adds a custom type (admins).
async fn create_event_type(
    State(state): State<AppState>,
    actor: Actor,
    Body(input): Body<EventTypeIn>,
) -> AppResult<(StatusCode, Json<EventType>)> {
    Ok((StatusCode::CREATED, Json(event_types::create(&state, &actor, input).await?)))
}
