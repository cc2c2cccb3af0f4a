//! The rules of each action (register a webhook, rotate its secret, retry a delivery, create a key,
//! …) as plain async functions: the state and the acting principal in, domain types out. The REST
//! handlers (`api/`) and the console's server functions (`app/data.rs`) both call them, so the two
//! cannot drift; audit entries are written here, and only here.

pub mod auth;
pub mod deliveries;
pub mod event_types;
pub mod events;
pub mod insight;
pub mod keys;
pub mod params;
pub mod webhook_ops;
pub mod webhooks;

use crate::domain::Principal;
use crate::state::AppState;

/// The principal of a management action, with the client's address, for the audit log.
pub struct Actor {
    pub principal: Principal,
    pub ip: Option<String>,
}

impl std::ops::Deref for Actor {
    type Target = Principal;

    fn deref(&self) -> &Principal {
        &self.principal
    }
}

impl Actor {
    /// Records `action` on `target` in the audit log (failures are logged, never shown to the caller:
    /// the action itself has happened).
    pub async fn audit(&self, state: &AppState, action: &str, target: Option<&str>, tenant: Option<&str>) {
        if let Err(e) = state.store.audit(&self.principal, self.ip.as_deref(), action, target, tenant).await {
            tracing::error!("audit log write failed for {action}: {e}");
        }
    }
}
