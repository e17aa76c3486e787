//! The files adthread writes hold the data and a password: only their owner may read them. The
//! first administrator's password file is never written through a link, and goes once that
//! administrator has a password of their own.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::{create_user_cli, sqlite_only, Server, BINARY};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", path.display()))
}

fn password_file(server: &Server) -> PathBuf {
    server
        .dir
        .path()
        .join("data")
        .join("initial-admin-password")
}

#[test]
fn the_database_its_wal_and_shm_backups_and_the_password_are_for_their_owner_only() {
    if sqlite_only("files on disk (the database, its WAL and shared memory)") {
        return;
    }
    let mut server = Server::start();
    let token = server.admin_token();
    server.company(&token, "Acme Bakery");
    let database = server.database();

    assert_eq!(mode(database.parent().unwrap()), 0o700, "the data folder");
    for file in [
        database.clone(),
        with_suffix(&database, "-wal"),
        with_suffix(&database, "-shm"),
        password_file(&server),
    ] {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }

    let backup = server.dir.path().join("backup.db");
    let output = server
        .command()
        .arg("backup")
        .arg(&backup)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(mode(&backup), 0o600, "the backup");

    // A database an older adthread left readable by others is taken back.
    server.kill();
    for file in [&database, &with_suffix(&database, "-wal")] {
        std::fs::set_permissions(file, PermissionsExt::from_mode(0o644)).unwrap();
    }
    server.restart();
    assert_eq!(mode(&database), 0o600);
    assert_eq!(mode(&with_suffix(&database, "-wal")), 0o600);
}

#[test]
fn a_folder_that_already_exists_keeps_its_mode() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("shared");
    std::fs::create_dir(&folder).unwrap();
    std::fs::set_permissions(&folder, PermissionsExt::from_mode(0o755)).unwrap();
    let database = folder.join("adthread.db");
    let _server = Server::start_with(&[("ADTHREAD_DATABASE", database.to_str().unwrap())]);
    assert_eq!(mode(&folder), 0o755);
    assert_eq!(mode(&database), 0o600);
}

/// Runs `adthread serve` on `database` and waits for it to exit (it is expected to refuse).
fn serve_expecting_refusal(database: &Path) -> (bool, String) {
    let mut child = Command::new(BINARY)
        .current_dir(database.parent().unwrap())
        .env("ADTHREAD_DATABASE", database)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_link_planted_at_the_password_file_is_refused_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "untouched\n").unwrap();
    std::os::unix::fs::symlink(&victim, data.join("initial-admin-password")).unwrap();
    let database = data.join("adthread.db");

    let (succeeded, stderr) = serve_expecting_refusal(&database);
    assert!(!succeeded, "it served with a link at the password file");
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched\n");
    // Refused before the administrator was made, so nobody is locked out of a new install.
    let users: i64 = rusqlite::Connection::open(&database)
        .unwrap()
        .query_row("SELECT count(*) FROM users", [], |row| row.get(0))
        .unwrap();
    assert_eq!(users, 0);
}

#[test]
fn the_password_file_goes_once_the_first_administrator_changes_the_password() {
    let server = Server::start();
    let password = server.admin_password();
    let admin = server.admin_token();

    // Someone else changing their own password leaves it.
    let other = server.user("planner@agency.test", false);
    server
        .patch(
            &other,
            "/api/v1/users/me",
            &json!({"current_password": "password-of-planner@agency.test",
                    "new_password": "a new long password"}),
        )
        .expect(200);
    assert!(password_file(&server).exists());

    server
        .patch(
            &admin,
            "/api/v1/users/me",
            &json!({"current_password": password, "new_password": "the admin's own one"}),
        )
        .expect(200);
    assert!(!password_file(&server).exists());
}

#[test]
fn the_password_file_goes_once_another_administrator_resets_that_password() {
    let server = Server::start();
    let first_admin = server.admin_token();
    let first_id = server
        .get(&first_admin, "/api/v1/users/me")
        .expect(200)
        .body["id"]
        .as_i64()
        .unwrap();
    create_user_cli(&server, "boss@agency.test", "the boss's password", true);
    let boss = server.token("boss@agency.test", "the boss's password");
    server
        .patch(
            &boss,
            &format!("/api/v1/users/{first_id}"),
            &json!({"password": "a reset password"}),
        )
        .expect(200);
    assert!(!password_file(&server).exists());
}
