//! The filters' pickers: tenants, webhooks, a time range, a "since" time, and the pages of a list.

use crate::app::model::{settle, LogFilter, COUNT_CAP, RANGE_CHOICES};
use leptos::prelude::*;

/// The tenant filter: the tenants that exist, not free text (a misspelt tenant would silently show
/// nothing). A tenant in the address that has no webhooks stays shown, marked as such.
#[component]
pub fn TenantSelect(#[prop(into)] current: Signal<String>) -> impl IntoView {
    let list = Resource::new(|| (), |_| crate::app::data::tenants());
    view! {
        <label>"Tenant"
            <Suspense fallback=|| view! { <select name="tenant" disabled=true><option>"…"</option></select> }>
                {move || Suspend::new(async move {
                    let names = settle(list.await).unwrap_or_default();
                    let chosen = current.get_untracked();
                    let unknown = (!chosen.is_empty() && !names.contains(&chosen)).then(|| chosen.clone());
                    view! {
                        <select name="tenant" data-testid="tenant-select">
                            <option value="" selected=chosen.is_empty()>"All tenants"</option>
                            {unknown.map(|t| {
                                let label = format!("{t} (no webhooks)");
                                view! { <option value=t selected=true>{label}</option> }
                            })}
                            {names.into_iter().map(|t| {
                                let selected = t == chosen;
                                let label = t.clone();
                                view! { <option value=t selected=selected>{label}</option> }
                            }).collect_view()}
                        </select>
                    }
                })}
            </Suspense>
        </label>
    }
}

/// The tenant of a new webhook (admins): the default, one of the tenants that exist, or — chosen
/// explicitly — a new one, whose name is typed beside it. Nothing typed by mistake makes a tenant.
/// The tenants are read once the page is live (before that, and without JavaScript, "New tenant…"
/// with a name is the way to name one).
#[component]
pub fn TenantPicker(tenant: RwSignal<String>, new_tenant: RwSignal<String>) -> impl IntoView {
    use crate::app::model::NEW_TENANT;
    let names = RwSignal::new(Vec::<String>::new());
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            if let Ok(list) = settle(crate::app::data::tenants().await) {
                names.set(list.into_iter().filter(|t| t != "default").collect());
            }
        });
    });
    view! {
        <label for="wh-tenant">"Tenant"</label>
        <select id="wh-tenant" name="tenant" data-testid="tenant-choice"
            prop:value=move || { names.track(); tenant.get() } on:change=move |ev| tenant.set(event_target_value(&ev))>
            <option value="">"default"</option>
            <For each=move || names.get() key=|t| t.clone() let:t>
                <option value=t.clone()>{t.clone()}</option>
            </For>
            <option value=NEW_TENANT>"New tenant…"</option>
        </select>
        <Show when=move || tenant.get() == NEW_TENANT>
            <label for="wh-new-tenant">"New tenant's name"</label>
            <input id="wh-new-tenant" name="new_tenant" placeholder="e.g. acme" autocomplete="off"
                value=new_tenant.get_untracked() bind:value=new_tenant/>
        </Show>
    }
}

/// Unix milliseconds now: the browser's clock in the browser, the server's while rendering.
pub fn now_ms() -> i64 {
    #[cfg(feature = "hydrate")]
    return js_sys::Date::now() as i64;
    #[cfg(not(feature = "hydrate"))]
    chrono::Utc::now().timestamp_millis()
}

/// A `datetime-local` input's value (`2026-11-30T07:30`) in the browser's time zone, as unix ms.
pub fn local_time_ms(value: &str) -> Option<i64> {
    if value.is_empty() {
        return None;
    }
    #[cfg(feature = "hydrate")]
    return Some(js_sys::Date::new(&wasm_bindgen::JsValue::from_str(value)).get_time())
        .filter(|t| t.is_finite())
        .map(|t| t as i64);
    #[cfg(not(feature = "hydrate"))]
    chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M").ok().map(|t| t.and_utc().timestamp_millis())
}

/// The time a "since" picker stands for now: a quick choice counted back from now, or the custom
/// time; `None` while the custom time is empty.
pub fn since_ms(choice: &str, custom: &str) -> Option<i64> {
    match RANGE_CHOICES.iter().find(|(key, ..)| *key == choice) {
        Some((.., back)) => Some(now_ms() - back),
        None => local_time_ms(custom),
    }
}

/// A "since" picker: quick choices (last hour, 24 hours, 7 days) or a custom time.
#[component]
pub fn SincePicker(choice: RwSignal<String>, custom: RwSignal<String>) -> impl IntoView {
    view! {
        <label>"Since"
            <select prop:value=move || choice.get() on:change=move |e| choice.set(event_target_value(&e))>
                {RANGE_CHOICES.iter().map(|(key, label, _)| view! { <option value=*key>{*label}</option> }).collect_view()}
                <option value="custom">"Custom…"</option>
            </select>
        </label>
        <Show when=move || choice.get() == "custom">
            <label>"From"
                <input type="datetime-local" prop:value=move || custom.get() on:input=move |e| custom.set(event_target_value(&e))/>
            </label>
        </Show>
    }
}

/// The webhook filter: the webhooks there are, by name (description, or URL). A webhook in the
/// address that is not among them (deleted, or another tenant's) stays shown, marked as such.
#[component]
pub fn WebhookSelect(#[prop(into)] current: Signal<String>) -> impl IntoView {
    let list = Resource::new(|| (), |_| crate::app::data::webhook_choices());
    view! {
        <label>"Webhook"
            <Suspense fallback=|| view! { <select name="webhookId" disabled=true><option>"…"</option></select> }>
                {move || Suspend::new(async move {
                    let choices = settle(list.await).unwrap_or_default();
                    let chosen = current.get_untracked();
                    let unknown = (!chosen.is_empty() && !choices.iter().any(|(id, _)| *id == chosen)).then(|| chosen.clone());
                    view! {
                        <select name="webhookId" data-testid="webhook-select">
                            <option value="" selected=chosen.is_empty()>"All webhooks"</option>
                            {unknown.map(|id| {
                                let label = format!("{id} (not found)");
                                view! { <option value=id selected=true>{label}</option> }
                            })}
                            {choices.into_iter().map(|(id, name)| {
                                let selected = id == chosen;
                                view! { <option value=id selected=selected>{name}</option> }
                            }).collect_view()}
                        </select>
                    }
                })}
            </Suspense>
        </label>
    }
}

/// A time range for a filter form (GET): any time, a quick choice (last hour, 24 hours, 7 days)
/// or custom times. Custom times are typed in the browser's zone, sent with its offset (`tz`); before
/// the page is interactive they are shown and read as UTC. Works without JavaScript: the custom
/// fields are shown by CSS when "Custom" is chosen.
#[component]
pub fn RangePicker(#[prop(into)] filter: Signal<LogFilter>) -> impl IntoView {
    let effective = move |f: &LogFilter| {
        if f.range.is_empty() && (!f.since.is_empty() || !f.until.is_empty()) {
            "custom".to_string()
        } else {
            f.range.clone()
        }
    };
    let chosen = RwSignal::new(effective(&filter.get_untracked()));
    Effect::new(move |_| chosen.set(effective(&filter.get())));
    // The custom bounds as a `datetime-local` value: local time once interactive, UTC before.
    let shown = move |upper: bool| {
        let f = filter.get();
        let (since, until) = if f.range == "custom" || f.range.is_empty() { f.bounds(0) } else { (None, None) };
        let bound = if upper { until } else { since };
        bound.and_then(|b| instant_ms(&b)).map(input_value).unwrap_or_default()
    };
    let (since0, until0) = (shown(false), shown(true));
    view! {
        <label>"Time"
            <select name="range" data-testid="range" prop:value=move || chosen.get() on:change=move |e| chosen.set(event_target_value(&e))>
                <option value="" selected=chosen.get_untracked().is_empty()>"Any time"</option>
                {RANGE_CHOICES.iter().map(|(key, label, _)| {
                    let selected = chosen.get_untracked() == *key;
                    view! { <option value=*key selected=selected>{*label}</option> }
                }).collect_view()}
                <option value="custom" selected=chosen.get_untracked() == "custom">"Custom range…"</option>
            </select>
        </label>
        <span class="custom-range">
            <label>"From"
                <input type="datetime-local" name="since" data-testid="range-since" value=since0 prop:value=move || shown(false) prop:disabled=move || chosen.get() != "custom"/>
            </label>
            <label>"To"
                <input type="datetime-local" name="until" data-testid="range-until" value=until0 prop:value=move || shown(true) prop:disabled=move || chosen.get() != "custom"/>
            </label>
        </span>
        <input type="hidden" name="tz" value="0" prop:value=zone_offset/>
    }
}

/// An instant given as unix ms or RFC 3339, as unix ms.
fn instant_ms(text: &str) -> Option<i64> {
    text.parse::<i64>().ok().or_else(|| chrono::DateTime::parse_from_rfc3339(text).ok().map(|t| t.timestamp_millis()))
}

/// Unix ms as a `datetime-local` value: in the browser's zone once interactive, UTC before.
fn input_value(ms: i64) -> String {
    let local = ms - zone_offset() * 60_000;
    chrono::DateTime::from_timestamp_millis(local).map(|t| t.format("%Y-%m-%dT%H:%M").to_string()).unwrap_or_default()
}

/// The browser's zone as `getTimezoneOffset()` gives it (minutes, UTC minus local); 0 while rendering
/// on the server.
pub fn zone_offset() -> i64 {
    #[cfg(feature = "hydrate")]
    return js_sys::Date::new_0().get_timezone_offset() as i64;
    #[cfg(not(feature = "hydrate"))]
    0
}

/// "Page 2 · 26–50 of 1,234", with Previous and Next links (`path` is the list's address).
#[component]
pub fn Pager(
    filter: LogFilter,
    next: Option<String>,
    shown: usize,
    size: usize,
    total: i64,
    path: &'static str,
) -> impl IntoView {
    let page = filter.page_number();
    let first = (page - 1) * size + 1;
    let of = if total >= COUNT_CAP { format!("{}+", thousands(COUNT_CAP)) } else { thousands(total) };
    let text = if shown == 0 {
        format!("Page {page} · none of {of}")
    } else {
        format!("Page {page} · {first}–{} of {of}", first + shown - 1)
    };
    let link = |q: String| if q.is_empty() { path.to_string() } else { format!("{path}?{q}") };
    let previous = filter.previous_page().map(link);
    let next = next.map(|c| link(filter.next_page(&c)));
    view! {
        <nav class="pager" aria-label="Pages" data-testid="pager">
            {previous.map(|href| view! { <a class="button secondary" href=href rel="prev">"Previous"</a> })}
            <span class="muted" data-testid="page-count">{text}</span>
            {next.map(|href| view! { <a class="button secondary" href=href rel="next">"Next"</a> })}
        </nav>
    }
}

/// `12,345`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(-12_345), "-12,345");
    }

    #[test]
    fn a_custom_bound_is_shown_as_the_input_wants_it() {
        assert_eq!(instant_ms("2026-11-30T07:30:00Z"), Some(1_796_023_800_000));
        assert_eq!(instant_ms("1796023800000"), Some(1_796_023_800_000));
        assert_eq!(input_value(1_796_023_800_000), "2026-11-30T07:30", "UTC while rendering on the server");
    }
}
