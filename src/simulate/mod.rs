//! The simulator.
pub const DEFAULT_PROJECT_ID: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
pub async fn run_cli(_args: &crate::cli::SimulateArgs) -> anyhow::Result<()> {
    Ok(())
}
