//! The delivery engine: which addresses may be reached, and (later) claiming, signing and sending.

pub mod ssrf;
