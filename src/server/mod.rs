//! Putting the service together: open the store, make sure an admin key exists, build the router
//! (REST API, console pages, server functions, static files) and serve until told to stop.

pub mod connections;

use crate::app::{shell, App};
use crate::config::Config;
use crate::delivery::ssrf::IpPolicy;
use crate::delivery::Engine;
use crate::domain::Role;
use crate::state::AppState;
use crate::store::Store;
use axum::Router;
use leptos::prelude::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Why the server could not start or stopped with an error.
pub type ServeError = Box<dyn std::error::Error + Send + Sync>;

/// Binds the configured address and serves until `shutdown` resolves.
pub async fn serve(config: Config, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), ServeError> {
    let leptos_options = leptos_options(&config)?;
    let addr = config.addr.unwrap_or(leptos_options.site_addr);
    let listener = TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    run(config, leptos_options, listener, shutdown).await
}

/// Serves on an already bound listener (tests bind `127.0.0.1:0`) until `shutdown` resolves.
pub async fn run(
    config: Config,
    mut leptos_options: LeptosOptions,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let addr = listener.local_addr()?;
    leptos_options.site_addr = addr;
    let store = Store::open_with(&config.database_url, config.sealer.clone()).await?;
    bootstrap_admin(&store, &config, addr).await?;
    // With an embedded database, whatever was in flight when the previous process stopped is sent
    // again now rather than after its lease; with a shared one, other nodes' leases are left alone.
    let released = store.release_at_start().await?;
    if released > 0 {
        tracing::info!("{released} deliveries in flight at the last stop are queued again");
    }
    let ip_policy = Arc::new(IpPolicy::new(config.allowed_subnets.clone()));
    let metrics = Arc::new(crate::metrics::Metrics::default());
    let live = Arc::new(crate::live::LiveFeed::for_store(&store));
    let engine = Engine::new(store.clone(), &config, ip_policy.clone(), metrics.clone(), live.clone());
    let stop = CancellationToken::new();
    let alerts = Arc::new(crate::alerts::AlertMonitor::new(live.clone()));
    let jobs = crate::jobs::Jobs::start(&config, &store, &engine, &alerts, &live, stop.clone());
    let state = AppState {
        leptos_options,
        store: store.clone(),
        ip_policy,
        engine,
        metrics,
        alerts,
        live,
        auth_throttle: Arc::new(crate::state::throttle::AuthThrottle::new(
            config.auth_failure_limit,
            std::time::Duration::from_secs(60),
        )),
        api_limiter: Arc::default(),
        key_uses: Arc::default(),
        stop: stop.clone(),
        config: Arc::new(config),
    };
    tracing::info!("database: {}, this process is {}", store.backend(), store.node());
    tracing::info!("Monay Webhooks listening on http://{addr}");
    let stopping = stop.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopping.cancel();
    });
    let mut limits = state.config.http;
    limits.max_connections = connections::connections_that_fit(limits.max_connections);
    connections::serve(listener, app(state), limits, stop.clone()).await;
    jobs.join().await;
    store.close().await;
    tracing::info!("Monay Webhooks stopped");
    Ok(())
}

/// The whole HTTP surface.
pub fn app(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let bundle = std::path::Path::new(&*options.site_root).join(&*options.site_pkg_dir);
    let assets = Arc::new(crate::assets::Assets::load(&bundle, options.hash_files));
    let serve_asset = move |axum::extract::Path(file): axum::extract::Path<String>, headers: axum::http::HeaderMap| {
        let assets = assets.clone();
        async move { assets.serve(&file, &headers) }
    };
    Router::new()
        .route(&format!("/{}/{{*file}}", options.site_pkg_dir), axum::routing::get(serve_asset))
        .merge(crate::api::router(&state))
        .leptos_routes(&state, routes, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::app::csrf::ssr::guard))
        .layer(axum::middleware::from_fn(security_headers))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::api::traffic::layer))
        .layer(html_compression())
        .with_state(state)
}

/// Console pages go compressed (brotli or gzip, as the browser accepts): a webhook's page is ~35 KB
/// of HTML and data. Only HTML: the API's JSON and the live stream are left as they are (the
/// bundle is precompressed), and the pages' CSRF token is masked afresh on each page (BREACH).
fn html_compression() -> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate> {
    use tower_http::compression::predicate::{DefaultPredicate, Predicate};
    let html = |_: axum::http::StatusCode,
                _: axum::http::Version,
                headers: &axum::http::HeaderMap,
                _: &axum::http::Extensions| {
        headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"))
    };
    tower_http::compression::CompressionLayer::new().compress_when(DefaultPredicate::new().and(html))
}

/// Headers every answer carries: no framing by other sites, no type sniffing, no full URLs in
/// `Referer`. Console pages set their own Content Security Policy (with the page's script nonce,
/// see [`crate::app::content_security_policy`]); everything else may load nothing.
async fn security_headers(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::http::{header, HeaderValue};
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
    }
    response
}

/// The site settings: `Leptos.toml` (or `LEPTOS_CONFIG`) when present, overridden by `LEPTOS_*`
/// variables; built-in defaults otherwise.
pub fn leptos_options(config: &Config) -> Result<LeptosOptions, ServeError> {
    if std::path::Path::new(&config.leptos_config).exists() {
        let conf = leptos::config::get_configuration(Some(&config.leptos_config))
            .map_err(|e| format!("cannot read {}: {e}", config.leptos_config))?;
        return with_hashed_names(conf.leptos_options);
    }
    with_hashed_names(
        LeptosOptions::builder()
            .output_name("monay-webhooks")
            .site_root("target/site")
            .site_pkg_dir("pkg")
            .site_addr(SocketAddr::from(([127, 0, 0, 1], 3001)))
            .build(),
    )
}

/// Hashed bundle names are used when the build that made the bundle hashed them: listed in its
/// `hash.txt` beside the binary or in the site folder, or — when that file was left behind, as
/// when a binary and its site folder are copied elsewhere — read from the bundle's own file names
/// (written to a hash file of this process, since Leptos reads one). A plain `cargo build` with a
/// plain bundle uses plain names.
fn with_hashed_names(mut options: LeptosOptions) -> Result<LeptosOptions, ServeError> {
    let exe_dir = std::env::current_exe().ok().and_then(|exe| exe.parent().map(std::path::Path::to_path_buf));
    let site_root = std::path::Path::new(&*options.site_root);
    let pkg = site_root.join(&*options.site_pkg_dir);
    let found = match crate::assets::find_hash_file(exe_dir.as_deref(), site_root) {
        Some(path) => Some(path),
        None => match crate::assets::hashes_from_bundle(&pkg, &options.output_name) {
            Some(text) => {
                let path = std::env::temp_dir().join(format!("monay-webhooks-{}.hash.txt", std::process::id()));
                std::fs::write(&path, text)
                    .map_err(|e| format!("cannot write the bundle's hash file {}: {e}", path.display()))?;
                tracing::info!(
                    "hash.txt is not beside the binary nor in {}: the bundle's names were read from {}",
                    site_root.display(),
                    pkg.display()
                );
                Some(path)
            }
            None => None,
        },
    };
    crate::assets::use_hash_file(found.clone());
    match found {
        Some(path) => {
            // Leptos joins this to the binary's folder: an absolute path stands as it is.
            let path = std::env::current_dir().map(|cwd| cwd.join(&path)).unwrap_or(path);
            options.hash_file = path.to_string_lossy().into_owned().into();
            options.hash_files = true;
        }
        None => options.hash_files = false,
    }
    Ok(options)
}

/// Makes sure an admin can get in: registers `WEBHOOK_ADMIN_TOKEN`, or on a first start without it,
/// generates an admin key and prints it once with the console's address.
async fn bootstrap_admin(store: &Store, config: &Config, addr: SocketAddr) -> Result<(), ServeError> {
    if let Some(token) = &config.admin_token {
        if token.len() < 24 {
            return Err("WEBHOOK_ADMIN_TOKEN must be at least 24 characters".into());
        }
        let key = store.ensure_admin_key(token, "bootstrap (WEBHOOK_ADMIN_TOKEN)").await?;
        // The operator's token always gets in: an allowlist put on it (by mistake, or by someone
        // locking others out) is cleared at start, and the log says so.
        if !key.allowed_ips.is_empty() {
            let key = crate::service::keys::restore_bootstrap_access(store, &key).await?;
            tracing::warn!(key_id = %key.id, "WEBHOOK_ADMIN_TOKEN had an address allowlist: cleared, so it can be used from anywhere");
        }
        return Ok(());
    }
    if store.count_admin_keys().await? > 0 {
        return Ok(());
    }
    let (key, secret) = store.create_key(None, Role::Admin, "bootstrap admin", Default::default()).await?;
    let host = if addr.ip().is_unspecified() { "localhost".to_string() } else { addr.ip().to_string() };
    println!(
        "\n  Monay Webhooks: first start. Your admin API key (shown once, keep it safe):\n\n    {secret}\n\n  \
         Console: http://{host}:{port}/login   API: http://{host}:{port}/api\n",
        port = addr.port()
    );
    tracing::info!(key_id = %key.id, "generated the first admin key");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    /// `key = value` lines of the `[package.metadata.leptos]` table of a TOML file.
    fn leptos_table(path: &str) -> HashMap<String, String> {
        let text = std::fs::read_to_string(path).unwrap();
        let mut inside = false;
        let mut table = HashMap::new();
        for line in text.lines().map(str::trim) {
            if line.starts_with('[') {
                inside = line == "[package.metadata.leptos]";
            } else if let (true, Some((k, v))) = (inside, line.split_once('=')) {
                if !k.trim().starts_with('#') {
                    table.insert(k.trim().to_string(), v.trim().to_string());
                }
            }
        }
        table
    }

    #[test]
    fn leptos_toml_agrees_with_the_build_settings_in_cargo_toml() {
        let run_time = leptos_table("Leptos.toml");
        let build_time = leptos_table("Cargo.toml");
        assert!(!run_time.is_empty());
        for (key, value) in &run_time {
            assert_eq!(build_time.get(key), Some(value), "{key} differs between Leptos.toml and Cargo.toml");
        }
        for key in ["output-name", "site-root", "site-pkg-dir", "site-addr"] {
            assert!(run_time.contains_key(key), "Leptos.toml lacks {key}");
        }
    }

    #[test]
    fn the_server_reads_its_site_settings_from_leptos_toml() {
        let options = super::leptos_options(&crate::config::Config::default()).unwrap();
        assert_eq!(&*options.output_name, "monay-webhooks");
        assert_eq!(options.site_addr.port(), 3001);
    }
}
