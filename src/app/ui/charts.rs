//! The console's charts, drawn by hand: the plot in SVG (stretched to the card, lines of a fixed
//! width), every label in HTML so it keeps its size (≥ 12 px) at any width. Over time: attempts as
//! stacked succeeded/failed bars with the success rate over them, and p50/p95 latency lines; a
//! tooltip gives each bucket's figures. Buckets with too few attempts are drawn as such, not as a
//! rate. Also the list's sparkline, figure cards and bars by event type.

use crate::domain::stats::Bucket;
use leptos::prelude::*;

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

/// Under this many attempts a bucket's success rate is not drawn as a line point: one failed
/// attempt out of one is not a fall to 0 %.
pub const FEW_ATTEMPTS: i64 = 5;

/// Width of one bucket in the plot's own units (the plot is 100 high).
const SLOT: f64 = 10.0;

/// A round top for an axis at or above `max`: 1, 2 or 5 times a power of ten.
fn nice_top(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let scale = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * scale).find(|top| *top >= max).unwrap_or(10.0 * scale)
}

/// The bucket's time as the axis and tooltip show it: in the browser's zone once interactive.
fn bucket_time(b: &Bucket, format: &str) -> String {
    let local = b.start.timestamp_millis() - super::zone_offset() * 60_000;
    chrono::DateTime::from_timestamp_millis(local).map(|t| t.format(format).to_string()).unwrap_or_default()
}

/// Points of a line through the buckets that have a value, split where one has none; a lone point
/// is drawn as a short dash across its bucket.
fn line_runs(values: &[Option<f64>], y: impl Fn(f64) -> f64) -> Vec<String> {
    let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => runs.last_mut().into_iter().for_each(|run| run.push((i as f64 * SLOT + SLOT / 2.0, y(*v)))),
            None => runs.push(Vec::new()),
        }
    }
    runs.into_iter()
        .filter(|run| !run.is_empty())
        .map(|run| {
            let run = if run.len() == 1 {
                vec![(run[0].0 - SLOT / 3.0, run[0].1), (run[0].0 + SLOT / 3.0, run[0].1)]
            } else {
                run
            };
            run.iter().map(|(x, y)| format!("{x:.2},{y:.2}")).collect::<Vec<_>>().join(" ")
        })
        .collect()
}

/// The bucket's figures, for its tooltip.
fn bucket_figures(b: &Bucket, window_format: &str) -> Vec<String> {
    let failed = b.attempts - b.succeeded;
    let mut lines = vec![bucket_time(b, window_format)];
    if b.attempts == 0 {
        lines.push("No attempts".into());
        return lines;
    }
    lines.push(format!("{} attempts: {} succeeded, {failed} failed", b.attempts, b.succeeded));
    let rate = super::percent(b.success_rate);
    lines.push(if b.attempts < FEW_ATTEMPTS {
        format!("Success {rate} (too few attempts to chart)")
    } else {
        format!("Success {rate}")
    });
    let ms = |v: Option<i64>| v.map(|v| format!("{v} ms")).unwrap_or_else(|| "—".into());
    lines.push(format!("p50 {} · p95 {}", ms(b.p50_response_ms), ms(b.p95_response_ms)));
    lines
}

/// The time labels under a plot: first, middle and last bucket.
#[component]
fn TimeAxis(series: Vec<Bucket>, format: &'static str) -> impl IntoView {
    let n = series.len();
    let picks: Vec<usize> = if n == 0 { vec![] } else { vec![0, n / 2, n - 1] };
    let labels = RwSignal::new(picks.iter().map(|i| bucket_time(&series[*i], format)).collect::<Vec<_>>());
    // Once interactive, in the browser's zone.
    Effect::new(move |_| labels.set(picks.iter().map(|i| bucket_time(&series[*i], format)).collect()));
    view! {
        <div class="x-axis">{move || labels.get().into_iter().map(|l| view! { <span>{l}</span> }).collect_view()}</div>
    }
}

/// Hover (or focus) targets over each bucket, and the tooltip of the one pointed at.
#[component]
fn Hover(series: Vec<Bucket>, format: &'static str, hovered: RwSignal<Option<usize>>) -> impl IntoView {
    let n = series.len().max(1);
    let width = n as f64 * SLOT;
    let figures: Vec<Vec<String>> = series.iter().map(|b| bucket_figures(b, format)).collect();
    let figures = StoredValue::new(figures);
    view! {
        <svg class="hit" viewBox=format!("0 0 {width} 100") preserveAspectRatio="none" aria-hidden="true">
            {(0..series.len()).map(|i| view! {
                <rect x=format!("{}", i as f64 * SLOT) y="0" width=format!("{SLOT}") height="100"
                    class:hovered=move || hovered.get() == Some(i)
                    on:mouseenter=move |_| hovered.set(Some(i))
                    on:mouseleave=move |_| hovered.set(None)/>
            }).collect_view()}
        </svg>
        {move || hovered.get().map(|i| {
            let lines = figures.with_value(|f| f.get(i).cloned().unwrap_or_default());
            let side = if i * 2 < n { "tooltip left" } else { "tooltip right" };
            view! {
                <div class=side role="tooltip" data-testid="chart-tooltip">
                    {lines.into_iter().enumerate().map(|(k, l)| if k == 0 { view! { <strong>{l}</strong> }.into_any() } else { view! { <div>{l}</div> }.into_any() }).collect_view()}
                </div>
            }
        })}
    }
}

/// Attempts over time: stacked succeeded and failed bars (left axis), the success rate over them
/// (right axis, only where a bucket has enough attempts to mean something).
#[component]
pub fn VolumeChart(#[prop(into)] title: String, series: Vec<Bucket>, format: &'static str) -> impl IntoView {
    let n = series.len().max(1);
    let width = n as f64 * SLOT;
    let top = nice_top(series.iter().map(|b| b.attempts).max().unwrap_or(0) as f64);
    let h = |count: i64| count as f64 / top * 100.0;
    let bars = series
        .iter()
        .enumerate()
        .flat_map(|(i, b)| {
            let x = format!("{:.2}", i as f64 * SLOT + 1.5);
            let ok = h(b.succeeded);
            let failed = h(b.attempts - b.succeeded);
            [
                (b.succeeded > 0).then(|| view! { <rect class="ok" x=x.clone() y=format!("{:.2}", 100.0 - ok) width="7" height=format!("{ok:.2}")/> }),
                (b.attempts > b.succeeded).then(|| view! { <rect class="failed" x=x.clone() y=format!("{:.2}", 100.0 - ok - failed) width="7" height=format!("{failed:.2}")/> }),
            ]
        })
        .flatten()
        .collect_view();
    let rates: Vec<Option<f64>> =
        series.iter().map(|b| b.success_rate.filter(|_| b.attempts >= FEW_ATTEMPTS)).collect();
    let few: Vec<(usize, f64)> = series
        .iter()
        .enumerate()
        .filter(|(_, b)| b.attempts > 0 && b.attempts < FEW_ATTEMPTS)
        .map(|(i, b)| (i, b.success_rate.unwrap_or(0.0)))
        .collect();
    let empty = series.iter().all(|b| b.attempts == 0);
    let hovered = RwSignal::new(None::<usize>);
    view! {
        <figure class="chart" data-testid="volume-chart">
            <figcaption>{title.clone()}</figcaption>
            <div class="legend">
                <span class="key ok">"Succeeded"</span>
                <span class="key failed">"Failed"</span>
                <span class="key rate">"Success rate"</span>
                <span class="key few">{format!("Under {FEW_ATTEMPTS} attempts")}</span>
            </div>
            <div class="plot">
                <div class="y-axis"><span>{format!("{top:.0}")}</span><span>{format!("{:.0}", top / 2.0)}</span><span>"0"</span></div>
                <div class="area">
                    <svg viewBox=format!("0 0 {width} 100") preserveAspectRatio="none" role="img" aria-label=title>
                        <line class="grid" x1="0" y1="50" x2=format!("{width}") y2="50"/>
                        {bars}
                        {line_runs(&rates, |r| 100.0 - r * 100.0).into_iter().map(|points| view! { <polyline class="rate" points=points/> }).collect_view()}
                        {few.into_iter().map(|(i, r)| {
                            let y = format!("{:.2}", 100.0 - r * 100.0);
                            view! { <line class="few" x1=format!("{:.2}", i as f64 * SLOT + 1.0) x2=format!("{:.2}", i as f64 * SLOT + 9.0) y1=y.clone() y2=y/> }
                        }).collect_view()}
                    </svg>
                    <Hover series=series.clone() format hovered/>
                    {empty.then(|| view! { <p class="no-data">"No attempts in this window"</p> })}
                </div>
                <div class="y-axis right"><span>"100 %"</span><span>"50 %"</span><span>"0 %"</span></div>
            </div>
            <TimeAxis series=series.clone() format/>
            <ChartTable series/>
        </figure>
    }
}

/// Attempt durations over time: the median (p50) and the 95th percentile, per bucket.
#[component]
pub fn LatencyChart(#[prop(into)] title: String, series: Vec<Bucket>, format: &'static str) -> impl IntoView {
    let n = series.len().max(1);
    let width = n as f64 * SLOT;
    let p50: Vec<Option<f64>> = series.iter().map(|b| b.p50_response_ms.map(|v| v as f64)).collect();
    let p95: Vec<Option<f64>> = series.iter().map(|b| b.p95_response_ms.map(|v| v as f64)).collect();
    let top = nice_top(p95.iter().chain(p50.iter()).flatten().cloned().fold(0.0, f64::max));
    let y = move |v: f64| 100.0 - (v / top).clamp(0.0, 1.0) * 100.0;
    let empty = p50.iter().all(Option::is_none);
    let hovered = RwSignal::new(None::<usize>);
    view! {
        <figure class="chart" data-testid="latency-chart">
            <figcaption>{title.clone()}</figcaption>
            <div class="legend">
                <span class="key p50">"p50 (median)"</span>
                <span class="key p95">"p95"</span>
            </div>
            <div class="plot">
                <div class="y-axis"><span>{format!("{top:.0} ms")}</span><span>{format!("{:.0} ms", top / 2.0)}</span><span>"0 ms"</span></div>
                <div class="area">
                    <svg viewBox=format!("0 0 {width} 100") preserveAspectRatio="none" role="img" aria-label=title>
                        <line class="grid" x1="0" y1="50" x2=format!("{width}") y2="50"/>
                        {line_runs(&p95, y).into_iter().map(|points| view! { <polyline class="p95" points=points/> }).collect_view()}
                        {line_runs(&p50, y).into_iter().map(|points| view! { <polyline class="p50" points=points/> }).collect_view()}
                    </svg>
                    <Hover series=series.clone() format hovered/>
                    {empty.then(|| view! { <p class="no-data">"No attempts in this window"</p> })}
                </div>
            </div>
            <TimeAxis series=series.clone() format/>
            <ChartTable series/>
        </figure>
    }
}

/// A chart's figures as a table, for whoever cannot see or point at the chart: the buckets that
/// had attempts, one row each.
#[component]
fn ChartTable(series: Vec<Bucket>) -> impl IntoView {
    let rows: Vec<Bucket> = series.into_iter().filter(|b| b.attempts > 0).collect();
    let ms = |v: Option<i64>| v.map(|v| format!("{v} ms")).unwrap_or_else(|| "—".into());
    view! {
        <details class="chart-table">
            <summary>"Show as a table"</summary>
            {if rows.is_empty() {
                view! { <p class="muted small">"No attempts in this window."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="table">
                            <thead><tr><th>"From"</th><th>"Attempts"</th><th>"Succeeded"</th><th>"Failed"</th><th>"Success"</th><th>"p50"</th><th>"p95"</th></tr></thead>
                            <tbody>
                                {rows.into_iter().map(|b| view! {
                                    <tr>
                                        <td><super::When t=b.start/></td>
                                        <td>{b.attempts}</td>
                                        <td>{b.succeeded}</td>
                                        <td>{b.attempts - b.succeeded}</td>
                                        <td>{super::percent(b.success_rate)}</td>
                                        <td>{ms(b.p50_response_ms)}</td>
                                        <td>{ms(b.p95_response_ms)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </details>
    }
}

/// Horizontal bars, one per named count; names and counts are HTML, the bars SVG.
#[component]
pub fn BarChart(#[prop(into)] title: String, items: Vec<(String, i64)>) -> impl IntoView {
    let top = items.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1) as f64;
    let empty = items.is_empty();
    view! {
        <figure class="chart" data-testid="bar-chart">
            <figcaption>{title}</figcaption>
            <div class="bars">
                {items.into_iter().map(|(name, n)| {
                    let w = (100.0 * n as f64 / top).max(0.5);
                    view! {
                        <span class="name">{name}</span>
                        <svg viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true"><rect class="bar" x="0" y="0" width=format!("{w:.2}") height="10"/></svg>
                        <span class="count">{n.to_string()}</span>
                    }
                }).collect_view()}
            </div>
            {empty.then(|| view! { <p class="no-data">"No deliveries in this window"</p> })}
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_tops_are_round_and_cover_the_data() {
        assert_eq!(nice_top(0.0), 1.0);
        assert_eq!(nice_top(1.0), 1.0);
        assert_eq!(nice_top(3.0), 5.0);
        assert_eq!(nice_top(120.0), 200.0);
        assert_eq!(nice_top(999.0), 1000.0);
    }

    #[test]
    fn lines_break_at_empty_buckets_and_a_lone_point_is_a_dash() {
        let runs = line_runs(&[Some(1.0), Some(1.0), None, Some(0.0)], |v| 100.0 - v * 100.0);
        assert_eq!(runs.len(), 2, "the empty bucket is a gap, not a fall to zero");
        assert_eq!(runs[0], "5.00,0.00 15.00,0.00");
        assert_eq!(runs[1].split(' ').count(), 2, "a lone point still shows: a dash across its bucket");
    }
}
