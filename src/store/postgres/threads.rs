//! Chat threads on PostgreSQL: the same pages (keyset on `seq`, newest first) written by the
//! same code as on SQLite (`store/thread_pages.rs`); only the reading is this backend's. Nothing is remembered: a thread another process creates is in the next list.

use bytes::Bytes;
use deadpool_postgres::GenericClient;
use futures_util::stream::BoxStream;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

use super::access::{visible_company, visible_thread, Members};
use super::rows::{customer, location};
use super::statements::{execute, row, rows};
use super::PostgresDatabase;
use crate::schema::{
    Assistant, AssistantChatThread, AssistantChatThreadCreate, AssistantChatThreadUpdate,
    AssistantType, CompanyId, JsonObject, ThreadId, Timestamp,
};
use crate::store::layouts::SELECT_THREADS;
use crate::store::parameters::patch_params;
use crate::store::row_readers::{assistant_from_row, thread_from_row};
use crate::store::thread_pages::{new_thread, page_of, whole_list, whole_list_pages};
use crate::store::ThreadStore;
use crate::store::{
    thread_not_found, StoreError, StoreResult, ThreadFilter, ThreadPage, ThreadScope, Viewer,
};

async fn assistant_for(client: &impl GenericClient, kind: AssistantType) -> StoreResult<Assistant> {
    let found = row(
        client,
        "SELECT id, date_added, date_updated FROM assistants WHERE assistant_type = $1",
        &[&kind.as_str()],
    )
    .await?;
    Ok(assistant_from_row(&found, kind)?)
}

/// One statement per combination of filters, as on SQLite.
async fn list(client: &impl GenericClient, filter: &ThreadFilter) -> StoreResult<ThreadPage> {
    let mut sql = format!("{} WHERE t.company_id = $1", *SELECT_THREADS);
    let mut values: Vec<Box<dyn ToSql + Sync + Send>> = vec![Box::new(filter.company_id.0)];
    let mut condition = |clause: &str, value: Box<dyn ToSql + Sync + Send>| {
        values.push(value);
        sql.push_str(&format!(" AND {clause} ${}", values.len()));
    };
    if let Some(kind) = filter.assistant_type {
        condition("a.assistant_type =", Box::new(kind.as_str()));
    }
    if let Some(customer_id) = filter.customer_id {
        condition("t.customer_id =", Box::new(customer_id));
    }
    if let Some(location_id) = &filter.location_id {
        condition("t.location_id =", Box::new(location_id.clone()));
    }
    if let Some(done) = filter.is_completed {
        condition("t.is_completed =", Box::new(done));
    }
    if let Some(before) = filter.before_seq {
        condition("t.seq <", Box::new(before));
    }
    values.push(Box::new(i64::from(filter.limit + 1)));
    sql.push_str(&format!(" ORDER BY t.seq DESC LIMIT ${}", values.len()));
    let params: Vec<&(dyn ToSql + Sync)> = values
        .iter()
        .map(|value| value.as_ref() as &(dyn ToSql + Sync))
        .collect();
    let found = rows(client, &sql, &params).await?;
    page_of(found.iter().map(|row| Ok(thread_from_row(row)?)), filter)
}

/// `read(key)` when there is a key.
async fn optional<K, T, Reading>(
    key: Option<K>,
    read: impl FnOnce(K) -> Reading,
) -> StoreResult<Option<T>>
where
    Reading: std::future::Future<Output = StoreResult<T>>,
{
    match key {
        Some(key) => read(key).await.map(Some),
        None => Ok(None),
    }
}

impl ThreadStore for PostgresDatabase {
    async fn create_thread(
        &self,
        viewer: Viewer,
        scope: ThreadScope,
        new: AssistantChatThreadCreate,
    ) -> StoreResult<AssistantChatThread> {
        let client = self.connection().await?;
        // The checks go out together (pipelined) and are answered in this order, so that the
        // first that fails is the one SQLite's store reports.
        let (access, customer, location, assistant) = tokio::join!(
            visible_company(&client, viewer, scope.company_id, Members::Read),
            optional(scope.customer_id, |id| customer(
                &client,
                scope.company_id,
                id
            )),
            optional(scope.location_id.as_deref(), |id| {
                location(&client, scope.company_id, id)
            }),
            assistant_for(&client, new.assistant_type),
        );
        access?;
        let (customer, location) = (customer?, location?);
        // Made of what was checked; the foreign keys refuse the insert if the customer or
        // location went in the meantime (answered as the check would answer now).
        let thread = new_thread(new, scope.login_customer_id, assistant?, customer, location);
        let inserted = execute(
            &client,
            "INSERT INTO chat_threads (thread_id, company_id, assistant_id, customer_id, \
             location_id, login_customer_id, name, description, extra_data, date_added, \
             date_updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
            &[
                &thread.thread_id.0,
                &scope.company_id.0,
                &thread.assistant.id,
                &scope.customer_id,
                &scope.location_id,
                &scope.login_customer_id,
                &thread.name.0,
                &thread.description.0,
                &thread.extra_data.as_str(),
                &thread.date_added.0,
            ],
        )
        .await;
        match inserted {
            Ok(_) => Ok(thread),
            Err(err) => Err(gone_since_checked(&client, &scope, err).await),
        }
    }

    /// The thread as its JSON, if the viewer may see it (and it is in `company_id` when given).
    async fn thread(
        &self,
        viewer: Viewer,
        thread_id: ThreadId,
        company_id: Option<CompanyId>,
    ) -> StoreResult<Bytes> {
        let client = self.connection().await?;
        let row = visible_thread(&client, viewer, &thread_id, company_id, "").await?;
        Ok(Bytes::from(serde_json::to_vec(&row.thread)?))
    }

    async fn list_threads(&self, viewer: Viewer, filter: ThreadFilter) -> StoreResult<ThreadPage> {
        let client = self.connection().await?;
        // Pipelined as create_thread's checks; a page of a company the viewer may not see is
        // read but never answered.
        let (access, page) = tokio::join!(
            visible_company(&client, viewer, filter.company_id, Members::Read),
            list(&client, &filter),
        );
        access?;
        page
    }

    /// Every thread the filter selects (after its cursor, if any), as the pieces of one JSON
    /// array, read page by page, access checked before each page (see the SQLite store's).
    async fn every_thread(
        &self,
        viewer: Viewer,
        filter: ThreadFilter,
    ) -> StoreResult<BoxStream<'static, StoreResult<Bytes>>> {
        let filter = whole_list_pages(filter);
        let first = self.list_threads(viewer, filter.clone()).await?;
        let database = self.clone();
        Ok(whole_list(first, filter, move |filter| {
            let database = database.clone();
            async move { database.list_threads(viewer, filter).await }
        }))
    }

    async fn update_thread(
        &self,
        viewer: Viewer,
        thread_id: ThreadId,
        company_id: Option<CompanyId>,
        change: AssistantChatThreadUpdate,
    ) -> StoreResult<AssistantChatThread> {
        let mut client = self.connection().await?;
        let tx = client.transaction().await?;
        let seq = visible_thread(&tx, viewer, &thread_id, company_id, " FOR UPDATE OF t")
            .await?
            .seq;
        let (name_sent, name) = patch_params(change.name);
        let (description_sent, description) = patch_params(change.description);
        execute(
            &tx,
            "UPDATE chat_threads SET \
               name = CASE WHEN $2 THEN $3 ELSE name END, \
               description = CASE WHEN $4 THEN $5 ELSE description END, \
               is_completed = coalesce($6, is_completed), \
               extra_data = coalesce($7, extra_data), \
               date_updated = $8 \
             WHERE seq = $1",
            &[
                &seq,
                &name_sent,
                &name,
                &description_sent,
                &description,
                &change.is_completed,
                &change.extra_data.as_ref().map(JsonObject::as_str),
                &Timestamp::now().0,
            ],
        )
        .await?;
        let updated = visible_thread(&tx, viewer, &thread_id, None, "").await?;
        tx.commit().await?;
        Ok(updated.thread)
    }

    async fn delete_thread(
        &self,
        viewer: Viewer,
        thread_id: ThreadId,
        company_id: Option<CompanyId>,
    ) -> StoreResult<()> {
        let client = self.connection().await?;
        let deleted = execute(
            &client,
            "DELETE FROM chat_threads t WHERE t.thread_id = $1 \
             AND ($2::BIGINT IS NULL OR t.company_id = $2) \
             AND ($3 OR EXISTS (SELECT 1 FROM company_members m \
                                WHERE m.company_id = t.company_id AND m.user_id = $4))",
            &[
                &thread_id.0,
                &company_id.map(|id| id.0),
                &viewer.is_admin,
                &viewer.user_id.0,
            ],
        )
        .await?;
        if deleted == 0 {
            return Err(thread_not_found());
        }
        Ok(())
    }
}

/// A thread's insert refused by a foreign key: its customer or location was deleted between
/// the check and the insert. Checked again, it answers NotFound as SQLite (whose writer checks
/// and inserts at once) does; any other failure is what it is.
async fn gone_since_checked(
    client: &impl GenericClient,
    scope: &ThreadScope,
    err: tokio_postgres::Error,
) -> StoreError {
    if err.code() != Some(&SqlState::FOREIGN_KEY_VIOLATION) {
        return err.into();
    }
    if let Some(id) = scope.customer_id {
        if let Err(gone) = customer(client, scope.company_id, id).await {
            return gone;
        }
    }
    if let Some(id) = scope.location_id.as_deref() {
        if let Err(gone) = location(client, scope.company_id, id).await {
            return gone;
        }
    }
    err.into()
}
