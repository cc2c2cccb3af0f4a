//! The admin console (Leptos): the HTML shell, the router and its pages. Built for both targets:
//! rendered on the server, then hydrated in the browser.

pub mod pages;
pub mod session;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

/// The HTML document around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.ico"/>
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

/// The console's root component.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Runs only in the browser, once the page is interactive: end-to-end tests wait for this mark.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Stylesheet id="leptos" href="/pkg/monay-webhooks.css"/>
        <Title text="Monay Webhooks"/>
        <Router>
            <Routes fallback=pages::NotFound>
                <Route path=path!("/login") view=pages::login::LoginPage/>
                <Route path=path!("/") view=pages::home::HomePage ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}
