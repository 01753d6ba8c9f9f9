//! What is on disk and how it is kept: files opened beneath the root ([`files`]), the
//! per-worker cache of resolved paths ([`cache`], filled by [`resolve`], kept fresh by
//! [`watch`]), and upload temporary files ([`parts`]).

pub mod cache;
pub mod files;
pub mod parts;
pub mod resolve;
pub mod watch;
