//! Webhooks: the list with filters, and the form that registers or edits one (with the event picker).

use crate::app::csrf::CsrfField;
use crate::app::data::{create_webhook, event_types, update_webhook, webhooks};
use crate::app::model::{settle, Problem, WebhookHealth};
use crate::app::ui::{
    field_error, percent, principal, CopyButton, Empty, ErrorBox, Loading, Sparkline, StatusBadge, TenantPicker,
    TenantSelect, When,
};
use crate::domain::event_type::CATEGORIES;
use crate::domain::{EventType, Role, Webhook};
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let filters =
        Memo::new(move |_| (param("search"), param("status"), param("event"), param("tenant"), param("cursor")));
    let sort = Memo::new(move |_| param("sort"));
    let page = Resource::new(
        move || filters.get(),
        |(search, status, event, tenant, cursor)| webhooks(search, status, event, tenant, cursor),
    );
    let is_admin = principal().is_some_and(|p| p.role == Role::Admin);
    view! {
        <div class="page-head">
            <h1>"Webhooks"</h1>
            <a class="button" href="/webhooks/new">"New webhook"</a>
        </div>
        {move || Some(param("deleted")).filter(|d| !d.is_empty()).map(|name| view! {
            <p class="notice" role="status" data-testid="deleted-notice">"Deleted " <strong>{name}</strong> ", with its pending deliveries and its log."</p>
        })}
        <Form method="GET" action="" attr:class="filters" attr:aria-label="Filter webhooks">
            <label>"Search" <input type="search" name="search" placeholder="URL or description" prop:value=move || param("search")/></label>
            <label>"Status"
                <select name="status" prop:value=move || param("status")>
                    <option value="">"All"</option>
                    <option value="active">"Active"</option>
                    <option value="failing">"Failing"</option>
                    <option value="paused">"Paused"</option>
                    <option value="disabled">"Off (disabled or paused)"</option>
                </select>
            </label>
            <label>"Receives event" <input name="event" placeholder="e.g. wallet.created" prop:value=move || param("event")/></label>
            {is_admin.then(|| view! { <TenantSelect current=Signal::derive(move || param("tenant"))/> })}
            <label>"Sort"
                <select name="sort" prop:value=move || param("sort")>
                    <option value="">"Newest first"</option>
                    <option value="url">"URL"</option>
                    <option value="failures">"Most failures"</option>
                </select>
            </label>
            <button type="submit" class="secondary">"Apply"</button>
        </Form>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match settle(page.await) {
                    Ok(p) if p.data.is_empty() => view! {
                        <Empty message="No webhooks match.">
                            <a href="/webhooks/new">"Register a webhook"</a>
                        </Empty>
                    }.into_any(),
                    Ok(p) => {
                        let mut rows = p.data;
                        match sort.get_untracked().as_str() {
                            "url" => rows.sort_by(|a, b| a.webhook.url.cmp(&b.webhook.url)),
                            "failures" => rows.sort_by_key(|h| std::cmp::Reverse(h.webhook.consecutive_failures)),
                            _ => {}
                        }
                        let next = p.next_cursor.map(|c| {
                            let (search, status, event, tenant, _) = filters.get_untracked();
                            format!("/webhooks?search={search}&status={status}&event={event}&tenant={tenant}&cursor={c}")
                        });
                        view! { <WebhookTable rows/> {next.map(|href| view! { <a class="button secondary" href=href>"Next page"</a> })} }.into_any()
                    }
                    Err(p) => view! { <ErrorBox problem=p/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn WebhookTable(rows: Vec<WebhookHealth>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table responsive" data-testid="webhooks">
                <thead><tr>
                    <th>"URL"</th><th>"Events"</th><th>"Tenant"</th><th>"Health"</th><th>"Success (24 h)"</th>
                    <th>"p95"</th><th>"Last delivery"</th><th>"Failures"</th><th>"Created"</th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|h| {
                        let w = h.webhook;
                        view! {
                            <tr data-testid=format!("webhook-{}", w.id)>
                                <td class="lead wrap"><a href=format!("/webhooks/{}", w.id)>{w.url.clone()}</a><div class="muted small">{w.description.clone()}</div></td>
                                <td class="small" data-label="Events">{w.events.join(", ")}</td>
                                <td data-label="Tenant">{w.tenant.clone()}</td>
                                <td data-label="Health"><span class=format!("badge health-{}", h.state) data-testid="health">{h.state.replace('-', " ")}</span></td>
                                <td class="nowrap" data-label="Success (24 h)"><Sparkline values=h.series/> " " {percent(h.success_rate)}</td>
                                <td data-label="p95">{h.p95_ms.map(|ms| format!("{ms} ms")).unwrap_or_else(|| "—".into())}</td>
                                <td data-label="Last delivery">{h.last.map(|(t, status)| view! { <When t/> <div><StatusBadge status/></div> })}</td>
                                <td data-label="Failures">{w.consecutive_failures}</td>
                                <td data-label="Created"><When t=w.created_at/></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
pub fn NewWebhookPage() -> impl IntoView {
    let catalog = Resource::new(|| (), |_| event_types());
    view! {
        <div class="page-head"><h1>"New webhook"</h1></div>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match settle(catalog.await) {
                    Ok(types) => view! { <WebhookForm existing=None types/> }.into_any(),
                    Err(p) => view! { <ErrorBox problem=p/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Registers a webhook, or edits `existing` (then `on_saved` hears of each saved version).
#[component]
pub fn WebhookForm(
    existing: Option<Webhook>,
    types: Vec<EventType>,
    #[prop(optional)] on_saved: Option<Callback<Webhook>>,
) -> impl IntoView {
    let editing = existing.clone();
    // A plain form post (before hydration) that was refused comes back with what was typed and
    // why, in the address.
    let query = use_query_map().get_untracked();
    let returned = |name: &str| if existing.is_none() { query.get(name).unwrap_or_default() } else { String::new() };
    let returned_problem = (existing.is_none()).then(|| query.get("error")).flatten().map(|message| Problem {
        code: query.get("code").unwrap_or_default(),
        message,
        field: query.get("field"),
    });
    let url = RwSignal::new(existing.as_ref().map(|w| w.url.clone()).unwrap_or_else(|| returned("url")));
    let description =
        RwSignal::new(existing.as_ref().map(|w| w.description.clone()).unwrap_or_else(|| returned("description")));
    let selected = RwSignal::new(
        existing.as_ref().map(|w| w.events.clone()).unwrap_or_else(|| query.get_all("events").unwrap_or_default()),
    );
    let headers = RwSignal::new(
        existing
            .as_ref()
            .map(|w| crate::domain::traffic::to_header_lines(&w.headers))
            .unwrap_or_else(|| returned("headers")),
    );
    let number = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
    let rate_limit =
        RwSignal::new(existing.as_ref().map(|w| number(w.rate_limit)).unwrap_or_else(|| returned("rate_limit")));
    let max_in_flight =
        RwSignal::new(existing.as_ref().map(|w| number(w.max_in_flight)).unwrap_or_else(|| returned("max_in_flight")));
    let ordering = RwSignal::new(
        existing
            .as_ref()
            .map(|w| w.ordering.as_str().to_string())
            .unwrap_or_else(|| Some(returned("ordering")).filter(|o| o == "fifo").unwrap_or_else(|| "none".into())),
    );
    let custom_secret = RwSignal::new(false);
    let secret = RwSignal::new(String::new());
    let tenant = RwSignal::new(returned("tenant"));
    let new_tenant = RwSignal::new(returned("new_tenant"));
    let is_admin = principal().is_some_and(|p| p.role == Role::Admin);
    let create = Action::new(move |_: &()| {
        let secret = if custom_secret.get_untracked() { secret.get_untracked() } else { String::new() };
        create_webhook(
            url.get_untracked(),
            selected.get_untracked(),
            description.get_untracked(),
            secret,
            tenant.get_untracked(),
            new_tenant.get_untracked(),
            headers.get_untracked(),
            rate_limit.get_untracked(),
            max_in_flight.get_untracked(),
            ordering.get_untracked(),
        )
    });
    let id = existing.as_ref().map(|w| w.id.clone()).unwrap_or_default();
    let update = Action::new(move |_: &()| {
        update_webhook(
            id.clone(),
            url.get_untracked(),
            selected.get_untracked(),
            description.get_untracked(),
            headers.get_untracked(),
            rate_limit.get_untracked(),
            max_in_flight.get_untracked(),
            ordering.get_untracked(),
        )
    });
    // Once created, the form is emptied (a second click cannot make a duplicate) and the one-time
    // secret below it is scrolled into view.
    let created = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if let Some(Ok(Ok(_))) = create.value().get() {
            url.set(String::new());
            description.set(String::new());
            selected.set(Vec::new());
            headers.set(String::new());
            rate_limit.set(String::new());
            max_in_flight.set(String::new());
            ordering.set(String::new());
            custom_secret.set(false);
            secret.set(String::new());
            tenant.set(String::new());
            new_tenant.set(String::new());
            request_animation_frame(move || {
                if let Some(el) = created.get_untracked() {
                    el.scroll_into_view();
                }
            });
        }
    });
    Effect::new(move |_| {
        if let (Some(Ok(Ok(saved))), Some(on_saved)) = (update.value().get(), on_saved) {
            on_saved.run(saved);
        }
    });
    let editing = editing.is_some();
    let problem = Memo::new(move |_| {
        match if editing { update.value().get() } else { create.value().get() } {
            Some(result) => settle(result).err(),
            None => returned_problem.clone(),
        }
        .map(in_words)
    });
    // A refused field is brought into view, its message beside it.
    Effect::new(move |_| {
        if problem.get().is_some_and(|p| p.field.is_some()) {
            request_animation_frame(move || {
                #[cfg(feature = "hydrate")]
                if let Some(el) = document().query_selector("form.form .field-error").ok().flatten() {
                    el.scroll_into_view_with_bool(false);
                }
            });
        }
    });
    let pending = move || create.pending().get() || update.pending().get();
    let is_edit = existing.is_some();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if is_edit {
            update.dispatch(());
        } else {
            create.dispatch(());
        }
    };
    view! {
        // Before hydration the create form posts as plain HTML to its server function, which
        // answers with a redirect (to the new webhook, or back here with the refusal).
        <form class="card stack form" on:submit=on_submit aria-label=if is_edit { "Edit webhook" } else { "New webhook" }
            method=(!is_edit).then_some("post") action=(!is_edit).then_some("/console/create_webhook")>
            {(!is_edit).then(|| view! { <CsrfField/> })}
            <label for="wh-url">"Endpoint URL"</label>
            <input id="wh-url" name="url" type="url" required=true placeholder="https://example.com/webhooks" value=url.get_untracked() bind:value=url/>
            {move || field_error(problem.get(), "url").map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            <label for="wh-description">"Description"</label>
            <input id="wh-description" name="description" placeholder="What this endpoint does" value=description.get_untracked() bind:value=description/>
            {move || field_error(problem.get(), "description").map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            <fieldset>
                <legend>"Events"</legend>
                <Subscriptions selected types=types.clone()/>
                <EventPicker selected types/>
                {move || field_error(problem.get(), "events").map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            </fieldset>
            <label for="wh-headers">"Headers sent with every delivery (one per line, " <code>"Name: value"</code> ")"</label>
            <textarea id="wh-headers" name="headers" rows="3" spellcheck="false" placeholder="Authorization: Bearer …"
                prop:value=move || headers.get() on:input=move |ev| headers.set(event_target_value(&ev))>{headers.get_untracked()}</textarea>
            {move || field_error(problem.get(), "headers").map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            <fieldset class="controls">
                <legend>"Delivery controls (empty: none)"</legend>
                <label for="wh-rate">"At most this many deliveries per second"</label>
                <input id="wh-rate" name="rate_limit" inputmode="numeric" placeholder="e.g. 5" value=rate_limit.get_untracked() bind:value=rate_limit/>
                {move || field_error(problem.get(), "rateLimit").map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                <label for="wh-inflight">"At most this many requests at once"</label>
                <input id="wh-inflight" name="max_in_flight" inputmode="numeric" placeholder="e.g. 1" value=max_in_flight.get_untracked() bind:value=max_in_flight/>
                {move || field_error(problem.get(), "maxInFlight").map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                <label for="wh-ordering">"Order"</label>
                <select id="wh-ordering" name="ordering" prop:value=move || ordering.get() on:change=move |ev| ordering.set(event_target_value(&ev))>
                    <option value="none" selected=ordering.get_untracked() != "fifo">"Any order, several at once"</option>
                    <option value="fifo" selected=ordering.get_untracked() == "fifo">"One at a time, in publish order (FIFO)"</option>
                </select>
                {move || field_error(problem.get(), "ordering").map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                <p class="muted small">"Deliveries over a limit wait in the queue: they are not failed and do not count against the endpoint. With FIFO a delivery starts once the one before it succeeded or gave up."</p>
            </fieldset>
            {(!is_edit).then(|| view! {
                <label class="inline"><input type="checkbox" bind:checked=custom_secret/> " Use my own signing secret"</label>
                <Show when=move || custom_secret.get()>
                    <label for="wh-secret">"Signing secret (24 characters or more)"</label>
                    <input id="wh-secret" name="secret" bind:value=secret autocomplete="off"/>
                </Show>
                {move || field_error(problem.get(), "secret").map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                {is_admin.then(|| view! {
                    <TenantPicker tenant new_tenant/>
                    {move || field_error(problem.get(), "tenant").map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                })}
            })}
            {move || problem.get().filter(|p| p.field.is_none()).map(|p| view! { <ErrorBox problem=p/> })}
            <button type="submit" disabled=pending>{move || if pending() { "Saving…" } else if is_edit { "Save changes" } else { "Create webhook" }}</button>
        </form>
        <div node_ref=created>{move || create.value().get().and_then(|r| settle(r).ok()).map(|w| view! { <Created w/> })}</div>
        {move || update.value().get().and_then(|r| settle(r).ok()).map(|_| view! { <p class="notice" role="status">"Saved."</p> })}
    }
}

/// A refusal as the form says it: the API's wording names its JSON fields, a person filling in the
/// form reads what the field asks for.
fn in_words(mut p: Problem) -> Problem {
    let said = match p.field.as_deref() {
        Some("rateLimit") => Some("Deliveries per second: a whole number from 1 to 10,000, or empty for no limit."),
        Some("maxInFlight") => Some("Requests at once: a whole number from 1 to 1,000, or empty for no limit."),
        _ => None,
    };
    if let Some(said) = said {
        p.message = said.to_string();
    }
    p
}

/// Shown once a webhook is registered: its secret, this once.
#[component]
fn Created(w: Webhook) -> impl IntoView {
    view! {
        <div class="card notice" role="status" data-testid="created">
            <p>"Webhook created. Its signing secret is shown here once; you can reveal it again on its page."</p>
            <p class="actions"><code class="secret" data-testid="new-secret">{w.secret.clone()}</code> <CopyButton text=w.secret.clone()/></p>
            <p><a class="button" href=format!("/webhooks/{}", w.id)>"Open the webhook"</a></p>
        </div>
    }
}

/// The event catalog as checkboxes grouped by category, with "all of this category" (`category:<name>`,
/// which also takes types added to it later) and "every event" (`*`).
#[component]
fn EventPicker(selected: RwSignal<Vec<String>>, types: Vec<EventType>) -> impl IntoView {
    let toggle = move |pattern: String, on: bool| {
        selected.update(|list| {
            list.retain(|p| p != &pattern);
            if on {
                list.push(pattern);
            }
        })
    };
    let has = move |pattern: &str| selected.read().iter().any(|p| p == pattern);
    {
        let mut categories: Vec<String> = CATEGORIES.iter().map(|c| c.to_string()).collect();
        for t in &types {
            if !categories.contains(&t.category) {
                categories.push(t.category.clone());
            }
        }
        view! {
            <label class="inline every"><input type="checkbox" name="events[]" value="*" checked=has("*") prop:checked=move || has("*") on:change=move |ev| toggle("*".into(), event_target_checked(&ev))/> " Every event (*)"</label>
            <div class="picker">
                {categories.into_iter().map(|category| {
                    let wildcard = format!("category:{category}");
                    let w2 = wildcard.clone();
                    let w3 = wildcard.clone();
                    let in_group: Vec<EventType> = types.iter().filter(|t| t.category == category).cloned().collect();
                    view! {
                        <div class="group" data-testid=format!("group-{category}")>
                            <label class="inline group-all">
                                <input type="checkbox" name="events[]" value=wildcard.clone() checked=has(&wildcard) prop:checked=move || has(&w2) on:change=move |ev| toggle(w3.clone(), event_target_checked(&ev))/>
                                " " <strong>{category.clone()}</strong> " — all (" {wildcard.clone()} ")"
                            </label>
                            {in_group.into_iter().map(|t| {
                                let name = t.name.clone();
                                let n2 = name.clone();
                                let w = wildcard.clone();
                                let w2 = wildcard.clone();
                                view! {
                                    <label class="inline" title=t.description.clone()>
                                        <input type="checkbox" name="events[]" value=name.clone() checked=has(&name)
                                            prop:checked=move || has(&n2) || has(&w) || has("*")
                                            prop:disabled=move || has(&w2) || has("*")
                                            on:change=move |ev| toggle(name.clone(), event_target_checked(&ev))/>
                                        " " {t.name.clone()}
                                    </label>
                                }
                            }).collect_view()}
                        </div>
                    }
                }).collect_view()}
            </div>
        }
    }
}

/// Every pattern the webhook is subscribed to, as a removable chip with what it receives today:
/// those the catalog's checkboxes cannot show (`prefix.*`, a type no longer listed) included, so
/// nothing is kept that the form does not show. A pattern can be typed in and added too.
#[component]
fn Subscriptions(selected: RwSignal<Vec<String>>, types: Vec<EventType>) -> impl IntoView {
    use crate::domain::event_type::{reach, validate_pattern};
    let catalog = StoredValue::new(types);
    // The patterns the checkboxes below stand for; the others go with a plain form post as hidden
    // fields (before the page is interactive).
    let boxed = move |p: &str| {
        p == "*"
            || catalog.with_value(|c| {
                c.iter().any(|t| t.name == p || p.strip_prefix("category:").is_some_and(|k| k == t.category))
            })
    };
    let typed = RwSignal::new(String::new());
    let refused = RwSignal::new(None::<String>);
    let add = move || {
        let pattern = typed.get_untracked().trim().to_string();
        if pattern.is_empty() {
            return;
        }
        let known: Vec<(String, String)> =
            catalog.with_value(|c| c.iter().map(|t| (t.name.clone(), t.category.clone())).collect());
        match validate_pattern(&pattern, &known) {
            Err(why) => refused.set(Some(why)),
            Ok(()) => {
                refused.set(None);
                typed.set(String::new());
                selected.update(|list| {
                    if !list.contains(&pattern) {
                        list.push(pattern)
                    }
                });
            }
        }
    };
    view! {
        <div class="subscriptions" data-testid="subscriptions">
            <p class="muted small">
                {move || if selected.read().is_empty() { "Not subscribed to anything yet: pick below, or add a pattern." } else { "Subscribed to (what each receives today):" }}
            </p>
            <ul class="chips">
                <For each=move || selected.get() key=|p| p.clone() let:pattern>
                    {
                        let r = catalog.with_value(|c| reach(&pattern, c));
                        let summary = match r.types.len() {
                            0 => "no event type today".to_string(),
                            _ if pattern == "*" => format!("every type ({} today, and those added later)", r.types.len()),
                            1 if r.types[0] == pattern => "this type".to_string(),
                            n if n <= 4 => r.types.join(", "),
                            n => format!("{n} types: {}, …", r.types[..3].join(", ")),
                        };
                        let all = r.types.join(", ");
                        let label = format!("Remove {pattern}");
                        let p2 = pattern.clone();
                        let hidden = (!boxed(&pattern)).then(|| view! { <input type="hidden" name="events[]" value=pattern.clone()/> });
                        view! {
                            <li class="chip" data-testid="chip" data-pattern=pattern.clone()>
                                <code>{pattern.clone()}</code>
                                <span class="muted small" title=all>" → " {summary}</span>
                                <button type="button" class="chip-remove" aria-label=label
                                    on:click=move |_| selected.update(|list| list.retain(|p| *p != p2))>"×"</button>
                                {r.note.map(|n| view! { <span class="chip-note small" data-testid="chip-note">{n}</span> })}
                                {hidden}
                            </li>
                        }
                    }
                </For>
            </ul>
            <div class="inline-form">
                <label for="wh-pattern">"Add a pattern"</label>
                <input id="wh-pattern" placeholder="e.g. transaction.* or category:security" autocomplete="off"
                    prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev))
                    on:keydown=move |ev| if ev.key() == "Enter" { ev.prevent_default(); add() }/>
                <button type="button" class="secondary" on:click=move |_| add()>"Add"</button>
            </div>
            {move || refused.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
        </div>
    }
}
