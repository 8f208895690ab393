//! The `understudy` binary: parse, init tracing, dispatch, map errors to an
//! exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = understudy::cli::Cli::parse();
    let _guard = understudy::telemetry::init(&cli);
    match understudy::cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("understudy: {}", understudy::cli::describe(&error));
            understudy::cli::exit_code(&error)
        }
    }
}
