//! `GET /api/stream`: Server-Sent Events of delivery attempts and alert changes, tenant-scoped.

use super::openapi::{get, Routes};
use crate::domain::Principal;
use crate::live::LiveEvent;
use crate::state::AppState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use std::convert::Infallible;
use tokio::sync::broadcast::error::RecvError;

pub fn routes() -> Routes {
    Routes::new("Insight").op(get("/stream", stream)
        .summary("Live stream (Server-Sent Events)")
        .describe("Events `attempt` (each delivery attempt as it is recorded) and `alert` (an alert starts or clears), tenant-scoped; `lagged` when this client fell behind.")
        .text(200, "text/event-stream", "An endless stream of events."))
}

/// `GET /api/stream`: events `attempt` and `alert` as they happen (`lagged` if this client fell
/// behind and missed some); ends when the server shuts down.
async fn stream(
    State(state): State<AppState>,
    principal: Principal,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let scope = principal.scope().map(str::to_string);
    let stop = state.stop.clone();
    let rx = state.live.subscribe();
    let events = futures::stream::unfold((rx, scope, stop), |(mut rx, scope, stop)| async move {
        loop {
            let next = tokio::select! {
                next = rx.recv() => next,
                _ = stop.cancelled() => return None,
            };
            let event = match next {
                Ok(LiveEvent { kind, tenant, data }) => {
                    if scope.as_deref().is_some_and(|own| own != tenant) {
                        continue;
                    }
                    let mut data = data;
                    data["tenant"] = tenant.into();
                    Event::default().event(kind).data(data.to_string())
                }
                Err(RecvError::Lagged(missed)) => Event::default().event("lagged").data(missed.to_string()),
                Err(RecvError::Closed) => return None,
            };
            return Some((Ok(event), (rx, scope, stop)));
        }
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}
