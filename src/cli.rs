//! The command line: `serve`, `user create`, `backup`, `check`.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::auth::{create_account, NewAccount};
use crate::config::{self, Config};
use crate::schema::rules::FieldProblem;
use crate::schema::{Nullable, UserProfile};

#[derive(Parser)]
#[command(
    name = "adthread",
    version,
    about = "Self-hosted AI-assistant chat threads"
)]
pub struct Cli {
    /// The configuration file [default: ./config.toml, when it exists]
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// The SQLite database file (overrides ADTHREAD_DATABASE and database.path)
    #[arg(long, global = true, value_name = "PATH")]
    database: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server
    Serve {
        /// Address to listen on (overrides ADTHREAD_BIND and server.bind)
        #[arg(long, value_name = "ADDR")]
        bind: Option<String>,
    },
    /// Manage users
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Write a consistent copy of the database to PATH (which must not exist), even while the
    /// server is running
    Backup {
        #[arg(value_name = "PATH")]
        target: PathBuf,
    },
    /// Check the database's integrity and foreign keys; exits non-zero on any problem
    Check,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; reads the password from standard input (one line)
    Create(CreateUser),
}

#[derive(Args)]
struct CreateUser {
    email: String,
    /// Make the user an administrator
    #[arg(long)]
    admin: bool,
    /// At most 200 characters
    #[arg(long)]
    first_name: Option<String>,
    /// At most 200 characters
    #[arg(long)]
    last_name: Option<String>,
    /// 9 to 15 characters
    #[arg(long)]
    phone_number: Option<String>,
}

impl Cli {
    pub fn run(self) -> ExitCode {
        match self.try_run() {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("adthread: {message}");
                ExitCode::FAILURE
            }
        }
    }

    fn try_run(self) -> Result<(), String> {
        let mut config = config::load(self.config.as_deref()).map_err(|err| err.to_string())?;
        if let Some(database) = self.database {
            config.database.path = database;
        }
        match self.command {
            Command::Serve { bind } => {
                if let Some(bind) = bind {
                    config.server.bind = bind;
                }
                runtime(&config)?.block_on(crate::server::serve(config))
            }
            Command::User {
                command: UserCommand::Create(args),
            } => runtime(&config)?.block_on(create_user(config, args)),
            Command::Backup { target } => {
                crate::store::maintenance::backup(&config.database.path, &target)
                    .map_err(|err| format!("backup failed: {err}"))?;
                println!(
                    "backed up {} to {}",
                    config.database.path.display(),
                    target.display()
                );
                Ok(())
            }
            Command::Check => check(&config),
        }
    }
}

fn check(config: &Config) -> Result<(), String> {
    let path = &config.database.path;
    let report = crate::store::maintenance::check(path).map_err(|err| err.to_string())?;
    if report.is_ok() {
        println!("{}: integrity ok, foreign keys ok", path.display());
        return Ok(());
    }
    for problem in report.integrity.iter().chain(&report.foreign_keys) {
        println!("{problem}");
    }
    Err(format!(
        "{} has {} integrity and {} foreign-key problems",
        path.display(),
        report.integrity.len(),
        report.foreign_keys.len()
    ))
}

/// Blocking work is database reads (one pooled connection each) and password hashing, so a few
/// more threads than connections are enough. With tokio's default (512), every waiting request
/// got a thread of its own that only waited for a connection: more memory and more context
/// switches on a small machine.
fn runtime(config: &Config) -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(config.database.pool_size as usize + 4)
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start the runtime: {err}"))
}

async fn create_user(config: Config, args: CreateUser) -> Result<(), String> {
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .map_err(|err| format!("cannot read the password from standard input: {err}"))?;
    let password = password.trim_end_matches(['\r', '\n']).to_string();
    let profile = UserProfile {
        first_name: Nullable(args.first_name),
        last_name: Nullable(args.last_name),
        phone_number: Nullable(args.phone_number),
    };
    let account = NewAccount::checked(&args.email, password, None, args.admin, profile)
        .map_err(|problems| problems.iter().map(describe).collect::<Vec<_>>().join("; "))?;
    let store = crate::store::Store::open(&config.database).map_err(|err| err.to_string())?;
    let passwords = crate::auth::Passwords::new(&config.auth).map_err(|err| err.to_string())?;
    let created = create_account(&store, &passwords, account).await;
    store.close();
    let user = created.map_err(|err| err.to_string())?;
    println!(
        "created {} user {} (id {})",
        if user.is_admin { "admin" } else { "ordinary" },
        user.email,
        user.id
    );
    Ok(())
}

/// A problem in the words of the command line: its argument, option or input.
fn describe(problem: &FieldProblem) -> String {
    let what = match problem.field {
        "email" => "the email".to_string(),
        "password" => "the password (read from standard input)".to_string(),
        option => format!("--{}", option.replace('_', "-")),
    };
    format!("{what}: {}", problem.message)
}
