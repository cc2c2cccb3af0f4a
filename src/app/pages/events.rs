//! Published events: the list (filters in the URL) and one event with its payload, where it went
//! (each delivery, per webhook, with its status) and "send again to…" a chosen webhook.

use crate::app::data::{events, get_event_view, send_event};
use crate::app::model::{settle, EventView, LogFilter, SendTarget};
use crate::app::pages::deliveries::DeliveryTable;
use crate::app::ui::{principal, Empty, ErrorBox, Loading, Pager, RangePicker, TenantSelect, When};
use crate::domain::{Event, Role};
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};

const PAGE: usize = 25;

#[component]
pub fn EventsPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let filter = Memo::new(move |_| LogFilter::from_url(param).of_events());
    let list = Resource::new(move || filter.get(), events);
    let is_admin = principal().is_some_and(|p| p.role == Role::Admin);
    view! {
        <div class="page-head"><h1>"Events"</h1></div>
        <Form method="GET" action="" attr:class="filters" attr:aria-label="Filter events">
            <label>"Event" <input name="event" placeholder="e.g. wallet.created" value=param("event") prop:value=move || param("event")/></label>
            {is_admin.then(|| view! { <TenantSelect current=Signal::derive(move || param("tenant"))/> })}
            <RangePicker filter/>
            <button type="submit" class="secondary">"Apply"</button>
        </Form>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match settle(list.await) {
                    Ok(log) if log.page.data.is_empty() && log.total == 0 => view! {
                        <Empty message="No events match these filters."><a href="/events">"Clear the filters"</a></Empty>
                    }.into_any(),
                    Ok(log) => {
                        let shown = log.page.data.len();
                        view! {
                            <EventTable rows=log.page.data/>
                            <Pager filter=filter.get_untracked() next=log.page.next_cursor shown size=PAGE total=log.total path="/events"/>
                        }.into_any()
                    }
                    Err(p) => view! { <ErrorBox problem=p/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn EventTable(rows: Vec<Event>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table responsive" data-testid="events">
                <thead><tr><th>"Event"</th><th>"Published"</th><th>"Tenant"</th><th>"Deliveries"</th><th></th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|e| view! {
                        <tr>
                            <td class="lead">{e.event.clone()} <div class="muted small"><code>{e.id.clone()}</code></div></td>
                            <td data-label="Published"><When t=e.timestamp/></td>
                            <td data-label="Tenant">{e.tenant.clone().unwrap_or_else(|| "every tenant (broadcast)".into())}</td>
                            <td data-label="Deliveries">{e.deliveries}</td>
                            <td><a href=format!("/events/{}", e.id)>"Details"</a></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
pub fn EventPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let data = Resource::new(move || id.get(), get_event_view);
    // Outside the view it refreshes, so its answer stays shown after the refresh.
    let send = Action::new(move |webhook: &String| send_event(id.get_untracked(), webhook.clone()));
    Effect::new(move |_| {
        if let Some(Ok(Ok(_))) = send.value().get() {
            data.refetch();
        }
    });
    view! {
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match settle(data.await) {
                    Ok(v) => view! { <EventDetail v send/> }.into_any(),
                    Err(p) => view! { <h1>"Event"</h1> <ErrorBox problem=p/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// "Send again": the webhook chosen, and what its answer was.
type SendAction = Action<String, Result<crate::app::model::Answer<crate::app::model::SentAgain>, ServerFnError>>;

#[component]
fn EventDetail(v: EventView, send: SendAction) -> impl IntoView {
    let e = v.event;
    let payload = serde_json::to_string_pretty(&e.data).unwrap_or_default();
    view! {
        <div class="page-head">
            <div>
                <h1>{e.event.clone()}</h1>
                <p class="muted">
                    <code>{e.id.clone()}</code> " · " {e.tenant.clone().map(|t| format!("tenant {t}")).unwrap_or_else(|| "broadcast to every tenant".into())}
                    " · published " <When t=e.timestamp/>
                    {e.idempotency_key.clone().map(|k| view! { " · idempotency key " <code>{k}</code> })}
                </p>
            </div>
        </div>
        <section class="card">
            <h2>"Data"</h2>
            <pre class="body" data-testid="event-data">{payload}</pre>
        </section>
        <h2>"Where it went"</h2>
        {if v.deliveries.is_empty() {
            view! { <Empty message="No webhook subscribed to it when it was published."><span></span></Empty> }.into_any()
        } else {
            view! { <DeliveryTable rows=v.deliveries names=v.names/> }.into_any()
        }}
        <SendAgain targets=v.targets send/>
    }
}

/// "Send again to…": one more delivery of the event to a chosen webhook.
#[component]
fn SendAgain(targets: Vec<SendTarget>, send: SendAction) -> impl IntoView {
    // Nothing is chosen for the user: the event goes where they say, not to the first in the list.
    let chosen = RwSignal::new(String::new());
    let none = targets.is_empty();
    let held = targets.iter().filter(|t| t.held).count();
    let unsubscribed = targets.iter().filter(|t| !t.subscribed).count();
    let caveat = match (held, unsubscribed) {
        (0, 0) => None,
        (h, u) => Some(format!(
            "Of these {} webhooks, {h} would only hold it (off or paused) and {u} do not subscribe to this type.",
            targets.len()
        )),
    };
    view! {
        <section class="card" data-testid="send-again">
            <h2>"Send again"</h2>
            <p class="muted small">"Queues one more delivery of this event, signed anew, to the webhook you choose: for a receiver that lost it, or a webhook made after it."</p>
            {if none {
                view! { <p class="muted">"No webhook of this tenant to send it to."</p> }.into_any()
            } else {
                view! {
                    <div class="inline-form">
                        <label>"To"
                            <select data-testid="send-target" prop:value=move || chosen.get() on:change=move |ev| chosen.set(event_target_value(&ev))>
                                <option value="" selected=true disabled=true>"Choose a webhook…"</option>
                                {targets.into_iter().map(|t| view! { <option value=t.id>{t.label}</option> }).collect_view()}
                            </select>
                        </label>
                        <button on:click=move |_| { send.dispatch(chosen.get_untracked()); }
                            disabled=move || send.pending().get() || chosen.get().is_empty()>"Send again"</button>
                    </div>
                    {caveat.clone().map(|c| view! { <p class="muted small" data-testid="send-caveat">{c}</p> })}
                }.into_any()
            }}
            {move || send.value().get().map(|r| match settle(r) {
                Ok(sent) => {
                    let href = format!("/deliveries/{}", sent.delivery_id);
                    let what = if sent.status == "held" { "Held until the webhook is switched on: " } else { "Queued: " };
                    view! { <p class="notice" role="status" data-testid="sent-again">{what} <a href=href>{sent.delivery_id.clone()}</a></p> }.into_any()
                }
                Err(p) => view! { <ErrorBox problem=p/> }.into_any(),
            })}
        </section>
    }
}
