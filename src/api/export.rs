//! `GET /api/deliveries/export.csv`: the delivery log with each delivery's last attempt, as CSV,
//! streamed page by page (constant memory whatever the size).

use super::deliveries::ListQuery;
use super::extract::Params;
use super::openapi::{get, Routes};
use crate::domain::{Delivery, Principal};
use crate::error::AppResult;
use crate::state::AppState;
use crate::store::{DeliveryFilter, LastAttempt};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;

pub fn routes() -> Routes {
    Routes::new("Deliveries").op(get("/deliveries/export.csv", export_deliveries)
        .summary("Export deliveries as CSV")
        .describe("The same filters as the delivery list; one row per delivery with its last attempt, streamed.")
        .query::<ListQuery>()
        .text(200, "text/csv", "A header row, then one row per delivery, newest first."))
}

/// Rows read from the database per page.
const PAGE: i64 = 1_000;

/// The header row.
pub const COLUMNS: [&str; 16] = [
    "id",
    "createdAt",
    "updatedAt",
    "tenant",
    "webhookId",
    "eventId",
    "event",
    "status",
    "attempts",
    "lastStatusCode",
    "lastError",
    "nextAttemptAt",
    "lastAttemptAt",
    "lastAttemptDurationMs",
    "lastAttemptStatus",
    "lastAttemptErrorKind",
];

/// `GET /api/deliveries/export.csv`: the same filters as `GET /api/deliveries`, newest first.
async fn export_deliveries(
    State(state): State<AppState>,
    principal: Principal,
    Params(q): Params<ListQuery>,
) -> AppResult<Response> {
    let filter = DeliveryFilter { limit: None, cursor: None, ..q.filter(&principal)? };
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(produce(state, filter, tx));
    let stream = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|chunk| (chunk, rx)) });
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"deliveries-{stamp}.csv\"")),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// Writes the header, then page after page, until the log or the reader ends.
async fn produce(state: AppState, mut filter: DeliveryFilter, tx: mpsc::Sender<Result<Bytes, std::io::Error>>) {
    let mut first = true;
    loop {
        let (page, last) = match crate::service::deliveries::export_page(&state, &filter, PAGE).await {
            Ok(found) => found,
            Err(e) => {
                let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                return;
            }
        };
        let chunk = render(&page.data, &last, first);
        first = false;
        if tx.send(Ok(Bytes::from(chunk))).await.is_err() {
            return; // the client went away
        }
        match page.next_cursor {
            Some(cursor) => filter.cursor = Some(cursor),
            None => return,
        }
    }
}

/// CSV text of one page (with the header row first when `header`).
pub fn render(deliveries: &[Delivery], last: &std::collections::HashMap<String, LastAttempt>, header: bool) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::with_capacity(deliveries.len() * 200));
    if header {
        let _ = w.write_record(COLUMNS);
    }
    let iso = |t: chrono::DateTime<chrono::Utc>| crate::delivery::payload::iso(t);
    for d in deliveries {
        let a = last.get(&d.id);
        let record = [
            d.id.clone(),
            iso(d.created_at),
            iso(d.updated_at),
            d.tenant.clone(),
            d.webhook_id.clone(),
            d.event_id.clone(),
            d.event.clone(),
            d.status.as_str().to_string(),
            d.attempt_count.to_string(),
            d.last_status_code.map(|c| c.to_string()).unwrap_or_default(),
            d.last_error.clone().unwrap_or_default(),
            d.next_attempt_at.map(iso).unwrap_or_default(),
            a.and_then(|a| chrono::DateTime::from_timestamp_millis(a.started_at)).map(iso).unwrap_or_default(),
            a.map(|a| a.duration_ms.to_string()).unwrap_or_default(),
            a.and_then(|a| a.response_status).map(|s| s.to_string()).unwrap_or_default(),
            a.and_then(|a| a.error_kind.clone()).unwrap_or_default(),
        ];
        let _ = w.write_record(&record);
    }
    w.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::DeliveryStatus;

    #[test]
    fn fields_with_commas_quotes_and_line_breaks_read_back_unchanged() {
        let awkward = "the receiver said \"no, thanks\",\r\nthen, on a new line: 'bye'\n=1+1";
        let t = chrono::DateTime::from_timestamp_millis(1_764_000_000_123).unwrap();
        let delivery = Delivery {
            id: "dlv_1".into(),
            event_id: "evt_1".into(),
            webhook_id: "wh_1".into(),
            tenant: "acme".into(),
            event: "payment.failed".into(),
            status: DeliveryStatus::Failed,
            attempt_count: 2,
            next_attempt_at: None,
            last_status_code: Some(500),
            last_error: Some(awkward.into()),
            created_at: t,
            updated_at: t,
            waiting_behind: None,
        };
        let text = render(&[delivery.clone(), delivery], &Default::default(), true);
        let mut reader = csv::Reader::from_reader(text.as_slice());
        assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), COLUMNS);
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2, "a line break inside a field starts no new row");
        for row in rows {
            assert_eq!(row.len(), COLUMNS.len());
            assert_eq!(row.get(10), Some(awkward));
            assert_eq!(row.get(1), Some("2025-11-24T16:00:00.123Z"));
            assert_eq!(row.get(12), Some(""), "no attempt: empty, not a placeholder");
        }
    }
}
