//! Reading what the model's server sends back, which is not trusted: a whole JSON reply, or a
//! stream of server-sent events fed in chunks as they arrive. Pure code (no I/O), so it can be
//! fed anything in tests. Every size is checked before it is kept, so a hostile or broken
//! server can cost at most the configured caps: no tool-call index allocates more than
//! `max_tool_calls` entries, no reply is buffered past `max_reply_bytes`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What one reply may hold (the `[llm]` caps).
#[derive(Debug, Clone, Copy)]
pub struct ReplyLimits {
    /// Bytes of the whole HTTP body, JSON or event stream.
    pub reply_bytes: usize,
    /// Bytes of the reply's text.
    pub text_bytes: usize,
    /// Tool calls in one reply; a streamed call's `index` must be below it.
    pub tool_calls: usize,
    /// Bytes of one tool call's id, name and arguments together.
    pub tool_call_bytes: usize,
}

/// Why a reply was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("the reply has more than {limit} {what}")]
    TooLarge { what: &'static str, limit: usize },
    /// Not a chat completion; the detail may quote the server and is for the log only.
    #[error("the reply is not a chat completion: {0}")]
    Malformed(String),
}

/// A tool call as the protocol carries it; `arguments` is JSON text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    #[serde(rename = "type", default = "function_kind")]
    pub kind: String,
    pub function: FunctionCall,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionCall {
    pub name: String,
    #[serde(default)]
    pub arguments: String,
}

fn function_kind() -> String {
    "function".into()
}

impl ToolCall {
    fn bytes(&self) -> usize {
        self.id.len() + self.function.name.len() + self.function.arguments.len()
    }
}

/// One answer of the model.
#[derive(Debug, Default, PartialEq)]
pub struct Completion {
    pub content: String,
    pub tool_calls: Vec<ToolCall>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// Token counts as reported; anything but a non-negative integer counts 0, so a server
/// cannot lower a company's usage with negative numbers.
#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    prompt_tokens: Value,
    #[serde(default)]
    completion_tokens: Value,
}

#[derive(Deserialize)]
struct WholeReply {
    choices: Vec<WholeChoice>,
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct WholeChoice {
    message: WholeMessage,
}

#[derive(Deserialize)]
struct WholeMessage {
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolCall>,
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    delta: ChunkDelta,
}

#[derive(Default, Deserialize)]
struct ChunkDelta {
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolCallPiece>,
}

/// A streamed tool call arrives in pieces, tied together by `index`.
#[derive(Deserialize)]
struct ToolCallPiece {
    #[serde(default)]
    index: u64,
    id: Option<String>,
    function: Option<FunctionPiece>,
}

#[derive(Deserialize)]
struct FunctionPiece {
    name: Option<String>,
    arguments: Option<String>,
}

/// A completion built piece by piece, each piece checked against the caps.
struct Builder {
    limits: ReplyLimits,
    completion: Completion,
}

impl Builder {
    fn new(limits: ReplyLimits) -> Self {
        Builder {
            limits,
            completion: Completion::default(),
        }
    }

    fn add_text(&mut self, text: &str) -> Result<(), ReplyError> {
        if self.completion.content.len() + text.len() > self.limits.text_bytes {
            return Err(too_large("bytes of text", self.limits.text_bytes));
        }
        self.completion.content.push_str(text);
        Ok(())
    }

    fn add_to_tool_call(
        &mut self,
        index: u64,
        id: Option<&str>,
        name: Option<&str>,
        arguments: Option<&str>,
    ) -> Result<(), ReplyError> {
        let limits = self.limits;
        let index = usize::try_from(index)
            .ok()
            .filter(|index| *index < limits.tool_calls)
            .ok_or_else(|| too_large("tool calls", limits.tool_calls))?;
        let calls = &mut self.completion.tool_calls;
        if calls.len() <= index {
            calls.resize_with(index + 1, || ToolCall {
                kind: function_kind(),
                ..ToolCall::default()
            });
        }
        let call = &mut calls[index];
        let added = [id, name, arguments]
            .iter()
            .flatten()
            .map(|s| s.len())
            .sum::<usize>();
        if call.bytes() + added > limits.tool_call_bytes {
            return Err(too_large("bytes in one tool call", limits.tool_call_bytes));
        }
        if let Some(id) = id {
            call.id.push_str(id);
        }
        call.function.name.push_str(name.unwrap_or_default());
        call.function
            .arguments
            .push_str(arguments.unwrap_or_default());
        Ok(())
    }

    fn set_usage(&mut self, usage: Usage) {
        self.completion.prompt_tokens = usage.prompt_tokens.as_u64().unwrap_or(0);
        self.completion.completion_tokens = usage.completion_tokens.as_u64().unwrap_or(0);
    }

    fn add_chunk(&mut self, chunk: Chunk) -> Result<Option<String>, ReplyError> {
        if let Some(usage) = chunk.usage {
            self.set_usage(usage);
        }
        let mut delta = String::new();
        for choice in chunk.choices {
            if let Some(text) = choice.delta.content {
                self.add_text(&text)?;
                delta.push_str(&text);
            }
            for piece in choice.delta.tool_calls {
                let function = piece.function.as_ref();
                self.add_to_tool_call(
                    piece.index,
                    piece.id.as_deref(),
                    function.and_then(|f| f.name.as_deref()),
                    function.and_then(|f| f.arguments.as_deref()),
                )?;
            }
        }
        Ok(Some(delta).filter(|delta| !delta.is_empty()))
    }
}

fn too_large(what: &'static str, limit: usize) -> ReplyError {
    ReplyError::TooLarge { what, limit }
}

fn malformed(err: impl std::fmt::Display) -> ReplyError {
    ReplyError::Malformed(err.to_string())
}

/// A whole (not streamed) reply, already read within `limits.reply_bytes`.
pub fn parse_whole(body: &[u8], limits: ReplyLimits) -> Result<Completion, ReplyError> {
    if body.len() > limits.reply_bytes {
        return Err(too_large("bytes", limits.reply_bytes));
    }
    let reply: WholeReply = serde_json::from_slice(body).map_err(malformed)?;
    let mut builder = Builder::new(limits);
    if let Some(usage) = reply.usage {
        builder.set_usage(usage);
    }
    if let Some(choice) = reply.choices.into_iter().next() {
        builder.add_text(choice.message.content.as_deref().unwrap_or_default())?;
        for (index, call) in choice.message.tool_calls.iter().enumerate() {
            builder.add_to_tool_call(
                index as u64,
                Some(&call.id),
                Some(&call.function.name),
                Some(&call.function.arguments),
            )?;
        }
    }
    Ok(builder.completion)
}

/// A streamed reply: `feed` it the body's chunks as they come, then `finish`.
pub struct StreamParser {
    builder: Builder,
    bytes_read: usize,
    /// The current line, until its `\n` arrives.
    line: Vec<u8>,
    /// The `data:` lines of the current event.
    data: String,
    done: bool,
}

impl StreamParser {
    pub fn new(limits: ReplyLimits) -> Self {
        StreamParser {
            builder: Builder::new(limits),
            bytes_read: 0,
            line: Vec::new(),
            data: String::new(),
            done: false,
        }
    }

    /// Takes the next bytes of the body; answers the pieces of reply text they completed, one
    /// per event, as the model sent them.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<String>, ReplyError> {
        let limit = self.builder.limits.reply_bytes;
        self.bytes_read = self.bytes_read.saturating_add(bytes.len());
        if self.bytes_read > limit {
            return Err(too_large("bytes", limit));
        }
        let mut deltas = Vec::new();
        let mut rest = bytes;
        while let Some(end) = rest.iter().position(|byte| *byte == b'\n') {
            self.line.extend_from_slice(&rest[..end]);
            rest = &rest[end + 1..];
            let line = std::mem::take(&mut self.line);
            deltas.extend(self.take_line(&line)?);
        }
        self.line.extend_from_slice(rest);
        Ok(deltas)
    }

    /// The reply, once the body has ended (with `data: [DONE]` or not).
    pub fn finish(mut self) -> Result<Completion, ReplyError> {
        let line = std::mem::take(&mut self.line);
        self.take_line(&line)?;
        self.end_event()?;
        Ok(self.builder.completion)
    }

    fn take_line(&mut self, line: &[u8]) -> Result<Option<String>, ReplyError> {
        if self.done {
            return Ok(None);
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return self.end_event();
        }
        // Other fields (event, id, retry) and comments carry nothing a chat completion needs.
        if let Some(value) = line.strip_prefix(b"data:") {
            let value = value.strip_prefix(b" ").unwrap_or(value);
            let value = std::str::from_utf8(value).map_err(malformed)?;
            if !self.data.is_empty() {
                self.data.push('\n');
            }
            self.data.push_str(value);
        }
        Ok(None)
    }

    fn end_event(&mut self) -> Result<Option<String>, ReplyError> {
        let data = std::mem::take(&mut self.data);
        if data.is_empty() || self.done {
            return Ok(None);
        }
        if data.trim() == "[DONE]" {
            self.done = true;
            return Ok(None);
        }
        let chunk: Chunk = serde_json::from_str(&data).map_err(malformed)?;
        self.builder.add_chunk(chunk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LIMITS: ReplyLimits = ReplyLimits {
        reply_bytes: 64 * 1024,
        text_bytes: 4096,
        tool_calls: 8,
        tool_call_bytes: 1024,
    };

    fn stream(body: &str) -> Result<Completion, ReplyError> {
        let mut parser = StreamParser::new(LIMITS);
        parser.feed(body.as_bytes())?;
        parser.finish()
    }

    #[test]
    fn a_stream_gives_text_tool_calls_and_usage() {
        let body = "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n\
                    data: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\r\n\r\n\
                    : a comment\n\
                    data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"c\",\
                    \"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}}]}\n\n\
                    data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":-3}}\n\n\
                    data: [DONE]\n\ndata: not json after done\n\n";
        let completion = stream(body).unwrap();
        assert_eq!(completion.content, "Hello");
        assert_eq!(completion.tool_calls.len(), 2);
        assert_eq!(completion.tool_calls[1].function.name, "f");
        assert_eq!(completion.tool_calls[1].kind, "function");
        assert_eq!(
            (completion.prompt_tokens, completion.completion_tokens),
            (7, 0)
        );
    }

    #[test]
    fn a_huge_tool_call_index_is_refused_without_allocating() {
        let body = "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":1000000000000,\
                    \"function\":{\"name\":\"f\"}}]}}]}\n\n";
        assert_eq!(
            stream(body),
            Err(ReplyError::TooLarge {
                what: "tool calls",
                limit: 8
            })
        );
    }

    #[test]
    fn caps_on_text_arguments_and_bytes_hold() {
        let text = "x".repeat(3000);
        let chunk = format!("data: {{\"choices\":[{{\"delta\":{{\"content\":\"{text}\"}}}}]}}\n\n");
        assert!(matches!(
            stream(&chunk.repeat(2)),
            Err(ReplyError::TooLarge {
                what: "bytes of text",
                ..
            })
        ));
        let call = format!(
            "data: {{\"choices\":[{{\"delta\":{{\"tool_calls\":[{{\"index\":0,\
             \"function\":{{\"arguments\":\"{}\"}}}}]}}}}]}}\n\n",
            "a".repeat(600)
        );
        assert!(matches!(
            stream(&call.repeat(2)),
            Err(ReplyError::TooLarge {
                what: "bytes in one tool call",
                ..
            })
        ));
        let mut parser = StreamParser::new(LIMITS);
        let comment = ": keep-alive\n".repeat(10_000);
        assert!(matches!(
            parser.feed(comment.as_bytes()),
            Err(ReplyError::TooLarge { what: "bytes", .. })
        ));
    }

    #[test]
    fn whole_replies_meet_the_same_caps() {
        let calls: Vec<Value> = (0..9)
            .map(|i| serde_json::json!({"id": format!("c{i}"), "function": {"name": "f"}}))
            .collect();
        let body =
            serde_json::json!({"choices": [{"message": {"content": "hi", "tool_calls": calls}}]});
        assert!(matches!(
            parse_whole(body.to_string().as_bytes(), LIMITS),
            Err(ReplyError::TooLarge {
                what: "tool calls",
                ..
            })
        ));
        let body = serde_json::json!({"choices": [{"message": {"content": "hi"}}],
                                      "usage": {"prompt_tokens": 3, "completion_tokens": 2}});
        let completion = parse_whole(body.to_string().as_bytes(), LIMITS).unwrap();
        assert_eq!(completion.content, "hi");
        assert_eq!(completion.completion_tokens, 2);
        assert!(matches!(
            parse_whole(b"<html>", LIMITS),
            Err(ReplyError::Malformed(_))
        ));
    }

    /// Pieces of SSE and chat-completion JSON, hostile values included, to build streams from.
    fn fragment() -> impl Strategy<Value = String> {
        let index = prop_oneof![
            Just("0".to_string()),
            Just("7".to_string()),
            Just("1000000000000".to_string()),
            Just("18446744073709551615".to_string()),
            Just("-1".to_string()),
            Just("1e308".to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
        ];
        prop_oneof![
            Just("data: ".to_string()),
            Just("\n".to_string()),
            Just("\r\n".to_string()),
            Just("data: [DONE]\n\n".to_string()),
            Just(": comment\n".to_string()),
            Just("event: x\n".to_string()),
            "[a-z\"{}:, ]{0,12}",
            ".{0,40}",
            "[ -~]{0,200}".prop_map(|text| format!(
                "data: {{\"choices\":[{{\"delta\":{{\"content\":{}}}}}]}}\n\n",
                Value::from(text)
            )),
            (index, ".{0,30}").prop_map(|(index, args)| format!(
                "data: {{\"choices\":[{{\"delta\":{{\"tool_calls\":[{{\"index\":{index},\
                 \"id\":\"c\",\"function\":{{\"name\":\"f\",\"arguments\":{}}}}}]}}}}]}}\n\n",
                Value::from(args)
            )),
            any::<i64>().prop_map(|n| format!(
                "data: {{\"choices\":[],\"usage\":{{\"prompt_tokens\":{n},\"completion_tokens\":{n}}}}}\n\n"
            )),
        ]
    }

    /// Feeds `body` cut at the given points, then finishes; must never panic.
    fn feed_in_pieces(body: &[u8], cuts: &[usize]) -> Result<Completion, ReplyError> {
        let mut cuts: Vec<usize> = cuts.iter().map(|cut| cut % (body.len() + 1)).collect();
        cuts.sort_unstable();
        let mut parser = StreamParser::new(LIMITS);
        let mut start = 0;
        for cut in cuts.into_iter().chain([body.len()]) {
            parser.feed(&body[start..cut])?;
            start = cut;
        }
        parser.finish()
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..4096),
                                       cuts in proptest::collection::vec(any::<usize>(), 0..16)) {
            let _ = feed_in_pieces(&body, &cuts);
            let _ = parse_whole(&body, LIMITS);
        }

        #[test]
        fn hostile_streams_never_panic_and_stay_within_the_caps(
            fragments in proptest::collection::vec(fragment(), 0..64),
            cuts in proptest::collection::vec(any::<usize>(), 0..16),
        ) {
            let body = fragments.concat();
            if let Ok(completion) = feed_in_pieces(body.as_bytes(), &cuts) {
                prop_assert!(completion.content.len() <= LIMITS.text_bytes);
                prop_assert!(completion.tool_calls.len() <= LIMITS.tool_calls);
                prop_assert!(completion.tool_calls.iter().all(|c| c.bytes() <= LIMITS.tool_call_bytes));
            }
            let _ = parse_whole(body.as_bytes(), LIMITS);
        }

        #[test]
        fn how_a_stream_is_cut_does_not_change_its_reply(
            texts in proptest::collection::vec("[ -~]{0,50}", 0..20),
            cuts in proptest::collection::vec(any::<usize>(), 0..16),
        ) {
            let body: String = texts.iter().map(|text| format!(
                "data: {{\"choices\":[{{\"delta\":{{\"content\":{}}}}}]}}\n\n", Value::from(text.as_str())
            )).collect();
            let whole = feed_in_pieces(body.as_bytes(), &[]);
            prop_assert_eq!(feed_in_pieces(body.as_bytes(), &cuts), whole);
        }
    }
}
