//! The PostgreSQL side (issue 17) against a real server: the throwaway cluster that
//! `tests/setup/postgres.sh start DIR` runs and describes in `DIR/env`. tests/run starts it and
//! names the file in ADTHREAD_TEST_POSTGRES, and then a missing file fails these tests; a plain
//! `cargo test` without it skips them, saying why.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::harness::{free_port, BINARY};

#[derive(Clone)]
pub(crate) struct Postgres {
    /// postgres://adthread:PASSWORD@127.0.0.1:PORT/adthread, a role that may create databases.
    pub(crate) url: String,
    pub(crate) password: String,
    pub(crate) ca: PathBuf,
    wrong_ca: PathBuf,
}

pub(crate) fn postgres() -> Option<Postgres> {
    let named = std::env::var_os("ADTHREAD_TEST_POSTGRES").map(PathBuf::from);
    let path = named
        .clone()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-postgres/env"));
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if named.is_none() => {
            eprintln!(
                "skipped: no PostgreSQL to test against ({}: {err}); tests/run starts one \
                 with tests/setup/postgres.sh",
                path.display()
            );
            return None;
        }
        Err(err) => panic!("ADTHREAD_TEST_POSTGRES={}: {err}", path.display()),
    };
    let env: HashMap<&str, &str> = text.lines().filter_map(|l| l.split_once('=')).collect();
    let url = env["ADTHREAD_TEST_POSTGRES_URL"].to_string();
    let password = url
        .split_once("://adthread:")
        .and_then(|(_, rest)| rest.split_once('@'))
        .map(|(password, _)| password.to_string())
        .expect("the URL has a password");
    Some(Postgres {
        url,
        password,
        ca: env["ADTHREAD_TEST_POSTGRES_CA"].into(),
        wrong_ca: env["ADTHREAD_TEST_POSTGRES_WRONG_CA"].into(),
    })
}

impl Postgres {
    /// A new empty database for one test; its URL.
    pub(crate) fn fresh_database(&self) -> String {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "adthread_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        psql(&self.url, &format!("CREATE DATABASE {name}"));
        let (server, _) = self.url.rsplit_once('/').unwrap();
        format!("{server}/{name}")
    }
}

/// One statement through psql, PostgreSQL's own client; its rows, one a line.
pub(crate) fn psql(url: &str, sql: &str) -> String {
    let output = Command::new("psql")
        .args([
            url,
            "-X",
            "-A",
            "-t",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ])
        .output()
        .expect("run psql");
    assert!(output.status.success(), "{sql}: {output:?}");
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// The binary in an empty folder (no config.toml) with ADTHREAD_DATABASE set.
fn adthread(database: &str) -> Command {
    let mut command = Command::new(BINARY);
    command
        .current_dir(std::env::temp_dir())
        .env_remove("ADTHREAD_BIND")
        .env("ADTHREAD_DATABASE", database)
        .stdin(Stdio::null());
    command
}

fn run(database: &str, args: &[&str]) -> Output {
    adthread(database).args(args).output().unwrap()
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Failed with exit code 1 and said `text`, without the password anywhere.
pub(crate) fn assert_refused(output: &Output, text: &str, password: &str) {
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(stderr(output).contains(text), "{output:?}");
    assert!(!stderr(output).contains(password), "{output:?}");
    assert!(!stdout(output).contains(password), "{output:?}");
}

#[test]
fn processes_starting_at_once_apply_the_migrations_once() {
    let Some(postgres) = postgres() else { return };
    let database = postgres.fresh_database();
    const PROCESSES: usize = 6;
    let children: Vec<_> = (0..PROCESSES)
        .map(|_| {
            adthread(&database)
                .arg("check")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|child| child.wait_with_output().unwrap())
        .collect();
    for output in &outputs {
        assert!(output.status.success(), "{output:?}");
        assert!(!stdout(output).contains(&postgres.password));
    }
    let latest = include_str!("../../schema.postgres.sql")
        .lines()
        .filter_map(|line| line.strip_prefix("-- migration ")?.split_once(':'))
        .filter(|(number, _)| number.parse::<u32>().is_ok())
        .count();
    let all = (1..=latest).map(|n| n.to_string()).collect::<Vec<_>>();
    let applying: Vec<&Output> = outputs
        .iter()
        .filter(|output| stdout(output).contains(&format!("(applied now: {})", all.join(", "))))
        .collect();
    assert_eq!(applying.len(), 1, "{outputs:?}");
    let up_to_date = outputs
        .iter()
        .filter(|output| stdout(output).contains("(up to date)"))
        .count();
    assert_eq!(up_to_date, PROCESSES - 1, "{outputs:?}");
    assert_eq!(
        psql(
            &database,
            "SELECT count(*), count(DISTINCT version), min(version), max(version) \
             FROM adthread_migrations"
        ),
        format!("{latest}|{latest}|1|{latest}")
    );
    // The schema is there: the built-in assistants, as SQLite's migration 1 writes them.
    assert_eq!(psql(&database, "SELECT count(*) FROM assistants"), "4");
}

#[test]
fn a_migration_changed_since_it_was_applied_is_refused_and_nothing_moves() {
    let Some(postgres) = postgres() else { return };
    let database = postgres.fresh_database();
    assert!(run(&database, &["check"]).status.success());

    // What an edit of migration 2's text in schema.postgres.sql would look like to the next start.
    let recorded = psql(
        &database,
        "SELECT checksum FROM adthread_migrations WHERE version = 2",
    );
    psql(
        &database,
        "UPDATE adthread_migrations SET checksum = 'of an earlier text' WHERE version = 2",
    );
    let refused = run(&database, &["check"]);
    assert_refused(
        &refused,
        "PostgreSQL migration 2 (campaign drafts (issue 15)) was applied from a different text",
        &postgres.password,
    );

    // A database that a newer adthread migrated further.
    psql(
        &database,
        &format!(
            "UPDATE adthread_migrations SET checksum = '{recorded}' WHERE version = 2; \
             INSERT INTO adthread_migrations (version, title, checksum) VALUES (99, 'later', 'x')"
        ),
    );
    let newer = run(&database, &["check"]);
    assert_refused(&newer, "newer than this adthread knows", &postgres.password);

    psql(
        &database,
        "DELETE FROM adthread_migrations WHERE version = 99",
    );
    let restored = run(&database, &["check"]);
    assert!(restored.status.success(), "{restored:?}");
    assert!(stdout(&restored).contains("(up to date)"), "{restored:?}");
}

#[test]
fn tls_verify_full_trusts_the_test_ca_and_no_other() {
    let Some(postgres) = postgres() else { return };
    let database = postgres.fresh_database();
    let with = |query: String| run(&format!("{database}?{query}"), &["check"]);

    let verified = with(format!(
        "sslmode=verify-full&sslrootcert={}",
        postgres.ca.display()
    ));
    assert!(verified.status.success(), "{verified:?}");
    assert!(stdout(&verified).contains("over TLS (sslmode verify-full)"));

    let other_ca = with(format!(
        "sslmode=verify-full&sslrootcert={}",
        postgres.wrong_ca.display()
    ));
    assert_refused(
        &other_ca,
        "error performing TLS handshake: invalid peer certificate: UnknownIssuer",
        &postgres.password,
    );

    // A name the certificate does not carry: verify-full refuses, verify-ca (authority only)
    // accepts, both reaching the same server through hostaddr.
    let elsewhere = database.replace("@127.0.0.1:", "@db.invalid:");
    let named = |mode: &str| {
        run(
            &format!(
                "{elsewhere}?hostaddr=127.0.0.1&sslmode={mode}&sslrootcert={}",
                postgres.ca.display()
            ),
            &["check"],
        )
    };
    assert_refused(
        &named("verify-full"),
        "certificate not valid for name \"db.invalid\"",
        &postgres.password,
    );
    let authority_only = named("verify-ca");
    assert!(authority_only.status.success(), "{authority_only:?}");

    let plain = with("sslmode=disable".into());
    assert!(plain.status.success(), "{plain:?}");
    assert!(stdout(&plain).contains("without TLS"), "{plain:?}");
}

#[test]
fn a_wrong_password_gets_the_servers_answer_without_any_password() {
    let Some(postgres) = postgres() else { return };
    let wrong = "not-the-password-5713";
    let database = postgres
        .url
        .replace(&format!(":{}@", postgres.password), &format!(":{wrong}@"));
    let output = run(&database, &["check"]);
    assert_refused(
        &output,
        "cannot connect to PostgreSQL at postgres://adthread@127.0.0.1:",
        wrong,
    );
    assert!(stderr(&output).contains("password authentication failed for user \"adthread\""));

    // The same through the configuration file, and a URL that cannot be read.
    let with_config = |database_section: String| {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(&config, format!("[database]\n{database_section}\n")).unwrap();
        Command::new(BINARY)
            .current_dir(dir.path())
            .env_remove("ADTHREAD_DATABASE")
            .args(["--config", config.to_str().unwrap(), "check"])
            .output()
            .unwrap()
    };
    for (url, said) in [
        (database.clone(), "password authentication failed"),
        (
            format!("{}?sslmode=sometimes", postgres.url),
            "sslmode=\"sometimes\" is not one of",
        ),
    ] {
        let output = with_config(format!("url = \"{url}\""));
        assert_refused(&output, said, wrong);
        assert!(!stderr(&output).contains(&postgres.password), "{output:?}");
    }
    let both = with_config(format!("path = \"a.db\"\nurl = \"{}\"", postgres.url));
    assert_refused(
        &both,
        "database.path and database.url are both set",
        &postgres.password,
    );
}

#[test]
fn backup_on_postgres_says_what_to_do_and_user_create_works() {
    let Some(postgres) = postgres() else { return };
    let database = postgres.fresh_database();
    let target = std::env::temp_dir().join("adthread-never-written.dump");
    let backup = run(&database, &["backup", target.to_str().unwrap()]);
    assert_refused(&backup, "pg_dump --format=custom", &postgres.password);
    assert!(stderr(&backup).contains("pg_restore"), "{backup:?}");
    assert!(!target.exists());
    // It did not touch the database: not even the migrations ran.
    assert_eq!(
        psql(
            &database,
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ),
        "0"
    );

    let mut create = adthread(&database)
        .args(["user", "create", "a@example.com", "--admin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut create.stdin.take().unwrap(),
        b"a long enough password\n",
    )
    .unwrap();
    let created = create.wait_with_output().unwrap();
    assert!(created.status.success(), "{created:?}");
    assert!(
        stdout(&created).contains("created admin user a@example.com (id 1)"),
        "{created:?}"
    );
    assert_eq!(
        psql(&database, "SELECT email, is_admin FROM users"),
        "a@example.com|t"
    );
}

/// Servers that are killed when the test ends, however it ends.
struct Servers(Vec<std::process::Child>);

impl Drop for Servers {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn servers_starting_at_once_on_an_empty_database_make_one_first_administrator() {
    let Some(postgres) = postgres() else { return };
    let database = postgres.fresh_database();
    // One folder for all, as processes on one machine started from one unit would share.
    let dir = tempfile::tempdir().unwrap();
    let bases: Vec<String> = (0..4)
        .map(|_| format!("127.0.0.1:{}", free_port()))
        .collect();
    let _servers = Servers(
        bases
            .iter()
            .map(|bind| {
                adthread(&database)
                    .current_dir(dir.path())
                    .args(["serve", "--bind", bind])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect(),
    );
    let client = reqwest::blocking::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    for bind in &bases {
        while !client
            .get(format!("http://{bind}/healthz"))
            .send()
            .is_ok_and(|answer| answer.status().is_success())
        {
            assert!(Instant::now() < deadline, "{bind} did not start");
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    assert_eq!(
        psql(&database, "SELECT count(*), min(email) FROM users"),
        "1|admin@localhost"
    );
    let password = std::fs::read_to_string(dir.path().join("data/initial-admin-password")).expect(
        "the process that made the administrator wrote its password, and no other removed it",
    );
    for bind in &bases {
        let signed_in = client
            .post(format!("http://{bind}/api/v1/auth/token"))
            .form(&[
                ("grant_type", "password"),
                ("username", "admin@localhost"),
                ("password", password.trim()),
            ])
            .send()
            .unwrap();
        assert_eq!(signed_in.status(), 200, "on {bind}");
    }
}
