//! The database's files are the data itself: only their owner may read them. SQLite creates a
//! database file readable by everyone (0644, less the umask) and gives its `-wal` and `-shm`
//! files the database file's mode, so a database file made private here keeps all three private.

use std::fs::{DirBuilder, OpenOptions, Permissions};
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::{StoreError, StoreResult};

const OWNER_ONLY_FILE: u32 = 0o600;
const OWNER_ONLY_FOLDER: u32 = 0o700;

/// Creates the database's folder (0700) and file (0600) when missing, and takes back from
/// others any access they have to the database and its `-wal` and `-shm` files (made by an
/// older adthread). A folder that already exists is the operator's and is left as it is.
pub fn prepare_private_database(path: &Path) -> StoreResult<()> {
    if let Some(folder) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        DirBuilder::new()
            .recursive(true)
            .mode(OWNER_ONLY_FOLDER)
            .create(folder)
            .map_err(|err| cannot("create", folder, err))?;
    }
    create_private_file(path)?;
    for file in [
        path.to_path_buf(),
        sibling(path, "-wal"),
        sibling(path, "-shm"),
    ] {
        restrict_to_owner(&file)?;
    }
    Ok(())
}

/// An empty file readable by its owner only, for SQLite to write a database into (an empty
/// file is an empty database); nothing when the file exists.
pub fn create_private_file(path: &Path) -> StoreResult<()> {
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(OWNER_ONLY_FILE)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(cannot("create", path, err)),
    }
}

fn restrict_to_owner(path: &Path) -> StoreResult<()> {
    let mode = match std::fs::metadata(path) {
        Ok(meta) => meta.permissions().mode(),
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(cannot("read the mode of", path, err)),
    };
    if mode & 0o077 == 0 {
        return Ok(());
    }
    tracing::warn!(file = %path.display(), "others could read this file; now only its owner can");
    std::fs::set_permissions(path, Permissions::from_mode(mode & OWNER_ONLY_FILE))
        .map_err(|err| cannot("restrict", path, err))
}

/// `adthread.db` + `-wal` = `adthread.db-wal`.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn cannot(what: &str, path: &Path, err: std::io::Error) -> StoreError {
    StoreError::Migration(format!("cannot {what} {}: {err}", path.display()))
}
