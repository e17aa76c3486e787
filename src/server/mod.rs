//! Starting and stopping the server.

pub mod listener;

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::api::{app, AppState};
use crate::assistant::Assistants;
use crate::auth::{Passwords, Throttle, ThrottlePolicy};
use crate::config::{AuthConfig, Config};
use crate::schema::UserProfile;
use crate::store::{NewUser, Store};
use listener::ConnectionLimits;

pub const FIRST_ADMIN_EMAIL: &str = "admin@localhost";

pub async fn serve(config: Config) -> Result<(), String> {
    init_logging();
    let store = Store::open(&config.database).map_err(|err| err.to_string())?;
    let passwords = Passwords::new(&config.auth).map_err(|err| err.to_string())?;
    bootstrap_admin(&store, &passwords, &config).await?;
    let state = app_state(&config, store.clone(), passwords)?;
    let token_purge = tokio::spawn(
        store
            .clone()
            .purge_expired_tokens_forever(token_purge_interval(&config.auth)),
    );
    let cannot_serve = |err| format!("cannot serve on {}: {err}", config.server.bind);
    let listener = tokio::net::TcpListener::bind(&config.server.bind)
        .await
        .map_err(cannot_serve)?;
    tracing::info!(
        bind = %config.server.bind,
        database = %config.database.path.display(),
        "adthread listening"
    );
    let limits = ConnectionLimits {
        max_connections: config.server.max_connections,
        header_read_timeout: Duration::from_secs(config.server.header_read_timeout_secs),
    };
    let served = listener::serve(listener, app(state), limits, shutdown_signal()).await;
    token_purge.abort();
    store.close();
    tracing::info!("adthread stopped");
    served.map_err(cannot_serve)
}

/// What the handlers share, built from the configuration around an open store.
pub fn app_state(config: &Config, store: Store, passwords: Passwords) -> Result<AppState, String> {
    Ok(AppState {
        assistants: Arc::new(Assistants::new(store.clone(), &config.llm)?),
        store,
        config: Arc::new(config.clone()),
        passwords,
        throttle: Arc::new(Throttle::new(ThrottlePolicy::from_config(&config.auth))),
    })
}

/// Once per token lifetime, at most an hour apart: the token table then holds at most about two
/// lifetimes' worth of sign-ins (25 hours' with the default lifetime of a day).
fn token_purge_interval(auth: &AuthConfig) -> Duration {
    Duration::from_secs(auth.token_lifetime_secs.clamp(1, 3600))
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ADTHREAD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour codes only help a person at a terminal; in a log file they are noise.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    // A panic is answered 500 (a request) or an error (a write) and the server goes on; its
    // message and place go to the log, inside the span of the request that hit it.
    std::panic::set_hook(Box::new(|panic| tracing::error!(%panic, "panic")));
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {},
            _ = terminate.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down: finishing requests in flight");
}

/// With no user at all, creates `admin@localhost` with a random password written (mode 0600)
/// beside the database. The password never reaches the log.
async fn bootstrap_admin(
    store: &Store,
    passwords: &Passwords,
    config: &Config,
) -> Result<(), String> {
    if store.count_users().await.map_err(|err| err.to_string())? > 0 {
        return Ok(());
    }
    let path = config.initial_password_path();
    // Before the admin exists: refusing afterwards would leave nobody who can sign in.
    remove_stale_secret(&path)?;
    let (password, _) = crate::auth::new_token();
    let password = password.trim_start_matches("adt_")[..24].to_string();
    let hash = passwords
        .hash(password.clone())
        .await
        .map_err(|err| err.to_string())?;
    let created = store
        .create_first_user(NewUser {
            email: FIRST_ADMIN_EMAIL.into(),
            password_hash: hash,
            is_admin: true,
            profile: UserProfile::default(),
        })
        .await
        .map_err(|err| err.to_string())?;
    if created.is_some() {
        write_secret(&path, &password)?;
        tracing::info!(
            email = FIRST_ADMIN_EMAIL,
            password_file = %path.display(),
            "created the first administrator; its password is in the file named here"
        );
    }
    Ok(())
}

/// A file left from an earlier database goes; a symbolic link is refused, never followed: it
/// could point the password, or the truncation of a file, anywhere its owner can write.
fn remove_stale_secret(path: &Path) -> Result<(), String> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(format!(
            "{} is a symbolic link; remove it so the first administrator's password can be \
             written there",
            path.display()
        )),
        Ok(_) => std::fs::remove_file(path)
            .map_err(|err| format!("cannot remove the old {}: {err}", path.display())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(format!("cannot inspect {}: {err}", path.display())),
    }
}

/// `create_new` fails on anything already at `path`, a link planted since the check included,
/// so the secret only ever lands in a new file of our own, readable by its owner alone.
fn write_secret(path: &Path, secret: &str) -> Result<(), String> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
    writeln!(file, "{secret}").map_err(|err| format!("cannot write {}: {err}", path.display()))
}

/// Once the first administrator has a password of their own (changed by themselves or reset by
/// another admin), the generated one is of no use and only a risk: its file goes.
pub async fn forget_initial_password(config: &Config, store: &Store, user_id: i64) {
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
