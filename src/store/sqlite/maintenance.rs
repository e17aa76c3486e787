//! Backing up and checking a database file, from the command line, beside a running server.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::{StoreError, StoreResult};

/// What `check` found: empty when the database is sound.
#[derive(Debug, Default)]
pub struct CheckReport {
    pub integrity: Vec<String>,
    pub foreign_keys: Vec<String>,
}

impl CheckReport {
    pub fn is_ok(&self) -> bool {
        self.integrity.is_empty() && self.foreign_keys.is_empty()
    }
}

pub(super) fn open_existing(path: &Path, flags: OpenFlags) -> StoreResult<Connection> {
    if !path.is_file() {
        return Err(StoreError::NotFound(format!(
            "no database at {}",
            path.display()
        )));
    }
    let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(conn)
}

/// Writes a consistent copy of the database at `source` to `target`, which must not exist,
/// while other connections keep reading and writing: `VACUUM INTO` reads one snapshot. The copy
/// is written beside `target` first and only linked into place once complete and synced, so a
/// failed backup never leaves a half-written file under the name asked for.
pub fn backup(source: &Path, target: &Path) -> StoreResult<()> {
    if target.exists() {
        return Err(StoreError::Conflict(format!(
            "{} already exists; a backup never overwrites a file",
            target.display()
        )));
    }
    let conn = open_existing(source, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    let mut partial = target.as_os_str().to_owned();
    partial.push(format!(".partial-{}", std::process::id()));
    let partial = std::path::PathBuf::from(partial);
    let written = write_copy(&conn, &partial).and_then(|()| {
        std::fs::hard_link(&partial, target).map_err(|err| {
            StoreError::Conflict(format!("cannot create {}: {err}", target.display()))
        })
    });
    let _ = std::fs::remove_file(&partial);
    written
}

fn write_copy(conn: &Connection, partial: &Path) -> StoreResult<()> {
    let name = partial.to_str().ok_or_else(|| {
        StoreError::Conflict(format!("{} is not a UTF-8 path", partial.display()))
    })?;
    // The copy is the data too: it is written into a file only its owner can read.
    super::files::create_private_file(partial)?;
    conn.execute("VACUUM INTO ?1", [name])?;
    let io_error = |err: std::io::Error| {
        StoreError::Commit(format!("cannot sync {}: {err}", partial.display()))
    };
    std::fs::File::open(partial)
        .and_then(|file| file.sync_all())
        .map_err(io_error)
}

/// `PRAGMA integrity_check` and `PRAGMA foreign_key_check` over the whole file.
pub fn check(path: &Path) -> StoreResult<CheckReport> {
    let conn = open_existing(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut report = CheckReport::default();
    let mut integrity = conn.prepare("PRAGMA integrity_check")?;
    for line in integrity.query_map([], |row| row.get::<_, String>(0))? {
        let line = line?;
        if line != "ok" {
            report.integrity.push(line);
        }
    }
    let mut foreign_keys = conn.prepare("PRAGMA foreign_key_check")?;
    let rows = foreign_keys.query_map([], |row| {
        Ok(format!(
            "{} row {} refers to a missing {}",
            row.get::<_, String>(0)?,
            row.get::<_, Option<i64>>(1)?
                .map_or("(without rowid)".into(), |id| id.to_string()),
            row.get::<_, String>(2)?
        ))
    })?;
    for row in rows {
        report.foreign_keys.push(row?);
    }
    Ok(report)
}
