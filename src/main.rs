use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    adthread::cli::Cli::parse().run()
}
