//! stub
pub struct JobRecord;
pub struct PageCounts;
