//! Where the database is: an SQLite file (the embedded default) or a PostgreSQL server named by
//! a `postgres://` URL. The URL holds the password, so nothing here ever prints it: errors and
//! the URL's own `Display`/`Debug` show it with the password left out.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;

use super::ConfigError;

/// What `ADTHREAD_DATABASE`, `--database`, `database.path` or `database.url` resolved to.
#[derive(Debug, Clone, Copy)]
pub enum DatabaseLocation<'a> {
    Sqlite(&'a Path),
    Postgres(&'a PostgresUrl),
}

/// The file's path, or the URL without its password.
impl fmt::Display for DatabaseLocation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseLocation::Sqlite(path) => write!(f, "{}", path.display()),
            DatabaseLocation::Postgres(url) => write!(f, "{url}"),
        }
    }
}

/// `database.url` as written, read when it is. A URL that cannot be read is kept with the reason
/// and reported by [`DatabaseUrl::parsed`]: an error from the TOML reader would quote the line,
/// password and all.
#[derive(Clone, Deserialize)]
#[serde(from = "String")]
pub struct DatabaseUrl(Result<PostgresUrl, String>);

impl DatabaseUrl {
    pub fn parsed(&self) -> Result<&PostgresUrl, ConfigError> {
        self.0.as_ref().map_err(|reason| {
            ConfigError::Invalid(format!("the database URL is not usable: {reason}"))
        })
    }
}

impl From<String> for DatabaseUrl {
    fn from(text: String) -> Self {
        DatabaseUrl(text.parse())
    }
}

impl From<&str> for DatabaseUrl {
    fn from(text: &str) -> Self {
        DatabaseUrl(text.parse())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Ok(url) => write!(f, "{url:?}"),
            Err(reason) => write!(f, "(an unusable database URL: {reason})"),
        }
    }
}

/// Whether a database setting names a PostgreSQL server rather than a file.
pub fn is_postgres_url(text: &str) -> bool {
    let text = text.trim_start();
    SCHEMES.iter().any(|scheme| text.starts_with(scheme))
}

/// Also libpq's two spellings.
const SCHEMES: [&str; 2] = ["postgres://", "postgresql://"];

/// `sslmode` as libpq reads it. `prefer` and `require` encrypt without checking whom they talk
/// to; `verify-ca` checks that the server's certificate comes from a trusted authority;
/// `verify-full` checks that too and that it names the host connected to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl TlsMode {
    pub fn name(self) -> &'static str {
        match self {
            TlsMode::Disable => "disable",
            TlsMode::Prefer => "prefer",
            TlsMode::Require => "require",
            TlsMode::VerifyCa => "verify-ca",
            TlsMode::VerifyFull => "verify-full",
        }
    }

    fn parse(text: &str) -> Result<TlsMode, String> {
        [
            TlsMode::Disable,
            TlsMode::Prefer,
            TlsMode::Require,
            TlsMode::VerifyCa,
            TlsMode::VerifyFull,
        ]
        .into_iter()
        .find(|mode| mode.name() == text)
        .ok_or_else(|| {
            format!(
                "sslmode={text:?} is not one of disable, prefer, require, verify-ca, verify-full \
                 (allow is not supported)"
            )
        })
    }
}

/// The authorities a server certificate is checked against (`sslrootcert`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCertificates {
    /// `sslrootcert=system`, or none given: the Mozilla set of public authorities.
    System,
    /// A PEM file of one or more certificates.
    File(PathBuf),
}

/// A parsed `postgres://user:password@host:port/dbname?sslmode=…&sslrootcert=…` URL.
#[derive(Clone)]
pub struct PostgresUrl {
    /// Everything but the TLS options, as tokio-postgres reads it; holds the password.
    connection: tokio_postgres::Config,
    tls: TlsMode,
    root_certificates: RootCertificates,
}

impl PostgresUrl {
    pub fn connection(&self) -> &tokio_postgres::Config {
        &self.connection
    }

    /// The mode that applies: like libpq, `require` with a root certificate file checks the
    /// certificate as `verify-ca` does.
    pub fn tls(&self) -> TlsMode {
        match (self.tls, &self.root_certificates) {
            (TlsMode::Require, RootCertificates::File(_)) => TlsMode::VerifyCa,
            (mode, _) => mode,
        }
    }

    pub fn root_certificates(&self) -> &RootCertificates {
        &self.root_certificates
    }
}

impl FromStr for PostgresUrl {
    type Err = String;

    /// Every error names what is wrong without repeating the URL, which may hold a password.
    fn from_str(text: &str) -> Result<PostgresUrl, String> {
        let text = text.trim();
        if !is_postgres_url(text) {
            return Err("a PostgreSQL URL starts with postgres:// or postgresql://".into());
        }
        let (base, query) = text.split_once('?').unwrap_or((text, ""));
        let mut tls = TlsMode::Prefer;
        let mut root_certificates = RootCertificates::System;
        let mut rest = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match &*key {
                "sslmode" => tls = TlsMode::parse(&value)?,
                "sslrootcert" if value == "system" => root_certificates = RootCertificates::System,
                "sslrootcert" => root_certificates = RootCertificates::File(value.as_ref().into()),
                "password" => return Err("put the password in the URL's user part".into()),
                _ => {
                    rest.append_pair(&key, &value);
                }
            }
        }
        let rest = rest.finish();
        let without_tls = if rest.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{rest}")
        };
        // tokio-postgres's cause names the option or part it could not read, never its value.
        let connection: tokio_postgres::Config =
            without_tls.parse().map_err(|err: tokio_postgres::Error| {
                std::error::Error::source(&err)
                    .map_or_else(|| err.to_string(), |cause| cause.to_string())
            })?;
        if connection.get_hosts().is_empty() {
            return Err("the URL names no host".into());
        }
        if tls != TlsMode::Disable && connection.get_hosts().len() > 1 {
            return Err("TLS to a list of hosts is not supported; name one host".into());
        }
        Ok(PostgresUrl {
            connection,
            tls,
            root_certificates,
        })
    }
}

/// The URL with its password left out, such as `postgres://adthread@db:5432/adthread`.
impl fmt::Display for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = &self.connection;
        f.write_str("postgres://")?;
        if let Some(user) = config.get_user() {
            write!(f, "{user}@")?;
        }
        for (n, host) in config.get_hosts().iter().enumerate() {
            if n > 0 {
                f.write_str(",")?;
            }
            match host {
                tokio_postgres::config::Host::Tcp(name) => f.write_str(name)?,
                tokio_postgres::config::Host::Unix(path) => write!(f, "{}", path.display())?,
            }
            if let Some(port) = config.get_ports().get(n) {
                write!(f, ":{port}")?;
            }
        }
        write!(f, "/{}", config.get_dbname().unwrap_or(""))
    }
}

impl fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self} (sslmode {})", self.tls().name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cret-pw";

    fn url(query: &str) -> Result<PostgresUrl, String> {
        format!("postgres://adthread:{SECRET}@db.example:5433/adthread{query}").parse()
    }

    #[test]
    fn a_url_is_read_without_its_tls_options_and_shown_without_its_password() {
        let url = url("?sslmode=verify-full&sslrootcert=/etc/ca.pem&application_name=a").unwrap();
        assert_eq!(url.tls(), TlsMode::VerifyFull);
        assert_eq!(
            url.root_certificates(),
            &RootCertificates::File("/etc/ca.pem".into())
        );
        assert_eq!(url.connection().get_password(), Some(SECRET.as_bytes()));
        assert_eq!(url.connection().get_application_name(), Some("a"));
        assert_eq!(
            url.to_string(),
            "postgres://adthread@db.example:5433/adthread"
        );
        assert!(!format!("{url:?}").contains(SECRET));
    }

    #[test]
    fn tls_modes_are_libpqs() {
        assert_eq!(url("").unwrap().tls(), TlsMode::Prefer);
        assert_eq!(url("?sslmode=disable").unwrap().tls(), TlsMode::Disable);
        assert_eq!(url("?sslmode=require").unwrap().tls(), TlsMode::Require);
        assert_eq!(
            url("?sslmode=require&sslrootcert=ca.pem").unwrap().tls(),
            TlsMode::VerifyCa
        );
        assert_eq!(
            url("?sslmode=verify-ca&sslrootcert=system")
                .unwrap()
                .root_certificates(),
            &RootCertificates::System
        );
    }

    #[test]
    fn bad_urls_are_refused_without_repeating_the_password() {
        for query in ["?sslmode=sometimes", "?no_such_option=1", "?password=x"] {
            let err = url(query).unwrap_err();
            assert!(!err.contains(SECRET), "{err}");
        }
        assert!(url("?sslmode=sometimes").unwrap_err().contains("sslmode"));
        assert!(url("?no_such_option=1")
            .unwrap_err()
            .contains("no_such_option"));
        let err = format!("postgres://adthread:{SECRET}@db:notaport/x")
            .parse::<PostgresUrl>()
            .unwrap_err();
        assert!(!err.contains(SECRET), "{err}");
        assert!("mysql://db/x".parse::<PostgresUrl>().is_err());
    }

    #[test]
    fn only_postgres_schemes_name_a_server() {
        assert!(is_postgres_url("postgresql://db/x"));
        assert!(!is_postgres_url("data/adthread.db"));
        assert!(!is_postgres_url("postgres"));
    }
}
