//! Integration tests of the REST API: each starts the real server on an ephemeral port against its
//! own SQLite file and drives it over HTTP.

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
mod openapi;
mod operations;
mod properties;
mod sealing;
mod stats;
mod stream;
mod webhooks;
