//! The delivery log (filters kept in the URL, CSV export of the filtered view, bulk retry of its
//! failed deliveries) and one delivery with its attempts and a retry button.

use crate::app::data::{deliveries, get_delivery_view, retry, retry_failed};
use crate::app::model::{settle, DeliveryView, LogFilter, WebhookNames};
use crate::app::ui::{
    principal, Confirm, Empty, ErrorBox, Loading, Pager, RangePicker, StatusBadge, TenantSelect, WebhookSelect, When,
};
use crate::domain::{Attempt, Delivery, DeliveryStatus, Requeued, Role};
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};
use std::collections::BTreeMap;

#[component]
pub fn DeliveriesPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let filter = Memo::new(move |_| LogFilter::from_url(param));
    let page = Resource::new(move || filter.get(), deliveries);
    let is_admin = principal().is_some_and(|p| p.role == Role::Admin);
    view! {
        <div class="page-head">
            <h1>"Deliveries"</h1>
        </div>
        <Form method="GET" action="" attr:class="filters" attr:aria-label="Filter deliveries">
            <WebhookSelect current=Signal::derive(move || param("webhookId"))/>
            <label>"Event" <input name="event" placeholder="e.g. wallet.created" value=param("event") prop:value=move || param("event")/></label>
            {is_admin.then(|| view! { <TenantSelect current=Signal::derive(move || param("tenant"))/> })}
            <label>"Status"
                <select name="status" prop:value=move || param("status")>
                    <option value="">"All"</option>
                    {DeliveryStatus::ALL.into_iter().map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> }).collect_view()}
                </select>
            </label>
            <RangePicker filter/>
            <button type="submit" class="secondary">"Apply"</button>
        </Form>
        <RetryFailed filter reload=move || page.refetch()/>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match settle(page.await) {
                    Ok(log) if log.page.data.is_empty() && log.total == 0 => view! {
                        <Empty message="No deliveries match these filters."><a href="/deliveries">"Clear the filters"</a></Empty>
                    }.into_any(),
                    Ok(log) => {
                        let shown = log.page.data.len();
                        // Exactly the rows this view counts: its filters, its window as read.
                        let export = filter.get_untracked().export_href(log.as_of);
                        view! {
                            <div class="table-actions">
                                <a class="button secondary" href=export download="" data-testid="export">"Export CSV"</a>
                            </div>
                            <DeliveryTable rows=log.page.data names=log.names/>
                            <Pager filter=filter.get_untracked() next=log.page.next_cursor shown size=25 total=log.total path="/deliveries"/>
                        }.into_any()
                    }
                    Err(p) => view! { <ErrorBox problem=p/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// "Retry all N failed in this view": the failed deliveries the filters select (whatever the page),
/// counted, then queued again after a confirmation.
#[component]
fn RetryFailed(filter: Memo<LogFilter>, reload: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    // Failed deliveries are in the view unless the status filter names another state.
    let in_view = move || matches!(filter.get().status.as_str(), "" | "failed");
    let count = Resource::new(
        move || (filter.get(), in_view()),
        |(f, in_view)| async move {
            if !in_view {
                return Ok(Ok(Requeued::default()));
            }
            retry_failed(LogFilter { cursor: String::new(), trail: String::new(), ..f }, false).await
        },
    );
    let asking = RwSignal::new(false);
    let run = Action::new(move |_: &()| retry_failed(filter.get_untracked(), true));
    Effect::new(move |_| {
        if let Some(Ok(Ok(_))) = run.value().get() {
            asking.set(false);
            count.refetch();
            reload();
        }
    });
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let Requeued { total: n, held } = settle(count.await).unwrap_or_default();
                (n > 0).then(|| view! {
                    <div class="bulk" data-testid="retry-failed">
                        <Show when=move || asking.get() fallback=move || view! {
                            <button class="secondary" on:click=move |_| asking.set(true)>{format!("Retry all {n} failed in this view")}</button>
                        }>
                            <Confirm label="Confirm retry" cancel=move || asking.set(false)>
                                <p>{if n == 1 { "Queue 1 failed delivery again, now?".to_string() } else { format!("Queue {n} failed deliveries again, now?") }}
                                    {held_note(held)}</p>
                                <div class="actions">
                                    <button on:click=move |_| { run.dispatch(()); } disabled=move || run.pending().get()>{format!("Retry {n}")}</button>
                                    <button class="secondary" on:click=move |_| asking.set(false)>"Cancel"</button>
                                </div>
                            </Confirm>
                        </Show>
                    </div>
                })
            })}
        </Transition>
        {move || run.value().get().map(|r| match settle(r) {
            Ok(done) => view! {
                <p class="notice" role="status" data-testid="retry-failed-done">
                    {format!("{} queued again.", done.total)} {held_note(done.held)}
                </p>
            }.into_any(),
            Err(p) => view! { <ErrorBox problem=p/> }.into_any(),
        })}
    }
}

/// " 2 of them are only held: their webhook is off." (nothing when none is).
fn held_note(held: u64) -> Option<String> {
    match held {
        0 => None,
        1 => Some(" 1 of them is only held: its webhook is off, and it goes when the webhook is switched on.".into()),
        n => Some(format!(" {n} of them are only held: their webhook is off, and they go when it is switched on.")),
    }
}

/// Deliveries as a table, each linking to its page.
#[component]
pub fn DeliveryTable(rows: Vec<Delivery>, names: WebhookNames) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table responsive" data-testid="deliveries">
                <thead><tr><th>"Created"</th><th>"Event"</th><th>"Webhook"</th><th>"Status"</th><th>"Attempts"</th><th>"Last answer"</th><th></th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|d| view! {
                        <tr>
                            <td data-label="Created"><When t=d.created_at/></td>
                            <td data-label="Event">{d.event.clone()}</td>
                            <td data-label="Webhook" class="wrap">
                                <a href=format!("/webhooks/{}", d.webhook_id)>{names.get(&d.webhook_id).cloned().unwrap_or_else(|| d.webhook_id.clone())}</a>
                                <div class="muted small"><code>{d.webhook_id.clone()}</code></div>
                            </td>
                            <td data-label="Status">
                                <StatusBadge status=d.status/>
                                {d.waiting_behind.clone().map(|head| view! {
                                    <div class="small muted" data-testid="waiting-behind">"waits behind " <a href=format!("/deliveries/{head}")>"an earlier delivery"</a></div>
                                })}
                            </td>
                            <td data-label="Attempts">{d.attempt_count}</td>
                            <td class="small" data-label="Last answer">{d.last_status_code.map(|c| c.to_string()).or(d.last_error.clone()).unwrap_or_default()}</td>
                            <td><a href=format!("/deliveries/{}", d.id)>"Details"</a></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
pub fn DeliveryPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let data = Resource::new(move || id.get(), get_delivery_view);
    let again = Action::new(move |_: &()| retry(id.get_untracked()));
    Effect::new(move |_| {
        if again.value().get().is_some() {
            data.refetch();
        }
    });
    view! {
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match settle(data.await) {
                    Ok(v) => view! { <DeliveryDetail v again/> }.into_any(),
                    Err(p) => view! { <h1>"Delivery"</h1> <ErrorBox problem=p/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn DeliveryDetail(
    v: DeliveryView,
    again: Action<(), Result<crate::app::model::Answer<crate::domain::AttemptResult>, ServerFnError>>,
) -> impl IntoView {
    let d = v.delivery;
    view! {
        <div class="page-head">
            <div>
                <h1 class="wrap">{d.event.clone()} " to " {v.webhook_name.clone().unwrap_or_else(|| "a deleted webhook".into())}</h1>
                <p class="muted">
                    "Delivery " <code>{d.id.clone()}</code>
                    " · to " <a href=format!("/webhooks/{}", d.webhook_id)>{v.webhook_name.clone().unwrap_or_else(|| d.webhook_id.clone())}</a>
                    " · of event " <a href=format!("/events/{}", d.event_id)><code>{d.event_id.clone()}</code></a> " · created " <When t=d.created_at/>
                </p>
                {d.waiting_behind.clone().map(|head| view! {
                    <p class="notice" data-testid="waiting-behind">
                        "This webhook takes deliveries one at a time, in publish order: this one starts once "
                        <a href=format!("/deliveries/{head}")>"the earlier delivery"</a> " has succeeded or given up."
                    </p>
                })}
            </div>
            <div class="actions">
                <span data-testid="delivery-status"><StatusBadge status=d.status/></span>
                <button on:click=move |_| { again.dispatch(()); } disabled=move || again.pending().get()>
                    {move || if again.pending().get() { "Retrying…" } else { "Retry now" }}
                </button>
            </div>
        </div>
        {move || again.value().get().map(|r| match settle(r) {
            Ok(a) => view! {
                <p class=if a.success { "notice" } else { "alert alert-warning" } role="status" data-testid="retry-result">
                    {if a.success { "Retry delivered" } else { "Retry failed" }} " · "
                    {a.status_code.map(|s| s.to_string()).or(a.error.clone()).unwrap_or_default()}
                </p>
            }.into_any(),
            Err(p) => view! { <ErrorBox problem=p/> }.into_any(),
        })}
        // Only a pending delivery has a next attempt; a held one waits for its webhook instead.
        {d.next_attempt_at.filter(|_| d.status == DeliveryStatus::Pending).map(|t| view! { <p class="muted">"Next attempt " <When t/></p> })}
        {(d.status == DeliveryStatus::Held).then(|| view! {
            <p class="alert alert-warning">"Held: its webhook is off or paused. It is sent when the webhook is switched on or resumed."</p>
        })}
        <section class="card">
            <h2>"Request body"</h2>
            <p class="muted small">"Sent as is on every attempt; the signature headers of each attempt are below."</p>
            <pre class="body" data-testid="request-body">{v.request_body.clone().map(|b| pretty(&b)).unwrap_or_else(|| "(purged with its event)".into())}</pre>
        </section>
        <h2>"Attempts"</h2>
        {if v.attempts.is_empty() {
            view! { <Empty message="No attempt yet: it is queued."><span></span></Empty> }.into_any()
        } else {
            view! { <div class="attempts">{v.attempts.into_iter().rev().map(|a| view! { <AttemptCard a/> }).collect_view()}</div> }.into_any()
        }}
    }
}

#[component]
fn AttemptCard(a: Attempt) -> impl IntoView {
    let ok = a.response_status.is_some_and(|s| (200..300).contains(&s));
    let outcome = a
        .response_status
        .map(|s| format!("HTTP {s}"))
        .or(a.error_kind.map(|k| k.as_str().to_string()))
        .unwrap_or_else(|| "no answer".into());
    view! {
        <details class="card attempt" data-testid="attempt" open=true>
            <summary>
                <strong>"Attempt " {a.attempt}</strong> " · " {a.trigger.as_str()} " · "
                <span class=if ok { "badge status-succeeded" } else { "badge status-failed" }>{outcome}</span>
                " · " {format!("{} ms", a.duration_ms)} " · " <When t=a.started_at/>
            </summary>
            {a.error.clone().map(|e| view! { <p class="field-error">{e}</p> })}
            <div class="grid2">
                <div><h3>"Request headers"</h3><Headers map=a.request_headers.clone()/></div>
                <div>
                    <h3>"Response headers"</h3>
                    {match a.response_headers.clone() {
                        Some(h) => view! { <Headers map=h/> }.into_any(),
                        None => view! { <p class="muted">"None"</p> }.into_any(),
                    }}
                </div>
            </div>
            <h3>"Response body"</h3>
            <pre class="body" data-testid="response-body">{a.response_body.clone().unwrap_or_default()}</pre>
        </details>
    }
}

/// JSON indented for reading (the text as is when it is not JSON).
fn pretty(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.to_string())
}

#[component]
fn Headers(map: BTreeMap<String, String>) -> impl IntoView {
    view! {
        <table class="headers">
            <tbody>{map.into_iter().map(|(k, v)| view! { <tr><th>{k}</th><td>{v}</td></tr> }).collect_view()}</tbody>
        </table>
    }
}
