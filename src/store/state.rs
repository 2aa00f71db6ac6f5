//! stub
pub struct Coverage;
pub struct Scope;
pub struct ScopeKey;
