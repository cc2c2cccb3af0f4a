//! SQL that is the same on every backend, written once. Each file holds a macro implementing a group
//! of store methods for a backend's store `$store` over its database `$db`; every backend stamps them
//! out in its `shared.rs`. The bodies use what each backend's store has alike: `pool` (reads),
//! `writer` (writes), `sealer`, `queued`, `auth_cache`, `type_names`, `node()`, and the hooks that
//! tell other nodes what changed (`queued_in`, `revoked_in`, `types_changed`: PostgreSQL's `NOTIFY`,
//! nothing for SQLite's one process). What differs between backends stays in their folders.

mod audit;
mod deliveries;
mod event_types;
mod events;
mod keys;
mod lanes;
mod nodes;
mod recovery;
mod retention;
mod rollups;
mod sealing;
mod webhooks;

pub(crate) use audit::audit_queries;
pub(crate) use deliveries::delivery_queries;
pub(crate) use event_types::event_type_queries;
pub(crate) use events::event_queries;
pub(crate) use keys::key_queries;
pub(crate) use lanes::{lane_queries, lane_room};
pub(crate) use nodes::node_queries;
pub(crate) use recovery::recovery_queries;
pub(crate) use retention::retention_queries;
pub(crate) use rollups::rollup_queries;
pub(crate) use sealing::sealing_queries;
pub(crate) use webhooks::webhook_queries;
