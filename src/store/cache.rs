//! What a store keeps in memory between queries, per process: recently authenticated keys and the
//! event-type catalog. Each backend says when they are forgotten (a revocation or a new type here,
//! and with PostgreSQL also one made by another node, announced through `NOTIFY`).

use crate::domain::Principal;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// How long an authenticated key is remembered at most.
pub const AUTH_CACHE_TTL: Duration = Duration::from_secs(10);

/// Recently authenticated keys (by hash), so a busy publisher does not cost a query per request.
#[derive(Clone, Debug, Default)]
pub(crate) struct AuthCache(Arc<Mutex<HashMap<String, (Principal, Instant)>>>);

impl AuthCache {
    /// The principal of a key hash authenticated less than [`AUTH_CACHE_TTL`] ago.
    pub fn get(&self, hash: &str) -> Option<Principal> {
        let cache = self.0.lock().expect("auth cache");
        cache.get(hash).filter(|(_, at)| at.elapsed() < AUTH_CACHE_TTL).map(|(p, _)| p.clone())
    }

    pub fn put(&self, hash: String, principal: Principal) {
        let mut cache = self.0.lock().expect("auth cache");
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(hash, (principal, Instant::now()));
    }

    /// Forgets every key (a key was revoked).
    pub fn clear(&self) {
        self.0.lock().expect("auth cache").clear();
    }
}

/// Event-type name → category.
type Categories = HashMap<String, String>;

/// The event-type catalog in memory, once read.
#[derive(Clone, Debug, Default)]
pub(crate) struct Catalog(Arc<RwLock<Option<Arc<Categories>>>>);

impl Catalog {
    /// The category of a known type, if the catalog is loaded and has it.
    pub fn category(&self, name: &str) -> Option<String> {
        self.0.read().expect("catalog").as_ref().and_then(|types| types.get(name).cloned())
    }

    /// Replaces the catalog with a fresh read; returns the category of `name` in it.
    pub fn load(&self, types: Vec<(String, String)>, name: &str) -> Option<String> {
        let types: Categories = types.into_iter().collect();
        let found = types.get(name).cloned();
        *self.0.write().expect("catalog") = Some(Arc::new(types));
        found
    }

    /// Forgets the catalog (a type was added).
    pub fn clear(&self) {
        *self.0.write().expect("catalog") = None;
    }
}
