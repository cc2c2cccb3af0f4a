//! Integration tests of the REST API: each starts the real server on an ephemeral port against its
//! own database and drives it over HTTP. The database is a SQLite file, or with `TEST_POSTGRES_URL`
//! a PostgreSQL database of the test's own (see `database`): the same tests run on both backends.

mod database;
mod harness;
mod receiver;

mod alerts;
mod audit;
mod auth;
mod console;
mod crash;
mod delivery;
mod events;
mod export;
mod hardening;
mod keys;
mod limits;
mod nodes;
mod openapi;
mod operations;
mod properties;
mod sealing;
mod stats;
mod stream;
mod traffic;
mod webhooks;
