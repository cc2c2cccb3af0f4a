//! The console's landing page for a logged-in user (the full dashboard grows here).

use crate::app::session::{whoami, Logout};
use crate::domain::{Principal, Role};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::components::Redirect;

/// The dashboard; sends visitors without a session to the login page.
#[component]
pub fn HomePage() -> impl IntoView {
    let me = Resource::new(|| (), |_| whoami());
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(principal)) => view! { <Signed principal/> }.into_any(),
                    _ => view! { <Redirect path="/login"/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Signed(principal: Principal) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let role = match principal.role {
        Role::Admin => "admin",
        Role::Tenant => "tenant",
    };
    let scope = principal.tenant.clone().unwrap_or_else(|| "every tenant".to_string());
    view! {
        <header class="topbar">
            <span class="brand">"Monay Webhooks"</span>
            <span class="who" data-testid="who">{principal.key_name.clone()} " · " {role} " · " {scope}</span>
            <ActionForm action=logout>
                <button type="submit" class="secondary">"Sign out"</button>
            </ActionForm>
        </header>
        <main class="page">
            <h1>"Dashboard"</h1>
            <p class="muted">"You are signed in. The REST API lives under /api; see the README for a tour."</p>
        </main>
    }
}
