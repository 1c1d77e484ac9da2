//! The commands of the `session-spec` tool.

use std::fs;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use session_spec::diagnostic::{Diagnostic, Diagnostics};
use session_spec::parse;

/// Write, check and compile declarative session specs (`session.toml`).
///
/// A spec declares a session's typed fields, their validation rules and its policy
/// (cookie, lifetime, rotation, keys, backend). `check` reports every mistake at once with
/// its line and column; `generate` prints the Rust code a build script would compile.
#[derive(Parser, Debug)]
#[command(name = "session-spec", version, propagate_version = true)]
struct Cli {
    /// When to colour diagnostics.
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true)]
    color: Color,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Color {
    /// Colour when standard error is a terminal and `NO_COLOR` is not set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Write a starter spec from a template.
    ///
    /// Refuses to overwrite an existing file. Templates: `minimal` (one optional field),
    /// `auth` (user id, roles enum, sign-in time, short idle timeout, id rotation), `cart`
    /// (a month-long cart with item limits) and `csrf-flash` (a CSRF token and flash
    /// messages).
    Init {
        /// The template to start from.
        #[arg(long, short, value_enum, default_value_t = Template::Minimal)]
        template: Template,
        /// Where to write the spec.
        #[arg(default_value = "session.toml")]
        path: PathBuf,
    },
    /// Check specs and report every error with `file:line:col`.
    ///
    /// Prints all diagnostics (errors and warnings) to standard error, rendered like
    /// rustc's. Exits with status 1 when any spec has an error, 0 otherwise (warnings do
    /// not fail the check).
    Check {
        /// The spec files to check.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Also print each spec's cookie budget: the largest cookie its rules allow, field
        /// by field, against the 4096 bytes browsers keep.
        #[arg(long)]
        explain: bool,
    },
    /// Print the Rust code generated from a spec.
    ///
    /// This is the code `session_spec::compile` writes into `OUT_DIR` from a build script;
    /// `generate` lets you read it. Writes to standard output unless `-o` is given.
    Generate {
        /// The spec file.
        file: PathBuf,
        /// Write the code to this file instead of standard output.
        #[arg(short, long, value_name = "OUT")]
        output: Option<PathBuf>,
    },
    /// Print the JSON Schema of the spec format on standard output.
    ///
    /// Point editors at it with a first line `#:schema ./session-spec.schema.json` in a
    /// spec (taplo, Even Better TOML) to get completion and checking of keys.
    Schema,
}

/// The starter templates, embedded in the tool.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Template {
    /// One optional field and the secure defaults.
    Minimal,
    /// Sign-in state: user id, roles, sign-in time.
    Auth,
    /// A shopping cart with item limits.
    Cart,
    /// A CSRF token and flash messages.
    CsrfFlash,
}

impl Template {
    fn text(self) -> &'static str {
        match self {
            Self::Minimal => include_str!("../templates/minimal.toml"),
            Self::Auth => include_str!("../templates/auth.toml"),
            Self::Cart => include_str!("../templates/cart.toml"),
            Self::CsrfFlash => include_str!("../templates/csrf-flash.toml"),
        }
    }
}

/// The `#:schema` line written by `init`: the schema beside the spec, as `session-spec
/// schema > session-spec.schema.json` writes it.
const INIT_SCHEMA_LINE: &str = "#:schema ./session-spec.schema.json";

pub(crate) fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    match cli.command {
        Command::Init { template, path } => init(template, &path),
        Command::Check { files, explain } => check(&files, color, explain),
        Command::Generate { file, output } => generate(&file, output.as_deref(), color),
        Command::Schema => {
            print!("{}", session_spec::json_schema::spec_schema_text());
            ExitCode::SUCCESS
        }
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

fn init(template: Template, path: &Path) -> ExitCode {
    let text = template.text();
    let text = match text.split_once('\n') {
        Some((first, rest)) if first.starts_with("#:schema") => {
            format!("{INIT_SCHEMA_LINE}\n{rest}")
        }
        _ => text.to_owned(),
    };
    let file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path);
    let mut file = match file {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return fail(&format!(
                "`{}` already exists; not overwriting it (remove it or pick another path)",
                path.display()
            ));
        }
        Err(e) => return fail(&format!("cannot create `{}`: {e}", path.display())),
    };
    if let Err(e) = file.write_all(text.as_bytes()) {
        return fail(&format!("cannot write `{}`: {e}", path.display()));
    }
    eprintln!("wrote `{}`", path.display());
    eprintln!(
        "next: `session-spec check {0}`; for editor completion, `session-spec schema > {1}`",
        path.display(),
        path.with_file_name("session-spec.schema.json").display()
    );
    ExitCode::SUCCESS
}

fn read(path: &Path) -> Result<String, Diagnostics> {
    fs::read_to_string(path).map_err(|e| {
        let name = path.display().to_string();
        Diagnostics::new(
            name.clone(),
            String::new(),
            vec![Diagnostic::error(
                format!("cannot read `{name}`: {e}"),
                Default::default(),
            )],
        )
    })
}

fn check(files: &[PathBuf], color: bool, explain: bool) -> ExitCode {
    let mut failed = 0;
    let mut stderr = std::io::stderr().lock();
    for path in files {
        let diagnostics = match read(path) {
            Ok(source) => {
                if explain {
                    if let Some(schema) = parse::lower_unchecked(&source) {
                        let budget = session_spec::budget::cookie_budget(&schema);
                        let _ = writeln!(stderr, "{}:", path.display());
                        let _ = writeln!(stderr, "{}", budget.explain());
                    }
                }
                parse::check_str(&source, &path.display().to_string()).1
            }
            Err(d) => d,
        };
        if !diagnostics.is_empty() {
            let _ = write!(stderr, "{}", diagnostics.render(color));
            let _ = writeln!(stderr);
        }
        let errors = diagnostics.error_count();
        if errors > 0 {
            failed += 1;
            let _ = writeln!(
                stderr,
                "error: `{}` has {errors} error{}",
                path.display(),
                if errors == 1 { "" } else { "s" }
            );
        } else {
            let _ = writeln!(stderr, "ok: `{}`", path.display());
        }
    }
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn generate(file: &Path, output: Option<&Path>, color: bool) -> ExitCode {
    let schema = match read(file).and_then(|s| parse::parse_str(&s, &file.display().to_string())) {
        Ok(schema) => schema,
        Err(d) => {
            eprint!("{}", d.render(color));
            return ExitCode::FAILURE;
        }
    };
    let code = session_spec::codegen::generate(&schema);
    match output {
        Some(out) => match fs::write(out, code) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&format!("cannot write `{}`: {e}", out.display())),
        },
        None => {
            print!("{code}");
            ExitCode::SUCCESS
        }
    }
}
