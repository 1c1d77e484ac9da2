//! The `session-spec` command-line tool.

fn main() {
    eprintln!("session-spec: the CLI is not built yet");
    std::process::exit(2);
}
