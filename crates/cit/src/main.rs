//! `cit`: the one binary. Serves the API, runs the demo, and administers tenants, users and
//! tokens from the command line.
//!
//! Exit codes: 0 success, 1 failure (database, I/O), 2 bad usage or invalid input,
//! 3 not found, 4 already exists or refused by a rule.

mod bulk;
mod cli;
mod demo;
mod schema;
mod seed;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}
