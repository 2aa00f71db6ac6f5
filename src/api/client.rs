//! The typed client.
#[derive(Debug, thiserror::Error)]
#[error("api")]
pub struct ApiError;
impl ApiError {
    pub fn hint(&self) -> Option<String> {
        None
    }
}
pub struct Client;
pub struct ClientConfig;
