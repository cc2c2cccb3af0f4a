//! The login page: an API key in, a session cookie out.

use crate::app::csrf::CsrfField;
use crate::app::session::Login;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// Log in with an API key, then go back to the page in `next` (or the dashboard).
#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let query = use_query_map().get_untracked();
    let next = query.get("next").unwrap_or_default();
    // A refusal of a plain form post (before the page was interactive) comes back in the address.
    let returned = query.get("error");
    let error = move || {
        let text = match login.value().get() {
            None => returned.clone()?,
            Some(Ok(refusal)) => refusal?,
            Some(Err(ServerFnError::ServerError(message))) => message,
            Some(Err(other)) => other.to_string(),
        };
        Some(view! { <p class="error" role="alert" data-testid="login-error">{text}</p> })
    };
    view! {
        <main class="centered">
            <div class="card narrow">
                <h1 class="brand">"Monay Webhooks"</h1>
                <p class="muted">"Sign in to the console with an API key."</p>
                <ActionForm action=login attr:class="stack">
                    <CsrfField/>
                    <input type="hidden" name="next" value=next/>
                    <label for="key">"API key"</label>
                    <input id="key" name="key" type="password" autocomplete="current-password"
                        placeholder="mwk_…" required=true/>
                    <button type="submit" disabled=move || login.pending().get()>
                        {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                    </button>
                    {error}
                </ActionForm>
                <p class="hint">
                    "The first admin key is printed once when the server first starts, "
                    "or set with WEBHOOK_ADMIN_TOKEN."
                </p>
            </div>
        </main>
    }
}
