//! Credentials for the API.
