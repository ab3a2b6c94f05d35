//! `cit`: the one binary. Serves the API, runs the demo, and administers tenants, users and
//! tokens from the command line.
//!
//! Exit codes: 0 success, 1 failure (database, I/O), 2 bad usage or invalid input,
//! 3 not found, 4 already exists or refused by a rule.

mod backup;
mod bulk;
mod cli;
mod demo;
mod partner;
mod schema;
mod schema_export;
mod seed;
mod surveys;
mod tenant_archive;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    if args.is_server() {
        restart_with_two_malloc_arenas();
    }
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

/// Servers run with `MALLOC_ARENA_MAX=2` unless it is set. glibc gives each thread that
/// allocates an arena of its own and keeps what was freed there; with cit's threads (the HTTP
/// workers and, on SQLite, one per database connection) that kept about 20-30 MB more resident
/// after a burst of load than two arenas do, at no measurable cost in requests per second
/// (bench/RESULTS.md). glibc reads the variable only when a process starts, so the server starts
/// itself again, in the same process (`exec`), before any thread exists. Set the variable to
/// choose another value; when the restart fails the server goes on with glibc's default.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn restart_with_two_malloc_arenas() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut argv = std::env::args_os();
    let mut again = std::process::Command::new(exe);
    if let Some(arg0) = argv.next() {
        again.arg0(arg0);
    }
    let failed = again.args(argv).env("MALLOC_ARENA_MAX", "2").exec();
    eprintln!("warning: cannot restart with MALLOC_ARENA_MAX=2 ({failed}); going on without it");
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn restart_with_two_malloc_arenas() {}
