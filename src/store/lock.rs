//! stub
pub struct SyncLock;
