//! A stand-in language model: a real HTTP server on loopback speaking OpenAI's chat-completions
//! protocol (JSON answers, or server-sent events with `data: {...}` chunks and `data: [DONE]`
//! when the request asks to stream). Each test scripts its answers in order and reads back the
//! requests it received. With nothing scripted it answers "OK". `Hostile` answers play a
//! broken or malicious server.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::{Data, Json};
use poem::{handler, post, EndpointExt, Response, Route};
use serde_json::{json, Value};

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub content: String,
    /// (id, function name, arguments)
    pub tool_calls: Vec<(String, String, Value)>,
    /// An error status instead of an answer.
    pub status: Option<u16>,
    pub delay: Duration,
    pub usage: (i64, i64),
    /// Misbehaviour instead of an answer.
    pub hostile: Option<Hostile>,
}

/// Ways a broken or malicious model server answers.
#[derive(Debug, Clone)]
pub enum Hostile {
    /// This body, verbatim, with status 200.
    Raw(String),
    /// Reply text that never ends, sent as fast as it is read.
    Endless,
    /// This text again and again, as fast as it is read (e.g. event-stream comments, which
    /// carry no reply text at all).
    Forever(String),
    /// A piece of reply text every interval, never ending: each read is quick, the whole never
    /// comes.
    Drip(Duration),
    /// This status, with a body quoting the request's Authorization header and naming
    /// `LEAKY_SECRET`.
    Leaky(u16),
}

/// What a `Hostile::Leaky` body says, which must never reach a client.
pub const LEAKY_SECRET: &str = "internal-cluster-7.corp: quota for org-secret-99 exceeded";

impl Answer {
    pub fn text(content: &str) -> Answer {
        Answer {
            content: content.into(),
            tool_calls: Vec::new(),
            status: None,
            delay: Duration::ZERO,
            usage: (10, 5),
            hostile: None,
        }
    }

    pub fn hostile(hostile: Hostile) -> Answer {
        Answer {
            hostile: Some(hostile),
            ..Answer::text("")
        }
    }

    pub fn with_usage(mut self, prompt: i64, completion: i64) -> Answer {
        self.usage = (prompt, completion);
        self
    }

    pub fn tool(name: &str, arguments: Value) -> Answer {
        Answer::text("").and_tool(name, arguments)
    }

    pub fn and_tool(mut self, name: &str, arguments: Value) -> Answer {
        let id = format!("call_{}", self.tool_calls.len() + 1);
        self.tool_calls.push((id, name.into(), arguments));
        self
    }

    pub fn error(status: u16) -> Answer {
        Answer {
            status: Some(status),
            ..Answer::text("")
        }
    }

    pub fn after(mut self, delay: Duration) -> Answer {
        self.delay = delay;
        self
    }
}

/// What a request carried.
#[derive(Debug, Clone)]
pub struct Received {
    pub body: Value,
    pub authorization: Option<String>,
}

impl Received {
    pub fn messages(&self) -> &Vec<Value> {
        self.body["messages"].as_array().expect("messages")
    }

    pub fn tool_names(&self) -> Vec<String> {
        self.body["tools"]
            .as_array()
            .map(|tools| {
                tools
                    .iter()
                    .map(|tool| tool["function"]["name"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[derive(Default)]
struct Script {
    answers: VecDeque<Answer>,
    received: Vec<Received>,
}

pub struct FakeLlm {
    /// What `ADTHREAD_LLM_BASE_URL` should be.
    pub base_url: String,
    script: Arc<Mutex<Script>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeLlm {
    pub fn start() -> FakeLlm {
        let script = Arc::new(Mutex::new(Script::default()));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (port_sender, port) = std::sync::mpsc::channel();
        let shared = script.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let acceptor = TcpListener::bind("127.0.0.1:0")
                    .into_acceptor()
                    .await
                    .unwrap();
                let addr = acceptor.local_addr()[0].as_socket_addr().unwrap().port();
                port_sender.send(addr).unwrap();
                let app = Route::new()
                    .at("/v1/chat/completions", post(completions))
                    .data(shared);
                poem::Server::new_with_acceptor(acceptor)
                    .run_with_graceful_shutdown(
                        app,
                        async {
                            let _ = stopped.await;
                        },
                        Some(Duration::from_secs(1)),
                    )
                    .await
                    .unwrap();
            });
        });
        let port = port.recv().unwrap();
        FakeLlm {
            base_url: format!("http://127.0.0.1:{port}/v1"),
            script,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Queues answers, given in the order requests will get them.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.script.lock().unwrap().answers.extend(answers);
    }

    /// Drops the answers no request has taken.
    pub fn forget_script(&self) {
        self.script.lock().unwrap().answers.clear();
    }

    pub fn received(&self) -> Vec<Received> {
        self.script.lock().unwrap().received.clone()
    }
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[handler]
async fn completions(
    Data(script): Data<&Arc<Mutex<Script>>>,
    request: &poem::Request,
    Json(body): Json<Value>,
) -> Response {
    let answer = {
        let mut script = script.lock().unwrap();
        script.received.push(Received {
            body: body.clone(),
            authorization: request
                .header("authorization")
                .map(|value| value.to_string()),
        });
        script
            .answers
            .pop_front()
            .unwrap_or_else(|| unscripted(&body))
    };
    tokio::time::sleep(answer.delay).await;
    if let Some(hostile) = answer.hostile {
        return misbehave(hostile, body["stream"] == true, request);
    }
    if let Some(status) = answer.status {
        return Response::builder()
            .status(poem::http::StatusCode::from_u16(status).unwrap())
            .content_type("application/json")
            .body(json!({"error": {"message": "scripted failure"}}).to_string());
    }
    if body["stream"] == true {
        stream(&answer)
    } else {
        whole(&answer)
    }
}

/// With nothing scripted: copy in the asked-for JSON for the draft generation prompts (see
/// `src/assistant/generation.rs`), "OK" for everything else.
fn unscripted(body: &Value) -> Answer {
    let system = body["messages"][0]["content"].as_str().unwrap_or_default();
    if system.starts_with("You write responsive search ads") {
        Answer::text(&GENERATED_RSA.to_string())
    } else if system.starts_with("You write ad extensions") {
        Answer::text(&GENERATED_EXTENSIONS.to_string())
    } else {
        Answer::text("OK")
    }
}

/// What the stand-in answers an RSA generation prompt with, unless scripted otherwise.
pub static GENERATED_RSA: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| {
    json!({
        "headlines": ["Fresh Bread Every Morning", "Sourdough Baked Daily", "Order Online Today",
                      "Local Organic Bakery", "Pastries and Cakes"],
        "descriptions": ["Bread baked each morning from organic flour. Order before 10am.",
                         "Cakes, pastries and sourdough, ready to pick up near you."]
    })
});

/// What the stand-in answers an extensions generation prompt with, unless scripted otherwise.
pub static GENERATED_EXTENSIONS: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| {
    json!({
        "sitelinks": [
            {"link_text": "Our Breads", "description_1": "Sourdough, rye and more",
             "description_2": "Baked fresh each morning", "final_url": "https://acme.example/bread"},
            {"link_text": "Order Online", "description_1": "Pick up in store",
             "description_2": "Ready in an hour", "final_url": "https://acme.example/order"}
        ],
        "callouts": ["Organic Flour", "Open Sundays", "Free Pickup"],
        "structured_snippets": [{"header": "TYPES", "values": ["Sourdough", "Rye", "Spelt"]}]
    })
});

fn tool_calls(answer: &Answer) -> Vec<Value> {
    answer
        .tool_calls
        .iter()
        .map(|(id, name, arguments)| {
            json!({"id": id, "type": "function",
                   "function": {"name": name, "arguments": arguments.to_string()}})
        })
        .collect()
}

fn usage(answer: &Answer) -> Value {
    json!({"prompt_tokens": answer.usage.0, "completion_tokens": answer.usage.1,
           "total_tokens": answer.usage.0 + answer.usage.1})
}

fn whole(answer: &Answer) -> Response {
    let mut message = json!({"role": "assistant", "content": answer.content});
    if !answer.tool_calls.is_empty() {
        message["tool_calls"] = Value::from(tool_calls(answer));
    }
    let body = json!({
        "id": "chatcmpl-fake", "object": "chat.completion", "model": "fake",
        "choices": [{"index": 0, "message": message,
                     "finish_reason": if answer.tool_calls.is_empty() { "stop" } else { "tool_calls" }}],
        "usage": usage(answer),
    });
    Response::builder()
        .content_type("application/json")
        .body(body.to_string())
}

/// The content in pieces of up to 4 characters, each tool call's arguments in two pieces,
/// then a usage chunk and `[DONE]`.
fn stream(answer: &Answer) -> Response {
    let mut chunks = vec![json!({"choices": [{"index": 0, "delta": {"role": "assistant"}}]})];
    let characters: Vec<char> = answer.content.chars().collect();
    for piece in characters.chunks(4) {
        let piece: String = piece.iter().collect();
        chunks.push(json!({"choices": [{"index": 0, "delta": {"content": piece}}]}));
    }
    for (index, (id, name, arguments)) in answer.tool_calls.iter().enumerate() {
        let arguments = arguments.to_string();
        let (first, second) = arguments.split_at(arguments.len() / 2);
        chunks.push(json!({"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": index, "id": id, "type": "function",
             "function": {"name": name, "arguments": first}}]}}]}));
        chunks.push(json!({"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": index, "function": {"arguments": second}}]}}]}));
    }
    chunks.push(json!({"choices": [], "usage": usage(answer)}));
    let mut body = String::new();
    for chunk in chunks {
        body.push_str(&format!("data: {chunk}\n\n"));
    }
    body.push_str("data: [DONE]\n\n");
    Response::builder()
        .content_type("text/event-stream")
        .body(body)
}

fn misbehave(hostile: Hostile, streaming: bool, request: &poem::Request) -> Response {
    let (content_type, opening, piece) = if streaming {
        let piece = json!({"choices": [{"index": 0, "delta": {"content": "x".repeat(1024)}}]});
        (
            "text/event-stream",
            String::new(),
            format!("data: {piece}\n\n"),
        )
    } else {
        let opening = r#"{"choices":[{"message":{"role":"assistant","content":""#;
        ("application/json", opening.to_string(), "x".repeat(1024))
    };
    let body = match hostile {
        Hostile::Raw(body) => poem::Body::from_string(body),
        Hostile::Endless => endless(opening, piece, Duration::ZERO),
        Hostile::Forever(text) => endless(String::new(), text, Duration::ZERO),
        Hostile::Drip(interval) => endless(opening, piece, interval),
        Hostile::Leaky(status) => {
            let authorization = request.header("authorization").unwrap_or_default();
            return Response::builder()
                .status(poem::http::StatusCode::from_u16(status).unwrap())
                .content_type("application/json")
                .body(
                    json!({"error": {"message": format!(
                        "{LEAKY_SECRET}; you sent {authorization}"
                    )}})
                    .to_string(),
                );
        }
    };
    Response::builder().content_type(content_type).body(body)
}

/// `opening`, then `piece` again and again (every `interval`), never ending.
fn endless(opening: String, piece: String, interval: Duration) -> poem::Body {
    use futures_util::StreamExt;
    let first = futures_util::stream::once(async move { bytes::Bytes::from(opening) });
    let rest = futures_util::stream::unfold(bytes::Bytes::from(piece), move |piece| async move {
        if !interval.is_zero() {
            tokio::time::sleep(interval).await;
        }
        Some((piece.clone(), piece))
    });
    poem::Body::from_bytes_stream(first.chain(rest).map(Ok::<_, std::io::Error>))
}
