//! The dashboard: figures of the window, charts, alerts and a live feed of attempts.

use crate::app::data::get_overview;
use crate::app::model::{settle, Overview};
use crate::app::ui::{
    millis, percent, principal, BarChart, Card, ErrorBox, LatencyChart, Loading, TenantSelect, VolumeChart, When,
};
use crate::domain::{AlertLevel, Role};
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

#[component]
pub fn Dashboard() -> impl IntoView {
    let query = use_query_map();
    let window = Memo::new(move |_| query.read().get("window").unwrap_or_else(|| "24h".into()));
    let tenant = Memo::new(move |_| query.read().get("tenant").unwrap_or_default());
    let data = Resource::new(move || (window.get(), tenant.get()), |(w, t)| get_overview(w, t));
    let is_admin = principal().is_some_and(|p| p.role == Role::Admin);
    // The figures follow along: read again every 15 seconds, the old ones shown until the new arrive.
    #[cfg(feature = "hydrate")]
    {
        if let Ok(timer) = set_interval_with_handle(move || data.refetch(), std::time::Duration::from_secs(15)) {
            on_cleanup(move || timer.clear());
        }
    }
    view! {
        <div class="page-head">
            <h1>"Dashboard"</h1>
            <nav class="tabs" aria-label="Window">
                {["1h", "24h", "7d"].into_iter().map(|w| view! {
                    <a href=move || format!("/?window={w}&tenant={}", tenant.get()) aria-current=move || (window.get() == w).then_some("page")>{w}</a>
                }).collect_view()}
            </nav>
            {is_admin.then(|| view! {
                <Form method="GET" action="" attr:class="filters" attr:aria-label="Tenant">
                    <input type="hidden" name="window" prop:value=move || window.get()/>
                    <TenantSelect current=tenant/>
                    <button type="submit" class="secondary">"Apply"</button>
                </Form>
            })}
        </div>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match settle(data.await) {
                    Ok(o) => view! { <Figures o/> }.into_any(),
                    Err(p) => view! { <ErrorBox problem=p/> }.into_any(),
                }
            })}
        </Transition>
        <LiveFeed/>
    }
}

#[component]
fn Figures(o: Overview) -> impl IntoView {
    let s = o.stats;
    let alerts = o.alerts;
    let events: Vec<(String, i64)> = s.event_distribution.iter().map(|e| (e.event.clone(), e.count)).collect();
    let quiet = s.attempts == 0 && s.deliveries == 0;
    view! {
        {quiet.then(|| view! {
            <section class="card getting-started" data-testid="getting-started">
                <h2>"Nothing delivered in this window yet"</h2>
                <ol>
                    <li><a href="/webhooks/new">"Register a webhook"</a> " — the URL that should receive events, and which events."</li>
                    <li>"Send it a test event from its page, or publish one: " <code>"POST /api/events"</code> "."</li>
                    <li>"Watch attempts arrive in the live feed below; open " <a href="/deliveries">"Deliveries"</a> " to see why one failed."</li>
                </ol>
            </section>
        })}
        {(!alerts.is_empty()).then(|| view! {
            <section class="alerts" aria-label="Alerts" data-testid="alerts">
                {alerts.into_iter().map(|a| {
                    let level = match a.level { AlertLevel::Critical => "critical", AlertLevel::Warning => "warning", AlertLevel::Notice => "notice" };
                    // An alert about one webhook links to it; the others to the log they summarise.
                    let href = if a.subject.starts_with("wh_") {
                        format!("/webhooks/{}", a.subject)
                    } else {
                        match a.subject.strip_prefix("tenant:") {
                            Some(tenant) => format!("/deliveries?tenant={}", url::form_urlencoded::byte_serialize(tenant.as_bytes()).collect::<String>()),
                            None => "/deliveries".to_string(),
                        }
                    };
                    view! { <p class=format!("alert alert-{level}")><strong>{level}</strong> " " <a href=href>{a.message}</a></p> }
                }).collect_view()}
            </section>
        })}
        <section class="cards">
            <Card label="Success rate" value=percent(s.success_rate) testid="card-success"/>
            <Card label="Average response" value=millis(s.avg_response_ms) testid="card-latency"/>
            <Card label="p95 response" value=millis(s.p95_response_ms.map(|v| v as f64)) testid="card-p95"/>
            <Card label="Retry rate" value=percent(s.retry_rate) testid="card-retry"/>
            <Card label="Failure rate" value=percent(s.failure_rate) testid="card-failure"/>
            <Card label="Queue" value=s.queue_size.to_string() testid="card-queue"/>
            <Card label="Deliveries" value=s.deliveries.to_string() testid="card-deliveries"/>
        </section>
        <section class="charts">
            <VolumeChart title="Attempts and success rate" series=s.series.clone() format="%d %b %H:%M"/>
            <LatencyChart title="Response time" series=s.series format="%d %b %H:%M"/>
            <BarChart title="Deliveries by event type" items=events/>
        </section>
    }
}

/// One attempt as the live stream reports it.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct LiveAttempt {
    delivery_id: String,
    webhook_id: String,
    #[serde(default)]
    event: String,
    status: String,
    response_status: Option<i64>,
    duration_ms: i64,
    error_kind: Option<String>,
    at: String,
}

/// Attempts as they happen, from `GET /api/stream` (the session cookie signs the request), newest
/// first by the time they were made (they can arrive out of order from several workers or nodes),
/// each with its webhook's name.
#[component]
fn LiveFeed() -> impl IntoView {
    let items = RwSignal::new(Vec::<LiveAttempt>::new());
    let names = Resource::new(|| (), |_| crate::app::data::webhook_choices());
    let connected = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::JsCast;
        Effect::new(move |_| {
            let Ok(source) = web_sys::EventSource::new("/api/stream") else {
                return;
            };
            let on_attempt = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                if let Some(text) = e.data().as_string() {
                    if let Ok(item) = serde_json::from_str::<LiveAttempt>(&text) {
                        items.update(|list| {
                            // Times are RFC 3339 in UTC with milliseconds: their text sorts as time.
                            let at = list.partition_point(|seen| seen.at > item.at);
                            list.insert(at, item);
                            list.truncate(30);
                        });
                    }
                }
            });
            let _ = source.add_event_listener_with_callback("attempt", on_attempt.as_ref().unchecked_ref());
            on_attempt.forget();
            let on_open = Closure::<dyn FnMut()>::new(move || connected.set(true));
            source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
            on_open.forget();
            let source = send_wrapper::SendWrapper::new(source);
            on_cleanup(move || source.close());
        });
    }
    view! {
        <section class="card live" aria-label="Live feed">
            <h2>"Live feed " <span class="muted small" data-testid="live-status">{move || if connected.get() { "● connected" } else { "○ connecting" }}</span></h2>
            <Show when=move || !items.read().is_empty() fallback=|| view! { <p class="muted">"Attempts appear here as they happen."</p> }>
                <div class="table-wrap"><table class="table" data-testid="live-feed">
                    <thead><tr><th>"Time"</th><th>"Event"</th><th>"Webhook"</th><th>"Outcome"</th><th>"Duration"</th></tr></thead>
                    <tbody>
                        <For each=move || items.get() key=|i| (i.delivery_id.clone(), i.at.clone()) let:i>
                            <tr>
                                <td><a href=format!("/deliveries/{}", i.delivery_id)><When t=i.at.parse().unwrap_or_default()/></a></td>
                                <td>{i.event.clone()}</td>
                                <td>
                                    <a href=format!("/webhooks/{}", i.webhook_id)>{
                                        let id = i.webhook_id.clone();
                                        move || names.get().and_then(|r| settle(r).ok()).and_then(|list| list.into_iter().find(|(w, _)| *w == id).map(|(_, n)| n)).unwrap_or_else(|| id.clone())
                                    }</a>
                                    <div class="muted small"><code>{i.webhook_id.clone()}</code></div>
                                </td>
                                <td>
                                    <span class=format!("badge status-{}", i.status)>{i.status.clone()}</span>
                                    " " {i.response_status.map(|s| s.to_string()).or(i.error_kind.clone()).unwrap_or_default()}
                                </td>
                                <td>{format!("{} ms", i.duration_ms)}</td>
                            </tr>
                        </For>
                    </tbody>
                </table></div>
            </Show>
        </section>
    }
}
