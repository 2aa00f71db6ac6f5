//! Queries.
pub fn run(_db: &std::path::Path, _args: &crate::cli::QueryArgs, _now: chrono::DateTime<chrono::Utc>, _out: &mut dyn std::io::Write, _err: &mut dyn std::io::Write) -> anyhow::Result<()> { Ok(()) }
