//! Settings: built-in defaults, then `config.toml`, then `ADTHREAD_*` variables, then flags.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;

mod database;
pub use database::{DatabaseLocation, DatabaseUrl, PostgresUrl, RootCertificates, TlsMode};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("environment variable {name}={value:?}: {reason}")]
    Env {
        name: &'static str,
        value: String,
        reason: String,
    },
    #[error("{0}")]
    Invalid(String),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub auth: AuthConfig,
    pub llm: LlmConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub bind: String,
    pub max_body_bytes: usize,
    /// The request line and headers together, at most; more gets 431.
    pub max_header_bytes: usize,
    /// Seconds a request may take before it is answered 408; the chat message endpoints,
    /// which wait for the model, are bounded by `llm.timeout_secs` instead.
    pub request_timeout_secs: u64,
    /// Seconds a client has to send a request's line and headers once its connection waits for
    /// them (also how long an idle keep-alive connection stays open); then it is closed.
    pub header_read_timeout_secs: u64,
    /// Connections open at once, at most; past it new ones wait until one closes.
    pub max_connections: usize,
    /// Origins allowed to call the API from a browser (CORS); empty turns CORS off.
    pub cors_allowed_origins: Vec<String>,
    /// Reverse proxies whose `X-Forwarded-For` says who the client is.
    pub trusted_proxies: Vec<AddressRange>,
    /// The base of the URLs the server writes (`Link` headers); empty: relative references.
    pub public_url: String,
}

/// An address or a CIDR range (`10.0.0.0/8`, `::1`), as `server.trusted_proxies` lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct AddressRange(ipnet::IpNet);

impl AddressRange {
    pub fn contains(&self, address: IpAddr) -> bool {
        self.0.contains(&address)
    }
}

impl FromStr for AddressRange {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let range = match text.parse::<ipnet::IpNet>() {
            Ok(range) => range.trunc(),
            Err(_) => text
                .parse::<IpAddr>()
                .map(ipnet::IpNet::from)
                .map_err(|_| format!("{text:?} is not an address or a CIDR range"))?,
        };
        Ok(AddressRange(range))
    }
}

impl TryFrom<String> for AddressRange {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        text.parse()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    Normal,
    Full,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// The SQLite file, unless `url` names a PostgreSQL server: one or the other.
    pub path: PathBuf,
    pub url: Option<DatabaseUrl>,
    pub pool_size: u32,
    pub busy_timeout_ms: u64,
    pub synchronous: Synchronous,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    pub token_lifetime_secs: u64,
    pub allow_registration: bool,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    pub login_failures_per_account: u32,
    pub login_failures_per_address: u32,
    pub login_block_max_secs: u64,
    pub login_failure_memory_secs: u64,
    pub login_account_checks_per_minute: u32,
    pub registrations_per_address: u32,
    pub registration_window_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmConfig {
    /// Empty: no model; only the offline onboarding interview answers.
    pub base_url: String,
    pub model: String,
    pub api_key: String,
    pub timeout_secs: u64,
    pub max_tool_rounds: u32,
    pub history_messages: u32,
    /// Bytes of earlier messages (content and tool calls) the model is sent at most.
    pub history_bytes: usize,
    /// A tool result longer than this is cut (marked, valid JSON) before the model sees it.
    pub max_tool_result_bytes: usize,
    /// Tokens per company per calendar month; 0 turns the quota off.
    pub monthly_token_quota: u64,
    /// Prompt and completion tokens one message may cost over all its model calls; the quota
    /// reserves this much per message being answered.
    pub max_tokens_per_message: u64,
    /// Messages of one company being answered by the model at once; more get 429.
    pub max_concurrent_per_company: u32,
    /// Caps on one reply of the model's server: its whole body, its text, its tool calls
    /// (count, and so the highest streamed `index`) and each tool call's bytes.
    pub max_reply_bytes: usize,
    pub max_reply_text_bytes: usize,
    pub max_tool_calls: usize,
    pub max_tool_argument_bytes: usize,
    /// Background generation tasks (RSAs, extensions) worked on at once, over all companies.
    pub generation_concurrency: u32,
    /// Times a generation task is claimed before one cut off by a stop is failed, not resumed.
    pub generation_attempts: u32,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: "127.0.0.1:8000".into(),
            max_body_bytes: 1024 * 1024,
            max_header_bytes: 16 * 1024,
            request_timeout_secs: 30,
            header_read_timeout_secs: 10,
            max_connections: 1024,
            cors_allowed_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            public_url: String::new(),
        }
    }
}

const DEFAULT_DATABASE_PATH: &str = "data/adthread.db";

impl DatabaseConfig {
    /// A file path or a `postgres://` URL, as `ADTHREAD_DATABASE` and `--database` take it.
    /// Either replaces what the file said, path or URL.
    pub fn set_location(&mut self, text: &str) {
        if database::is_postgres_url(text) {
            self.url = Some(DatabaseUrl::from(text));
            self.path = PathBuf::from(DEFAULT_DATABASE_PATH);
        } else {
            self.url = None;
            self.path = PathBuf::from(text);
        }
    }

    /// Checked by [`Config::validate`], so after [`load`] this fails only for a configuration
    /// changed since.
    pub fn location(&self) -> Result<DatabaseLocation<'_>, ConfigError> {
        // The path is compared with its default because the file is read over the defaults:
        // a path that differs from it was written beside the URL.
        match &self.url {
            Some(_) if self.path != Path::new(DEFAULT_DATABASE_PATH) => Err(ConfigError::Invalid(
                "database.path and database.url are both set: keep database.path for an \
                     SQLite file or database.url for PostgreSQL"
                    .into(),
            )),
            Some(url) => Ok(DatabaseLocation::Postgres(url.parsed()?)),
            None if database::is_postgres_url(&self.path.to_string_lossy()) => {
                Err(ConfigError::Invalid(
                    "database.path names a file; put a PostgreSQL URL in database.url".into(),
                ))
            }
            None => Ok(DatabaseLocation::Sqlite(&self.path)),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            path: PathBuf::from(DEFAULT_DATABASE_PATH),
            url: None,
            pool_size: 8,
            busy_timeout_ms: 5000,
            synchronous: Synchronous::Normal,
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            token_lifetime_secs: 24 * 3600,
            allow_registration: false,
            argon2_memory_kib: 19456,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            login_failures_per_account: 5,
            login_failures_per_address: 20,
            login_block_max_secs: 60,
            login_failure_memory_secs: 900,
            login_account_checks_per_minute: 10,
            registrations_per_address: 5,
            registration_window_secs: 3600,
        }
    }
}

impl Default for LlmConfig {
    fn default() -> Self {
        LlmConfig {
            base_url: String::new(),
            model: "llama3.1".into(),
            api_key: String::new(),
            timeout_secs: 120,
            max_tool_rounds: 4,
            history_messages: 40,
            history_bytes: 64 * 1024,
            max_tool_result_bytes: 16 * 1024,
            monthly_token_quota: 0,
            max_tokens_per_message: 100_000,
            max_concurrent_per_company: 32,
            max_reply_bytes: 2 * 1024 * 1024,
            max_reply_text_bytes: 64 * 1024,
            max_tool_calls: 16,
            max_tool_argument_bytes: 64 * 1024,
            generation_concurrency: 2,
            generation_attempts: 3,
        }
    }
}

/// Reads the file when it exists (a missing default `config.toml` is not an error; a missing
/// file named on the command line is), then applies the environment.
pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
    let (path, required) = match path {
        Some(path) => (path.to_path_buf(), true),
        None => (PathBuf::from("config.toml"), false),
    };
    let mut config = match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.clone(),
            source: Box::new(source),
        })?,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound && !required => Config::default(),
        Err(source) => return Err(ConfigError::Read { path, source }),
    };
    config.apply_env(|name| std::env::var(name).ok())?;
    config.validate()?;
    Ok(config)
}

impl Config {
    /// Every variable here is listed in README.md's configuration reference.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let env = EnvReader { var: &var };
        env.string("ADTHREAD_BIND", &mut self.server.bind);
        env.parse("ADTHREAD_MAX_BODY_BYTES", &mut self.server.max_body_bytes)?;
        env.parse(
            "ADTHREAD_MAX_HEADER_BYTES",
            &mut self.server.max_header_bytes,
        )?;
        env.parse(
            "ADTHREAD_REQUEST_TIMEOUT_SECS",
            &mut self.server.request_timeout_secs,
        )?;
        env.parse(
            "ADTHREAD_HEADER_READ_TIMEOUT_SECS",
            &mut self.server.header_read_timeout_secs,
        )?;
        env.parse("ADTHREAD_MAX_CONNECTIONS", &mut self.server.max_connections)?;
        if let Some(origins) = var("ADTHREAD_CORS_ORIGINS") {
            self.server.cors_allowed_origins =
                comma_separated(&origins).map(String::from).collect();
        }
        if let Some(proxies) = var("ADTHREAD_TRUSTED_PROXIES") {
            self.server.trusted_proxies = comma_separated(&proxies)
                .map(str::parse)
                .collect::<Result<_, String>>()
                .map_err(|reason| ConfigError::Env {
                    name: "ADTHREAD_TRUSTED_PROXIES",
                    value: proxies.clone(),
                    reason,
                })?;
        }
        env.string("ADTHREAD_PUBLIC_URL", &mut self.server.public_url);
        if let Some(location) = var("ADTHREAD_DATABASE") {
            self.database.set_location(&location);
        }
        env.parse("ADTHREAD_POOL_SIZE", &mut self.database.pool_size)?;
        env.parse(
            "ADTHREAD_TOKEN_LIFETIME_SECS",
            &mut self.auth.token_lifetime_secs,
        )?;
        env.parse(
            "ADTHREAD_ALLOW_REGISTRATION",
            &mut self.auth.allow_registration,
        )?;
        env.parse(
            "ADTHREAD_ARGON2_MEMORY_KIB",
            &mut self.auth.argon2_memory_kib,
        )?;
        env.parse(
            "ADTHREAD_ARGON2_ITERATIONS",
            &mut self.auth.argon2_iterations,
        )?;
        env.parse(
            "ADTHREAD_LOGIN_FAILURES_PER_ACCOUNT",
            &mut self.auth.login_failures_per_account,
        )?;
        env.parse(
            "ADTHREAD_LOGIN_FAILURES_PER_ADDRESS",
            &mut self.auth.login_failures_per_address,
        )?;
        env.parse(
            "ADTHREAD_LOGIN_BLOCK_MAX_SECS",
            &mut self.auth.login_block_max_secs,
        )?;
        env.parse(
            "ADTHREAD_LOGIN_FAILURE_MEMORY_SECS",
            &mut self.auth.login_failure_memory_secs,
        )?;
        env.parse(
            "ADTHREAD_LOGIN_ACCOUNT_CHECKS_PER_MINUTE",
            &mut self.auth.login_account_checks_per_minute,
        )?;
        env.parse(
            "ADTHREAD_REGISTRATIONS_PER_ADDRESS",
            &mut self.auth.registrations_per_address,
        )?;
        env.parse(
            "ADTHREAD_REGISTRATION_WINDOW_SECS",
            &mut self.auth.registration_window_secs,
        )?;
        env.string("ADTHREAD_LLM_BASE_URL", &mut self.llm.base_url);
        env.string("ADTHREAD_LLM_MODEL", &mut self.llm.model);
        env.string("ADTHREAD_LLM_API_KEY", &mut self.llm.api_key);
        env.parse("ADTHREAD_LLM_TIMEOUT_SECS", &mut self.llm.timeout_secs)?;
        env.parse(
            "ADTHREAD_LLM_MAX_TOOL_ROUNDS",
            &mut self.llm.max_tool_rounds,
        )?;
        env.parse(
            "ADTHREAD_LLM_HISTORY_MESSAGES",
            &mut self.llm.history_messages,
        )?;
        env.parse("ADTHREAD_LLM_HISTORY_BYTES", &mut self.llm.history_bytes)?;
        env.parse(
            "ADTHREAD_LLM_MAX_TOOL_RESULT_BYTES",
            &mut self.llm.max_tool_result_bytes,
        )?;
        env.parse(
            "ADTHREAD_MONTHLY_TOKEN_QUOTA",
            &mut self.llm.monthly_token_quota,
        )?;
        env.parse(
            "ADTHREAD_LLM_MAX_TOKENS_PER_MESSAGE",
            &mut self.llm.max_tokens_per_message,
        )?;
        env.parse(
            "ADTHREAD_LLM_MAX_CONCURRENT_PER_COMPANY",
            &mut self.llm.max_concurrent_per_company,
        )?;
        env.parse(
            "ADTHREAD_LLM_MAX_REPLY_BYTES",
            &mut self.llm.max_reply_bytes,
        )?;
        env.parse(
            "ADTHREAD_LLM_MAX_REPLY_TEXT_BYTES",
            &mut self.llm.max_reply_text_bytes,
        )?;
        env.parse("ADTHREAD_LLM_MAX_TOOL_CALLS", &mut self.llm.max_tool_calls)?;
        env.parse(
            "ADTHREAD_LLM_MAX_TOOL_ARGUMENT_BYTES",
            &mut self.llm.max_tool_argument_bytes,
        )?;
        env.parse(
            "ADTHREAD_LLM_GENERATION_CONCURRENCY",
            &mut self.llm.generation_concurrency,
        )?;
        env.parse(
            "ADTHREAD_LLM_GENERATION_ATTEMPTS",
            &mut self.llm.generation_attempts,
        )?;
        Ok(())
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |msg: &str| Err(ConfigError::Invalid(msg.to_string()));
        if self.database.pool_size == 0 {
            return invalid("database.pool_size must be at least 1");
        }
        self.database.location()?;
        if self.server.max_body_bytes < 1024 {
            return invalid("server.max_body_bytes must be at least 1024");
        }
        if self.server.max_header_bytes < 1024 {
            return invalid("server.max_header_bytes must be at least 1024");
        }
        if self.server.request_timeout_secs == 0 {
            return invalid("server.request_timeout_secs must be at least 1");
        }
        if !self.server.public_url.is_empty() && !is_base_url(&self.server.public_url) {
            return invalid(
                "server.public_url must be an http:// or https:// URL with no query or \
                 fragment, such as https://adthread.example.com",
            );
        }
        if self.server.header_read_timeout_secs == 0 {
            return invalid("server.header_read_timeout_secs must be at least 1");
        }
        if !(1..=MAX_CONNECTIONS_CEILING).contains(&self.server.max_connections) {
            return Err(ConfigError::Invalid(format!(
                "server.max_connections must be between 1 and {MAX_CONNECTIONS_CEILING}"
            )));
        }
        if let Some(origin) = self
            .server
            .cors_allowed_origins
            .iter()
            .find(|origin| !is_origin(origin))
        {
            return Err(ConfigError::Invalid(format!(
                "server.cors_allowed_origins: {origin:?} is not an origin such as \
                 \"https://app.example.com\" (\"*\" is not accepted)"
            )));
        }
        if self.auth.login_failures_per_account == 0 || self.auth.login_failures_per_address == 0 {
            return invalid("auth.login_failures_per_account and _per_address must be at least 1");
        }
        if self.auth.login_account_checks_per_minute == 0 {
            return invalid("auth.login_account_checks_per_minute must be at least 1");
        }
        if self.auth.registrations_per_address == 0 || self.auth.registration_window_secs == 0 {
            return invalid(
                "auth.registrations_per_address and auth.registration_window_secs must be at \
                 least 1 (turn registration off with auth.allow_registration = false)",
            );
        }
        if self.auth.token_lifetime_secs == 0 {
            return invalid("auth.token_lifetime_secs must be at least 1");
        }
        self.llm.validate()?;
        let base_url = self.llm.base_url.trim();
        if !base_url.is_empty()
            && !base_url.starts_with("http://")
            && !base_url.starts_with("https://")
        {
            return invalid(
                "llm.base_url must be an http:// or https:// URL such as \
                 http://127.0.0.1:11434/v1",
            );
        }
        Ok(())
    }

    /// Where the first administrator's generated password is written: beside the database.
    pub fn initial_password_path(&self) -> PathBuf {
        let dir = self.database.path.parent().unwrap_or(Path::new("."));
        dir.join("initial-admin-password")
    }
}

fn comma_separated(list: &str) -> impl Iterator<Item = &str> {
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

/// `scheme://host[:port][/path]`: a base that a path and query can be appended to.
fn is_base_url(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    let host = rest.split('/').next().unwrap_or("");
    matches!(scheme, "http" | "https")
        && !host.is_empty()
        && !rest.contains(['?', '#', ' ', '<', '>', '"'])
}

/// More connections than this would be more file descriptors than any system gives a process.
const MAX_CONNECTIONS_CEILING: usize = 1_000_000;

impl LlmConfig {
    /// Each cap within bounds that keep it meaningful: a tool-call cap of 10^12 would let a
    /// streamed index allocate again, a token cap near i64::MAX could overflow the sums.
    fn validate(&self) -> Result<(), ConfigError> {
        let bounded: [(&str, u64, u64, u64); 12] = [
            ("timeout_secs", self.timeout_secs, 1, 86_400),
            ("max_tool_rounds", self.max_tool_rounds.into(), 1, 64),
            ("history_bytes", self.history_bytes as u64, 1, 1 << 30),
            (
                "max_tool_result_bytes",
                self.max_tool_result_bytes as u64,
                256,
                1 << 30,
            ),
            (
                "max_tokens_per_message",
                self.max_tokens_per_message,
                1,
                1 << 40,
            ),
            (
                "max_concurrent_per_company",
                self.max_concurrent_per_company.into(),
                1,
                100_000,
            ),
            (
                "max_reply_bytes",
                self.max_reply_bytes as u64,
                1024,
                1 << 30,
            ),
            (
                "max_reply_text_bytes",
                self.max_reply_text_bytes as u64,
                1,
                1 << 30,
            ),
            ("max_tool_calls", self.max_tool_calls as u64, 1, 1024),
            (
                "max_tool_argument_bytes",
                self.max_tool_argument_bytes as u64,
                1,
                1 << 30,
            ),
            (
                "generation_concurrency",
                self.generation_concurrency.into(),
                1,
                64,
            ),
            (
                "generation_attempts",
                self.generation_attempts.into(),
                1,
                100,
            ),
        ];
        match bounded
            .iter()
            .find(|(_, value, min, max)| value < min || value > max)
        {
            Some((key, _, min, max)) => Err(ConfigError::Invalid(format!(
                "llm.{key} must be from {min} to {max}"
            ))),
            None => Ok(()),
        }
    }
}

/// `scheme://host[:port]`, nothing after it: what a browser sends in `Origin`.
fn is_origin(origin: &str) -> bool {
    let Some((scheme, host)) = origin.split_once("://") else {
        return false;
    };
    matches!(scheme, "http" | "https")
        && !host.is_empty()
        && !host.contains(['/', '*', '?', '#', ' '])
}

struct EnvReader<'a, F: Fn(&str) -> Option<String>> {
    var: &'a F,
}

impl<F: Fn(&str) -> Option<String>> EnvReader<'_, F> {
    fn string(&self, name: &'static str, target: &mut String) {
        if let Some(value) = (self.var)(name) {
            *target = value;
        }
    }

    fn parse<T: std::str::FromStr>(
        &self,
        name: &'static str,
        target: &mut T,
    ) -> Result<(), ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        if let Some(value) = (self.var)(name) {
            *target = value
                .trim()
                .parse()
                .map_err(|err: T::Err| ConfigError::Env {
                    name,
                    value: value.clone(),
                    reason: err.to_string(),
                })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_file() {
        let mut config: Config = toml::from_str("[server]\nbind = \"0.0.0.0:1\"").unwrap();
        config
            .apply_env(|name| (name == "ADTHREAD_BIND").then(|| "127.0.0.1:9".to_string()))
            .unwrap();
        assert_eq!(config.server.bind, "127.0.0.1:9");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = toml::from_str::<Config>("[server]\nbnd = \"x\"").unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }

    #[test]
    fn cors_origins_come_from_a_comma_separated_variable_and_wildcards_are_refused() {
        let mut config = Config::default();
        config
            .apply_env(|name| {
                (name == "ADTHREAD_CORS_ORIGINS")
                    .then(|| "https://a.example, http://b.example:8080".to_string())
            })
            .unwrap();
        assert_eq!(
            config.server.cors_allowed_origins,
            ["https://a.example", "http://b.example:8080"]
        );
        config.validate().unwrap();
        config.server.cors_allowed_origins = vec!["*".into()];
        assert!(config.validate().is_err());
        config.server.cors_allowed_origins = vec!["https://a.example/path".into()];
        assert!(config.validate().is_err());
    }

    #[test]
    fn trusted_proxies_are_addresses_or_ranges_from_a_comma_separated_variable() {
        let mut config = Config::default();
        config
            .apply_env(|name| {
                (name == "ADTHREAD_TRUSTED_PROXIES").then(|| "127.0.0.1, 10.0.0.0/8,::1".into())
            })
            .unwrap();
        let proxies = &config.server.trusted_proxies;
        assert_eq!(proxies.len(), 3);
        assert!(proxies[0].contains([127, 0, 0, 1].into()));
        assert!(!proxies[0].contains([127, 0, 0, 2].into()));
        assert!(proxies[1].contains([10, 200, 0, 1].into()));
        let err = config
            .apply_env(|name| (name == "ADTHREAD_TRUSTED_PROXIES").then(|| "10.0.0/8".into()))
            .unwrap_err();
        assert!(err.to_string().contains("CIDR"), "{err}");
        assert!(toml::from_str::<Config>("[server]\ntrusted_proxies = [\"nope\"]").is_err());
    }

    #[test]
    fn a_public_url_is_an_http_base_without_query() {
        let mut config = Config::default();
        for url in [
            "https://adthread.example",
            "http://127.0.0.1:8000/adthread/",
        ] {
            config.server.public_url = url.into();
            assert!(config.validate().is_ok(), "{url}");
        }
        for url in [
            "adthread.example",
            "https://",
            "https://a.example/?x=1",
            "ftp://a",
        ] {
            config.server.public_url = url.into();
            assert!(config.validate().is_err(), "{url}");
        }
    }

    #[test]
    fn a_model_url_must_be_http_or_https() {
        let mut config = Config::default();
        config.llm.base_url = "127.0.0.1:11434/v1".into();
        assert!(config.validate().is_err());
        for url in ["http://127.0.0.1:11434/v1", "https://api.openai.com/v1"] {
            config.llm.base_url = url.into();
            assert!(config.validate().is_ok(), "{url}");
        }
    }

    #[test]
    fn connection_limits_must_leave_room_for_a_client() {
        let mut config = Config::default();
        config
            .apply_env(|name| match name {
                "ADTHREAD_MAX_CONNECTIONS" => Some("64".into()),
                "ADTHREAD_HEADER_READ_TIMEOUT_SECS" => Some("5".into()),
                _ => None,
            })
            .unwrap();
        assert_eq!(config.server.max_connections, 64);
        assert_eq!(config.server.header_read_timeout_secs, 5);
        config.validate().unwrap();
        config.server.max_connections = 0;
        assert!(config.validate().is_err());
        config.server.max_connections = 64;
        config.server.header_read_timeout_secs = 0;
        assert!(config.validate().is_err());
    }

    #[test]
    fn model_caps_are_bounded() {
        let mut config = Config::default();
        config.validate().unwrap();
        config.llm.max_tool_calls = 1_000_000_000_000;
        let err = config.validate().unwrap_err();
        assert!(err.to_string().contains("llm.max_tool_calls"), "{err}");
        config.llm.max_tool_calls = 16;
        config.llm.max_concurrent_per_company = 0;
        assert!(config.validate().is_err());
    }

    #[test]
    fn bad_numbers_in_the_environment_are_refused() {
        let mut config = Config::default();
        let err = config
            .apply_env(|name| (name == "ADTHREAD_POOL_SIZE").then(|| "many".to_string()))
            .unwrap_err();
        assert!(err.to_string().contains("ADTHREAD_POOL_SIZE"), "{err}");
    }

    fn database_file(toml: &str) -> Config {
        toml::from_str(&format!("[database]\n{toml}")).unwrap()
    }

    #[test]
    fn the_database_is_a_file_or_a_postgres_url_not_both() {
        let url = "url = \"postgres://adthread:pw1@db/adthread\"";
        let config = database_file(url);
        assert!(matches!(
            config.database.location().unwrap(),
            DatabaseLocation::Postgres(_)
        ));
        let both = database_file(&format!("{url}\npath = \"x.db\""));
        let err = both.validate().unwrap_err().to_string();
        assert!(err.contains("database.path and database.url"), "{err}");
        let misplaced = database_file("path = \"postgres://adthread:pw1@db/adthread\"");
        let err = misplaced.validate().unwrap_err().to_string();
        assert!(err.contains("database.url"), "{err}");
        assert!(!err.contains("pw1"), "{err}");
    }

    #[test]
    fn a_bad_database_url_is_refused_without_its_password() {
        let config = database_file("url = \"postgres://adthread:pw1@db/adthread?sslmode=often\"");
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("sslmode"), "{err}");
        assert!(!err.contains("pw1"), "{err}");
        assert!(!format!("{config:?}").contains("pw1"));
    }

    #[test]
    fn the_environment_moves_the_database_between_file_and_server() {
        let mut config = database_file("path = \"mine.db\"");
        config
            .apply_env(|name| {
                (name == "ADTHREAD_DATABASE").then(|| "postgresql://adthread@db/adthread".into())
            })
            .unwrap();
        config.validate().unwrap();
        assert!(matches!(
            config.database.location().unwrap(),
            DatabaseLocation::Postgres(_)
        ));
        config
            .apply_env(|name| (name == "ADTHREAD_DATABASE").then(|| "other.db".into()))
            .unwrap();
        assert!(matches!(
            config.database.location().unwrap(),
            DatabaseLocation::Sqlite(path) if path == Path::new("other.db")
        ));
    }
}
