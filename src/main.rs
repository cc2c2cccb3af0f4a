//! The `monay-webhooks` binary: read the configuration, run the server until a shutdown signal.

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = match monay_webhooks::config::Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("monay-webhooks: configuration error: {err}");
            return std::process::ExitCode::from(2);
        }
    };
    monay_webhooks::telemetry::init(&config);
    match monay_webhooks::server::serve(config, monay_webhooks::server::shutdown_signal()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("monay-webhooks stopped: {err:#}");
            eprintln!("monay-webhooks: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(not(feature = "ssr"))]
pub fn main() {
    // The browser side starts from `hydrate()` in lib.rs.
}
