//! Chat threads. Lists page by keyset on `seq` (newest first), never by OFFSET.

use bytes::Bytes;
use futures_util::stream::BoxStream;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, Connection};

use super::access::{
    visible_company, visible_company_in_memory, visible_company_remembering, visible_thread,
};
use super::cache::OwnedBytes;
use super::rows::{customer, location};
use super::write::Write;
use super::{SqliteStore, StoreResult};
use crate::schema::{
    Assistant, AssistantChatThread, AssistantChatThreadCreate, AssistantChatThreadUpdate,
    AssistantType, CompanyId, JsonObject, ThreadId, Timestamp,
};
use crate::store::layouts::SELECT_THREADS;
use crate::store::parameters::patch_params;
use crate::store::row_readers::{assistant_from_row, thread_from_row, ThreadRow};
use crate::store::thread_pages::{new_thread, page_of, whole_list, whole_list_pages};
use crate::store::{thread_not_found, ThreadFilter, ThreadPage, ThreadScope, ThreadStore, Viewer};

impl OwnedBytes for ThreadFilter {
    fn owned_bytes(&self) -> usize {
        self.location_id.as_ref().map_or(0, String::capacity)
    }
}

impl OwnedBytes for CompanyId {}

impl OwnedBytes for ThreadId {
    fn owned_bytes(&self) -> usize {
        self.0.capacity()
    }
}

impl OwnedBytes for Bytes {
    fn owned_bytes(&self) -> usize {
        self.len()
    }
}

impl OwnedBytes for ThreadPage {
    fn owned_bytes(&self) -> usize {
        self.json.len()
    }
}

fn assistant_for(conn: &Connection, kind: AssistantType) -> StoreResult<Assistant> {
    Ok(conn
        .prepare_cached(
            "SELECT id, date_added, date_updated FROM assistants WHERE assistant_type = ?1",
        )?
        .query_row([kind.as_str()], |row| assistant_from_row(row, kind))?)
}

impl ThreadStore for SqliteStore {
    async fn create_thread(
        &self,
        viewer: Viewer,
        scope: ThreadScope,
        new: AssistantChatThreadCreate,
    ) -> StoreResult<AssistantChatThread> {
        self.write(move |conn| {
            visible_company(conn, viewer, scope.company_id)?;
            let customer = scope
                .customer_id
                .map(|customer_id| customer(conn, scope.company_id, customer_id))
                .transpose()?;
            let location = scope
                .location_id
                .as_deref()
                .map(|location_id| location(conn, scope.company_id, location_id))
                .transpose()?;
            // The answer is made of what was checked and written, not read back: the writer's
            // time is every create's latency.
            let assistant = assistant_for(conn, new.assistant_type)?;
            let thread = new_thread(new, scope.login_customer_id, assistant, customer, location);
            conn.prepare_cached(
                "INSERT INTO chat_threads (thread_id, company_id, assistant_id, customer_id, \
                 location_id, login_customer_id, name, description, extra_data, date_added, \
                 date_updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
            )?
            .execute(params![
                thread.thread_id,
                scope.company_id,
                thread.assistant.id,
                scope.customer_id,
                scope.location_id,
                scope.login_customer_id,
                thread.name.0,
                thread.description.0,
                thread.extra_data.as_str(),
                thread.date_added.0
            ])?;
            conn.company_threads_changed(scope.company_id);
            Ok(thread)
        })
        .await
    }

    async fn thread(
        &self,
        viewer: Viewer,
        thread_id: ThreadId,
        company_id: Option<CompanyId>,
    ) -> StoreResult<Bytes> {
        let caches = &self.caches;
        if let Some(home) = caches.thread_companies.get((), &thread_id) {
            if company_id.is_some_and(|asked| asked != home) {
                return Err(thread_not_found());
            }
            if let Some(access) = visible_company_in_memory(&caches.memberships, viewer, home) {
                access.map_err(|_| thread_not_found())?;
                if let Some(json) = caches.threads.get(home, &thread_id) {
                    return Ok(json);
                }
            }
        }
        let caches = self.caches.clone();
        self.read(move |conn| {
            let known_home = caches.thread_companies.get((), &thread_id);
            let stamp = known_home.map(|home| (home, caches.threads.stamp(home)));
            let row = visible_thread(conn, viewer, &thread_id, company_id)?;
            let json = Bytes::from(serde_json::to_vec(&row.thread)?);
            match stamp {
                Some((home, stamp)) if home == row.company_id => {
                    caches.threads.put(home, stamp, thread_id, json.clone());
                }
                _ => {
                    let stamp = caches.thread_companies.stamp(());
                    caches
                        .thread_companies
                        .put((), stamp, thread_id, row.company_id);
                }
            }
            // The viewer may see the thread: remembers their role for the next time.
            visible_company_remembering(conn, &caches.memberships, viewer, row.company_id)?;
            Ok(json)
        })
        .await
    }

    async fn list_threads(&self, viewer: Viewer, filter: ThreadFilter) -> StoreResult<ThreadPage> {
        // Access is checked on every request. When both it and the page are in memory, the
        // answer comes without a trip to the blocking pool.
        if let Some(access) =
            visible_company_in_memory(&self.caches.memberships, viewer, filter.company_id)
        {
            access?;
            if let Some(page) = self.caches.thread_pages.get(filter.company_id, &filter) {
                return Ok(page);
            }
        }
        let caches = self.caches.clone();
        self.read(move |conn| {
            visible_company_remembering(conn, &caches.memberships, viewer, filter.company_id)?;
            let pages = &caches.thread_pages;
            if let Some(page) = pages.get(filter.company_id, &filter) {
                return Ok(page);
            }
            let stamp = pages.stamp(filter.company_id);
            let page = list(conn, &filter)?;
            if names_only_what_exists(conn, &filter)? {
                pages.put(filter.company_id, stamp, filter, page.clone());
            }
            Ok(page)
        })
        .await
    }

    async fn every_thread(
        &self,
        viewer: Viewer,
        filter: ThreadFilter,
    ) -> StoreResult<BoxStream<'static, StoreResult<Bytes>>> {
        let filter = whole_list_pages(filter);
        let first = self.list_threads(viewer, filter.clone()).await?;
        let store = self.clone();
        Ok(whole_list(first, filter, move |filter| {
            let store = store.clone();
            async move { store.unremembered_page(viewer, filter).await }
        }))
    }

    async fn update_thread(
        &self,
        viewer: Viewer,
        thread_id: ThreadId,
        company_id: Option<CompanyId>,
        change: AssistantChatThreadUpdate,
    ) -> StoreResult<AssistantChatThread> {
        self.write(move |conn| {
            let ThreadRow {
                seq, company_id, ..
            } = visible_thread(conn, viewer, &thread_id, company_id)?;
            conn.company_threads_changed(company_id);
            let (name_sent, name) = patch_params(change.name);
            let (description_sent, description) = patch_params(change.description);
            conn.prepare_cached(
                "UPDATE chat_threads SET \
                   name = CASE WHEN ?2 THEN ?3 ELSE name END, \
                   description = CASE WHEN ?4 THEN ?5 ELSE description END, \
                   is_completed = coalesce(?6, is_completed), \
                   extra_data = coalesce(?7, extra_data), \
                   date_updated = ?8 \
                 WHERE seq = ?1",
            )?
            .execute(params![
                seq,
                name_sent,
                name,
                description_sent,
                description,
                change.is_completed,
                change.extra_data.as_ref().map(JsonObject::as_str),
                Timestamp::now().0
            ])?;
            Ok(visible_thread(conn, viewer, &thread_id, None)?.thread)
        })
        .await
    }

    async fn delete_thread(
        &self,
        viewer: Viewer,
        thread_id: ThreadId,
        company_id: Option<CompanyId>,
    ) -> StoreResult<()> {
        self.write(move |conn| {
            let ThreadRow {
                seq, company_id, ..
            } = visible_thread(conn, viewer, &thread_id, company_id)?;
            conn.company_threads_changed(company_id);
            conn.prepare_cached("DELETE FROM chat_threads WHERE seq = ?1")?
                .execute([seq])?;
            Ok(())
        })
        .await
    }
}

impl SqliteStore {
    /// A page read without the cache, neither served from it nor put in it.
    async fn unremembered_page(
        &self,
        viewer: Viewer,
        filter: ThreadFilter,
    ) -> StoreResult<ThreadPage> {
        let caches = self.caches.clone();
        self.read(move |conn| {
            visible_company_remembering(conn, &caches.memberships, viewer, filter.company_id)?;
            list(conn, &filter)
        })
        .await
    }
}

/// What an assistant's answer changed in thread `seq` of company `company_id`: `date_updated`
/// always moves; the thread is completed when asked. Every thread write an exchange makes goes
/// through here (the campaign draft's edits are the draft's own writes).
pub(super) fn record_chat_effects(
    conn: &mut Write,
    company_id: CompanyId,
    seq: i64,
    complete: bool,
) -> StoreResult<()> {
    conn.company_threads_changed(company_id);
    conn.prepare_cached(
        "UPDATE chat_threads SET is_completed = CASE WHEN ?2 THEN 1 ELSE is_completed END, \
         date_updated = ?3 WHERE seq = ?1",
    )?
    .execute(params![seq, complete, Timestamp::now().0])?;
    Ok(())
}

/// Whether every id the filter names exists in its company: the customer, the location, and
/// the thread whose position the cursor is. Only such pages are remembered. A made-up value is
/// still answered (an empty page, or the threads after that position), but there are as many of
/// those as a client cares to send, and remembering them would fill the cache with pages nobody
/// else asks for. Deleting a customer or location drops its company's pages (see
/// `connections.rs`), so nothing stays remembered for an id that no longer exists.
fn names_only_what_exists(conn: &Connection, filter: &ThreadFilter) -> StoreResult<bool> {
    if filter.customer_id.is_none() && filter.location_id.is_none() && filter.before_seq.is_none() {
        return Ok(true);
    }
    Ok(conn
        .prepare_cached(
            "SELECT (?2 IS NULL OR EXISTS (SELECT 1 FROM google_ads_customers \
                                           WHERE company_id = ?1 AND id = ?2)) \
                AND (?3 IS NULL OR EXISTS (SELECT 1 FROM google_business_locations \
                                           WHERE company_id = ?1 AND id = ?3)) \
                AND (?4 IS NULL OR EXISTS (SELECT 1 FROM chat_threads \
                                           WHERE company_id = ?1 AND seq = ?4))",
        )?
        .query_row(
            params![
                filter.company_id,
                filter.customer_id,
                filter.location_id,
                filter.before_seq
            ],
            |row| row.get(0),
        )?)
}

/// One statement per combination of filters, so each can walk the index that fits it.
fn list(conn: &Connection, filter: &ThreadFilter) -> StoreResult<ThreadPage> {
    let mut sql = SELECT_THREADS.clone();
    sql.push_str(" WHERE t.company_id = ?1");
    let mut values: Vec<SqlValue> = vec![filter.company_id.0.into()];
    let mut condition = |clause: &str, value: SqlValue| {
        values.push(value);
        sql.push_str(&format!(" AND {clause} ?{}", values.len()));
    };
    if let Some(kind) = filter.assistant_type {
        condition("a.assistant_type =", kind.as_str().to_string().into());
    }
    if let Some(customer_id) = filter.customer_id {
        condition("t.customer_id =", customer_id.into());
    }
    if let Some(location_id) = &filter.location_id {
        condition("t.location_id =", location_id.clone().into());
    }
    if let Some(done) = filter.is_completed {
        condition("t.is_completed =", i64::from(done).into());
    }
    if let Some(before) = filter.before_seq {
        condition("t.seq <", before.into());
    }
    values.push(i64::from(filter.limit + 1).into());
    sql.push_str(&format!(" ORDER BY t.seq DESC LIMIT ?{}", values.len()));
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map(rusqlite::params_from_iter(values), |row| {
        thread_from_row(row)
    })?;
    page_of(rows.map(|row| Ok(row?)), filter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::UserId;
    use crate::store::thread_pages::{WHOLE_LIST_PAGE_BYTES, WHOLE_LIST_PAGE_THREADS};
    use crate::store::ConnectionStore;

    const COMPANY: CompanyId = CompanyId(1);

    /// A company with customer 42, locations `locations/1` and `locations/2`, and one thread
    /// scoped to customer 42 and `locations/1`; the thread's `seq`.
    async fn company_with_a_thread(store: &SqliteStore) -> i64 {
        store
            .write(|conn| {
                conn.execute_batch(
                    "INSERT INTO companies VALUES (1, 'Acme', 'now', 'now'); \
                     INSERT INTO google_ads_customers (company_id, id, date_added, date_updated) \
                       VALUES (1, 42, 'now', 'now'); \
                     INSERT INTO google_business_locations \
                       (company_id, id, date_added, date_updated) \
                       VALUES (1, 'locations/1', 'now', 'now'), (1, 'locations/2', 'now', 'now'); \
                     INSERT INTO chat_threads (thread_id, company_id, assistant_id, customer_id, \
                       location_id, date_added, date_updated) \
                       VALUES ('thr_1', 1, 'asst_general', 42, 'locations/1', 'now', 'now');",
                )?;
                Ok(conn.last_insert_rowid())
            })
            .await
            .unwrap()
    }

    fn remembered(store: &SqliteStore, filter: &ThreadFilter) -> bool {
        store.caches.thread_pages.get(COMPANY, filter).is_some()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pages_for_ids_that_do_not_exist_are_answered_but_not_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let store = super::super::testing::open_in(dir.path());
        let seq = company_with_a_thread(&store).await;
        let admin = Viewer {
            user_id: UserId(1),
            is_admin: true,
        };
        let registered = ThreadFilter {
            company_id: COMPANY,
            customer_id: Some(42),
            location_id: Some("locations/1".into()),
            limit: 50,
            ..ThreadFilter::default()
        };
        let made_up = [
            ThreadFilter {
                location_id: Some("x".repeat(4096)),
                ..registered.clone()
            },
            ThreadFilter {
                customer_id: Some(7),
                ..registered.clone()
            },
            ThreadFilter {
                before_seq: Some(seq + 1000),
                ..registered.clone()
            },
        ];
        for filter in made_up {
            store.list_threads(admin, filter.clone()).await.unwrap();
            assert!(!remembered(&store, &filter), "{filter:?}");
        }
        let at_the_thread = ThreadFilter {
            before_seq: Some(seq),
            ..registered.clone()
        };
        for filter in [registered, at_the_thread] {
            store.list_threads(admin, filter.clone()).await.unwrap();
            assert!(remembered(&store, &filter), "{filter:?}");
        }
        store.close();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn deleting_a_location_forgets_the_pages_filtered_by_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = super::super::testing::open_in(dir.path());
        company_with_a_thread(&store).await;
        let admin = Viewer {
            user_id: UserId(1),
            is_admin: true,
        };
        let unused_location = ThreadFilter {
            company_id: COMPANY,
            location_id: Some("locations/2".into()),
            limit: 50,
            ..ThreadFilter::default()
        };
        store
            .list_threads(admin, unused_location.clone())
            .await
            .unwrap();
        assert!(remembered(&store, &unused_location));
        store
            .delete_location(admin, COMPANY, "locations/2".into())
            .await
            .unwrap();
        assert!(!remembered(&store, &unused_location));
        store.close();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_whole_list_is_streamed_whole_and_only_its_first_page_remembered() {
        use futures_util::TryStreamExt;

        let dir = tempfile::tempdir().unwrap();
        let store = super::super::testing::open_in(dir.path());
        company_with_a_thread(&store).await;
        store
            .write(|conn| {
                Ok(conn.execute_batch(
                    "WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < 1200) \
                     INSERT INTO chat_threads (thread_id, company_id, assistant_id, date_added, \
                       date_updated) \
                     SELECT 'thr_' || i, 1, 'asst_general', 'now', 'now' FROM n;",
                )?)
            })
            .await
            .unwrap();
        let admin = Viewer {
            user_id: UserId(1),
            is_admin: true,
        };
        let filter = ThreadFilter {
            company_id: COMPANY,
            ..ThreadFilter::default()
        };
        let pieces: Vec<Bytes> = store
            .every_thread(admin, filter.clone())
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        assert!(pieces.len() > 3, "read in pages: {}", pieces.len());
        let threads: Vec<serde_json::Value> = serde_json::from_slice(&pieces.concat()).unwrap();
        let names: Vec<String> = threads
            .iter()
            .map(|thread| thread["thread_id"].as_str().unwrap().to_string())
            .collect();
        let expected: Vec<String> = (1..=1200).rev().map(|i| format!("thr_{i}")).collect();
        assert_eq!(names, expected);

        let first = ThreadFilter {
            limit: WHOLE_LIST_PAGE_THREADS,
            max_bytes: Some(WHOLE_LIST_PAGE_BYTES),
            ..filter
        };
        assert!(remembered(&store, &first));
        let page = store.list_threads(admin, first.clone()).await.unwrap();
        let second = ThreadFilter {
            before_seq: page.next_before_seq,
            ..first
        };
        assert!(second.before_seq.is_some());
        assert!(!remembered(&store, &second));
        store.close();
    }
}
