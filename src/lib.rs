//! gaussjobs: archive the scheduled jobs of GaussDB(for MySQL) / TaurusDB into SQLite and
//! answer questions about them offline.
//!
//! Data flows one way: `cli` -> `sync` -> (`api`, `store`); `query` reads the store's file;
//! `simulate` fakes the API for tests, benchmarks and the demo.

pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod demo;
pub mod exit;
pub mod logging;
pub mod progress;
pub mod query;
pub mod simulate;
pub mod status;
pub mod store;
pub mod sync;
pub mod time;
