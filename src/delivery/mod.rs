//! The delivery engine: claiming due deliveries from the durable queue, signing and sending them
//! through one guarded HTTP client, deciding retries, recording every attempt.

pub mod client;
pub mod engine;
pub mod payload;
pub mod retry;
pub mod sender;
pub mod signer;
pub mod ssrf;
pub mod worker;

pub use engine::{Engine, Restore};
