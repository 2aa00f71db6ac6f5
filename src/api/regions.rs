//! The regional endpoint table.
