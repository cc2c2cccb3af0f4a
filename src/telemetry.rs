//! Logging through `tracing`: human-readable by default, JSON with `LOG_FORMAT=json`.

use crate::config::Config;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber (once; later calls are ignored, which suits tests).
pub fn init(config: &Config) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = if config.log_json { builder.json().try_init() } else { builder.try_init() };
}
