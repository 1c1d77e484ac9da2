//! The `session-spec` command-line tool: start, check and compile session specs.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
