//! Starts the real `adthread` binary on a free loopback port in a temporary folder, and talks to
//! it over HTTP. Its database is a fresh SQLite file in that folder, or, when
//! ADTHREAD_TEST_BACKEND=postgres, a fresh database on the PostgreSQL cluster that
//! ADTHREAD_TEST_POSTGRES describes (tests/run runs the suite both ways).

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, Response};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::{json, Value};

pub const BINARY: &str = env!("CARGO_BIN_EXE_adthread");

/// Whether the servers run on PostgreSQL (ADTHREAD_TEST_BACKEND=postgres) rather than SQLite.
pub fn on_postgres() -> bool {
    std::env::var("ADTHREAD_TEST_BACKEND").is_ok_and(|backend| backend == "postgres")
}

/// For a test about SQLite itself: true, saying so, when the suite runs on PostgreSQL.
pub fn sqlite_only(about: &str) -> bool {
    if on_postgres() {
        eprintln!("skipped on PostgreSQL: this test is about SQLite's {about}");
    }
    on_postgres()
}

pub struct Server {
    child: Option<Child>,
    /// The server's PostgreSQL database, when the suite runs on PostgreSQL.
    postgres: Option<PostgresDatabase>,
    pub dir: tempfile::TempDir,
    pub base: String,
    /// The environment the binary gets (on every start and restart).
    pub env: Vec<(String, String)>,
    pub client: Client,
}

/// What an answer gave: its status, headers and JSON body (Null when it had none).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn from(response: Response) -> Answer {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(if text.is_empty() {
            Value::Null
        } else {
            Value::String(text)
        });
        Answer {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, showing the body when it differs.
    pub fn expect(self, status: u16) -> Answer {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected answer: {:#}",
            self.body
        );
        self
    }

    /// Asserts the status and that the answer's `detail` message contains `text`.
    pub fn expect_detail(self, status: u16, text: &str) -> Answer {
        let answer = self.expect(status);
        assert!(
            answer.body["detail"]
                .as_str()
                .is_some_and(|detail| detail.contains(text)),
            "a detail containing {text:?}: {}",
            answer.body
        );
        answer
    }

    /// Asserts a 422 whose first problem is the body field `field`, of kind `kind`.
    pub fn expect_invalid(self, field: &str, kind: &str) -> Answer {
        let answer = self.expect(422);
        let issue = &answer.body["detail"][0];
        assert_eq!(issue["loc"], json!(["body", field]), "{}", answer.body);
        assert_eq!(issue["type"], kind, "{}", answer.body);
        assert!(
            issue["msg"].as_str().is_some_and(|msg| !msg.is_empty()),
            "{}",
            answer.body
        );
        answer
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    pub fn start_with(env: &[(&str, &str)]) -> Server {
        Server::start_on(env, on_postgres())
    }

    /// A server on an SQLite file whichever database the suite runs on: the source of
    /// `adthread copy`.
    pub fn start_on_sqlite() -> Server {
        Server::start_on(&[], false)
    }

    fn start_on(env: &[(&str, &str)], postgres: bool) -> Server {
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Server::launched(env, postgres.then(PostgresDatabase::fresh))
    }

    /// Another process on this server's PostgreSQL database, with the same environment but its
    /// own folder and port: what a second machine behind a load balancer would run. The first
    /// server's end drops the database.
    pub fn second_process(&self) -> Server {
        let postgres = self
            .postgres
            .as_ref()
            .expect("a second process shares a PostgreSQL database")
            .shared();
        Server::launched(self.env.clone(), Some(postgres))
    }

    fn launched(env: Vec<(String, String)>, postgres: Option<PostgresDatabase>) -> Server {
        let mut server = Server {
            child: None,
            postgres,
            dir: tempfile::tempdir().unwrap(),
            base: String::new(),
            env,
            client: Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
        };
        server.launch();
        server
    }

    /// The SQLite file (tests that read it skip on PostgreSQL: see [`sqlite_only`]).
    pub fn database(&self) -> PathBuf {
        self.dir.path().join("data").join("adthread.db")
    }

    /// A command for the binary with this server's folder and database.
    pub fn command(&self) -> Command {
        let mut command = Command::new(BINARY);
        command
            .current_dir(self.dir.path())
            .env_remove("ADTHREAD_BIND")
            .env(
                "ADTHREAD_DATABASE",
                match &self.postgres {
                    Some(postgres) => postgres.url.clone(),
                    None => self.database().display().to_string(),
                },
            );
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command
    }

    fn launch(&mut self) {
        let port = free_port();
        self.base = format!("http://127.0.0.1:{port}");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("server.log"))
            .unwrap();
        let child = self
            .command()
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start adthread");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = self.client.get(self.url("/healthz")).send() {
                if response.status().is_success() {
                    return;
                }
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("adthread exited with {status}:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "adthread did not start:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The server's own OpenAPI document.
    pub fn openapi_document(&self) -> Value {
        self.client
            .get(self.url("/openapi.json"))
            .send()
            .unwrap()
            .json()
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The server process's resident memory in KiB (`VmRSS` in Linux's `/proc/PID/status`).
    pub fn rss_kib(&self) -> u64 {
        self.memory_kib("VmRSS:")
    }

    /// The most resident memory the server process has had so far, in KiB (`VmHWM`).
    pub fn peak_rss_kib(&self) -> u64 {
        self.memory_kib("VmHWM:")
    }

    fn memory_kib(&self, field: &str) -> u64 {
        let pid = self.child.as_ref().expect("server running").id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("{field} in /proc/PID/status"))
    }

    /// SIGKILL: no chance to flush or close anything.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// SIGKILL from another thread while this one's clients are still talking to it; `restart`
    /// then reaps it.
    pub fn sigkill(&self) {
        let pid = self.child.as_ref().expect("server running").id();
        Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap();
    }

    /// SIGTERM, then waits for a clean exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("server running");
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        child.wait().unwrap()
    }

    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }

    pub fn admin_password(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("data").join("initial-admin-password"))
            .unwrap()
            .trim()
            .to_string()
    }

    pub fn sign_in(&self, email: &str, password: &str) -> Answer {
        Answer::from(
            self.client
                .post(self.url("/api/v1/auth/token"))
                .form(&[
                    ("grant_type", "password"),
                    ("username", email),
                    ("password", password),
                ])
                .send()
                .unwrap(),
        )
    }

    /// Signs in through the published API's endpoint (form-encoded, LoggedInUserSchema).
    pub fn published_sign_in(&self, email: &str, password: &str) -> Answer {
        self.post_form(
            "/api/v1/users/authorization/token",
            &[("username", email), ("password", password)],
        )
    }

    /// Posts a form with no token.
    pub fn post_form(&self, path: &str, pairs: &[(&str, &str)]) -> Answer {
        Answer::from(self.client.post(self.url(path)).form(pairs).send().unwrap())
    }

    /// Posts JSON with no token.
    pub fn post_anonymous(&self, path: &str, body: &Value) -> Answer {
        Answer::from(self.client.post(self.url(path)).json(body).send().unwrap())
    }

    /// A connection to the server's SQLite file, to check what a request left behind (on
    /// PostgreSQL, [`Server::sql`]).
    pub fn db(&self) -> rusqlite::Connection {
        assert!(
            self.postgres.is_none(),
            "db() reads the SQLite file; use sql()"
        );
        rusqlite::Connection::open(self.database()).unwrap()
    }

    /// Runs `sql` (written for both databases) on the server's database: its rows, each a
    /// line of its columns as text joined by `|` (NULL is empty), as psql -A -t writes them.
    pub fn sql(&self, sql: &str) -> String {
        if let Some(postgres) = &self.postgres {
            return crate::postgres::psql(&postgres.url, sql);
        }
        let db = self.db();
        // As the server's own connections: references enforced, waiting out its writer.
        db.busy_timeout(Duration::from_secs(10)).unwrap();
        db.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        let mut statement = db.prepare(sql).unwrap();
        let columns = statement.column_count();
        let rows = statement
            .query_map([], |row| {
                (0..columns)
                    .map(|n| row.get::<_, rusqlite::types::Value>(n).map(text_of))
                    .collect::<rusqlite::Result<Vec<String>>>()
            })
            .unwrap();
        let lines: Vec<String> = rows.map(|row| row.unwrap().join("|")).collect();
        lines.join("\n")
    }

    /// Runs several statements (written for both databases) on the server's database.
    pub fn sql_batch(&self, sql: &str) {
        match &self.postgres {
            Some(postgres) => drop(crate::postgres::psql(&postgres.url, sql)),
            None => self.db().execute_batch(sql).unwrap(),
        }
    }

    /// Makes draft `draft` the campaign draft of thread `thread`, as the campaign assistant's
    /// first saved step does (for sweeps that need a thread with a draft and no model).
    pub fn link_draft_to_thread(&self, draft: &Value, thread: &Value) {
        let (draft, thread) = (draft.as_i64().unwrap(), thread.as_str().unwrap());
        self.sql(&format!(
            "UPDATE campaign_drafts SET thread_seq = \
             (SELECT seq FROM chat_threads WHERE thread_id = '{thread}') WHERE id = {draft}"
        ));
        let linked = format!(
            "SELECT count(*) FROM campaign_drafts d JOIN chat_threads t ON t.seq = d.thread_seq \
             WHERE d.id = {draft} AND t.thread_id = '{thread}'"
        );
        assert_eq!(self.sql(&linked), "1");
    }

    /// How many rows `table` has.
    pub fn count(&self, table: &str) -> i64 {
        self.sql(&format!("SELECT count(*) FROM {table}"))
            .parse()
            .unwrap()
    }

    pub fn token(&self, email: &str, password: &str) -> String {
        let answer = self.sign_in(email, password).expect(200);
        answer.body["access_token"].as_str().unwrap().to_string()
    }

    pub fn admin_token(&self) -> String {
        self.token("admin@localhost", &self.admin_password())
    }

    /// Creates a user through the CLI and returns a token for it.
    pub fn user(&self, email: &str, admin: bool) -> String {
        let password = "password-of-".to_string() + email;
        create_user_cli(self, email, &password, admin);
        self.token(email, &password)
    }

    pub fn get(&self, token: &str, path: &str) -> Answer {
        Answer::from(
            self.client
                .get(self.url(path))
                .bearer_auth(token)
                .send()
                .unwrap(),
        )
    }

    /// A GET without a token, with extra request headers.
    pub fn get_anonymous(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = self.client.get(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Answer::from(request.send().unwrap())
    }

    pub fn delete(&self, token: &str, path: &str) -> Answer {
        Answer::from(
            self.client
                .delete(self.url(path))
                .bearer_auth(token)
                .send()
                .unwrap(),
        )
    }

    pub fn post(&self, token: &str, path: &str, body: &Value) -> Answer {
        Answer::from(
            self.client
                .post(self.url(path))
                .bearer_auth(token)
                .json(body)
                .send()
                .unwrap(),
        )
    }

    pub fn patch(&self, token: &str, path: &str, body: &Value) -> Answer {
        Answer::from(
            self.client
                .patch(self.url(path))
                .bearer_auth(token)
                .json(body)
                .send()
                .unwrap(),
        )
    }

    /// Sends raw bytes with a content type, for malformed and oversized bodies.
    pub fn post_raw(&self, token: &str, path: &str, content_type: &str, body: Vec<u8>) -> Answer {
        Answer::from(
            self.client
                .post(self.url(path))
                .bearer_auth(token)
                .header("content-type", content_type)
                .body(body)
                .send()
                .unwrap(),
        )
    }

    /// A thread of `assistant_type` in the company, scoped to the sample customer and location.
    pub fn thread(
        &self,
        token: &str,
        company: i64,
        assistant_type: &str,
        extra_data: Value,
    ) -> String {
        let path = format!(
            "/api/v1/chat/threads?company_id={company}&customer_id={CUSTOMER_ID}&location_id={LOCATION_ID}"
        );
        let body = json!({"assistant_type": assistant_type, "extra_data": extra_data});
        let thread = self.post(token, &path, &body).expect(200);
        thread.body["thread_id"].as_str().unwrap().to_string()
    }

    /// Posts to an event-stream endpoint: the status, and (name, JSON data) of each event.
    pub fn post_events(
        &self,
        token: &str,
        path: &str,
        body: &Value,
    ) -> (StatusCode, Vec<(String, Value)>) {
        let response = self
            .client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .unwrap();
        let status = response.status();
        let text = response.text().unwrap();
        let mut events = Vec::new();
        for block in text.split("\n\n").filter(|block| !block.trim().is_empty()) {
            let mut name = String::from("message");
            let mut data = String::new();
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("event:") {
                    name = value.trim().to_string();
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push_str(value.trim_start());
                }
            }
            if !data.is_empty() {
                events.push((
                    name,
                    serde_json::from_str(&data).unwrap_or(Value::String(data)),
                ));
            }
        }
        (status, events)
    }

    /// Creates a thread in the company, scoped to it alone, and returns its id.
    pub fn thread_in(&self, token: &str, company: i64, body: Value) -> String {
        new_thread(self, token, &format!("company_id={company}"), body)
    }

    /// The company's threads as the published API lists them: all of them (no `limit`).
    pub fn list_threads(&self, token: &str, company: i64) -> Answer {
        self.get(token, &format!("/api/v1/chat/threads?company_id={company}"))
    }

    /// A new company (the caller is its owner); returns its id.
    pub fn company(&self, token: &str, name: &str) -> i64 {
        let company = self
            .post(token, "/api/v1/companies", &json!({ "name": name }))
            .expect(200);
        company.body["id"].as_i64().unwrap()
    }

    /// Every thread of a company, following the `Link` pages.
    pub fn all_threads(&self, token: &str, company: i64) -> Vec<Value> {
        let mut threads = Vec::new();
        let mut page = Some(format!(
            "/api/v1/chat/threads?company_id={company}&limit=500"
        ));
        while let Some(path) = page {
            let answer = self.get(token, &path).expect(200);
            threads.extend(answer.body.as_array().unwrap().iter().cloned());
            page = next_page(&answer, &self.base);
        }
        threads
    }

    /// A company with a Google Ads customer and a Business location; returns its id.
    pub fn company_with_connections(&self, token: &str, name: &str) -> i64 {
        let id = self.company(token, name);
        self.post(
            token,
            &format!("/api/v1/companies/{id}/google-ads-customers"),
            &sample_customer(),
        )
        .expect(200);
        self.post(
            token,
            &format!("/api/v1/companies/{id}/google-business-locations"),
            &sample_location(),
        )
        .expect(200);
        id
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        if let Some(postgres) = self.postgres.take().filter(|postgres| postgres.owned) {
            postgres.drop_database();
        }
    }
}

/// A value of an SQLite row as psql writes it.
fn text_of(value: rusqlite::types::Value) -> String {
    use rusqlite::types::Value;
    match value {
        Value::Null => String::new(),
        Value::Integer(n) => n.to_string(),
        Value::Real(x) => x.to_string(),
        Value::Text(text) => text,
        Value::Blob(bytes) => format!("\\x{}", hex(&bytes)),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A server's own database on the test cluster, dropped with the server.
struct PostgresDatabase {
    /// With the test CA checked (verify-full), as a deployment over TLS would.
    url: String,
    name: String,
    cluster: crate::postgres::Postgres,
    /// Whether this server drops the database when it stops (a second process's does not).
    owned: bool,
}

impl PostgresDatabase {
    fn fresh() -> PostgresDatabase {
        let cluster = crate::postgres::postgres().expect(
            "ADTHREAD_TEST_BACKEND=postgres needs a cluster: tests/setup/postgres.sh start DIR, \
             then ADTHREAD_TEST_POSTGRES=DIR/env",
        );
        let plain = cluster.fresh_database();
        let name = plain.rsplit_once('/').unwrap().1.to_string();
        let url = format!(
            "{plain}?sslmode=verify-full&sslrootcert={}",
            cluster.ca.display()
        );
        PostgresDatabase {
            url,
            name,
            cluster,
            owned: true,
        }
    }

    fn shared(&self) -> PostgresDatabase {
        PostgresDatabase {
            url: self.url.clone(),
            name: self.name.clone(),
            cluster: self.cluster.clone(),
            owned: false,
        }
    }

    /// Best effort, never a panic (it runs in `Drop`, maybe while a test unwinds): a killed
    /// server's sessions may take a moment to end, and a database left over is only space on
    /// a throwaway cluster.
    fn drop_database(self) {
        for _ in 0..20 {
            let dropped = Command::new("psql")
                .args([&self.cluster.url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c"])
                // FORCE: a second process's sessions, or a killed one's not yet ended, would
                // each make PostgreSQL wait 5 s and refuse.
                .arg(format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            if dropped.is_ok_and(|status| status.success()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

pub fn create_user_cli(server: &Server, email: &str, password: &str, admin: bool) {
    let options: &[&str] = if admin { &["--admin"] } else { &[] };
    let output = run_user_create(server, email, password, options);
    assert!(
        output.status.success(),
        "user create failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs `adthread user create EMAIL OPTIONS...` with `password` on standard input.
pub fn run_user_create(
    server: &Server,
    email: &str,
    password: &str,
    options: &[&str],
) -> std::process::Output {
    let mut child = server
        .command()
        .args(["user", "create", email])
        .args(options)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    child.wait_with_output().unwrap()
}

pub fn is_rfc3339_utc(value: &Value) -> bool {
    let text = value.as_str().unwrap_or("");
    text.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(text).is_ok()
}

/// The keys of a JSON object, sorted.
pub fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

pub const CUSTOMER_ID: i64 = 1234567890;
pub const LOCATION_ID: &str = "locations/4242";

pub fn sample_customer() -> Value {
    json!({
        "id": CUSTOMER_ID,
        "descriptive_name": "Acme Bakery Ads",
        "currency_code": "EUR",
        "time_zone": "Europe/Paris",
        "status": "ENABLED",
        "manager": false,
        "is_active": true,
        "is_deleted": false
    })
}

pub fn sample_location() -> Value {
    json!({
        "id": LOCATION_ID,
        "title": "Acme Bakery Paris",
        "store_code": "PAR-1",
        "maps_uri": "https://maps.google.com/?cid=42",
        "storefront_address": {
            "region_code": "FR",
            "language_code": "fr",
            "postal_code": "75001",
            "administrative_area": "Île-de-France",
            "locality": "Paris",
            "sublocality": "1er",
            "address_lines": ["1 rue de Rivoli", "Bâtiment B"]
        }
    })
}

/// Creates a thread (`query` holds `company_id=...` and any scope) and returns its id.
pub fn new_thread(server: &Server, token: &str, query: &str, body: Value) -> String {
    server
        .post(token, &format!("/api/v1/chat/threads?{query}"), &body)
        .expect(200)
        .body["thread_id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The thread ids of a list answer, in order.
pub fn ids(answer: &Answer) -> Vec<String> {
    answer
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["thread_id"].as_str().unwrap().to_string())
        .collect()
}

/// The path and query of a `Link: <url>; rel="next"` header: a relative reference resolved
/// against the server, or an absolute URL under `base`.
pub fn next_page(answer: &Answer, base: &str) -> Option<String> {
    let link = answer.header("link")?;
    assert!(link.ends_with("; rel=\"next\""), "{link}");
    let url = link.trim_start_matches('<').split('>').next().unwrap();
    let path = url.strip_prefix(base).unwrap_or(url);
    assert!(path.starts_with('/'), "a path or a URL under {base}: {url}");
    Some(path.to_string())
}
