use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    match adthread::cli::Cli::parse().run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("adthread: {err}");
            ExitCode::FAILURE
        }
    }
}
