//! The scheduled-jobs HTTP API and nothing else: the wire model, the typed client, auth and
//! the regional endpoint table.

pub mod auth;
pub mod client;
pub mod error;
pub mod fingerprint;
pub mod iam;
pub mod model;
pub mod regions;
pub mod secret;
pub mod signer;

pub use client::{Client, ClientConfig};
pub use error::ApiError;
pub use model::{JobStatus, ListJobsPage, ListJobsRequest, ScheduleTask};
pub use secret::Secret;
