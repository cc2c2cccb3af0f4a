//! The login page: an API key in, a session cookie out.

use crate::app::csrf::CsrfField;
use crate::app::session::Login;
use leptos::form::ActionForm;
use leptos::prelude::*;

/// Log in with an API key.
#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let error = move || {
        let text = match login.value().get()? {
            Ok(refusal) => refusal?,
            Err(ServerFnError::ServerError(message)) => message,
            Err(other) => other.to_string(),
        };
        Some(view! { <p class="error" role="alert">{text}</p> })
    };
    view! {
        <main class="centered">
            <div class="card narrow">
                <h1 class="brand">"Monay Webhooks"</h1>
                <p class="muted">"Sign in to the console with an API key."</p>
                <ActionForm action=login attr:class="stack">
                    <CsrfField/>
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
