//! Pieces every console page uses: the signed-in frame with its navigation, times in the browser's
//! zone, loading, empty and error states, badges; the SVG charts (`charts.rs`) and the filters'
//! pickers (`pickers.rs`).

use crate::app::csrf::CsrfField;
use crate::app::model::Problem;
use crate::app::session::{whoami, Logout};
use crate::domain::{DeliveryStatus, Principal, Role};
use chrono::{DateTime, SecondsFormat, Utc};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect, A};

mod charts;
mod pickers;

pub use charts::*;
pub use pickers::*;

/// The frame of every signed-in page: top bar, navigation and the page itself. Without a session,
/// the login page.
#[component]
pub fn Frame() -> impl IntoView {
    let me = Resource::new(|| (), |_| whoami());
    view! {
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(principal)) => view! { <Signed principal/> }.into_any(),
                    Ok(None) => view! { <Redirect path=crate::app::session::login_href(&here())/> }.into_any(),
                    Err(e) => view! { <main class="page"><ErrorBox problem=Problem::of(&e)/></main> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Signed(principal: Principal) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let admin = principal.role == Role::Admin;
    let role = if admin { "admin" } else { "tenant" };
    let scope = principal.tenant.clone().unwrap_or_else(|| "every tenant".to_string());
    let name = principal.key_name.clone();
    provide_context(principal);
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Monay Webhooks"</a>
            <nav class="nav" aria-label="Main">
                <A href="/" exact=true>"Dashboard"</A>
                <A href="/webhooks">"Webhooks"</A>
                <A href="/events">"Events"</A>
                <A href="/deliveries">"Deliveries"</A>
                <A href="/event-types">"Event catalog"</A>
                {admin.then(|| view! {
                    <A href="/keys">"API keys"</A>
                    <A href="/audit">"Audit log"</A>
                })}
            </nav>
            // Who is signed in, and signing out, in a menu: the navigation keeps the row.
            <details class="account" data-testid="account">
                <summary aria-label=format!("Account: {name}")>{role} " ▾"</summary>
                <div class="menu">
                    <p class="who" data-testid="who">
                        <strong>{name.clone()}</strong>
                        <span class="muted">{role} " · " {scope}</span>
                    </p>
                    <ActionForm action=logout>
                        <CsrfField/>
                        <button type="submit" class="secondary">"Sign out"</button>
                    </ActionForm>
                </div>
            </details>
        </header>
        <main class="page">
            <Outlet/>
        </main>
    }
}

/// A confirmation panel: it takes the focus (its first button) when it opens, and Esc cancels it.
#[component]
pub fn Confirm(
    #[prop(into)] label: String,
    cancel: impl Fn() + Send + Sync + 'static,
    children: Children,
) -> impl IntoView {
    let panel = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use wasm_bindgen::JsCast;
        if let Some(Ok(button)) = panel
            .get()
            .and_then(|el| el.query_selector("button:not([disabled])").ok().flatten())
            .map(|b| b.dyn_into::<web_sys::HtmlElement>())
        {
            let _ = button.focus();
        }
    });
    view! {
        <div class="card confirm" role="group" aria-label=label node_ref=panel
            on:keydown=move |ev| if ev.key() == "Escape" { cancel() }>
            {children()}
        </div>
    }
}

/// Copies `text` to the clipboard; says "Copied" once it has.
#[component]
pub fn CopyButton(#[prop(into)] text: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(window) = web_sys::window() {
            let _ = window.navigator().clipboard().write_text(&text);
            copied.set(true);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &text;
    };
    view! { <button type="button" class="secondary" on:click=copy>{move || if copied.get() { "Copied" } else { "Copy" }}</button> }
}

/// The page shown now: its path and query.
fn here() -> String {
    let location = leptos_router::hooks::use_location();
    let (path, query) = (location.pathname.get_untracked(), location.search.get_untracked());
    if query.is_empty() || query == "?" {
        path
    } else if query.starts_with('?') {
        format!("{path}{query}")
    } else {
        format!("{path}?{query}")
    }
}

/// The signed-in principal (inside [`Frame`]).
pub fn principal() -> Option<Principal> {
    use_context::<Principal>()
}

/// A time, shown in the browser's zone once the page is interactive (UTC before).
#[component]
pub fn When(t: DateTime<Utc>) -> impl IntoView {
    let iso = t.to_rfc3339_opts(SecondsFormat::Millis, true);
    let text = RwSignal::new(t.format("%Y-%m-%d %H:%M:%S UTC").to_string());
    #[cfg(feature = "hydrate")]
    {
        let iso = iso.clone();
        Effect::new(move |_| {
            let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(&iso));
            text.set(String::from(date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED)));
        });
    }
    view! { <time datetime=iso.clone() title=iso>{move || text.get()}</time> }
}

#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="muted loading" role="status">"Loading…"</p> }
}

/// An empty list, with what to do about it.
#[component]
pub fn Empty(#[prop(into)] message: String, children: Children) -> impl IntoView {
    view! {
        <div class="empty" data-testid="empty">
            <p>{message}</p>
            {children()}
        </div>
    }
}

/// A failure as the page shows it; an ended session links to the login page.
#[component]
pub fn ErrorBox(problem: Problem) -> impl IntoView {
    if problem.signed_out() {
        return view! {
            <div class="error-box" role="alert">
                <p>"Your session has ended."</p>
                <a class="button" href=crate::app::session::login_href(&here())>"Sign in again"</a>
            </div>
        }
        .into_any();
    }
    view! { <div class="error-box" role="alert"><p>{problem.message}</p></div> }.into_any()
}

/// The message of a refusal about `field`, if that is the field at fault.
pub fn field_error(problem: Option<Problem>, field: &'static str) -> Option<String> {
    problem
        .filter(|p| {
            p.field.as_deref().is_some_and(|f| {
                f == field || f.starts_with(&format!("{field}[")) || f.starts_with(&format!("{field}."))
            })
        })
        .map(|p| p.message)
}

#[component]
pub fn StatusBadge(status: DeliveryStatus) -> impl IntoView {
    let name = status.as_str();
    view! { <span class=format!("badge status-{name}")>{name}</span> }
}

#[component]
pub fn ActiveBadge(active: bool, #[prop(optional)] paused: bool) -> impl IntoView {
    match (active, paused) {
        (true, _) => view! { <span class="badge status-succeeded">"active"</span> },
        (false, true) => view! { <span class="badge status-held">"paused"</span> },
        (false, false) => view! { <span class="badge status-failed">"disabled"</span> },
    }
}
