//! The first administrator and its generated password, whose file lives here from its writing
//! (the first start on an empty database) to its removal (once that password is changed): one
//! room for the only secret we ever put on disk.

use std::io::Write;
use std::path::Path;

use super::account::{create_first_account, AccountError, NewAccount};
use super::{new_token, Passwords};
use crate::config::Config;
use crate::schema::UserId;
use crate::store::Store;

const FIRST_ADMIN_EMAIL: &str = "admin@localhost";

/// Why the first administrator could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error(transparent)]
    Account(#[from] AccountError),
    /// Its password file could not be written, or an old one removed.
    #[error("{0}")]
    PasswordFile(String),
}

/// With no user at all, creates `admin@localhost` with a random password written (mode 0600)
/// beside the database. The password never reaches the log. Processes starting at once on one
/// PostgreSQL database each try; the store lets exactly one create the administrator, and only
/// that one touches the file, so a loser never removes the winner's password.
pub async fn bootstrap_admin(
    store: &Store,
    passwords: &Passwords,
    config: &Config,
) -> Result<(), BootstrapError> {
    if store.count_users().await.map_err(AccountError::from)? > 0 {
        return Ok(());
    }
    let path = config.initial_password_path();
    // Before the admin exists: refusing afterwards would leave nobody who can sign in.
    prepare_secret_place(&path)?;
    let (password, _) = new_token();
    let password = password.trim_start_matches("adt_")[..24].to_string();
    let account = NewAccount::trusted(FIRST_ADMIN_EMAIL, password.clone(), true);
    if create_first_account(store, passwords, account)
        .await?
        .is_some()
    {
        remove_stale_secret(&path)?;
        write_secret(&path, &password)?;
        tracing::info!(
            email = FIRST_ADMIN_EMAIL,
            password_file = %path.display(),
            "created the first administrator; its password is in the file named here"
        );
    }
    Ok(())
}

/// The folder is made, its owner's alone, when missing (on PostgreSQL no database file made
/// it); a symbolic link at the file is refused, never followed: it could point the password,
/// or the truncation of a file, anywhere its owner can write.
fn prepare_secret_place(path: &Path) -> Result<(), BootstrapError> {
    if let Some(folder) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(folder).map_err(|err| {
            BootstrapError::PasswordFile(format!("cannot create {}: {err}", folder.display()))
        })?;
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(symbolic_link(path)),
        _ => Ok(()),
    }
}

fn symbolic_link(path: &Path) -> BootstrapError {
    BootstrapError::PasswordFile(format!(
        "{} is a symbolic link; remove it so the first administrator's password can be \
         written there",
        path.display()
    ))
}

/// A file left from an earlier database goes; a link planted since the check is refused too.
fn remove_stale_secret(path: &Path) -> Result<(), BootstrapError> {
    let refused = |message: String| Err(BootstrapError::PasswordFile(message));
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(symbolic_link(path)),
        Ok(_) => std::fs::remove_file(path)
            .or_else(|err| refused(format!("cannot remove the old {}: {err}", path.display()))),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => refused(format!("cannot inspect {}: {err}", path.display())),
    }
}

/// `create_new` fails on anything already at `path`, a link planted since the check included,
/// so the secret only ever lands in a new file of our own, readable by its owner alone.
fn write_secret(path: &Path, secret: &str) -> Result<(), BootstrapError> {
    let cannot_write =
        |err| BootstrapError::PasswordFile(format!("cannot write {}: {err}", path.display()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(cannot_write)?;
    writeln!(file, "{secret}").map_err(cannot_write)
}

/// Once the first administrator has a password of their own (changed by themselves or reset by
/// another admin), the generated one is of no use and only a risk: its file goes.
pub async fn forget_initial_password(config: &Config, store: &Store, user_id: UserId) {
    let path = config.initial_password_path();
    if std::fs::symlink_metadata(&path).is_err() {
        return;
    }
    match store.first_user_id().await {
        Ok(Some(first)) if first == user_id => match std::fs::remove_file(&path) {
            Ok(()) => tracing::info!(file = %path.display(), "removed the initial password file"),
            Err(err) => tracing::warn!(error = %err, "cannot remove the initial password file"),
        },
        Ok(_) => {}
        Err(err) => tracing::warn!(error = %err, "cannot tell who the first administrator is"),
    }
}
