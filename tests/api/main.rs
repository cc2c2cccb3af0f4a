//! Integration tests of the REST API: each starts the real server on an ephemeral port against its
//! own SQLite file and drives it over HTTP.

mod harness;

mod auth;
mod console;
mod events;
mod keys;
mod webhooks;
