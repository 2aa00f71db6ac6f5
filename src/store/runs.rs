//! stub
pub struct RunStart;
pub struct RunFinish;
