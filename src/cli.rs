//! The command line: `serve`, `user create`, `backup`, `check`, `copy`.

use std::io::BufRead;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::auth::{create_account, AccountError, NewAccount, PasswordError};
use crate::config::{self, Config, ConfigError, DatabaseLocation, PostgresUrl};
use crate::schema::rules::FieldProblem;
use crate::schema::{Nullable, UserProfile};
use crate::server::ServerError;
use crate::store::copy::{copy_to_postgres, CopyError, TableCount};
use crate::store::postgres::{PostgresDatabase, PostgresError};
use crate::store::StoreError;

/// Why a command failed; `main` prints it and exits non-zero.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Server(#[from] ServerError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Postgres(#[from] PostgresError),
    #[error("serving from PostgreSQL is not built yet (issue 17); use an SQLite file for now")]
    NotBuiltOnPostgres,
    #[error(
        "adthread backup copies an SQLite file; back up PostgreSQL with its own tools: \
         pg_dump --format=custom --file={} '{url}' (the password from PGPASSWORD or \
         ~/.pgpass), and restore with pg_restore --dbname='{url}' {}", target.display(), target.display()
    )]
    BackupOnPostgres { url: String, target: PathBuf },
    #[error(
        "adthread copy moves an SQLite database into PostgreSQL, and the database configured \
         here is already PostgreSQL ({url}); to copy between PostgreSQL databases use pg_dump \
         and pg_restore"
    )]
    CopyFromPostgres { url: String },
    #[error("--to: {0}")]
    CopyTarget(String),
    #[error("copy failed: {0}")]
    Copy(#[from] CopyError),
    #[error(transparent)]
    Passwords(#[from] PasswordError),
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
    #[error("backup failed: {0}")]
    Backup(StoreError),
    #[error("{path} has {integrity} integrity and {foreign_keys} foreign-key problems")]
    Damaged {
        path: String,
        integrity: usize,
        foreign_keys: usize,
    },
    #[error("cannot read the password from standard input: {0}")]
    PasswordInput(std::io::Error),
    /// Every problem with the new user's arguments, in the command line's words.
    #[error("{}", .0.join("; "))]
    InvalidUser(Vec<String>),
}

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
    /// The SQLite database file or a postgres:// URL (overrides ADTHREAD_DATABASE,
    /// database.path and database.url)
    #[arg(long, global = true, value_name = "PATH|URL")]
    database: Option<String>,
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
    /// Copy the SQLite database into an empty PostgreSQL database (every table, ids kept),
    /// then compare row counts. Stop the server first: the copy reads one snapshot, and what
    /// the server writes after it is not copied.
    Copy {
        /// The PostgreSQL database to copy into: postgres://USER:PASSWORD@HOST/NAME
        #[arg(long, value_name = "URL")]
        to: String,
    },
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
    pub fn run(self) -> Result<(), CliError> {
        let mut config = config::load(self.config.as_deref())?;
        if let Some(database) = &self.database {
            config.database.set_location(database);
        }
        if let DatabaseLocation::Postgres(url) = config.database.location()? {
            let url = url.clone();
            return on_postgres(self.command, &config, &url);
        }
        match self.command {
            Command::Serve { bind } => {
                if let Some(bind) = bind {
                    config.server.bind = bind;
                }
                Ok(runtime(&config)?.block_on(crate::server::serve(config))?)
            }
            Command::User {
                command: UserCommand::Create(args),
            } => runtime(&config)?.block_on(create_user(config, args)),
            Command::Backup { target } => {
                crate::store::maintenance::backup(&config.database.path, &target)
                    .map_err(CliError::Backup)?;
                println!(
                    "backed up {} to {}",
                    config.database.path.display(),
                    target.display()
                );
                Ok(())
            }
            Command::Check => check(&config),
            Command::Copy { to } => copy(&config, &to),
        }
    }
}

/// What works on PostgreSQL so far: `check`. The rest says what to do instead.
fn on_postgres(command: Command, config: &Config, url: &PostgresUrl) -> Result<(), CliError> {
    match command {
        Command::Check => runtime(config)?.block_on(check_postgres(config, url)),
        Command::Backup { target } => Err(CliError::BackupOnPostgres {
            url: url.to_string(),
            target,
        }),
        Command::Copy { .. } => Err(CliError::CopyFromPostgres {
            url: url.to_string(),
        }),
        Command::Serve { .. } | Command::User { .. } => Err(CliError::NotBuiltOnPostgres),
    }
}

/// Connects, applies what migrations are missing (refusing a changed one), and says so.
async fn check_postgres(config: &Config, url: &PostgresUrl) -> Result<(), CliError> {
    let (database, migrations) = PostgresDatabase::open(url, config.database.pool_size).await?;
    let server = database.server_facts().await?;
    let applied = match migrations.applied.as_slice() {
        [] => "up to date".to_string(),
        numbers => format!(
            "applied now: {}",
            numbers
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    println!(
        "{url}: connected to PostgreSQL {} {}, schema at migration {} ({applied})",
        server.version,
        if server.encrypted {
            format!("over TLS (sslmode {})", url.tls().name())
        } else {
            "without TLS".to_string()
        },
        migrations.version,
    );
    Ok(())
}

/// Copies, then prints every table's rows on each side; differing counts fail (after the table
/// is printed, so that it shows which).
fn copy(config: &Config, to: &str) -> Result<(), CliError> {
    let source = &config.database.path;
    let target: PostgresUrl = to.parse().map_err(CliError::CopyTarget)?;
    let copied = runtime(config)?.block_on(copy_to_postgres(source, &target));
    match copied {
        Ok(counts) => {
            print!("{}", counts_table(&counts));
            let rows: i64 = counts.iter().map(|count| count.postgres).sum();
            println!(
                "copied {} to {target}: {} tables, {rows} rows, every count matches",
                source.display(),
                counts.len()
            );
            Ok(())
        }
        Err(CopyError::CountsDiffer(counts)) => {
            print!("{}", counts_table(&counts));
            Err(CopyError::CountsDiffer(counts).into())
        }
        Err(err) => Err(err.into()),
    }
}

/// One line a table: its name, its rows on SQLite and on PostgreSQL, and "differs" where they do.
fn counts_table(counts: &[TableCount]) -> String {
    let width = counts
        .iter()
        .map(|count| count.table.len())
        .chain(["table".len()])
        .max()
        .unwrap_or_default();
    let mut text = format!(
        "{:width$}  {:>10}  {:>10}\n",
        "table", "sqlite", "postgresql"
    );
    for count in counts {
        let differs = if count.sqlite == count.postgres {
            ""
        } else {
            "  differs"
        };
        text.push_str(&format!(
            "{:width$}  {:>10}  {:>10}{differs}\n",
            count.table, count.sqlite, count.postgres
        ));
    }
    text
}

fn check(config: &Config) -> Result<(), CliError> {
    let path = &config.database.path;
    let report = crate::store::maintenance::check(path)?;
    if report.is_ok() {
        println!("{}: integrity ok, foreign keys ok", path.display());
        return Ok(());
    }
    for problem in report.integrity.iter().chain(&report.foreign_keys) {
        println!("{problem}");
    }
    Err(CliError::Damaged {
        path: path.display().to_string(),
        integrity: report.integrity.len(),
        foreign_keys: report.foreign_keys.len(),
    })
}

/// Blocking work is database reads (one pooled connection each) and password hashing, so a few
/// more threads than connections are enough. With tokio's default (512), every waiting request
/// got a thread of its own that only waited for a connection: more memory and more context
/// switches on a small machine.
fn runtime(config: &Config) -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(config.database.pool_size as usize + 4)
        .enable_all()
        .build()
        .map_err(CliError::Runtime)
}

async fn create_user(config: Config, args: CreateUser) -> Result<(), CliError> {
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .map_err(CliError::PasswordInput)?;
    let password = password.trim_end_matches(['\r', '\n']).to_string();
    let profile = UserProfile {
        first_name: Nullable(args.first_name),
        last_name: Nullable(args.last_name),
        phone_number: Nullable(args.phone_number),
    };
    let account = NewAccount::checked(&args.email, password, None, args.admin, profile)
        .map_err(|problems| CliError::InvalidUser(problems.iter().map(describe).collect()))?;
    let store = crate::store::Store::open(&config.database)?;
    let passwords = crate::auth::Passwords::new(&config.auth)?;
    let created = create_account(&store, &passwords, account).await;
    store.close();
    let user = created?;
    println!(
        "created {} user {} (id {})",
        if user.is_admin { "admin" } else { "ordinary" },
        user.email,
        user.id.0
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counts_table_lines_up_and_marks_a_table_whose_counts_differ() {
        let count = |table: &str, sqlite, postgres| TableCount {
            table: table.into(),
            sqlite,
            postgres,
        };
        let text = counts_table(&[count("users", 3, 3), count("chat_messages", 120, 119)]);
        assert_eq!(
            text,
            "table              sqlite  postgresql\n\
             users                   3           3\n\
             chat_messages         120         119  differs\n"
        );
    }
}
