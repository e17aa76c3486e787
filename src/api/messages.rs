//! A thread's messages: list them, write to the assistant, or write and watch the reply stream.

use poem_openapi::param::{Path, Query};
use poem_openapi::OpenApi;
use serde_json::json;

use super::http::events::EventStreamOut;
use super::http::security::SignedIn;
use super::{ApiTags, AppState, JsonBodyCheckedLater, JsonOut};
use crate::api::http::error::ApiError;
use crate::schema::{AssistantChatMessage, AssistantChatMessageCreate, ThreadId};

pub struct MessagesApi {
    pub state: AppState,
}

#[OpenApi(prefix_path = "/api/v1/chat", tag = "ApiTags::ChatMessages")]
impl MessagesApi {
    /// List Chat Messages
    ///
    /// The user's messages and the assistant's replies, oldest first (tool calls are not
    /// listed). `offset` skips that many of the newest; `limit__last_n` then keeps the last N of
    /// the rest: `limit__last_n=20&offset=20` is the page before the last 20.
    #[oai(path = "/:thread_id/messages", method = "get")]
    async fn list(
        &self,
        caller: SignedIn,
        thread_id: Path<ThreadId>,
        #[oai(
            name = "limit__last_n",
            validator(minimum(value = "0"), maximum(value = "1000000000"))
        )]
        limit_last_n: Query<Option<u32>>,
        #[oai(validator(minimum(value = "0"), maximum(value = "1000000000")))] offset: Query<
            Option<u32>,
        >,
    ) -> Result<JsonOut<Vec<AssistantChatMessage>>, ApiError> {
        let messages = self
            .state
            .store
            .list_messages(caller.0.viewer(), thread_id.0, limit_last_n.0, offset.0)
            .await?;
        Ok(JsonOut(messages))
    }

    /// Create Chat Message
    ///
    /// Writes to the thread's assistant and waits for its reply. Answers the messages created:
    /// the user's, then the assistant's (with its `frontend_actions`). Nothing is stored when the
    /// assistant fails (502, 503, 504). A completed thread answers 409.
    #[oai(path = "/:thread_id/messages", method = "post")]
    async fn create(
        &self,
        caller: SignedIn,
        thread_id: Path<ThreadId>,
        body: JsonBodyCheckedLater<AssistantChatMessageCreate>,
    ) -> Result<JsonOut<Vec<AssistantChatMessage>>, ApiError> {
        let assistants = &self.state.assistants;
        let turn = assistants
            .begin(caller.0.viewer(), thread_id.0, body.0)
            .await?;
        Ok(JsonOut(assistants.answer_to_end(turn, None).await?))
    }

    /// Create Chat Message, streaming the reply
    ///
    /// Same body and checks as Create Chat Message (errors found before the model is called
    /// answer with their status). Then `text/event-stream`, each event one JSON `data:` line:
    /// `user_message` (the user's message, AssistantChatMessageSchema), `delta`
    /// (`{"content": "<next piece of the reply>"}`, any number), `assistant_message` (the
    /// stored reply, with its `frontend_actions`), then `done` (`{}`). When the model fails:
    /// `error` (`{"detail": "...", "status": 502 or 504}`) ends the stream and nothing is stored.
    #[oai(path = "/:thread_id/messages/stream", method = "post")]
    async fn stream(
        &self,
        caller: SignedIn,
        thread_id: Path<ThreadId>,
        body: JsonBodyCheckedLater<AssistantChatMessageCreate>,
    ) -> Result<EventStreamOut, ApiError> {
        let assistants = self.state.assistants.clone();
        let turn = assistants
            .begin(caller.0.viewer(), thread_id.0, body.0)
            .await?;
        let (events, stream) = EventStreamOut::channel();
        events.send("user_message", &turn.user_message());
        let deltas = events.clone();
        let on_delta = move |text: &str| deltas.send("delta", &json!({ "content": text }));
        tokio::spawn(async move {
            match assistants
                .answer_to_end(turn, Some(Box::new(on_delta)))
                .await
            {
                Ok(messages) => {
                    if let Some(reply) = messages.last() {
                        events.send("assistant_message", reply);
                    }
                    events.send("done", &json!({}));
                }
                Err(err) => {
                    let err = ApiError::from(err);
                    let status = poem::IntoResponse::into_response(err.clone()).status();
                    events.send(
                        "error",
                        &json!({ "detail": err.message(), "status": status.as_u16() }),
                    );
                }
            }
        });
        Ok(stream)
    }
}
