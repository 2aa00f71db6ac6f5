//! Tests of the simulator over HTTP.
