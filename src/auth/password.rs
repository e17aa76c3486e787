//! argon2id hashing, off the async runtime and bounded in how many run at once (each one holds
//! `memory_kib` of memory).

use std::sync::Arc;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordVerifier, Version};
use tokio::sync::Semaphore;

use crate::config::AuthConfig;

/// OWASP's minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
pub const OWASP_MIN_MEMORY_KIB: u32 = 19456;
pub const OWASP_MIN_ITERATIONS: u32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("argon2 parameters: {0}")]
    Params(String),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

#[derive(Clone)]
pub struct Passwords {
    params: Params,
    slots: Arc<Semaphore>,
    /// Checked against when the email is unknown, so a wrong email costs as long as a wrong password.
    decoy_hash: Arc<String>,
}

impl Passwords {
    pub fn new(config: &AuthConfig) -> Result<Passwords, PasswordError> {
        if config.argon2_memory_kib < OWASP_MIN_MEMORY_KIB
            || config.argon2_iterations < OWASP_MIN_ITERATIONS
        {
            return Err(PasswordError::Params(format!(
                "auth.argon2_memory_kib must be at least {OWASP_MIN_MEMORY_KIB} and \
                 auth.argon2_iterations at least {OWASP_MIN_ITERATIONS} (OWASP's minimum)"
            )));
        }
        let params = Params::new(
            config.argon2_memory_kib,
            config.argon2_iterations,
            config.argon2_parallelism.max(1),
            None,
        )
        .map_err(|err| PasswordError::Params(err.to_string()))?;
        let decoy_hash = hash_with(&params, "adthread decoy password")?;
        Ok(Passwords {
            params,
            slots: Arc::new(Semaphore::new(2)),
            decoy_hash: Arc::new(decoy_hash),
        })
    }

    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
        let params = self.params.clone();
        self.run(move || hash_with(&params, &password)).await
    }

    /// Whether `password` matches `hash`; with no hash (unknown user), checks a decoy and says no.
    pub async fn verify(&self, password: String, hash: Option<String>) -> bool {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.decoy_hash.as_ref().clone());
        let matches = self
            .run(move || {
                Ok(PasswordHash::new(&hash)
                    .map(|parsed| {
                        Argon2::default()
                            .verify_password(password.as_bytes(), &parsed)
                            .is_ok()
                    })
                    .unwrap_or(false))
            })
            .await
            .unwrap_or(false);
        known && matches
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, PasswordError> + Send + 'static,
    ) -> Result<T, PasswordError> {
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|err| PasswordError::Hash(err.to_string()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|err| PasswordError::Hash(err.to_string()))?
    }
}

fn hash_with(params: &Params, password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|err| PasswordError::Hash(err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let passwords = Passwords::new(&AuthConfig::default()).unwrap();
        let hash = passwords.hash("correct horse".into()).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            passwords
                .verify("correct horse".into(), Some(hash.clone()))
                .await
        );
        assert!(!passwords.verify("wrong".into(), Some(hash)).await);
        assert!(!passwords.verify("correct horse".into(), None).await);
    }

    #[test]
    fn weaker_than_owasp_is_refused() {
        let config = AuthConfig {
            argon2_memory_kib: 1024,
            ..AuthConfig::default()
        };
        assert!(Passwords::new(&config).is_err());
    }
}
