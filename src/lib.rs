//! gaussjobs: archive the scheduled jobs of GaussDB(for MySQL) / TaurusDB into SQLite and
//! answer questions about them offline.
//!
//! Data flows one way: `cli` -> `app` -> (`sync` | `query` | `report`) -> (`api`, `store`);
//! `app` turns flags into typed requests, `sync` archives, `query` answers from the archive,
//! `report` draws it as one HTML file (with `query`'s figures); `simulate`
//! fakes the API for tests, benchmarks and the demo. No module imports one above it.

pub mod api;
pub mod app;
pub mod cli;
pub mod exit;
pub mod output_file;
pub mod query;
pub mod redact;
pub mod report;
pub mod simulate;
pub mod store;
pub mod sync;
pub mod terminal;
pub mod time;
