//! The scheduled-jobs HTTP API and nothing else: the wire model, the typed client, auth and
//! the regional endpoint table.

pub(crate) mod auth;
pub(crate) mod client;
pub(crate) mod error;
pub(crate) mod fingerprint;
pub(crate) mod iam;
pub(crate) mod metadata;
pub(crate) mod model;
mod pace;
pub(crate) mod regions;
pub(crate) mod secret;
pub(crate) mod signer;
pub(crate) mod transport;

pub use client::{Client, ClientConfig};
pub use error::ApiError;
pub use model::{JobStatus, ListJobsPage, ListJobsRequest, ScheduleTask};
pub use secret::Secret;
pub use transport::{Network, MAX_BODY_BYTES};
