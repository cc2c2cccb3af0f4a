//! Monay Webhooks: a self-hosted webhook delivery service.
//!
//! The crate builds twice: as the server (feature `ssr`: REST API, delivery engine, console rendering)
//! and as the console's WASM bundle (feature `hydrate`). Modules that only make sense on the server
//! are gated here, once.
#![recursion_limit = "512"]

pub mod app;
pub mod domain;

#[cfg(feature = "ssr")]
pub mod alerts;
#[cfg(feature = "ssr")]
pub mod api;
#[cfg(feature = "ssr")]
pub mod assets;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod crypto;
#[cfg(feature = "ssr")]
pub mod delivery;
#[cfg(feature = "ssr")]
pub mod error;
#[cfg(feature = "ssr")]
pub mod jobs;
#[cfg(feature = "ssr")]
pub mod live;
#[cfg(feature = "ssr")]
pub mod metrics;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod telemetry;

/// Entry point of the WASM bundle: hydrates the server-rendered console, then marks `<body
/// data-hydrated>` (end-to-end tests wait for it). Pages are lazy routes (see `app::pages::lazy`):
/// the page's own code is fetched before it is hydrated, after the app's first effects have run, so
/// the mark waits for the whole hydration (what `leptos::mount::hydrate_lazy` does, plus the mark).
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        let Some(body) = leptos::prelude::document().body() else {
            return;
        };
        let owner = leptos::mount::hydrate_from_async(body.clone(), app::App).await;
        owner.forget();
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
