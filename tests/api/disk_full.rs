//! A full disk: writes are refused with 503 and `Retry-After` and change nothing, reads go on,
//! and writes work again, without a restart, once there is room. The database lives on a small
//! tmpfs of its own, filled up by a file beside it; where mounting is not allowed (not root, a
//! container without the capability), the test says so and passes.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::{sqlite_only, Answer, Server};

/// A tmpfs mounted for one test, unmounted when dropped (also when the test fails).
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(megabytes: u32) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m,mode=0700")])
            .arg("tmpfs")
            .arg(dir.path())
            .output();
        match mounted {
            Ok(output) if output.status.success() => Some(Tmpfs { dir }),
            Ok(output) => {
                eprintln!(
                    "disk_full: skipped, cannot mount a tmpfs: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                );
                None
            }
            Err(err) => {
                eprintln!("disk_full: skipped, cannot run mount: {err}");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: the server may not have let go of its files yet if the test failed early.
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Fills the file system holding `path` until it refuses more, then frees `room` bytes.
fn fill_leaving(path: &Path, room: u64) -> File {
    let mut filler = File::create(path).unwrap();
    let chunk = vec![0x5a; 64 * 1024];
    loop {
        match filler.write(&chunk) {
            Ok(0) => break,
            Ok(_) => {}
            Err(err) if err.raw_os_error() == Some(28) => break, // ENOSPC
            Err(err) => panic!("filling the disk: {err}"),
        }
    }
    let full = filler.metadata().unwrap().len();
    filler.set_len(full.saturating_sub(room)).unwrap();
    filler
}

fn create_thread(server: &Server, token: &str, company: i64, name: &str) -> Answer {
    // Tens of kilobytes each, so a few of them take what room is left.
    let body = json!({
        "assistant_type": "general",
        "name": name,
        "extra_data": {"notes": "n".repeat(48 * 1024)}
    });
    server.post(
        token,
        &format!("/api/v1/chat/threads?company_id={company}"),
        &body,
    )
}

fn names(threads: &[Value]) -> Vec<String> {
    threads
        .iter()
        .map(|thread| thread["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn a_full_disk_refuses_writes_with_503_keeps_reads_and_recovers_by_itself() {
    if sqlite_only("writes to a full disk") {
        return;
    }
    let Some(disk) = Tmpfs::mount(16) else {
        return;
    };
    let database: PathBuf = disk.path().join("adthread.db");
    let server = Server::start_with(&[("ADTHREAD_DATABASE", database.to_str().unwrap())]);
    let password = std::fs::read_to_string(disk.path().join("initial-admin-password")).unwrap();
    let token = server.token("admin@localhost", password.trim());
    let company = server.company(&token, "Acme Bakery");
    create_thread(&server, &token, company, "before").expect(200);

    let filler_path = disk.path().join("filler");
    let filler = fill_leaving(&filler_path, 512 * 1024);

    let mut saved = vec!["before".to_string()];
    let mut saved_ids = Vec::new();
    let mut refused = Vec::new();
    for attempt in 0..400 {
        let name = format!("attempt {attempt}");
        let answer = create_thread(&server, &token, company, &name);
        match answer.status.as_u16() {
            200 => {
                saved.push(name);
                saved_ids.push(answer.body["thread_id"].as_str().unwrap().to_string());
            }
            503 => {
                let detail = answer.body["detail"].as_str().unwrap_or_default();
                assert!(detail.contains("disk is full"), "{}", answer.body);
                let retry_after: u64 = answer.header("retry-after").unwrap().parse().unwrap();
                assert!(retry_after > 0);
                refused.push(name);
                // A few more, to see the writer keeps refusing cleanly rather than dying.
                if refused.len() == 5 {
                    break;
                }
            }
            status => panic!("write answered {status}: {:#}", answer.body),
        }
    }
    assert_eq!(refused.len(), 5, "the disk never filled up");
    assert!(!saved_ids.is_empty(), "the room left took no write at all");

    // Reads go on: the list, each saved thread, and nothing of a refused write is there.
    let listed = names(&server.all_threads(&token, company));
    for name in &saved {
        assert!(listed.contains(name), "{name} was answered 200 but is gone");
    }
    for name in &refused {
        assert!(
            !listed.contains(name),
            "{name} was answered 503 but is saved"
        );
    }
    for id in &saved_ids {
        server
            .get(&token, &format!("/api/v1/chat/threads/{id}"))
            .expect(200);
    }
    server.get(&token, "/api/v1/users/me").expect(200);

    // Room again: writes work without a restart (give the server a moment to notice).
    drop(filler);
    std::fs::remove_file(&filler_path).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let answer = create_thread(&server, &token, company, "after");
        if answer.status == 200 {
            saved.push("after".into());
            break;
        }
        assert!(
            Instant::now() < deadline,
            "writes did not resume: {:#}",
            answer.body
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        names(&server.all_threads(&token, company)).len(),
        saved.len()
    );

    let db = rusqlite::Connection::open(&database).unwrap();
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
}
