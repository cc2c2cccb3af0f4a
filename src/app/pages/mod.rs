//! The console's pages.

pub mod admin;
pub mod dashboard;
pub mod deliveries;
pub mod events;
pub mod lazy;
pub mod login;
pub mod webhook;
pub mod webhooks;

use leptos::prelude::*;

/// Shown for an unknown path.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <main class="centered">
            <div class="card narrow">
                <h1>"Page not found"</h1>
                <p>"There is nothing at this address."</p>
                <a class="button" href="/">"Go to the dashboard"</a>
            </div>
        </main>
    }
}
