//! What both backends make of threads: a new thread as its creation answers it, a page of
//! threads as the JSON array the API answers (ending at its limit or byte budget), and a whole
//! list streamed page by page.

use std::future::Future;

use bytes::Bytes;
use futures_util::stream::{self, BoxStream};
use futures_util::StreamExt;
use rand::RngCore;

use super::row_readers::ThreadRow;
use super::{StoreResult, ThreadFilter, ThreadPage};
use crate::schema::{
    Assistant, AssistantChatThread, AssistantChatThreadCreate, GoogleAdsCustomer,
    GoogleBusinessLocation, JsonObject, Nullable, ThreadId, Timestamp,
};

/// The pages a whole list (a request without `limit`) is read and sent in: each at most this
/// many threads or about this many bytes of JSON, so that memory holds one page, whatever the
/// number of threads or the size of their `extra_data`.
pub(crate) const WHOLE_LIST_PAGE_THREADS: u32 = 500;
pub(crate) const WHOLE_LIST_PAGE_BYTES: usize = 256 * 1024;

/// The thread `new` creates, made of what was checked (its assistant, its customer and
/// location in the company) and not read back: a create answers without a second round trip.
pub(crate) fn new_thread(
    new: AssistantChatThreadCreate,
    login_customer_id: Option<i64>,
    assistant: Assistant,
    customer: Option<GoogleAdsCustomer>,
    location: Option<GoogleBusinessLocation>,
) -> AssistantChatThread {
    let now = Timestamp::now();
    AssistantChatThread {
        thread_id: new_thread_id(),
        is_completed: false,
        date_added: now.clone(),
        date_updated: now,
        name: new.name,
        description: new.description,
        extra_data: new.extra_data.unwrap_or_else(JsonObject::empty),
        google_ads_login_customer_id: Nullable(login_customer_id),
        assistant,
        google_ads_customer: Nullable(customer),
        google_business_location: Nullable(location),
    }
}

fn new_thread_id() -> ThreadId {
    let millis = chrono::Utc::now().timestamp_millis() as u64 & 0xffff_ffff_ffff;
    let mut random = [0u8; 10];
    rand::thread_rng().fill_bytes(&mut random);
    let random = random
        .iter()
        .fold(0u128, |all, byte| all << 8 | u128::from(*byte));
    ThreadId(format!("thr_{millis:012x}{random:020x}"))
}

/// The filter of a whole list (a request without `limit`), read in pages of a bounded size.
pub(crate) fn whole_list_pages(filter: ThreadFilter) -> ThreadFilter {
    ThreadFilter {
        limit: WHOLE_LIST_PAGE_THREADS,
        max_bytes: Some(WHOLE_LIST_PAGE_BYTES),
        ..filter
    }
}

/// The pieces of one JSON array: the `first` page, then each next one `page(filter)` reads
/// after the one before, until the last.
pub(crate) fn whole_list<Page, Reading>(
    first: ThreadPage,
    filter: ThreadFilter,
    page: Page,
) -> BoxStream<'static, StoreResult<Bytes>>
where
    Page: Fn(ThreadFilter) -> Reading + Send + 'static,
    Reading: Future<Output = StoreResult<ThreadPage>> + Send + 'static,
{
    let deeper = stream::try_unfold(
        (page, filter, first.next_before_seq),
        move |(page, filter, next)| async move {
            let Some(before_seq) = next else {
                return Ok(None);
            };
            let filter = ThreadFilter {
                before_seq: Some(before_seq),
                ..filter
            };
            let read = page(filter.clone()).await?;
            let next = read.next_before_seq;
            // `[a,b]` becomes `,a,b`; an empty page (its threads deleted meanwhile) nothing.
            let items = read.json.slice(1..read.json.len() - 1);
            let piece = if items.is_empty() {
                Bytes::new()
            } else {
                [&b","[..], &items].concat().into()
            };
            Ok(Some((piece, (page, filter, next))))
        },
    );
    // The first page without its `]`: the array stays open until the last page.
    let opening = first.json.slice(..first.json.len() - 1);
    stream::once(async { Ok(opening) })
        .chain(deeper)
        .chain(stream::once(async { Ok(Bytes::from_static(b"]")) }))
        .boxed()
}

/// The page of `rows`: the threads the filter selects, newest first, up to one more than its
/// limit (which, when read, says that more exist).
pub(crate) fn page_of(
    rows: impl Iterator<Item = StoreResult<ThreadRow>>,
    filter: &ThreadFilter,
) -> StoreResult<ThreadPage> {
    // Written thread by thread, as `serde_json::to_vec` would write the whole array, so that a
    // page can end at its byte budget.
    let mut json = vec![b'['];
    let mut last_seq = None;
    let mut next_before_seq = None;
    for (shown, row) in rows.enumerate() {
        let ThreadRow { seq, thread, .. } = row?;
        let full =
            shown == filter.limit as usize || filter.max_bytes.is_some_and(|max| json.len() >= max);
        if full {
            next_before_seq = last_seq;
            break;
        }
        if shown > 0 {
            json.push(b',');
        }
        serde_json::to_writer(&mut json, &thread)?;
        last_seq = Some(seq);
    }
    json.push(b']');
    // A cached page is charged its length; its buffer should be no larger.
    json.shrink_to_fit();
    Ok(ThreadPage {
        json: json.into(),
        next_before_seq,
    })
}
