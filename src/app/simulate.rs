//! `gaussjobs simulate`: the flags made into a simulator configuration, served on loopback only
//! (the fake has no real security) until Ctrl-C.

use std::io::Write;
use std::time::Duration;

use anyhow::Context;

use crate::cli::SimulateArgs;
use crate::simulate::{SimConfig, Simulator};

/// The simulator the flags describe.
pub(crate) fn sim_config(args: &SimulateArgs) -> SimConfig {
    SimConfig {
        jobs: args.jobs as usize,
        days: args.days,
        seed: args.seed,
        token: args.token.clone(),
        project_id: args.project_id.clone(),
        latency: Duration::from_millis(args.latency_ms),
        rate_limit: args.rate_limit,
        open_jobs: args.open_jobs,
        ..SimConfig::default()
    }
}

/// Serves the simulator of `args` on `127.0.0.1:--port` until Ctrl-C.
pub(crate) async fn run(args: &SimulateArgs) -> anyhow::Result<()> {
    let sim = Simulator::new(sim_config(args));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{}", args.port))?;
    let addr = listener.local_addr()?;
    // One line, URL first, so scripts can read it with `cut -d' ' -f1`.
    let mut stdout = std::io::stdout();
    writeln!(
        stdout,
        "http://{addr} project_id={} token={} jobs={}",
        args.project_id,
        args.token,
        sim.job_count()
    )?;
    stdout.flush()?;
    tokio::select! {
        served = sim.serve(listener) => served.context("the simulator stopped")?,
        signal = tokio::signal::ctrl_c() => signal.context("waiting for Ctrl-C")?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::{DEFAULT_PROJECT_ID, DEFAULT_TOKEN};

    #[tokio::test]
    async fn a_port_it_cannot_bind_is_reported() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let args = SimulateArgs {
            port: taken.local_addr().unwrap().port(),
            jobs: 10,
            days: 1,
            seed: 1,
            token: DEFAULT_TOKEN.into(),
            project_id: DEFAULT_PROJECT_ID.into(),
            latency_ms: 0,
            rate_limit: None,
            open_jobs: None,
        };
        let err = run(&args).await.unwrap_err();
        assert!(
            format!("{err:#}").contains("cannot listen on 127.0.0.1:"),
            "{err:#}"
        );
    }
}
