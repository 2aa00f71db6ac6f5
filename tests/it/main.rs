//! Integration tests: the real `gaussjobs` binary against the in-process simulator.

mod auth;
mod bad_input;
mod demo;
mod files;
mod hostile_api;
mod ledger;
mod network;
mod operators;
mod query;
mod readme;
mod report;
mod rooms;
mod safety;
mod support;
mod sync;
mod ux;
