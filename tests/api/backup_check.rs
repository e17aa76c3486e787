//! `adthread backup` copies the live database while the server keeps serving; `adthread check`
//! finds corruption and broken references.

use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;

use crate::harness::{sqlite_only, Server};

fn run(server: &Server, args: &[&str]) -> Output {
    server.command().args(args).output().unwrap()
}

fn check(server: &Server, database: &Path) -> Output {
    run(server, &["--database", database.to_str().unwrap(), "check"])
}

fn company_count(server: &Server, token: &str) -> usize {
    server
        .get(token, "/api/v1/companies")
        .expect(200)
        .body
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn a_backup_taken_under_load_is_consistent_and_restores() {
    if sqlite_only("backup of the file") {
        return;
    }
    let mut server = Server::start();
    let token = server.admin_token();
    for n in 0..20 {
        server
            .post(
                &token,
                "/api/v1/companies",
                &json!({"name": format!("before {n}")}),
            )
            .expect(200);
    }
    let backup = server.dir.path().join("backup.db");
    let writing = AtomicBool::new(true);
    let (written, output) = std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let mut written = 0;
            while writing.load(Ordering::Relaxed) {
                server
                    .post(&token, "/api/v1/companies", &json!({"name": "during"}))
                    .expect(200);
                written += 1;
            }
            written
        });
        std::thread::sleep(std::time::Duration::from_millis(100));
        let output = run(&server, &["backup", backup.to_str().unwrap()]);
        writing.store(false, Ordering::Relaxed);
        (writer.join().unwrap(), output)
    });
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(written > 0, "the server kept serving");
    let live = company_count(&server, &token);
    assert_eq!(live, 20 + written);

    let checked = check(&server, &backup);
    assert!(checked.status.success(), "{checked:?}");
    assert!(String::from_utf8_lossy(&checked.stdout).contains("integrity ok"));

    // A second backup to the same place is refused and leaves the first one alone.
    let before = std::fs::read(&backup).unwrap();
    let again = run(&server, &["backup", backup.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    assert_eq!(std::fs::read(&backup).unwrap(), before);

    // Restoring: the server started on the copy has everything from before the backup.
    server.kill();
    std::fs::copy(&backup, server.database()).unwrap();
    let _ = std::fs::remove_file(server.database().with_extension("db-wal"));
    let _ = std::fs::remove_file(server.database().with_extension("db-shm"));
    server.restart();
    let restored = company_count(&server, &server.admin_token());
    assert!(
        (20..=live).contains(&restored),
        "{restored} companies restored of {live}"
    );
}

#[test]
fn check_reports_corruption_and_broken_references_with_a_failing_exit_code() {
    if sqlite_only("integrity and foreign-key check of the file") {
        return;
    }
    let server = Server::start();
    let token = server.admin_token();
    let company = server.company(&token, "Acme");
    let sound = check(&server, &server.database());
    assert!(sound.status.success(), "{sound:?}");
    let copy = |name: &str| {
        let path = server.dir.path().join(name);
        let output = run(&server, &["backup", path.to_str().unwrap()]);
        assert!(output.status.success(), "{output:?}");
        path
    };

    let dangling = copy("dangling.db");
    let conn = rusqlite::Connection::open(&dangling).unwrap();
    // As a buggy older version or a hand edit could have left it.
    conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
    conn.execute(
        "INSERT INTO company_members (company_id, user_id, role, date_added) \
         VALUES (?1, 4242, 'member', 'now')",
        [company],
    )
    .unwrap();
    drop(conn);
    let broken = check(&server, &dangling);
    assert!(!broken.status.success());
    assert!(
        String::from_utf8_lossy(&broken.stdout).contains("company_members"),
        "{broken:?}"
    );

    let corrupt = copy("corrupt.db");
    let mut bytes = std::fs::read(&corrupt).unwrap();
    let page = 4096;
    assert!(bytes.len() > 3 * page);
    for byte in &mut bytes[2 * page + 100..3 * page] {
        *byte = 0xA5;
    }
    std::fs::write(&corrupt, bytes).unwrap();
    let corrupted = check(&server, &corrupt);
    assert!(!corrupted.status.success(), "{corrupted:?}");

    let missing = check(&server, &server.dir.path().join("nothing.db"));
    assert!(!missing.status.success());
}
