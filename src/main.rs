//! The `hotpapers` command line: a thin front end over [`hotpapers::app::App`].

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
