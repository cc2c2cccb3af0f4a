//! Pure types and rules of the webhook domain, shared by the server and the console (serde only, no I/O).

pub mod alert;
pub mod audit;
pub mod delivery;
pub mod event;
pub mod event_type;
pub mod key;
pub mod stats;
pub mod traffic;
pub mod validate;
pub mod webhook;

pub use alert::{Alert, AlertLevel, SystemAlert};
pub use audit::AuditEntry;
pub use delivery::{Attempt, AttemptResult, AttemptTrigger, Delivery, DeliveryStatus, ErrorKind, Requeued};
pub use event::Event;
pub use event_type::EventType;
pub use key::{ApiKey, Principal, Role};
pub use stats::Stats;
pub use webhook::{webhook_name, DeliveryControls, DeliveryOrder, SecretInfo, Webhook};

use serde::{Deserialize, Serialize};

/// One page of a list, newest first; pass `next_cursor` back as `cursor` for the next page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}
