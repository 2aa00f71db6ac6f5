//! The `gaussjobs` binary: parse, set up logging, run, map the error to an exit code.

use std::process::ExitCode;

use gaussjobs::{app, exit};

fn main() -> ExitCode {
    let cli = match app::parse() {
        Ok(cli) => cli,
        Err(code) => return ExitCode::from(code),
    };
    app::init_logging(&cli);
    let json_logs = cli.log_format == gaussjobs::cli::LogFormat::Json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::FAILED);
        }
    };
    match runtime.block_on(app::run(cli)) {
        Ok(()) => ExitCode::from(exit::OK),
        // A reader that stopped reading (`| head`) is not a failure of ours.
        Err(err) if exit::is_broken_pipe(&err) => ExitCode::from(exit::OK),
        Err(err) if json_logs => {
            exit::report_json(&err, &mut std::io::stderr());
            ExitCode::from(exit::code_for(&err))
        }
        Err(err) => {
            exit::report(&err, &mut std::io::stderr());
            ExitCode::from(exit::code_for(&err))
        }
    }
}
