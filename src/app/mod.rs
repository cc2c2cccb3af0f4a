//! The admin console (Leptos): the HTML shell, the router and its pages. Built for both targets:
//! rendered on the server, then hydrated in the browser.

pub mod csrf;
pub mod data;
pub mod model;
pub mod pages;
pub mod session;
pub mod ui;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{path, Lazy, SsrMode};
use pages::lazy;

/// The Content Security Policy of a console page: scripts from this origin and the page's inline
/// scripts (hydration, resources) by their nonce, WebAssembly, no inline styles, no framing.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// The HTML document around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>()) {
        if let Ok(value) = axum::http::HeaderValue::from_str(&content_security_policy(&nonce)) {
            response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="csrf-token" content=csrf::page_token()/>
                <link rel="icon" href="/favicon.ico"/>
                <link rel="stylesheet" id="leptos" href=stylesheet_href(&options)/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The stylesheet's address: with its content hash in the name when the build hashed names.
fn stylesheet_href(options: &LeptosOptions) -> String {
    #[cfg(feature = "ssr")]
    if let Some(hash) = crate::assets::build_hashes().get("css").filter(|_| options.hash_files) {
        return format!("/{}/{}.{hash}.css", options.site_pkg_dir, options.output_name);
    }
    format!("/{}/{}.css", options.site_pkg_dir, options.output_name)
}

/// The console's root component.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // True while a move to another page loads its code and data: a bar at the top says so.
    let (routing, set_routing) = signal(false);
    view! {
        <Title text="Monay Webhooks"/>
        <div class="routing-bar" class:active=move || routing.get() role="progressbar"
            aria-label="Loading the page" aria-hidden=move || (!routing.get()).to_string()></div>
        <Router set_is_routing=set_routing>
            <Routes fallback=pages::NotFound>
                <Route path=path!("/login") view=pages::login::LoginPage/>
                <ParentRoute path=path!("") view=ui::Frame ssr=SsrMode::Async>
                    <Route path=path!("") view={Lazy::<lazy::DashboardArea>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("webhooks") view={Lazy::<lazy::WebhooksArea>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("webhooks/new") view={Lazy::<lazy::WebhooksArea>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("webhooks/:id") view={Lazy::<lazy::WebhooksArea>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("deliveries") view={Lazy::<lazy::LogArea>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("deliveries/:id") view={Lazy::<lazy::LogArea>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("events") view={Lazy::<lazy::LogArea>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("events/:id") view={Lazy::<lazy::LogArea>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("event-types") view={Lazy::<lazy::AdminArea>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("keys") view={Lazy::<lazy::AdminArea>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("audit") view={Lazy::<lazy::AdminArea>::new()} ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
