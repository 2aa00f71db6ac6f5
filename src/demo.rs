//! The demo. (being written)
use std::path::Path;
pub async fn run(_db: &Path, _args: &crate::cli::DemoArgs, _out: &mut dyn std::io::Write) -> anyhow::Result<()> { Ok(()) }
