//! The database under test. By default each test has a SQLite file in its own folder; with
//! `TEST_POSTGRES_URL` set (a PostgreSQL server, e.g. `postgres://postgres@127.0.0.1:5432/test`)
//! the same tests run on PostgreSQL, each in a database of its own named after its folder.

use std::hash::{Hash, Hasher};
use std::sync::Once;

/// The PostgreSQL server the suite runs against, if it does.
pub fn postgres_server() -> Option<String> {
    std::env::var("TEST_POSTGRES_URL").ok().filter(|s| !s.is_empty())
}

/// Does this run use PostgreSQL?
pub fn on_postgres() -> bool {
    postgres_server().is_some()
}

/// The `DATABASE_URL` of the test whose folder is `dir` (the same for a restart in that folder).
pub fn url(dir: &std::path::Path) -> String {
    match postgres_server() {
        None => format!("sqlite://{}/test.db", dir.display()),
        Some(server) => {
            drop_leftovers(&server);
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            dir.hash(&mut hasher);
            let mut url = url::Url::parse(&server).expect("TEST_POSTGRES_URL is a URL");
            url.set_path(&format!("monay_t_{:016x}", hasher.finish()));
            url.to_string()
        }
    }
}

/// Drops the test databases a previous run left on the server (once per run, before the first
/// test's database is made).
fn drop_leftovers(server: &str) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let server = server.to_string();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let pool = sqlx::PgPool::connect(&server).await.expect("the PostgreSQL server answers");
                let names: Vec<String> =
                    sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'monay\\_t\\_%'")
                        .fetch_all(&pool)
                        .await
                        .unwrap();
                for name in names {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&pool).await;
                }
                pool.close().await;
            })
        })
        .join()
        .unwrap();
    });
}

/// Everything the test's database holds, as text: the SQLite files' bytes (the WAL too), or every
/// row of every table on PostgreSQL. For checking that a secret is stored nowhere in the clear.
pub async fn contents(dir: &std::path::Path) -> String {
    if !on_postgres() {
        return std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| std::fs::read(e.unwrap().path()).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .collect();
    }
    let pool = sqlx::PgPool::connect(&url(dir)).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'")
        .fetch_all(&pool)
        .await
        .unwrap();
    let mut text = String::new();
    for table in tables {
        let rows: Vec<String> =
            sqlx::query_scalar(&format!("SELECT t::text FROM \"{table}\" t")).fetch_all(&pool).await.unwrap();
        text.extend(rows);
    }
    pool.close().await;
    text
}

/// The rows of `sql` (two text columns) in the test's database.
pub async fn rows(dir: &std::path::Path, sql: &str) -> Vec<(String, Option<String>)> {
    if on_postgres() {
        let pool = sqlx::PgPool::connect(&url(dir)).await.unwrap();
        let rows = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows
    } else {
        let pool = sqlx::SqlitePool::connect(&format!("{}?mode=ro", url(dir))).await.unwrap();
        let rows = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows
    }
}
