//! Pieces every console page uses: the signed-in frame with its navigation, times in the browser's
//! zone, loading, empty and error states, badges, and the SVG charts.

use crate::app::csrf::CsrfField;
use crate::app::model::{settle, Problem};
use crate::app::session::{whoami, Logout};
use crate::domain::{DeliveryStatus, Principal, Role};
use chrono::{DateTime, SecondsFormat, Utc};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect, A};

/// The frame of every signed-in page: top bar, navigation and the page itself. Without a session,
/// the login page.
#[component]
pub fn Frame() -> impl IntoView {
    let me = Resource::new(|| (), |_| whoami());
    view! {
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(principal)) => view! { <Signed principal/> }.into_any(),
                    Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(e) => view! { <main class="page"><ErrorBox problem=Problem::of(&e)/></main> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Signed(principal: Principal) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let admin = principal.role == Role::Admin;
    let role = if admin { "admin" } else { "tenant" };
    let scope = principal.tenant.clone().unwrap_or_else(|| "every tenant".to_string());
    let name = principal.key_name.clone();
    provide_context(principal);
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Monay Webhooks"</a>
            <nav class="nav" aria-label="Main">
                <A href="/" exact=true>"Dashboard"</A>
                <A href="/webhooks">"Webhooks"</A>
                <A href="/deliveries">"Deliveries"</A>
                <A href="/event-types">"Event catalog"</A>
                {admin.then(|| view! {
                    <A href="/keys">"API keys"</A>
                    <A href="/audit">"Audit log"</A>
                })}
            </nav>
            <span class="who" data-testid="who">{name} " · " {role} " · " {scope}</span>
            <ActionForm action=logout>
                <CsrfField/>
                <button type="submit" class="secondary">"Sign out"</button>
            </ActionForm>
        </header>
        <main class="page">
            <Outlet/>
        </main>
    }
}

/// The signed-in principal (inside [`Frame`]).
pub fn principal() -> Option<Principal> {
    use_context::<Principal>()
}

/// A time, shown in the browser's zone once the page is interactive (UTC before).
#[component]
pub fn When(t: DateTime<Utc>) -> impl IntoView {
    let iso = t.to_rfc3339_opts(SecondsFormat::Millis, true);
    let text = RwSignal::new(t.format("%Y-%m-%d %H:%M:%S UTC").to_string());
    #[cfg(feature = "hydrate")]
    {
        let iso = iso.clone();
        Effect::new(move |_| {
            let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(&iso));
            text.set(String::from(date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED)));
        });
    }
    view! { <time datetime=iso.clone() title=iso>{move || text.get()}</time> }
}

#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="muted loading" role="status">"Loading…"</p> }
}

/// An empty list, with what to do about it.
#[component]
pub fn Empty(#[prop(into)] message: String, children: Children) -> impl IntoView {
    view! {
        <div class="empty" data-testid="empty">
            <p>{message}</p>
            {children()}
        </div>
    }
}

/// A failure as the page shows it; an ended session links to the login page.
#[component]
pub fn ErrorBox(problem: Problem) -> impl IntoView {
    if problem.signed_out() {
        return view! {
            <div class="error-box" role="alert">
                <p>"Your session has ended."</p>
                <a class="button" href="/login">"Sign in again"</a>
            </div>
        }
        .into_any();
    }
    view! { <div class="error-box" role="alert"><p>{problem.message}</p></div> }.into_any()
}

/// The message of a refusal about `field`, if that is the field at fault.
pub fn field_error(problem: Option<Problem>, field: &'static str) -> Option<String> {
    problem
        .filter(|p| p.field.as_deref().is_some_and(|f| f == field || f.starts_with(&format!("{field}["))))
        .map(|p| p.message)
}

#[component]
pub fn StatusBadge(status: DeliveryStatus) -> impl IntoView {
    let name = status.as_str();
    view! { <span class=format!("badge status-{name}")>{name}</span> }
}

#[component]
pub fn ActiveBadge(active: bool, #[prop(optional)] paused: bool) -> impl IntoView {
    match (active, paused) {
        (true, _) => view! { <span class="badge status-succeeded">"active"</span> },
        (false, true) => view! { <span class="badge status-held">"paused"</span> },
        (false, false) => view! { <span class="badge status-failed">"disabled"</span> },
    }
}

/// A small line of success rates (0 to 1, `None` for no attempts), drawn inline; hours without
/// attempts are gaps, not falls to zero.
#[component]
pub fn Sparkline(values: Vec<Option<f64>>) -> impl IntoView {
    let (w, h) = (72.0, 18.0);
    let step = if values.len() > 1 { w / (values.len() - 1) as f64 } else { 0.0 };
    let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(rate) => runs
                .last_mut()
                .map(|run| run.push((i as f64 * step, h - 1.0 - rate.clamp(0.0, 1.0) * (h - 2.0))))
                .unwrap_or(()),
            None => runs.push(Vec::new()),
        }
    }
    let lines: Vec<String> = runs
        .into_iter()
        .filter(|run| !run.is_empty())
        .map(|run| {
            let run = if run.len() == 1 { vec![(run[0].0 - 1.0, run[0].1), (run[0].0 + 1.0, run[0].1)] } else { run };
            run.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect::<Vec<_>>().join(" ")
        })
        .collect();
    view! {
        <svg class="sparkline" width=w height=h viewBox=format!("0 0 {w} {h}") role="img" aria-label="success rate per hour">
            {lines.into_iter().map(|points| view! { <polyline points=points/> }).collect_view()}
        </svg>
    }
}

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

/// The quick choices of a "since" picker, and how far back each goes.
pub const SINCE_CHOICES: [(&str, &str, i64); 3] =
    [("1h", "Last hour", 3_600_000), ("24h", "Last 24 hours", 86_400_000), ("7d", "Last 7 days", 604_800_000)];

/// The time a "since" picker stands for now: a quick choice counted back from now, or the custom
/// time; `None` while the custom time is empty.
pub fn since_ms(choice: &str, custom: &str) -> Option<i64> {
    match SINCE_CHOICES.iter().find(|(key, ..)| *key == choice) {
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
                {SINCE_CHOICES.iter().map(|(key, label, _)| view! { <option value=*key>{*label}</option> }).collect_view()}
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

/// `97.5 %`, or a dash without data.
pub fn percent(rate: Option<f64>) -> String {
    rate.map(|r| format!("{:.1} %", r * 100.0)).unwrap_or_else(|| "—".into())
}

/// `123 ms`, or a dash without data.
pub fn millis(ms: Option<f64>) -> String {
    ms.map(|m| format!("{m:.0} ms")).unwrap_or_else(|| "—".into())
}

/// A figure with its label.
#[component]
pub fn Card(#[prop(into)] label: String, #[prop(into)] value: String, #[prop(into)] testid: String) -> impl IntoView {
    view! {
        <div class="card stat" data-testid=testid>
            <div class="stat-label">{label}</div>
            <div class="stat-value">{value}</div>
        </div>
    }
}

const CHART_W: f64 = 600.0;
const CHART_H: f64 = 160.0;

/// A line over time (gaps where there is no value), drawn as SVG.
#[component]
pub fn LineChart(
    #[prop(into)] title: String,
    values: Vec<Option<f64>>,
    labels: Vec<String>,
    max: Option<f64>,
    unit: &'static str,
) -> impl IntoView {
    let top = max.unwrap_or_else(|| values.iter().flatten().cloned().fold(0.0, f64::max)).max(1e-9);
    let n = values.len().max(2) as f64;
    let x = |i: usize| 40.0 + i as f64 * (CHART_W - 50.0) / (n - 1.0);
    let y = |v: f64| 10.0 + (CHART_H - 30.0) * (1.0 - (v / top).clamp(0.0, 1.0));
    let mut segments: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut dots = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => {
                current.push_str(&format!("{:.1},{:.1} ", x(i), y(*v)));
                let label = format!("{}: {:.1} {unit}", labels.get(i).cloned().unwrap_or_default(), v);
                dots.push(view! { <circle cx=format!("{:.1}", x(i)) cy=format!("{:.1}", y(*v)) r="3"><title>{label}</title></circle> });
            }
            None => {
                if !current.is_empty() {
                    segments.push(std::mem::take(&mut current));
                }
            }
        }
    }
    if !current.is_empty() {
        segments.push(current);
    }
    let has_data = !dots.is_empty();
    let first = labels.first().cloned().unwrap_or_default();
    let last = labels.last().cloned().unwrap_or_default();
    view! {
        <figure class="chart">
            <figcaption>{title.clone()}</figcaption>
            <svg viewBox=format!("0 0 {CHART_W} {CHART_H}") role="img" aria-label=title>
                <line class="axis" x1="40" y1=format!("{}", CHART_H - 20.0) x2=format!("{}", CHART_W - 10.0) y2=format!("{}", CHART_H - 20.0)/>
                <text class="tick" x="2" y="14">{format!("{top:.0} {unit}")}</text>
                <text class="tick" x="2" y=format!("{}", CHART_H - 22.0)>{format!("0 {unit}")}</text>
                <text class="tick" x="40" y=format!("{}", CHART_H - 4.0)>{first}</text>
                <text class="tick" x=format!("{}", CHART_W - 10.0) y=format!("{}", CHART_H - 4.0) text-anchor="end">{last}</text>
                {segments.into_iter().map(|points| view! { <polyline class="line" points=points/> }).collect_view()}
                {dots}
                {(!has_data).then(|| view! { <text class="tick" x="300" y="80" text-anchor="middle">"No attempts in this window"</text> })}
            </svg>
        </figure>
    }
}

/// Horizontal bars, one per named count, drawn as SVG.
#[component]
pub fn BarChart(#[prop(into)] title: String, items: Vec<(String, i64)>) -> impl IntoView {
    let top = items.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1) as f64;
    let height = (items.len().max(1) * 26 + 10) as f64;
    let empty = items.is_empty();
    let bars = items
        .into_iter()
        .enumerate()
        .map(|(i, (name, n))| {
            let y = 8.0 + i as f64 * 26.0;
            let w = (CHART_W - 260.0) * n as f64 / top;
            view! {
                <g>
                    <text class="tick" x="0" y=format!("{}", y + 14.0)>{name.clone()}</text>
                    <rect class="bar" x="190" y=format!("{y}") width=format!("{:.1}", w.max(1.0)) height="18" rx="3"><title>{format!("{name}: {n}")}</title></rect>
                    <text class="tick" x=format!("{:.1}", 196.0 + w) y=format!("{}", y + 14.0)>{n.to_string()}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="chart">
            <figcaption>{title.clone()}</figcaption>
            <svg viewBox=format!("0 0 {CHART_W} {height}") role="img" aria-label=title>
                {bars}
                {empty.then(|| view! { <text class="tick" x="300" y="20" text-anchor="middle">"No deliveries in this window"</text> })}
            </svg>
        </figure>
    }
}
