//! Editing a campaign draft: the four steps, and the ad-group and keyword routes. Each edit is
//! one write: the draft's visibility is checked inside it (NotFound otherwise), ids a body
//! names are checked before anything changes (Invalid), the draft's `date_updated` moves, and
//! the RSA regeneration the change calls for is queued in the same transaction. Each answers
//! the whole draft as saved.

use std::collections::HashMap;

use rusqlite::types::ToSql;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::access::visible_draft;
use super::campaigns::load_draft;
use super::generation::{queue_rsas, RsaRun};
use super::write::Write;
use super::{SqliteStore, StoreError, StoreResult};
use crate::schema::{
    AdGroupCreate, AdGroupInput, AdGroupUpdate, AdGroupsPatch, AdsPatch, CampaignDraft,
    CampaignSettingsPatch, DraftId, ExtensionsPatch, KeywordCreate, KeywordMatchType,
    KeywordUpdate, Patch, RsaInput, Timestamp,
};
use crate::store::draft_edits::{
    ad_group_changed, check_ad_group_ids, check_rsa_ids, default_match_type_as_stored,
    leaves_as_is, left_out, left_out_rsas, positioned_rsas, KeywordTexts, NewKeyword, RsaContent,
};
use crate::store::parameters::json_text;
use crate::store::{DraftEditStore, Viewer};

/// What a `Patch` writes to a column: `None` keeps it, `Some(None)` clears it.
fn patched<T, U>(patch: &Patch<T>, value: impl FnOnce(&T) -> U) -> Option<Option<U>> {
    match patch {
        Patch::Keep => None,
        Patch::Clear => Some(None),
        Patch::Set(set) => Some(Some(value(set))),
    }
}

/// Sets one column of a row of `table` (both names are literals of this module).
fn set_column(
    conn: &Connection,
    table: &str,
    id: i64,
    column: &str,
    value: &dyn ToSql,
) -> StoreResult<()> {
    conn.prepare_cached(&format!("UPDATE {table} SET {column} = ?2 WHERE id = ?1"))?
        .execute(params![id, value])?;
    Ok(())
}

fn touch(conn: &Connection, draft_id: DraftId) -> StoreResult<()> {
    set_column(
        conn,
        "campaign_drafts",
        draft_id.0,
        "date_updated",
        &Timestamp::now().0,
    )
}

fn default_match_type(conn: &Connection, draft_id: DraftId) -> StoreResult<KeywordMatchType> {
    let text: Option<String> = conn
        .prepare_cached("SELECT default_match_type FROM campaign_drafts WHERE id = ?1")?
        .query_row([draft_id], |row| row.get(0))?;
    Ok(default_match_type_as_stored(text.as_deref()))
}

/// The draft's ad groups: id and name.
fn ad_groups(conn: &Connection, draft_id: DraftId) -> StoreResult<HashMap<i64, String>> {
    Ok(conn
        .prepare_cached("SELECT id, name FROM draft_ad_groups WHERE draft_id = ?1")?
        .query_map([draft_id], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?)
}

/// The keywords of each of the draft's ad groups: id and text.
fn draft_keywords(conn: &Connection, draft_id: DraftId) -> StoreResult<HashMap<i64, KeywordTexts>> {
    let mut statement = conn.prepare_cached(
        "SELECT k.ad_group_id, k.id, k.text FROM draft_keywords k \
         JOIN draft_ad_groups g ON g.id = k.ad_group_id WHERE g.draft_id = ?1",
    )?;
    let mut rows = statement.query([draft_id])?;
    let mut found: HashMap<i64, KeywordTexts> = HashMap::new();
    while let Some(row) = rows.next()? {
        found
            .entry(row.get(0)?)
            .or_default()
            .insert(row.get(1)?, row.get(2)?);
    }
    Ok(found)
}

/// The draft's RSAs: id and ad group.
fn rsa_groups(conn: &Connection, draft_id: DraftId) -> StoreResult<HashMap<i64, i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT r.id, r.ad_group_id FROM draft_rsas r \
             JOIN draft_ad_groups g ON g.id = r.ad_group_id WHERE g.draft_id = ?1",
        )?
        .query_map([draft_id], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?)
}

/// The name of ad group `ad_group_id` of the draft, or NotFound.
fn ad_group_name(conn: &Connection, draft_id: DraftId, ad_group_id: i64) -> StoreResult<String> {
    conn.prepare_cached("SELECT name FROM draft_ad_groups WHERE id = ?1 AND draft_id = ?2")?
        .query_row(params![ad_group_id, draft_id], |row| row.get(0))
        .optional()?
        .ok_or_else(|| StoreError::NotFound("Ad group not found".into()))
}

/// The text of keyword `keyword_id` of ad group `ad_group_id` of the draft, or NotFound.
fn keyword_text(
    conn: &Connection,
    draft_id: DraftId,
    ad_group_id: i64,
    keyword_id: i64,
) -> StoreResult<String> {
    ad_group_name(conn, draft_id, ad_group_id)?;
    conn.prepare_cached("SELECT text FROM draft_keywords WHERE id = ?1 AND ad_group_id = ?2")?
        .query_row(params![keyword_id, ad_group_id], |row| row.get(0))
        .optional()?
        .ok_or_else(|| StoreError::NotFound("Keyword not found".into()))
}

fn next_position(conn: &Connection, table: &str, parent: &str, id: i64) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT COALESCE(MAX(position), -1) + 1 FROM {table} WHERE {parent} = ?1"
        ))?
        .query_row([id], |row| row.get(0))?)
}

fn insert_keyword(
    conn: &Connection,
    ad_group_id: i64,
    position: i64,
    keyword: NewKeyword,
) -> StoreResult<i64> {
    conn.prepare_cached(
        "INSERT INTO draft_keywords (ad_group_id, position, text, match_type, cpc_bid_micros, \
         final_url) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        ad_group_id,
        position,
        keyword.text,
        keyword.match_type.as_str(),
        keyword.cpc_bid_micros,
        keyword.final_url,
    ])?;
    Ok(conn.last_insert_rowid())
}

fn insert_ad_group(
    conn: &Connection,
    draft_id: DraftId,
    position: i64,
    name: &str,
    cpc_bid_micros: Option<i64>,
) -> StoreResult<i64> {
    conn.prepare_cached(
        "INSERT INTO draft_ad_groups (draft_id, position, name, cpc_bid_micros) \
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![draft_id, position, name, cpc_bid_micros])?;
    Ok(conn.last_insert_rowid())
}

/// Applies a keyword's optional changes (match type, bid, final URL).
fn change_keyword(
    conn: &Connection,
    keyword_id: i64,
    match_type: Option<KeywordMatchType>,
    cpc_bid_micros: &Patch<i64>,
    final_url: &Patch<String>,
) -> StoreResult<()> {
    if let Some(match_type) = match_type {
        set_column(
            conn,
            "draft_keywords",
            keyword_id,
            "match_type",
            &match_type.as_str(),
        )?;
    }
    if let Some(bid) = patched(cpc_bid_micros, |bid| *bid) {
        set_column(conn, "draft_keywords", keyword_id, "cpc_bid_micros", &bid)?;
    }
    if let Some(url) = patched(final_url, String::clone) {
        set_column(conn, "draft_keywords", keyword_id, "final_url", &url)?;
    }
    Ok(())
}

/// Queues the refresh of the ad group's RSAs when asked to.
fn regenerate_rsas(
    write: &mut Write,
    draft_id: DraftId,
    ad_group_id: i64,
    regenerate: bool,
) -> StoreResult<()> {
    if regenerate {
        queue_rsas(write, draft_id, ad_group_id, RsaRun::Refresh)?;
    }
    Ok(())
}

/// Replaces the draft's `kind` extension items with `items`.
fn replace_items<T: Serialize>(
    conn: &Connection,
    draft_id: DraftId,
    kind: &str,
    items: &[T],
) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM draft_extension_items WHERE draft_id = ?1 AND kind = ?2")?
        .execute(params![draft_id, kind])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO draft_extension_items (draft_id, kind, position, data) \
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (position, item) in items.iter().enumerate() {
        insert.execute(params![
            draft_id,
            kind,
            position as i64,
            serde_json::to_string(item)?
        ])?;
    }
    Ok(())
}

/// Step 1's changes to the draft's own row.
fn apply_settings(
    conn: &Connection,
    draft_id: DraftId,
    patch: &CampaignSettingsPatch,
) -> StoreResult<()> {
    let id = draft_id.0;
    let set =
        |column: &str, value: &dyn ToSql| set_column(conn, "campaign_drafts", id, column, value);
    if let Some(name) = &patch.name {
        set("name", name)?;
    }
    if let Some(value) = patched(&patch.campaign_name, String::clone) {
        set("campaign_name", &value)?;
    }
    if let Some(value) = patched(&patch.website_url, String::clone) {
        set("website_url", &value)?;
    }
    if let Some(value) = patched(&patch.daily_budget_micros, |budget| *budget) {
        set("daily_budget_micros", &value)?;
    }
    if let Some(value) = patched(&patch.bidding_strategy, |value| json_text(Some(value))) {
        set("bidding_strategy", &value.transpose()?.flatten())?;
    }
    if let Some(value) = patched(&patch.network_settings, |value| json_text(Some(value))) {
        set("network_settings", &value.transpose()?.flatten())?;
    }
    if let Some(value) = patched(&patch.ad_schedule, |value| json_text(Some(value))) {
        set("ad_schedule", &value.transpose()?.flatten())?;
    }
    if let Some(value) = patched(&patch.start_date, |day| day.0.to_string()) {
        set("start_date", &value)?;
    }
    if let Some(value) = patched(&patch.end_date, |day| day.0.to_string()) {
        set("end_date", &value)?;
    }
    if let Some(list) = &patch.language_ids {
        set("language_ids", &json_text(Some(list))?)?;
    }
    if let Some(list) = &patch.location_targets {
        set("location_targets", &json_text(Some(list))?)?;
    }
    if let Some(list) = &patch.conversion_goals {
        set("conversion_goals", &json_text(Some(list))?)?;
    }
    Ok(())
}

/// Whether the step-3 item leaves stored RSA `id` as it is (`leaves_as_is`).
fn stays(conn: &Connection, id: i64, sent: &RsaContent) -> StoreResult<bool> {
    let (stored, generator_owns) = conn
        .prepare_cached(
            "SELECT headlines, descriptions, path1, path2, final_url, edited_at IS NULL \
             FROM draft_rsas WHERE id = ?1",
        )?
        .query_row([id], |row| {
            let content = RsaContent::stored(
                &row.get::<_, String>(0)?,
                &row.get::<_, String>(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
            );
            Ok((content, row.get::<_, bool>(5)?))
        })?;
    Ok(leaves_as_is(&stored?, generator_owns, sent))
}

/// Saves one RSA of step 3 at `position`. A person's change of content (and a new RSA) marks it
/// edited and takes it from any generation task, which then leaves it alone.
fn save_rsa(conn: &Connection, rsa: &RsaInput, position: i64) -> StoreResult<()> {
    let content = RsaContent::sent(rsa);
    let now = Timestamp::now().0;
    let (headlines, descriptions) = content.texts_json()?;
    match rsa.id {
        Some(id) if stays(conn, id, &content)? => {
            set_column(conn, "draft_rsas", id, "position", &position)?;
        }
        Some(id) => {
            conn.prepare_cached(
                "UPDATE draft_rsas SET position = ?2, headlines = ?3, descriptions = ?4, \
                 path1 = ?5, path2 = ?6, final_url = ?7, edited_at = ?8, task_id = NULL, \
                 error = NULL, status = CASE status WHEN 'completed' THEN 'completed' \
                 ELSE 'not_started' END WHERE id = ?1",
            )?
            .execute(params![
                id,
                position,
                headlines,
                descriptions,
                content.path1,
                content.path2,
                content.final_url,
                now
            ])?;
        }
        None => {
            conn.prepare_cached(
                "INSERT INTO draft_rsas (ad_group_id, position, headlines, descriptions, path1, \
                 path2, final_url, status, edited_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'not_started', ?8)",
            )?
            .execute(params![
                rsa.ad_group_id,
                position,
                headlines,
                descriptions,
                content.path1,
                content.path2,
                content.final_url,
                now
            ])?;
        }
    }
    Ok(())
}

/// Saves one ad group of step 2 at `position` (created when it has no `id`); answers its id.
fn save_ad_group(
    conn: &Connection,
    draft_id: DraftId,
    position: i64,
    group: &AdGroupInput,
) -> StoreResult<i64> {
    let Some(id) = group.id else {
        let bid = group.cpc_bid_micros.new_value().copied();
        return insert_ad_group(conn, draft_id, position, &group.name, bid);
    };
    conn.prepare_cached("UPDATE draft_ad_groups SET position = ?2, name = ?3 WHERE id = ?1")?
        .execute(params![id, position, group.name])?;
    if let Some(bid) = patched(&group.cpc_bid_micros, |bid| *bid) {
        set_column(conn, "draft_ad_groups", id, "cpc_bid_micros", &bid)?;
    }
    Ok(id)
}

/// Replaces the keywords of ad group `group_id` with step 2's `group.keywords`.
fn save_keywords(
    conn: &Connection,
    group_id: i64,
    group: &AdGroupInput,
    old_keywords: &KeywordTexts,
    default: KeywordMatchType,
) -> StoreResult<()> {
    let kept = group.keywords.iter().map(|keyword| keyword.id);
    for id in left_out(old_keywords.keys(), kept) {
        conn.prepare_cached("DELETE FROM draft_keywords WHERE id = ?1")?
            .execute([id])?;
    }
    for (position, keyword) in group.keywords.iter().enumerate() {
        let position = position as i64;
        let Some(id) = keyword.id else {
            insert_keyword(
                conn,
                group_id,
                position,
                NewKeyword::listed(keyword, default),
            )?;
            continue;
        };
        conn.prepare_cached("UPDATE draft_keywords SET position = ?2, text = ?3 WHERE id = ?1")?
            .execute(params![id, position, keyword.text])?;
        change_keyword(
            conn,
            id,
            keyword.match_type,
            &keyword.cpc_bid_micros,
            &keyword.final_url,
        )?;
    }
    Ok(())
}

impl DraftEditStore for SqliteStore {
    async fn patch_campaign_settings(
        &self,
        viewer: Viewer,
        draft_id: DraftId,
        patch: CampaignSettingsPatch,
        apply_to_all_keywords: bool,
    ) -> StoreResult<CampaignDraft> {
        self.edit_draft(viewer, draft_id, move |write| {
            if let Some(new) = patch.default_match_type {
                let previous = default_match_type(write, draft_id)?;
                write
                    .prepare_cached(
                        "UPDATE draft_keywords SET match_type = ?2 WHERE ad_group_id IN \
                         (SELECT id FROM draft_ad_groups WHERE draft_id = ?1) \
                         AND (?3 OR match_type = ?4)",
                    )?
                    .execute(params![
                        draft_id,
                        new.as_str(),
                        apply_to_all_keywords,
                        previous.as_str()
                    ])?;
                set_column(
                    write,
                    "campaign_drafts",
                    draft_id.0,
                    "default_match_type",
                    &new.as_str(),
                )?;
            }
            apply_settings(write, draft_id, &patch)
        })
        .await
    }

    async fn patch_ad_groups(
        &self,
        viewer: Viewer,
        draft_id: DraftId,
        patch: AdGroupsPatch,
        regenerate: bool,
    ) -> StoreResult<CampaignDraft> {
        self.edit_draft(viewer, draft_id, move |write| {
            let default = default_match_type(write, draft_id)?;
            let existing = ad_groups(write, draft_id)?;
            let stored = draft_keywords(write, draft_id)?;
            let stored_keywords = check_ad_group_ids(&patch, &existing, stored)?;
            let kept = patch.ad_groups.iter().map(|group| group.id);
            for id in left_out(existing.keys(), kept) {
                write
                    .prepare_cached("DELETE FROM draft_ad_groups WHERE id = ?1")?
                    .execute([id])?;
            }
            let mut refresh = Vec::new();
            for ((position, group), old_keywords) in
                patch.ad_groups.iter().enumerate().zip(stored_keywords)
            {
                let group_id = save_ad_group(write, draft_id, position as i64, group)?;
                save_keywords(write, group_id, group, &old_keywords, default)?;
                if ad_group_changed(group, &existing, &old_keywords) {
                    refresh.push(group_id);
                }
            }
            for group_id in refresh {
                regenerate_rsas(write, draft_id, group_id, regenerate)?;
            }
            Ok(())
        })
        .await
    }

    async fn patch_ads(
        &self,
        viewer: Viewer,
        draft_id: DraftId,
        patch: AdsPatch,
    ) -> StoreResult<CampaignDraft> {
        self.edit_draft(viewer, draft_id, move |write| {
            let groups = ad_groups(write, draft_id)?;
            let rsas = rsa_groups(write, draft_id)?;
            check_rsa_ids(&patch, &groups, &rsas)?;
            for id in left_out_rsas(&patch, &rsas) {
                write
                    .prepare_cached("DELETE FROM draft_rsas WHERE id = ?1")?
                    .execute([id])?;
            }
            for (rsa, position) in positioned_rsas(&patch) {
                save_rsa(write, rsa, position)?;
            }
            Ok(())
        })
        .await
    }

    async fn patch_extensions(
        &self,
        viewer: Viewer,
        draft_id: DraftId,
        patch: ExtensionsPatch,
    ) -> StoreResult<CampaignDraft> {
        self.edit_draft(viewer, draft_id, move |write| {
            if let Some(items) = &patch.sitelinks {
                replace_items(write, draft_id, "sitelink", items)?;
            }
            if let Some(items) = &patch.callouts {
                replace_items(write, draft_id, "callout", items)?;
            }
            if let Some(items) = &patch.structured_snippets {
                replace_items(write, draft_id, "structured_snippet", items)?;
            }
            if let Some(phone) = patched(&patch.phone, |phone| json_text(Some(phone))) {
                let phone = phone.transpose()?.flatten();
                set_column(write, "campaign_drafts", draft_id.0, "phone", &phone)?;
            }
            Ok(())
        })
        .await
    }

    async fn create_ad_group(
        &self,
        viewer: Viewer,
        draft_id: DraftId,
        new: AdGroupCreate,
        regenerate: bool,
    ) -> StoreResult<CampaignDraft> {
        self.edit_draft(viewer, draft_id, move |write| {
            let default = default_match_type(write, draft_id)?;
            let position = next_position(write, "draft_ad_groups", "draft_id", draft_id.0)?;
            let group_id =
                insert_ad_group(write, draft_id, position, &new.name, new.cpc_bid_micros.0)?;
            for (position, keyword) in new.keywords.iter().enumerate() {
                let keyword = NewKeyword::created(keyword, default);
                insert_keyword(write, group_id, position as i64, keyword)?;
            }
            let regenerate = regenerate && !new.keywords.is_empty();
            regenerate_rsas(write, draft_id, group_id, regenerate)
        })
        .await
    }

    async fn update_ad_group(
        &self,
        viewer: Viewer,
        draft_id: DraftId,
        ad_group_id: i64,
        change: AdGroupUpdate,
        regenerate: bool,
    ) -> StoreResult<CampaignDraft> {
        self.edit_draft(viewer, draft_id, move |write| {
            let name = ad_group_name(write, draft_id, ad_group_id)?;
            let table = "draft_ad_groups";
            if let Some(new) = &change.name {
                set_column(write, table, ad_group_id, "name", new)?;
            }
            if let Some(bid) = patched(&change.cpc_bid_micros, |bid| *bid) {
                set_column(write, table, ad_group_id, "cpc_bid_micros", &bid)?;
            }
            let renamed = change.name.as_ref().is_some_and(|new| *new != name);
            regenerate_rsas(write, draft_id, ad_group_id, regenerate && renamed)
        })
        .await
    }

    async fn create_keyword(
        &self,
        viewer: Viewer,
        draft_id: DraftId,
        ad_group_id: i64,
        new: KeywordCreate,
        regenerate: bool,
    ) -> StoreResult<CampaignDraft> {
        self.edit_draft(viewer, draft_id, move |write| {
            ad_group_name(write, draft_id, ad_group_id)?;
            let default = default_match_type(write, draft_id)?;
            let position = next_position(write, "draft_keywords", "ad_group_id", ad_group_id)?;
            insert_keyword(
                write,
                ad_group_id,
                position,
                NewKeyword::created(&new, default),
            )?;
            regenerate_rsas(write, draft_id, ad_group_id, regenerate)
        })
        .await
    }

    async fn update_keyword(
        &self,
        viewer: Viewer,
        draft_id: DraftId,
        ad_group_id: i64,
        keyword_id: i64,
        change: KeywordUpdate,
        regenerate: bool,
    ) -> StoreResult<CampaignDraft> {
        self.edit_draft(viewer, draft_id, move |write| {
            let text = keyword_text(write, draft_id, ad_group_id, keyword_id)?;
            if let Some(new) = &change.text {
                set_column(write, "draft_keywords", keyword_id, "text", new)?;
            }
            change_keyword(
                write,
                keyword_id,
                change.match_type,
                &change.cpc_bid_micros,
                &change.final_url,
            )?;
            let retexted = change.text.as_ref().is_some_and(|new| *new != text);
            regenerate_rsas(write, draft_id, ad_group_id, regenerate && retexted)
        })
        .await
    }

    async fn delete_keyword(
        &self,
        viewer: Viewer,
        draft_id: DraftId,
        ad_group_id: i64,
        keyword_id: i64,
        regenerate: bool,
    ) -> StoreResult<CampaignDraft> {
        self.edit_draft(viewer, draft_id, move |write| {
            keyword_text(write, draft_id, ad_group_id, keyword_id)?;
            write
                .prepare_cached("DELETE FROM draft_keywords WHERE id = ?1")?
                .execute([keyword_id])?;
            regenerate_rsas(write, draft_id, ad_group_id, regenerate)
        })
        .await
    }
}

impl SqliteStore {
    /// One edit of draft `draft_id` in one write: its visibility first (NotFound), then
    /// `edit`, then its `date_updated` moves and it is answered whole.
    async fn edit_draft<F>(
        &self,
        viewer: Viewer,
        draft_id: DraftId,
        edit: F,
    ) -> StoreResult<CampaignDraft>
    where
        F: FnOnce(&mut Write) -> StoreResult<()> + Send + 'static,
    {
        self.write(move |write| {
            visible_draft(write, viewer, draft_id)?;
            edit(write)?;
            touch(write, draft_id)?;
            load_draft(write, draft_id)
        })
        .await
    }
}
