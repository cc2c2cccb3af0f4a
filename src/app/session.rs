//! Console sessions: log in with an API key (an HttpOnly cookie holds a session token, never the
//! key), find out who is logged in, log out.

use crate::domain::Principal;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub mod ssr {
    use crate::api::SESSION_COOKIE;
    use crate::domain::Principal;
    use crate::state::AppState;
    use axum::http::{header, HeaderMap, HeaderValue};
    use leptos::prelude::*;

    /// The server state, as context from `leptos_routes`.
    pub fn state() -> Result<AppState, ServerFnError> {
        use_context::<AppState>().ok_or_else(|| ServerFnError::new("server state missing"))
    }

    /// The session token from the request's cookie.
    pub async fn session_token() -> Option<String> {
        let headers: HeaderMap = leptos_axum::extract().await.ok()?;
        crate::api::session_token_from(&headers)
    }

    /// The logged-in principal, if any.
    pub async fn current_principal() -> Result<Option<Principal>, ServerFnError> {
        let Some(token) = session_token().await else {
            return Ok(None);
        };
        let principal = crate::service::auth::session_principal(&state()?, &token)
            .await
            .map_err(|e| ServerFnError::new(e.to_string()))?;
        // A key's allowlist holds for its sessions too (changed after they began, or a cookie carried
        // elsewhere): outside it, nobody is signed in.
        Ok(match principal {
            Some(p) if !p.allowed_ips.is_empty() => {
                let parts: Option<axum::http::request::Parts> = leptos_axum::extract().await.ok();
                let ip = parts.and_then(|parts| crate::api::auth::client_ip(&parts)).map(|ip| ip.to_string());
                crate::service::keys::allows(&p.allowed_ips, ip.as_deref()).then_some(p)
            }
            other => other,
        })
    }

    /// Sets (or, with `None`, clears) the session cookie on the response.
    pub fn set_cookie(token: Option<&str>, max_age_secs: u64, secure: bool) {
        let value = match token {
            Some(t) => format!("{SESSION_COOKIE}={t}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}"),
            None => format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
        };
        let value = if secure { format!("{value}; Secure") } else { value };
        if let (Some(response), Ok(v)) = (use_context::<leptos_axum::ResponseOptions>(), HeaderValue::from_str(&value))
        {
            response.append_header(header::SET_COOKIE, v);
        }
    }
}

/// Who is logged in to the console, if anyone.
#[server(prefix = "/console", endpoint = "whoami", client = crate::app::csrf::ConsoleClient)]
pub async fn whoami() -> Result<Option<Principal>, ServerFnError> {
    ssr::current_principal().await
}

/// Where a sign-in goes: `next` when it is a page of this console (a path, never another site),
/// the dashboard otherwise.
pub fn after_login(next: &str) -> &str {
    let local = next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') && !next.starts_with("/login");
    if local && !next.chars().any(char::is_control) {
        next
    } else {
        "/"
    }
}

/// The sign-in page's address, coming back to `path` (with its query) afterwards.
pub fn login_href(path: &str) -> String {
    match after_login(path) {
        "/" => "/login".to_string(),
        next => format!("/login?next={}", url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()),
    }
}

/// Logs in with an API key and goes to `next` (the page the user was on) or the dashboard. A
/// refused key is not a failure of the call: the answer is `Ok(Some(reason))`, which the form
/// shows; a plain form post (before the page is interactive) is sent back to the sign-in page with
/// the reason in its address.
#[server(prefix = "/console", endpoint = "login", client = crate::app::csrf::ConsoleClient)]
pub async fn login(
    #[server(default)] key: String,
    #[server(default)] next: String,
) -> Result<Option<String>, ServerFnError> {
    let refusal = login_with(key).await?;
    match &refusal {
        None => leptos_axum::redirect(after_login(&next)),
        Some(reason) if crate::app::data::ssr::plain_form() => {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            q.append_pair("error", reason);
            if after_login(&next) != "/" {
                q.append_pair("next", &next);
            }
            leptos_axum::redirect(&format!("/login?{}", q.finish()));
        }
        Some(_) => {}
    }
    Ok(refusal)
}

#[cfg(feature = "ssr")]
async fn login_with(key: String) -> Result<Option<String>, ServerFnError> {
    if key.trim().is_empty() {
        return Ok(Some("Enter an API key.".to_string()));
    }
    let state = ssr::state()?;
    let parts: axum::http::request::Parts = leptos_axum::extract().await?;
    let ip = crate::api::auth::client_ip(&parts);
    let found =
        crate::service::auth::authenticate(&state, key.trim()).await.map_err(|e| ServerFnError::new(e.to_string()))?;
    // A valid key signs in whatever the throttle says (it is for guesses).
    let Some(principal) = found else {
        if let Err(refusal) = crate::service::auth::throttled(&state, ip) {
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(axum::http::StatusCode::TOO_MANY_REQUESTS);
                if let Some(seconds) = refusal.retry_after {
                    response.insert_header(axum::http::header::RETRY_AFTER, seconds.into());
                }
            }
            return Ok(Some(format!("Too many failed sign-ins from this address: {}", refusal.message)));
        }
        crate::service::auth::refused(&state, ip, "console.login_failed").await;
        return Ok(Some("That API key is not valid or has been revoked.".to_string()));
    };
    if let Err(refusal) = crate::service::auth::check_address(&state, ip, &principal).await {
        return Ok(Some(format!("{}.", refusal.message[..1].to_uppercase() + &refusal.message[1..])));
    }
    let actor = crate::service::Actor { principal, ip: ip.map(|ip| ip.to_string()) };
    let token =
        crate::service::auth::start_session(&state, &actor).await.map_err(|e| ServerFnError::new(e.to_string()))?;
    ssr::set_cookie(Some(&token), state.config.session_ttl.as_secs(), state.config.secure_cookies);
    Ok(None)
}

/// Ends the console session and goes back to the login page.
#[server(prefix = "/console", endpoint = "logout", client = crate::app::csrf::ConsoleClient)]
pub async fn logout() -> Result<(), ServerFnError> {
    let state = ssr::state()?;
    if let Some(token) = ssr::session_token().await {
        crate::service::auth::end_session(&state, &token).await.map_err(|e| ServerFnError::new(e.to_string()))?;
    }
    ssr::set_cookie(None, 0, state.config.secure_cookies);
    leptos_axum::redirect("/login");
    Ok(())
}
