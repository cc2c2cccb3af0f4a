//! `GET /api/deliveries/export.csv`: the filtered log as CSV that parses back to the same rows.

use crate::harness::{data, eventually, TestServer, ADMIN_TOKEN};
use crate::receiver::{Receiver, Reply};
use serde_json::json;
use std::time::Duration;

async fn csv_rows(s: &TestServer, key: &str, query: &str) -> (reqwest::header::HeaderMap, Vec<csv::StringRecord>) {
    let r = reqwest::Client::new()
        .get(s.url(&format!("/api/deliveries/export.csv{query}")))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(reader.headers().unwrap().get(0), Some("id"));
    (headers, reader.records().map(Result::unwrap).collect())
}

#[tokio::test]
async fn the_export_streams_every_filtered_delivery_with_its_last_attempt() {
    let s = TestServer::start_with(|c| {
        c.max_retries = 0;
        c.max_failures = 1_000_000;
    })
    .await;
    let r = Receiver::answering(|path, _| Reply::status(if path == "/bad" { 500 } else { 200 })).await;
    let good = s.webhook(ADMIN_TOKEN, &r.url("/good"), &["*"]).await;
    s.webhook(ADMIN_TOKEN, &r.url("/bad"), &["*"]).await;
    let events = 650;
    for i in 0..events {
        s.post(ADMIN_TOKEN, "/api/events", json!({"event": "transaction.created", "data": {"n": i}})).await;
    }
    eventually(Duration::from_secs(30), "every delivery was attempted", || async {
        let pending = data(&s.get(ADMIN_TOKEN, "/api/deliveries?status=pending&limit=1").await).len();
        let delivering = data(&s.get(ADMIN_TOKEN, "/api/deliveries?status=delivering&limit=1").await).len();
        pending + delivering == 0
    })
    .await;

    let (headers, all) = csv_rows(&s, ADMIN_TOKEN, "").await;
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(headers["content-disposition"].to_str().unwrap().contains("attachment"));
    assert_eq!(all.len(), 2 * events, "all rows, across export pages");
    let ids: std::collections::HashSet<&str> = all.iter().map(|r| r.get(0).unwrap()).collect();
    assert_eq!(ids.len(), 2 * events, "no row twice");

    let (_, failed) = csv_rows(&s, ADMIN_TOKEN, "?status=failed").await;
    assert_eq!(failed.len(), events);
    let first = &failed[0];
    assert_eq!(first.get(7), Some("failed"));
    assert_eq!(first.get(8), Some("1"));
    assert_eq!(first.get(9), Some("500"));
    assert_eq!(first.get(14), Some("500"));
    assert_eq!(first.get(15), Some("http_status"));

    // The same rows as the JSON log, for the same filter.
    let good_id = good["id"].as_str().unwrap();
    let (_, by_hook) = csv_rows(&s, ADMIN_TOKEN, &format!("?webhookId={good_id}&limit=200")).await;
    let json_page = data(&s.get(ADMIN_TOKEN, &format!("/api/deliveries?webhookId={good_id}&limit=200")).await);
    assert_eq!(by_hook.len(), events, "the export ignores the page size: it is the whole log");
    for (row, d) in by_hook.iter().zip(&json_page) {
        assert_eq!(row.get(0), d["id"].as_str());
        assert_eq!(row.get(7), d["status"].as_str());
        assert_eq!(row.get(5), d["eventId"].as_str());
    }

    // A tenant exports only its own log.
    let acme = s.tenant_key("acme").await;
    let (_, theirs) = csv_rows(&s, &acme, "").await;
    assert!(theirs.is_empty());
}
