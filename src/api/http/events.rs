//! A `text/event-stream` answer: named events, each with one JSON `data:` line.

use std::time::Duration;

use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use poem::web::sse::{Event, SSE};
use poem::{IntoResponse, Response};
use poem_openapi::payload::Payload;
use poem_openapi::registry::{
    MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry,
};
use poem_openapi::ApiResponse;
use serde::Serialize;
use tokio::sync::mpsc;

const EVENT_STREAM: &str = "text/event-stream";

/// Comments sent while the model is silent, so proxies keep the connection open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub struct EventStreamOut(BoxStream<'static, Event>);

/// The sending end of an event stream.
#[derive(Clone)]
pub struct EventSender(mpsc::UnboundedSender<Event>);

impl EventSender {
    /// Sends an event; a client that has gone away is not an error.
    pub fn send(&self, name: &str, data: &impl Serialize) {
        let data = serde_json::to_string(data).expect("event data serializes");
        let _ = self.0.send(Event::message(data).event_type(name));
    }
}

impl EventStreamOut {
    pub fn channel() -> (EventSender, EventStreamOut) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let events = futures_util::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|event| (event, receiver))
        });
        (EventSender(sender), EventStreamOut(events.boxed()))
    }
}

impl Payload for EventStreamOut {
    const CONTENT_TYPE: &'static str = EVENT_STREAM;

    /// One event: its name and its `data` line (JSON text).
    fn schema_ref() -> MetaSchemaRef {
        let text = || MetaSchemaRef::Inline(Box::new(MetaSchema::new("string")));
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            properties: vec![("event", text()), ("data", text())],
            ..MetaSchema::new("object")
        }))
    }

    fn register(_registry: &mut Registry) {}
}

impl IntoResponse for EventStreamOut {
    fn into_response(self) -> Response {
        SSE::new(self.0).keep_alive(KEEP_ALIVE).into_response()
    }
}

impl ApiResponse for EventStreamOut {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "Server-sent events: `user_message`, `delta`..., then \
                              `assistant_message` and `done`, or `error`",
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: EVENT_STREAM,
                    schema: Self::schema_ref(),
                }],
                headers: vec![],
            }],
        }
    }

    fn register(_registry: &mut Registry) {}
}
