//! One webhook: secret, test, enable and disable, pause and resume, recovery, its statistics, its
//! deliveries, and the edit form.

use crate::app::data::{
    delete_webhook, get_webhook_view, reveal_secret, rotate_secret, send_test, set_active, set_paused, webhook_recovery,
};
use crate::app::model::{settle, Recovery, WebhookView};
use crate::app::pages::deliveries::DeliveryTable;
use crate::app::pages::webhooks::WebhookForm;
use crate::app::ui::{
    millis, percent, since_ms, ActiveBadge, Card, Confirm, Empty, ErrorBox, LatencyChart, Loading, SincePicker,
    VolumeChart, When,
};
use crate::domain::{AttemptResult, DeliveryOrder, SecretInfo, Webhook};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn WebhookPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let data = Resource::new(move || id.get(), get_webhook_view);
    view! {
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match settle(data.await) {
                    Ok(v) => view! { <Detail v reload=move || data.refetch()/> }.into_any(),
                    Err(p) => view! { <h1>"Webhook"</h1> <ErrorBox problem=p/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Detail(v: WebhookView, reload: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let w = v.webhook.clone();
    // The saved webhook: the summaries above the form follow each Save.
    let current = RwSignal::new(w.clone());
    let display_name = crate::domain::webhook_name(&w.url, &w.description);
    let id = StoredValue::new(w.id.clone());
    let active = RwSignal::new(w.active);
    let paused = RwSignal::new(w.paused);
    let switch = Action::new(move |on: &bool| set_active(id.get_value(), *on));
    let pause = Action::new(move |on: &bool| set_paused(id.get_value(), *on));
    let asking_pause = RwSignal::new(false);
    let asking_disable = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(Ok(updated))) = switch.value().get().or_else(|| pause.value().get()) {
            active.set(updated.active);
            paused.set(updated.paused);
            asking_pause.set(false);
            asking_disable.set(false);
            reload();
        }
    });
    let test = Action::new(move |_: &()| send_test(id.get_value()));
    let names = v.names();
    let s = v.stats;
    view! {
        <div class="page-head">
            <div>
                <h1 class="wrap">{move || current.with(|w| w.url.clone())}</h1>
                <p class="muted">{move || current.with(|w| w.description.clone())} " · tenant " {w.tenant.clone()} " · " <code>{w.id.clone()}</code></p>
            </div>
            <div class="actions">
                <span data-testid="webhook-status">{move || view! { <ActiveBadge active=active.get() paused=paused.get()/> }}</span>
                <Show when=move || paused.get() fallback=move || view! {
                    <Show when=move || active.get() fallback=move || view! {
                        <button class="secondary" on:click=move |_| { switch.dispatch(true); } disabled=move || switch.pending().get()>"Enable"</button>
                    }>
                        <button class="secondary" on:click=move |_| { asking_disable.set(false); asking_pause.set(true) }>"Pause…"</button>
                        <button class="secondary" on:click=move |_| { asking_pause.set(false); asking_disable.set(true) }>"Disable…"</button>
                    </Show>
                }>
                    <button on:click=move |_| { pause.dispatch(false); } disabled=move || pause.pending().get()>"Resume"</button>
                </Show>
                <button on:click=move |_| { test.dispatch(()); } disabled=move || test.pending().get()>
                    {move || if test.pending().get() { "Sending…" } else { "Send test event" }}
                </button>
            </div>
        </div>
        <Show when=move || asking_pause.get()>
            <Confirm label="Confirm pause" cancel=move || asking_pause.set(false)>
                <p>"Pause deliveries to this webhook? Nothing is lost: what it would get meanwhile is queued, held, and sent when you resume."</p>
                <div class="actions">
                    <button on:click=move |_| { pause.dispatch(true); } disabled=move || pause.pending().get()>"Pause deliveries"</button>
                    <button class="secondary" on:click=move |_| asking_pause.set(false)>"Cancel"</button>
                </div>
            </Confirm>
        </Show>
        <Show when=move || asking_disable.get()>
            <Confirm label="Confirm disable" cancel=move || asking_disable.set(false)>
                <p>
                    <strong>"Disable this webhook? "</strong>
                    "Events published while it is disabled are not queued for it: it misses them (Recovery can replay them later, by hand). "
                    "Deliveries already queued are held until you enable it."
                </p>
                <p>"To keep every event instead, pause it: what it would get is queued and held, and sent when you resume."</p>
                <div class="actions">
                    <button on:click=move |_| { pause.dispatch(true); } disabled=move || pause.pending().get()>"Pause instead"</button>
                    <button class="danger" on:click=move |_| { switch.dispatch(false); } disabled=move || switch.pending().get()>"Disable"</button>
                    <button class="secondary" on:click=move |_| asking_disable.set(false)>"Cancel"</button>
                </div>
            </Confirm>
        </Show>
        {if w.paused {
            Some(view! { <p class="alert alert-warning">"Paused: deliveries are held until you resume."</p> })
        } else {
            None
        }}
        {w.disabled_reason.clone().filter(|_| !w.active && !w.paused).map(|r| view! { <p class="alert alert-warning">"Disabled: " {r}</p> })}
        {move || switch.value().get().or_else(|| pause.value().get()).and_then(|r| settle(r).err()).map(|p| view! { <ErrorBox problem=p/> })}
        {move || test.value().get().map(|r| match settle(r) {
            Ok(result) => view! { <TestResult result/> }.into_any(),
            Err(p) => view! { <ErrorBox problem=p/> }.into_any(),
        })}
        {(use_query_map().get_untracked().get("created").is_some()).then(|| view! {
            <p class="notice" role="status" data-testid="created-notice">
                "Webhook created. Reveal its signing secret below to give it to the receiver."
            </p>
        })}
        <section class="cards">
            <Card label="Success rate (24 h)" value=percent(s.success_rate) testid="card-success"/>
            <Card label="Average response" value=millis(s.avg_response_ms) testid="card-latency"/>
            <Card label="Deliveries (24 h)" value=s.deliveries.to_string() testid="card-deliveries"/>
            <Card label="Queue" value=s.queue_size.to_string() testid="card-queue"/>
            <Card label="Consecutive failures" value=w.consecutive_failures.to_string() testid="card-failures"/>
        </section>
        <section class="charts">
            <VolumeChart title="Attempts and success rate, last 24 hours" series=s.series.clone() format="%d %b %H:%M"/>
            <LatencyChart title="Response time, last 24 hours" series=s.series.clone() format="%d %b %H:%M"/>
        </section>
        <RecoveryCard id=w.id.clone()/>
        {
            let catalog = v.event_types.clone();
            move || view! { <Receives patterns=current.get().events catalog=catalog.clone()/> }
        }
        {move || view! { <Sending w=current.get()/> }}
        <Secret id=w.id.clone() masked=w.secret.clone()/>
        <section class="card">
            <div class="page-head">
                <h2>"Latest deliveries"</h2>
                <a href=format!("/deliveries?webhookId={}", w.id)>"All deliveries of this webhook"</a>
            </div>
            {if v.deliveries.data.is_empty() {
                view! { <Empty message="No deliveries yet. Send a test event, or publish an event it subscribes to."><span></span></Empty> }.into_any()
            } else {
                view! { <DeliveryTable rows=v.deliveries.data names/> }.into_any()
            }}
        </section>
        <section>
            <h2>"Edit"</h2>
            <WebhookForm existing=Some(w) types=v.event_types on_saved=Callback::new(move |saved: Webhook| current.set(saved))/>
        </section>
        <DeleteWebhook id=id.get_value() name=display_name/>
    }
}

/// How deliveries are made to the webhook: its controls, and its own headers on every request.
#[component]
fn Sending(w: Webhook) -> impl IntoView {
    let pace = match (w.rate_limit, w.max_in_flight) {
        (None, None) => "As fast as they come".to_string(),
        (Some(r), None) => format!("At most {r} per second"),
        (None, Some(m)) => format!("At most {m} at once"),
        (Some(r), Some(m)) => format!("At most {r} per second, {m} at once"),
    };
    let order = match w.ordering {
        DeliveryOrder::Fifo => "one at a time, in publish order (FIFO)",
        DeliveryOrder::None => "in any order",
    };
    let headers = w.headers;
    view! {
        <section class="card" data-testid="sending">
            <h2>"Delivery"</h2>
            <p data-testid="delivery-controls">{pace} ", " {order} "."</p>
            <h3>"Headers sent with every delivery"</h3>
            {if headers.is_empty() {
                view! { <p class="muted">"Our headers only (ids, timestamp, signatures). Add your own under Edit."</p> }.into_any()
            } else {
                view! {
                    <ul class="plain">
                        {headers.into_iter().map(|(name, value)| view! { <li><code>{name}": "{value}</code></li> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

/// Recovery since a time: the failed deliveries to queue again and the events the webhook missed
/// (while it was off, or before it subscribed), counted first, then each queued on request.
#[component]
fn RecoveryCard(id: String) -> impl IntoView {
    let id = StoredValue::new(id);
    let choice = RwSignal::new("24h".to_string());
    let custom = RwSignal::new(String::new());
    // What the last call asked: "" counts, "recover" or "replay" runs that one.
    let asked = RwSignal::new(String::new());
    let call = Action::new(move |(since, what): &(i64, String)| webhook_recovery(id.get_value(), *since, what.clone()));
    let run = move |what: &'static str| {
        if let Some(since) = since_ms(&choice.get_untracked(), &custom.get_untracked()) {
            asked.set(what.to_string());
            call.dispatch((since, what.to_string()));
        }
    };
    let answer = move || call.value().get().map(settle);
    view! {
        <section class="card" aria-label="Recovery" data-testid="recovery">
            <h2>"Recovery"</h2>
            <p class="muted">"Send again what failed, or what this webhook missed while it was off."</p>
            <div class="filters">
                <SincePicker choice custom/>
                <button class="secondary" on:click=move |_| run("") disabled=move || call.pending().get()>"Check"</button>
            </div>
            {move || match answer() {
                None => None,
                Some(Err(p)) => Some(view! { <ErrorBox problem=p/> }.into_any()),
                Some(Ok(r)) => Some(view! { <RecoveryAnswer r asked=asked.get() run/> }.into_any()),
            }}
        </section>
    }
}

#[component]
fn RecoveryAnswer(
    r: Recovery,
    asked: String,
    run: impl Fn(&'static str) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let plural = |n: u64, one: &str, many: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {many}") };
    let done = match asked.as_str() {
        "recover" => Some(format!("{} queued again.", plural(r.failed, "failed delivery", "failed deliveries"))),
        "replay" => Some(format!("{} queued.", plural(r.missed, "missed event", "missed events"))),
        _ => None,
    };
    match done {
        Some(message) => view! { <p class="notice" role="status" data-testid="recovery-done">{message}</p> }.into_any(),
        None => view! {
            <ul class="recovery" data-testid="recovery-counts">
                <li>
                    {plural(r.failed, "failed delivery", "failed deliveries")} " can be sent again. "
                    <button on:click=move |_| run("recover") disabled=r.failed == 0>{format!("Recover {} failed", r.failed)}</button>
                </li>
                <li>
                    {plural(r.missed, "event", "events")} " it missed (published while it was off, or before it subscribed). "
                    <button on:click=move |_| run("replay") disabled=r.missed == 0>{format!("Replay {} missed", r.missed)}</button>
                </li>
            </ul>
        }
        .into_any(),
    }
}

/// Deletion, confirmed in a second step; the list then says which webhook went.
#[component]
fn DeleteWebhook(id: String, name: String) -> impl IntoView {
    let asking = RwSignal::new(false);
    let remove = Action::new(move |_: &()| delete_webhook(id.clone()));
    let navigate = leptos_router::hooks::use_navigate();
    let gone =
        format!("/webhooks?deleted={}", url::form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>());
    Effect::new(move |_| {
        if let Some(Ok(Ok(()))) = remove.value().get() {
            navigate(&gone, Default::default());
        }
    });
    view! {
        <section class="card danger-zone" aria-label="Delete">
            <h2>"Delete this webhook"</h2>
            <p class="muted">"Its pending deliveries are dropped and its delivery log goes with it."</p>
            <Show when=move || asking.get() fallback=move || view! {
                <button class="danger" on:click=move |_| asking.set(true)>"Delete…"</button>
            }>
                <Confirm label="Confirm deletion" cancel=move || asking.set(false)>
                    <p>"Delete this webhook for good? This cannot be undone."</p>
                    <div class="actions">
                        <button class="secondary" on:click=move |_| asking.set(false)>"Cancel"</button>
                        <button class="danger" on:click=move |_| { remove.dispatch(()); } disabled=move || remove.pending().get()>"Delete permanently"</button>
                    </div>
                </Confirm>
            </Show>
            {move || remove.value().get().and_then(|r| settle(r).err()).map(|p| view! { <ErrorBox problem=p/> })}
        </section>
    }
}

#[component]
fn TestResult(result: AttemptResult) -> impl IntoView {
    let class = if result.success { "notice" } else { "alert alert-warning" };
    let status = result.status_code.map(|s| s.to_string()).unwrap_or_else(|| "no answer".into());
    view! {
        <div class=format!("card {class}") role="status" data-testid="test-result">
            <p>
                <strong>{if result.success { "Delivered" } else { "Failed" }}</strong>
                " · status " <span data-testid="test-status">{status}</span>
                " · " {format!("{} ms", result.duration_ms)}
                {result.error.clone().map(|e| format!(" · {e}"))}
            </p>
            {result.response_body.clone().filter(|b| !b.is_empty()).map(|b| view! { <pre class="body">{b}</pre> })}
            <a href=format!("/deliveries/{}", result.delivery_id)>"See the attempt"</a>
        </div>
    }
}

/// The signing secret: masked, revealed on request (audited), copied, rotated.
#[component]
fn Secret(id: String, masked: String) -> impl IntoView {
    let id = StoredValue::new(id);
    let shown = RwSignal::new(None::<SecretInfo>);
    let reveal = Action::new(move |_: &()| reveal_secret(id.get_value()));
    let rotate = Action::new(move |grace: &i64| rotate_secret(id.get_value(), *grace));
    let asking = RwSignal::new(false);
    let grace = RwSignal::new(GRACE_CHOICES[2].0.to_string());
    Effect::new(move |_| {
        if let Some(Ok(Ok(s))) = reveal.value().get() {
            shown.set(Some(s));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(Ok(s))) = rotate.value().get() {
            shown.set(Some(s));
            asking.set(false);
        }
    });
    // The secret last put on the clipboard: "Copied" only while it is the one shown.
    let copied = RwSignal::new(None::<String>);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(s) = shown.get_untracked() {
            if let Some(window) = web_sys::window() {
                let _ = window.navigator().clipboard().write_text(&s.secret);
                copied.set(Some(s.secret));
            }
        }
    };
    let is_copied = move || copied.get().is_some_and(|c| shown.with(|s| s.as_ref().is_some_and(|s| s.secret == c)));
    let error = move || {
        reveal
            .value()
            .get()
            .and_then(|r| settle(r).err())
            .or_else(|| rotate.value().get().and_then(|r| settle(r).err()))
    };
    view! {
        <section class="card" aria-label="Signing secret">
            <h2>"Signing secret"</h2>
            <p>
                <code class="secret" data-testid="secret">{move || shown.get().map(|s| s.secret).unwrap_or_else(|| masked.clone())}</code>
            </p>
            {move || shown.get().and_then(|s| s.previous_secret_expires_at).map(|t| view! {
                <p class="muted small">"The previous secret also signs until " <When t/> "."</p>
            })}
            <div class="actions">
                <button class="secondary" on:click=move |_| { reveal.dispatch(()); }>"Reveal"</button>
                <button class="secondary" on:click=copy disabled=move || shown.get().is_none()>{move || if is_copied() { "Copied" } else { "Copy" }}</button>
                <button class="secondary" on:click=move |_| asking.set(true)>"Rotate…"</button>
            </div>
            <Show when=move || asking.get()>
                <Confirm label="Confirm rotation" cancel=move || asking.set(false)>
                    <p>"Rotate the signing secret? Receivers must switch to the new one; until then the old one can keep signing beside it."</p>
                    <label>"The old secret keeps signing for"
                        <select prop:value=move || grace.get() on:change=move |e| grace.set(event_target_value(&e))>
                            {GRACE_CHOICES.iter().map(|(seconds, label)| view! { <option value=*seconds>{*label}</option> }).collect_view()}
                        </select>
                    </label>
                    <div class="actions">
                        <button on:click=move |_| { rotate.dispatch(grace.get_untracked().parse().unwrap_or(86_400)); } disabled=move || rotate.pending().get()>"Rotate now"</button>
                        <button class="secondary" on:click=move |_| asking.set(false)>"Cancel"</button>
                    </div>
                </Confirm>
            </Show>
            <p class="muted small">"Rotating can keep the old secret signing beside the new one for a while, so receivers can switch without losing a delivery."</p>
            {move || error().map(|p| view! { <ErrorBox problem=p/> })}
        </section>
    }
}

/// How long the old secret may keep signing after a rotation (seconds, label); a day by default.
const GRACE_CHOICES: [(&str, &str); 4] =
    [("0", "No overlap: stop at once"), ("3600", "1 hour"), ("86400", "24 hours"), ("604800", "7 days")];

/// What the webhook's subscription means today: the catalog's types it receives.
#[component]
fn Receives(patterns: Vec<String>, catalog: Vec<crate::domain::EventType>) -> impl IntoView {
    let types: Vec<String> =
        crate::domain::event_type::received(&patterns, &catalog).into_iter().map(|t| t.name.clone()).collect();
    let count = types.len();
    view! {
        <section class="card" data-testid="receives">
            <h2>"Receives"</h2>
            <p class="muted">
                "Subscribed to " <code>{patterns.join(", ")}</code> "; today that means these "
                {count} " event types:"
            </p>
            <ul class="tags">
                {types.into_iter().map(|name| view! { <li><code>{name}</code></li> }).collect_view()}
            </ul>
        </section>
    }
}
