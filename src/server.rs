//! Starting and stopping the server.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use poem::listener::TcpListener;

use crate::api::{app, AppState};
use crate::assistant::Assistants;
use crate::auth::{Passwords, Throttle, ThrottlePolicy};
use crate::config::{AuthConfig, Config};
use crate::model::UserProfile;
use crate::store::{NewUser, Store};

pub const FIRST_ADMIN_EMAIL: &str = "admin@localhost";

pub async fn serve(config: Config) -> Result<(), String> {
    init_logging();
    let store = Store::open(&config.database).map_err(|err| err.to_string())?;
    let passwords = Passwords::new(&config.auth).map_err(|err| err.to_string())?;
    bootstrap_admin(&store, &passwords, &config).await?;
    let assistants = Assistants::new(store.clone(), &config.llm)?;
    let token_purge = tokio::spawn(
        store
            .clone()
            .purge_expired_tokens_forever(token_purge_interval(&config.auth)),
    );
    let state = AppState {
        assistants: Arc::new(assistants),
        store: store.clone(),
        config: Arc::new(config.clone()),
        passwords,
        throttle: Arc::new(Throttle::new(ThrottlePolicy::from_config(&config.auth))),
    };
    let listener = TcpListener::bind(config.server.bind.clone());
    tracing::info!(
        bind = %config.server.bind,
        database = %config.database.path.display(),
        "adthread listening"
    );
    let served = poem::Server::new(listener)
        .run_with_graceful_shutdown(app(state), shutdown_signal(), None)
        .await;
    token_purge.abort();
    store.close();
    tracing::info!("adthread stopped");
    served.map_err(|err| format!("cannot serve on {}: {err}", config.server.bind))
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
    let (password, _) = crate::auth::new_token();
    let password = password.trim_start_matches("adt_")[..24].to_string();
    let hash = passwords
        .hash(password.clone())
        .await
        .map_err(|err| err.to_string())?;
    let path = config.initial_password_path();
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

fn write_secret(path: &Path, secret: &str) -> Result<(), String> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
    // `mode` applies only to a new file; an old one may have been readable by others.
    #[cfg(unix)]
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .map_err(|err| format!("cannot restrict {}: {err}", path.display()))?;
    writeln!(file, "{secret}").map_err(|err| format!("cannot write {}: {err}", path.display()))
}
