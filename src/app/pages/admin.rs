//! The event catalog, API keys (admins) and the audit log (admins).

use crate::app::data::{audit, create_key, event_types, keys, revoke_key, set_key_controls, tenants};
use crate::app::model::settle;
use crate::app::ui::{field_error, principal, CopyButton, Empty, ErrorBox, Loading, When};
use crate::domain::event_type::CATEGORIES;
use crate::domain::{ApiKey, Role};
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

#[component]
pub fn CatalogPage() -> impl IntoView {
    let catalog = Resource::new(|| (), |_| event_types());
    view! {
        <div class="page-head"><h1>"Event catalog"</h1></div>
        <section class="card" data-testid="pattern-forms">
            <h2>"How a webhook subscribes"</h2>
            <dl class="patterns">
                <dt><code>"wallet.created"</code></dt><dd>"Exactly that type."</dd>
                <dt><code>"wallet.*"</code></dt><dd>"Every type whose name starts with " <code>"wallet."</code> ". It goes by names, not categories: " <code>"security.*"</code> " is only " <code>"security.alert"</code> ", not " <code>"auth.login.failed"</code> "."</dd>
                <dt><code>"category:security"</code></dt><dd>"Every type filed under the category below, whatever its name, including types added to it later."</dd>
                <dt><code>"*"</code></dt><dd>"Every event, including types added later."</dd>
            </dl>
        </section>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match settle(catalog.await) {
                    Ok(types) => {
                        let mut categories: Vec<String> = CATEGORIES.iter().map(|c| c.to_string()).collect();
                        for t in &types {
                            if !categories.contains(&t.category) {
                                categories.push(t.category.clone());
                            }
                        }
                        categories.into_iter().map(|c| {
                            let rows: Vec<_> = types.iter().filter(|t| t.category == c).cloned().collect();
                            view! {
                                <section class="card">
                                    <h2>{c.clone()}</h2>
                                    <div class="table-wrap"><table class="table" data-testid=format!("catalog-{c}")>
                                        <tbody>
                                            {rows.into_iter().map(|t| view! {
                                                <tr><td><code>{t.name.clone()}</code></td><td>{t.description.clone()}</td><td class="muted small">{t.custom.then_some("custom")}</td></tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table></div>
                                </section>
                            }
                        }).collect_view().into_any()
                    }
                    Err(p) => view! { <ErrorBox problem=p/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn KeysPage() -> impl IntoView {
    if !principal().is_some_and(|p| p.role == Role::Admin) {
        return view! {
            <div class="page-head"><h1>"API keys"</h1></div>
            <p class="card" data-testid="keys-admin-only">"API keys are made and revoked by an administrator of this service. Ask one for a key of your tenant."</p>
        }
        .into_any();
    }
    view! { <KeyAdmin/> }.into_any()
}

/// Keys as an administrator manages them: create (shown once), list, revoke (confirmed).
#[component]
fn KeyAdmin() -> impl IntoView {
    let list = Resource::new(|| (), |_| keys());
    let name = RwSignal::new(String::new());
    let role = RwSignal::new("tenant".to_string());
    let tenant = RwSignal::new(String::new());
    let rate = RwSignal::new(String::new());
    let ranges = RwSignal::new(String::new());
    let known = Resource::new(|| (), |_| tenants());
    let create = Action::new(move |_: &()| {
        create_key(
            name.get_untracked(),
            role.get_untracked(),
            tenant.get_untracked(),
            rate.get_untracked(),
            ranges.get_untracked(),
        )
    });
    let revoke = Action::new(move |id: &String| revoke_key(id.clone()));
    Effect::new(move |_| {
        // Both are read every time, so either one's answer runs this again.
        let created = create.value().get().is_some_and(|r| matches!(r, Ok(Ok(_))));
        let revoked = revoke.value().get().is_some_and(|r| matches!(r, Ok(Ok(_))));
        if created || revoked {
            list.refetch();
        }
    });
    let problem = move || create.value().get().and_then(|r| settle(r).err());
    view! {
        <div class="page-head"><h1>"API keys"</h1></div>
        <form class="card stack form" aria-label="New API key" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); create.dispatch(()); }>
            <h2>"New key"</h2>
            <label for="key-name">"Name"</label>
            <input id="key-name" bind:value=name required=true placeholder="acme backend"/>
            {move || field_error(problem(), "name").map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            <label for="key-role">"Role"</label>
            <select id="key-role" bind:value=role>
                <option value="tenant">"tenant"</option>
                <option value="admin">"admin"</option>
            </select>
            <label for="key-tenant">"Tenant"</label>
            <input id="key-tenant" bind:value=tenant placeholder="acme" list="known-tenants" autocomplete="off"/>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let names = settle(known.await).unwrap_or_default();
                    view! { <datalist id="known-tenants">{names.into_iter().map(|t| view! { <option value=t/> }).collect_view()}</datalist> }
                })}
            </Suspense>
            {move || field_error(problem(), "tenant").map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            <KeyControls id="key-new".to_string() rate ranges problem=Signal::derive(problem)/>
            {move || problem().filter(|p| p.field.is_none()).map(|p| view! { <ErrorBox problem=p/> })}
            <button type="submit" disabled=move || create.pending().get()>"Create key"</button>
        </form>
        {move || create.value().get().and_then(|r| settle(r).ok()).map(|k| view! {
            <div class="card notice" role="status">
                <p>"Key “" {k.name.clone()} "” created. Copy it now: it is not shown again."</p>
                <p class="actions"><code class="secret" data-testid="new-key">{k.key.clone()}</code> <CopyButton text=k.key.clone()/></p>
                {k.new_tenant.clone().map(|t| view! {
                    <p class="alert alert-warning" data-testid="new-tenant-warning">
                        "No webhook belongs to tenant “" {t} "” yet. If that is a new tenant, its webhooks will be made with this key; if not, check the spelling and revoke this key."
                    </p>
                })}
            </div>
        })}
        {move || revoke.value().get().and_then(|r| settle(r).err()).map(|p| view! { <ErrorBox problem=p/> })}
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match settle(list.await) {
                    Ok(keys) => view! {
                        <div class="table-wrap"><table class="table" data-testid="keys">
                            <thead><tr><th>"Name"</th><th>"Key"</th><th>"Role"</th><th>"Tenant"</th><th>"Limits"</th><th>"Created"</th><th>"Last used"</th><th></th></tr></thead>
                            <tbody>
                                {keys.into_iter().map(|k| {
                                    let id = k.id.clone();
                                    let asking = RwSignal::new(false);
                                    view! {
                                        <tr>
                                            <td>{k.name.clone()}</td>
                                            <td><code>{k.prefix.clone()} "…"</code></td>
                                            <td>{if k.role == Role::Admin { "admin" } else { "tenant" }}</td>
                                            <td>{k.tenant.clone().unwrap_or_default()}</td>
                                            <td><Limits k=k.clone()/></td>
                                            <td><When t=k.created_at/></td>
                                            <td>{k.last_used_at.map(|t| view! { <When t/> })}</td>
                                            <td>
                                                <Show when=move || asking.get() fallback=move || view! {
                                                    <button class="danger small" on:click=move |_| asking.set(true)>"Revoke…"</button>
                                                }>
                                                    {
                                                        let id = id.clone();
                                                        view! {
                                                            <span class="small">"Requests with this key will be refused. "</span>
                                                            <button class="danger small" on:click=move |_| { revoke.dispatch(id.clone()); }>"Revoke now"</button>
                                                            <button class="secondary small" on:click=move |_| asking.set(false)>"Cancel"</button>
                                                        }
                                                    }
                                                </Show>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table></div>
                    }.into_any(),
                    Err(p) => view! { <ErrorBox problem=p/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// A key's rate limit and allowed addresses, as fields of a form.
#[component]
fn KeyControls(
    /// Prefix of the fields' ids (unique on the page).
    id: String,
    rate: RwSignal<String>,
    ranges: RwSignal<String>,
    problem: Signal<Option<crate::app::model::Problem>>,
) -> impl IntoView {
    view! {
        <label for=format!("{id}-rate")>"Rate limit (requests per second; empty: the server's default, 0: unlimited)"</label>
        <input id=format!("{id}-rate") inputmode="numeric" bind:value=rate value=rate.get_untracked() placeholder="default" autocomplete="off"/>
        {move || field_error(problem.get(), "rateLimit").map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
        <label for=format!("{id}-ips")>"Allowed addresses (one IP or CIDR per line; empty: anywhere)"</label>
        <textarea id=format!("{id}-ips") rows="2" spellcheck="false" placeholder="203.0.113.0/24"
            prop:value=move || ranges.get() on:input=move |ev| ranges.set(event_target_value(&ev))>{ranges.get_untracked()}</textarea>
        {move || field_error(problem.get(), "allowedIps").map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
    }
}

/// A key's limits in its row, with "Change…" to edit them in place.
#[component]
fn Limits(k: ApiKey) -> impl IntoView {
    let shown = RwSignal::new(k.clone());
    let editing = RwSignal::new(false);
    let rate = RwSignal::new(k.rate_limit.map(|r| r.to_string()).unwrap_or_default());
    let ranges = RwSignal::new(k.allowed_ips.join("\n"));
    let id = k.id.clone();
    let save = Action::new(move |_: &()| set_key_controls(id.clone(), rate.get_untracked(), ranges.get_untracked()));
    Effect::new(move |_| {
        if let Some(Ok(Ok(key))) = save.value().get() {
            shown.set(key);
            editing.set(false);
        }
    });
    let problem = Signal::derive(move || save.value().get().and_then(|r| settle(r).err()));
    let summary = move || {
        let k = shown.get();
        let rate = match k.rate_limit {
            None => "default rate".to_string(),
            Some(0) => "unlimited".to_string(),
            Some(r) => format!("{r}/s"),
        };
        let from = match k.allowed_ips.len() {
            0 => "from anywhere".to_string(),
            _ => format!("from {}", k.allowed_ips.join(", ")),
        };
        format!("{rate} · {from}")
    };
    view! {
        <span class="small" data-testid="key-limits">{summary}</span>
        <Show when=move || editing.get() fallback=move || view! {
            <button class="secondary small" on:click=move |_| editing.set(true)>"Change…"</button>
        }>
            <form class="stack form" aria-label="Key limits" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); save.dispatch(()); }>
                <KeyControls id=format!("key-{}", shown.get_untracked().id) rate ranges problem/>
                {move || problem.get().filter(|p| p.field.is_none()).map(|p| view! { <ErrorBox problem=p/> })}
                <div class="bulk">
                    <button type="submit" class="small" disabled=move || save.pending().get()>"Save limits"</button>
                    <button type="button" class="secondary small" on:click=move |_| editing.set(false)>"Cancel"</button>
                </div>
            </form>
        </Show>
    }
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let filter = Memo::new(move |_| (param("action"), param("cursor")));
    let page = Resource::new(move || filter.get(), |(action, cursor)| audit(action, cursor));
    view! {
        <div class="page-head"><h1>"Audit log"</h1></div>
        <Form method="GET" action="" attr:class="filters" attr:aria-label="Filter the audit log">
            <label>"Action" <input name="action" placeholder="e.g. webhook.created" prop:value=move || param("action")/></label>
            <button type="submit" class="secondary">"Apply"</button>
        </Form>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match settle(page.await) {
                    Ok(p) if p.data.is_empty() => view! { <Empty message="Nothing recorded yet."><span></span></Empty> }.into_any(),
                    Ok(p) => {
                        let next = p.next_cursor.map(|c| format!("/audit?action={}&cursor={c}", filter.get_untracked().0));
                        view! {
                            <div class="table-wrap"><table class="table" data-testid="audit">
                                <thead><tr><th>"Time"</th><th>"Action"</th><th>"By"</th><th>"Tenant"</th><th>"Target"</th><th>"From"</th></tr></thead>
                                <tbody>
                                    {p.data.into_iter().map(|e| view! {
                                        <tr>
                                            <td><When t=e.at/></td>
                                            <td><code>{e.action.clone()}</code></td>
                                            <td>{e.actor_name.clone()}</td>
                                            <td>{e.tenant.clone().unwrap_or_default()}</td>
                                            <td>{e.target.clone().map(|t| view! { <TargetLink id=t/> })}</td>
                                            <td>{e.client_ip.clone().unwrap_or_default()}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table></div>
                            {next.map(|href| view! { <a class="button secondary" href=href>"Next page"</a> })}
                        }.into_any()
                    }
                    Err(p) => view! { <ErrorBox problem=p/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// An audit entry's target: a link to its page where it has one (webhooks, deliveries, events).
#[component]
fn TargetLink(id: String) -> impl IntoView {
    let page = [("wh_", "/webhooks/"), ("dlv_", "/deliveries/")]
        .iter()
        .find(|(prefix, _)| id.starts_with(prefix))
        .map(|(_, path)| format!("{path}{id}"));
    match page {
        Some(href) => view! { <a href=href><code>{id}</code></a> }.into_any(),
        None => view! { <code>{id}</code> }.into_any(),
    }
}
