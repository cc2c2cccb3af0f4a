//! The console's shell: server-rendered pages and the session cookie from the login server function.

use crate::harness::{TestServer, ADMIN_TOKEN};
use reqwest::StatusCode;

/// A browser-like client: asks for HTML and does not follow redirects, so the test sees them.
fn client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("accept", "text/html,application/xhtml+xml".parse().unwrap());
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).default_headers(headers).build().unwrap()
}

#[tokio::test]
async fn the_dashboard_sends_visitors_without_a_session_to_login() {
    let s = TestServer::start().await;
    let r = client().get(s.url("/")).send().await.unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    assert_eq!(r.headers()["location"], "/login");

    let login = client().get(s.url("/login")).send().await.unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let html = login.text().await.unwrap();
    assert!(html.contains("Sign in"), "{html}");
    assert!(html.contains("/pkg/monay-webhooks"), "the page loads the WASM bundle");
}

#[tokio::test]
async fn logging_in_sets_an_http_only_cookie_that_opens_the_dashboard() {
    let s = TestServer::start().await;
    let c = client();
    let (seed, token) = s.console_token().await;
    let login = |key: &str| {
        c.post(s.url("/console/login")).header("cookie", &seed).form(&[("key", key), ("csrf", token.as_str())]).send()
    };
    let wrong = login("mwk_wrong").await.unwrap();
    assert!(wrong.headers().get("set-cookie").is_none(), "no session for a wrong key");

    let ok = login(ADMIN_TOKEN).await.unwrap();
    assert!(ok.status().is_redirection(), "a plain form post is sent on to the dashboard");
    assert_eq!(ok.headers()["location"], "/");
    let cookie = ok.headers().get("set-cookie").expect("a session cookie").to_str().unwrap().to_string();
    assert!(cookie.starts_with("monay_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains(ADMIN_TOKEN), "the cookie holds a session token, not the key");
    let pair = cookie.split(';').next().unwrap().to_string();

    let home = c.get(s.url("/")).header("cookie", &pair).send().await.unwrap();
    assert_eq!(home.status(), StatusCode::OK);
    let html = home.text().await.unwrap();
    assert!(html.contains("Dashboard") && html.contains("bootstrap"), "{html}");

    // The same session also authenticates REST calls from the console (e.g. CSV downloads).
    let api = c.get(s.url("/api/webhooks")).header("cookie", &pair).send().await.unwrap();
    assert_eq!(api.status(), StatusCode::OK);

    let both = format!("{seed}; {pair}");
    let out =
        c.post(s.url("/console/logout")).header("cookie", &both).header("x-csrf-token", &token).send().await.unwrap();
    assert!(out.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    let after = c.get(s.url("/")).header("cookie", &pair).send().await.unwrap();
    assert!(after.status().is_redirection(), "the session ended");
}

/// Signs in through the console's form; returns the cookies and the page's CSRF token.
pub async fn signed_in_as(s: &TestServer, key: &str) -> (String, String) {
    let (seed, token) = s.console_token().await;
    let ok = client()
        .post(s.url("/console/login"))
        .header("cookie", &seed)
        .form(&[("key", key), ("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    let cookie = ok.headers().get("set-cookie").expect("a session cookie").to_str().unwrap();
    (format!("{seed}; {}", cookie.split(';').next().unwrap()), token)
}

#[tokio::test]
async fn malformed_server_function_arguments_are_refused_with_4xx_never_500() {
    let s = TestServer::start().await;
    let (cookies, token) = signed_in_as(&s, ADMIN_TOKEN).await;
    let c = reqwest::Client::new();
    for (endpoint, body) in [
        ("set_active", "id=wh_x&active=notabool"),
        ("rotate_secret", "id=wh_x&grace_seconds=soon"),
        ("deliveries", "filter[limit]=many&filter[page]=-x"),
        ("deliveries", "filter=%7B"),
        ("recovery", "id=wh_x&since=yesterday&dry_run=perhaps"),
        ("webhooks", "search[]=1&search[x]=2"),
    ] {
        let r = c
            .post(s.url(&format!("/console/{endpoint}")))
            .header("cookie", &cookies)
            .header("x-csrf-token", &token)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(status.is_client_error(), "{endpoint} ({body}) answered {status}: {text}");
    }
}

#[tokio::test]
async fn a_keys_rate_limit_holds_for_its_console_sessions() {
    let s = TestServer::start().await;
    let created =
        s.post(ADMIN_TOKEN, "/api/keys", serde_json::json!({"tenant": "acme", "name": "slow", "rateLimit": 1})).await;
    let key = created.body["key"].as_str().unwrap().to_string();
    let (cookies, token) = signed_in_as(&s, &key).await;
    let c = reqwest::Client::new();
    let mut limited = 0;
    for _ in 0..6 {
        let r = c
            .post(s.url("/console/webhooks"))
            .header("cookie", &cookies)
            .header("x-csrf-token", &token)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("")
            .send()
            .await
            .unwrap();
        let text = r.text().await.unwrap();
        if text.contains("too_many_requests") {
            limited += 1;
        }
    }
    // A burst of twice the rate passes; the rest of six at once are refused.
    assert!(limited >= 3, "{limited} of 6 console calls refused for a key limited to 1 per second");
}

#[tokio::test]
async fn a_tenant_typed_by_mistake_in_the_console_is_refused_and_a_new_one_needs_asking_for() {
    let s = TestServer::start().await;
    let r = crate::receiver::Receiver::start().await;
    s.post(ADMIN_TOKEN, "/api/webhooks", serde_json::json!({"url": r.url("/a"), "events": ["*"], "tenant": "acme"}))
        .await;
    let (cookies, token) = signed_in_as(&s, ADMIN_TOKEN).await;
    let create = |tenant: &str, new_tenant: &str| {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("url", &r.url("/b"))
            .append_pair("events[]", "*")
            .append_pair("tenant", tenant)
            .append_pair("new_tenant", new_tenant)
            .finish();
        reqwest::Client::new()
            .post(s.url("/console/create_webhook"))
            .header("cookie", &cookies)
            .header("x-csrf-token", &token)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let count = |tenant: &'static str| {
        let s = &s;
        async move { crate::harness::data(&s.get(ADMIN_TOKEN, &format!("/api/webhooks?tenant={tenant}")).await).len() }
    };
    // A typo of an existing tenant: refused, naming the field; nothing made.
    let typo = create("acmee", "").await.unwrap().text().await.unwrap();
    assert!(typo.contains("There is no tenant") && typo.contains("\"tenant\""), "{typo}");
    assert_eq!(count("acmee").await, 0);
    // "New tenant…" without a name, then with one; and an existing one picked.
    let unnamed = create("__new__", " ").await.unwrap().text().await.unwrap();
    assert!(unnamed.contains("new tenant's name"), "{unnamed}");
    let made = create("__new__", "globex").await.unwrap().text().await.unwrap();
    assert!(made.contains("whsec_"), "{made}");
    assert_eq!(count("globex").await, 1);
    let picked = create("acme", "").await.unwrap().text().await.unwrap();
    assert!(picked.contains("whsec_"), "{picked}");
    assert_eq!(count("acme").await, 2);
}

/// The token of a console page fetched with the seed cookie `seed`.
async fn page_token(s: &TestServer, seed: &str) -> String {
    let html = client().get(s.url("/login")).header("cookie", seed).send().await.unwrap().text().await.unwrap();
    html.split(r#"name="csrf-token" content=""#).nth(1).unwrap().split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn pages_go_compressed_and_carry_their_token_masked_afresh() {
    let s = TestServer::start().await;
    let page = client().get(s.url("/login")).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(page.headers()["content-encoding"], "gzip", "{:?}", page.headers());
    let brotli = client().get(s.url("/login")).header("accept-encoding", "br").send().await.unwrap();
    assert_eq!(brotli.headers()["content-encoding"], "br");
    // The API's JSON is left as it is.
    let api = reqwest::Client::new()
        .get(s.url("/api/webhooks"))
        .bearer_auth(ADMIN_TOKEN)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert!(api.headers().get("content-encoding").is_none(), "{:?}", api.headers());

    // No two pages carry the same token bytes, and each is taken.
    let (seed, _) = s.console_token().await;
    let (first, second) = (page_token(&s, &seed).await, page_token(&s, &seed).await);
    assert_ne!(first, second, "masked afresh");
    for token in [&first, &second] {
        let login = client()
            .post(s.url("/console/login"))
            .header("cookie", &seed)
            .form(&[("key", ADMIN_TOKEN), ("csrf", token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(login.headers()["location"], "/", "a masked token is taken");
    }
    // Another seed's token is not.
    let (other_seed, _) = s.console_token().await;
    let foreign = page_token(&s, &other_seed).await;
    let refused = client()
        .post(s.url("/console/login"))
        .header("cookie", &seed)
        .form(&[("key", ADMIN_TOKEN), ("csrf", foreign.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_refused_plain_sign_in_comes_back_with_its_reason_and_a_good_one_goes_on_to_next() {
    let s = TestServer::start().await;
    let (seed, token) = s.console_token().await;
    let login = |key: &str, next: &str| {
        client()
            .post(s.url("/console/login"))
            .header("cookie", &seed)
            .form(&[("key", key), ("csrf", token.as_str()), ("next", next)])
            .send()
    };
    let wrong = login("mwk_wrong", "/deliveries?status=failed").await.unwrap();
    let to = wrong.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with("/login?error=") && to.contains("next=%2Fdeliveries"), "{to}");
    let html = client().get(s.url(&to)).header("cookie", &seed).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("not valid or has been revoked"), "the reason is on the page before any script runs");
    let ok = login(ADMIN_TOKEN, "/deliveries?status=failed").await.unwrap();
    assert_eq!(ok.headers()["location"], "/deliveries?status=failed");
    for elsewhere in ["//evil.example.com/", "https://evil.example.com/", "/\\evil.example.com"] {
        let ok = login(ADMIN_TOKEN, elsewhere).await.unwrap();
        assert_eq!(ok.headers()["location"], "/", "{elsewhere} is not a page of the console");
    }
}
