//! Cross-site request forgery: every state-changing console request (server functions, the login
//! form among them) must come from the console's own pages — `Origin` and `Sec-Fetch-Site` say so —
//! and carry the page's CSRF token, in the `x-csrf-token` header (hydrated pages, through
//! [`ConsoleClient`]) or a `csrf` form field (plain HTML forms, before the WASM arrives).
//!
//! The token is the SHA-256 of a random seed held in an HttpOnly, SameSite=Strict cookie: a page of
//! another origin can neither read the seed nor the token written into our pages.

use leptos::prelude::*;

/// The cookie that holds the seed of the token.
pub const SEED_COOKIE: &str = "monay_csrf";
/// The request header that carries the token.
pub const HEADER: &str = "x-csrf-token";
/// The form field that carries the token.
pub const FIELD: &str = "csrf";

/// The token of the current page: from the request's cookie on the server, from the page's
/// `<meta name="csrf-token">` in the browser.
pub fn page_token() -> String {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>()
            .and_then(|parts| ssr::token(&parts.headers))
            .map(|token| ssr::masked(&token))
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        meta_token()
    }
}

#[cfg(not(feature = "ssr"))]
fn meta_token() -> String {
    document()
        .query_selector("meta[name=csrf-token]")
        .ok()
        .flatten()
        .and_then(|meta| meta.get_attribute("content"))
        .unwrap_or_default()
}

/// The hidden form field with the page's token, for forms that must work before hydration.
#[component]
pub fn CsrfField() -> impl IntoView {
    view! { <input type="hidden" name=FIELD value=page_token()/> }
}

/// The server-function client of the console: the browser's `fetch`, plus the page's token.
pub struct ConsoleClient;

use leptos::server_fn;

impl<E, IS, OS> server_fn::client::Client<E, IS, OS> for ConsoleClient
where
    E: server_fn::error::FromServerFnError,
    IS: server_fn::error::FromServerFnError,
    OS: server_fn::error::FromServerFnError,
{
    type Request = server_fn::request::browser::BrowserRequest;
    type Response = server_fn::response::browser::BrowserResponse;

    fn send(req: Self::Request) -> impl std::future::Future<Output = Result<Self::Response, E>> + Send {
        #[cfg(not(feature = "ssr"))]
        req.headers().set(HEADER, &meta_token());
        <server_fn::client::browser::BrowserClient as server_fn::client::Client<E, IS, OS>>::send(req)
    }

    #[allow(clippy::type_complexity)]
    fn open_websocket(
        path: &str,
    ) -> impl std::future::Future<
        Output = Result<
            (
                impl futures::Stream<Item = Result<server_fn::Bytes, server_fn::Bytes>> + Send + 'static,
                impl futures::Sink<server_fn::Bytes> + Send + 'static,
            ),
            E,
        >,
    > + Send {
        <server_fn::client::browser::BrowserClient as server_fn::client::Client<E, IS, OS>>::open_websocket(path)
    }

    fn spawn(future: impl std::future::Future<Output = ()> + Send + 'static) {
        <server_fn::client::browser::BrowserClient as server_fn::client::Client<E, IS, OS>>::spawn(future)
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::{FIELD, HEADER, SEED_COOKIE};
    use crate::error::AppError;
    use crate::state::AppState;
    use axum::body::Body;
    use axum::extract::{Request, State};
    use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
    use axum::middleware::Next;
    use axum::response::{IntoResponse, Response};

    /// The seed from the request's cookie.
    fn seed(headers: &HeaderMap) -> Option<String> {
        crate::api::auth::cookie(headers, SEED_COOKIE)
    }

    /// The token that goes with the request's seed.
    pub fn token(headers: &HeaderMap) -> Option<String> {
        seed(headers).map(|s| crate::crypto::sha256_hex(format!("monay-csrf:{s}").as_bytes()))
    }

    /// The token as a page carries it: a fresh random pad, then the token XOR the pad (hex), so
    /// no two pages hold the same bytes. Pages are sent compressed; a secret repeated verbatim in
    /// every compressed page beside text an attacker can put there (a search, a filter) could be
    /// guessed from the pages' sizes (BREACH).
    pub fn masked(token: &str) -> String {
        use rand::RngCore;
        let mut pad = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut pad);
        let xored: Vec<u8> = token.as_bytes().iter().zip(pad.iter().cycle()).map(|(t, p)| t ^ p).collect();
        format!("{}{}", hex::encode(pad), hex::encode(xored))
    }

    /// The token a page sent back: unmasked (see [`masked`]); the bare token is taken as it is.
    fn unmasked(given: &str) -> Option<String> {
        if given.len() == 64 {
            return Some(given.to_string());
        }
        let bytes = hex::decode(given).ok().filter(|b| b.len() == 32 + 64)?;
        let (pad, xored) = bytes.split_at(32);
        String::from_utf8(xored.iter().zip(pad.iter().cycle()).map(|(x, p)| x ^ p).collect()).ok()
    }

    /// Does the token a page sent back match the request's own?
    fn matches(given: &[u8], expected: &str) -> bool {
        std::str::from_utf8(given)
            .ok()
            .and_then(unmasked)
            .is_some_and(|token| constant_eq(token.as_bytes(), expected.as_bytes()))
    }

    /// Largest console form read to find its token.
    const MAX_FORM: usize = 256 * 1024;

    /// The middleware: refuses console posts from other origins or without the page's token, and
    /// gives every visitor of a console page a seed.
    pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
        let path = req.uri().path();
        if path.starts_with("/console/") && req.method() == Method::POST {
            return match check(req).await {
                Ok(req) => unreadable_arguments_are_400(next.run(req).await).await,
                Err(e) => e.into_response(),
            };
        }
        let page = req.method() == Method::GET
            && !path.starts_with("/api/")
            && !path.starts_with("/pkg/")
            && !matches!(path, "/healthz" | "/readyz" | "/metrics");
        if !page || seed(req.headers()).is_some() {
            return next.run(req).await;
        }
        // A first visit: make a seed, and let this very page render its token.
        let new_seed = crate::crypto::new_token("");
        let (mut parts, body) = req.into_parts();
        let pair = format!("{SEED_COOKIE}={new_seed}");
        let cookie = match parts.headers.get(header::COOKIE).and_then(|v| v.to_str().ok()) {
            Some(existing) => format!("{existing}; {pair}"),
            None => pair,
        };
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            parts.headers.insert(header::COOKIE, v);
        }
        let mut response = next.run(Request::from_parts(parts, body)).await;
        let secure = if state.config.secure_cookies { "; Secure" } else { "" };
        let set = format!("{SEED_COOKIE}={new_seed}; Path=/; HttpOnly; SameSite=Strict; Max-Age=31536000{secure}");
        if let Ok(v) = HeaderValue::from_str(&set) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
        response
    }

    /// A server function whose arguments could not be read answers 500 (Leptos' way for every
    /// error); it is the caller's fault, so it is answered 400 with the same body.
    async fn unreadable_arguments_are_400(response: Response) -> Response {
        if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
            return response;
        }
        let (mut parts, body) = response.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
            return (StatusCode::INTERNAL_SERVER_ERROR, "the answer could not be read").into_response();
        };
        if bytes.starts_with(b"Args|") || bytes.starts_with(b"MissingArg|") {
            parts.status = StatusCode::BAD_REQUEST;
        }
        Response::from_parts(parts, Body::from(bytes))
    }

    async fn check(req: Request) -> Result<Request, AppError> {
        let refused = |message: &str| AppError::new(StatusCode::FORBIDDEN, "csrf", message);
        if !crate::api::auth::same_origin(req.headers()) {
            return Err(refused("this request came from another site; use the console's own pages"));
        }
        let expected = token(req.headers()).ok_or_else(|| refused("reload the page: its security token is missing"))?;
        if let Some(given) = req.headers().get(HEADER) {
            return if matches(given.as_bytes(), &expected) {
                Ok(req)
            } else {
                Err(refused("reload the page: its security token does not match"))
            };
        }
        // A plain HTML form: the token is one of its fields.
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(refused("reload the page: its security token is missing"));
        }
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, MAX_FORM)
            .await
            .map_err(|_| AppError::too_large("the form is larger than the console accepts"))?;
        let given = url::form_urlencoded::parse(&bytes).find(|(k, _)| k == FIELD).map(|(_, v)| v.into_owned());
        match given {
            Some(given) if matches(given.as_bytes(), &expected) => Ok(Request::from_parts(parts, Body::from(bytes))),
            _ => Err(refused("reload the page: its security token does not match")),
        }
    }

    fn constant_eq(a: &[u8], b: &[u8]) -> bool {
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}
