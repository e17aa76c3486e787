//! Editing a campaign draft: the four steps, and the ad-group and keyword routes. Each edit is
//! one write: the draft's visibility is checked inside it (NotFound otherwise), ids a body
//! names are checked before anything changes (Invalid), the draft's `date_updated` moves, and
//! the RSA regeneration the change calls for is queued in the same transaction. Each answers
//! the whole draft as saved.

use std::collections::{HashMap, HashSet};

use rusqlite::types::ToSql;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::Value;

use super::access::visible_draft;
use super::campaigns::{json_text, load_draft};
use super::generation::{queue_rsas, RsaRun};
use super::write::Write;
use super::{SqliteStore, StoreError, StoreResult};
use crate::schema::{
    AdGroupCreate, AdGroupInput, AdGroupUpdate, AdGroupsPatch, AdText, AdsPatch, CampaignDraft,
    CampaignSettingsPatch, DraftId, ExtensionsPatch, KeywordCreate, KeywordMatchType,
    KeywordUpdate, Patch, RsaInput, Timestamp,
};
use crate::store::{DraftEditStore, Viewer};

/// A 422 at `loc` (after `body`).
fn invalid(loc: &[Value], message: String) -> StoreError {
    let mut full = vec![Value::from("body")];
    full.extend_from_slice(loc);
    StoreError::Invalid { loc: full, message }
}

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
    Ok(text
        .as_deref()
        .and_then(KeywordMatchType::parse)
        .unwrap_or(KeywordMatchType::Broad))
}

/// The draft's ad groups: id and name.
fn ad_groups(conn: &Connection, draft_id: DraftId) -> StoreResult<HashMap<i64, String>> {
    Ok(conn
        .prepare_cached("SELECT id, name FROM draft_ad_groups WHERE draft_id = ?1")?
        .query_map([draft_id], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?)
}

/// An ad group's keywords: id and text.
fn keywords(conn: &Connection, ad_group_id: i64) -> StoreResult<HashMap<i64, String>> {
    Ok(conn
        .prepare_cached("SELECT id, text FROM draft_keywords WHERE ad_group_id = ?1")?
        .query_map([ad_group_id], |row| Ok((row.get(0)?, row.get(1)?)))?
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

/// A new keyword of the ad group, at `position`.
struct NewKeyword<'a> {
    text: &'a str,
    match_type: KeywordMatchType,
    cpc_bid_micros: Option<i64>,
    final_url: Option<&'a str>,
}

impl<'a> NewKeyword<'a> {
    /// A keyword of the ad-group and keyword routes; `default` is the draft's match type.
    fn created(new: &'a KeywordCreate, default: KeywordMatchType) -> Self {
        NewKeyword {
            text: &new.text,
            match_type: new.match_type.unwrap_or(default),
            cpc_bid_micros: new.cpc_bid_micros.0,
            final_url: new.final_url.0.as_deref(),
        }
    }
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

/// Checks that every `id` of a step-2 body is one of the draft's (ad groups) or of its ad
/// group's (keywords), each once; answers the stored keywords of each body ad group.
fn check_ad_group_ids(
    conn: &Connection,
    patch: &AdGroupsPatch,
    existing: &HashMap<i64, String>,
) -> StoreResult<Vec<HashMap<i64, String>>> {
    let mut seen_groups = HashSet::new();
    let mut seen_keywords = HashSet::new();
    let mut stored = Vec::with_capacity(patch.ad_groups.len());
    for (g, group) in patch.ad_groups.iter().enumerate() {
        let group_keywords = match group.id {
            Some(id) => {
                let at = [Value::from("ad_groups"), Value::from(g), Value::from("id")];
                if !existing.contains_key(&id) {
                    return Err(invalid(&at, format!("Ad group {id} is not in this draft")));
                }
                if !seen_groups.insert(id) {
                    return Err(invalid(&at, format!("Ad group {id} is listed twice")));
                }
                keywords(conn, id)?
            }
            None => HashMap::new(),
        };
        for (k, keyword) in group.keywords.iter().enumerate() {
            let Some(id) = keyword.id else { continue };
            let at = [
                Value::from("ad_groups"),
                Value::from(g),
                Value::from("keywords"),
                Value::from(k),
                Value::from("id"),
            ];
            if !group_keywords.contains_key(&id) {
                return Err(invalid(
                    &at,
                    format!("Keyword {id} is not in this ad group"),
                ));
            }
            if !seen_keywords.insert(id) {
                return Err(invalid(&at, format!("Keyword {id} is listed twice")));
            }
        }
        stored.push(group_keywords);
    }
    Ok(stored)
}

/// Checks that every RSA of a step-3 body names an ad group of the draft, and every `id` one
/// of that ad group's RSAs, each once.
fn check_rsa_ids(
    conn: &Connection,
    patch: &AdsPatch,
    groups: &HashMap<i64, String>,
) -> StoreResult<()> {
    let mut seen = HashSet::new();
    for (n, rsa) in patch.rsas.iter().enumerate() {
        let at = |field: &str| [Value::from("rsas"), Value::from(n), Value::from(field)];
        if !groups.contains_key(&rsa.ad_group_id) {
            return Err(invalid(
                &at("ad_group_id"),
                format!("Ad group {} is not in this draft", rsa.ad_group_id),
            ));
        }
        let Some(id) = rsa.id else { continue };
        let group: Option<i64> = conn
            .prepare_cached("SELECT ad_group_id FROM draft_rsas WHERE id = ?1")?
            .query_row([id], |row| row.get(0))
            .optional()?;
        if group != Some(rsa.ad_group_id) {
            return Err(invalid(
                &at("id"),
                format!(
                    "Responsive search ad {id} is not in ad group {}",
                    rsa.ad_group_id
                ),
            ));
        }
        if !seen.insert(id) {
            return Err(invalid(
                &at("id"),
                format!("Responsive search ad {id} is listed twice"),
            ));
        }
    }
    Ok(())
}

type RsaContent = (
    Vec<AdText>,
    Vec<AdText>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn rsa_content(rsa: &RsaInput) -> RsaContent {
    (
        rsa.headlines.clone(),
        rsa.descriptions.clone(),
        rsa.path1.0.clone(),
        rsa.path2.0.clone(),
        rsa.final_url.0.clone(),
    )
}

fn stored_rsa_content(conn: &Connection, id: i64) -> StoreResult<RsaContent> {
    let (headlines, descriptions, path1, path2, final_url): (
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
    ) = conn
        .prepare_cached(
            "SELECT headlines, descriptions, path1, path2, final_url FROM draft_rsas WHERE id = ?1",
        )?
        .query_row([id], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
            ))
        })?;
    Ok((
        serde_json::from_str(&headlines)?,
        serde_json::from_str(&descriptions)?,
        path1,
        path2,
        final_url,
    ))
}

/// Whether the RSA's copy is the generator's: generated, or waiting to be, and not since
/// written by a person.
fn generator_owns(conn: &Connection, id: i64) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached("SELECT edited_at IS NULL FROM draft_rsas WHERE id = ?1")?
        .query_row([id], |row| row.get(0))?)
}

/// Whether a step-3 item leaves RSA `id` as it is: sent back unchanged, or sent without any
/// headline or description for an RSA whose copy is the generator's. The second is what a client
/// sends back for an RSA it loaded before its copy arrived; taken as a person's edit, it would
/// throw the generated copy away.
fn leaves_as_is(conn: &Connection, id: i64, content: &RsaContent) -> StoreResult<bool> {
    let blank = content.0.is_empty() && content.1.is_empty();
    Ok(stored_rsa_content(conn, id)? == *content || (blank && generator_owns(conn, id)?))
}

/// Saves one RSA of step 3 at `position`. A person's change of content (and a new RSA) marks it
/// edited and takes it from any generation task, which then leaves it alone.
fn save_rsa(conn: &Connection, rsa: &RsaInput, position: i64) -> StoreResult<()> {
    let content = rsa_content(rsa);
    let now = Timestamp::now().0;
    let headlines = serde_json::to_string(&content.0)?;
    let descriptions = serde_json::to_string(&content.1)?;
    match rsa.id {
        Some(id) if leaves_as_is(conn, id, &content)? => {
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
                content.2,
                content.3,
                content.4,
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
                content.2,
                content.3,
                content.4,
                now
            ])?;
        }
    }
    Ok(())
}

/// Saves one ad group of step 2 at `position` (created when it has no `id`); answers its id
/// and whether it was renamed (a new one with keywords counts as renamed: it needs RSAs).
fn save_ad_group(
    conn: &Connection,
    draft_id: DraftId,
    position: i64,
    group: &AdGroupInput,
    existing: &HashMap<i64, String>,
) -> StoreResult<(i64, bool)> {
    let Some(id) = group.id else {
        let bid = group.cpc_bid_micros.new_value().copied();
        let id = insert_ad_group(conn, draft_id, position, &group.name, bid)?;
        return Ok((id, !group.keywords.is_empty()));
    };
    conn.prepare_cached("UPDATE draft_ad_groups SET position = ?2, name = ?3 WHERE id = ?1")?
        .execute(params![id, position, group.name])?;
    if let Some(bid) = patched(&group.cpc_bid_micros, |bid| *bid) {
        set_column(conn, "draft_ad_groups", id, "cpc_bid_micros", &bid)?;
    }
    Ok((id, existing[&id] != group.name))
}

/// Replaces the keywords of ad group `group_id` with step 2's `group.keywords`; answers
/// whether a text changed or a keyword was added or removed.
fn save_keywords(
    conn: &Connection,
    group_id: i64,
    group: &AdGroupInput,
    old_keywords: &HashMap<i64, String>,
    default: KeywordMatchType,
) -> StoreResult<bool> {
    let mut changed = false;
    let kept: HashSet<i64> = group.keywords.iter().filter_map(|k| k.id).collect();
    for id in old_keywords.keys().filter(|id| !kept.contains(id)) {
        conn.prepare_cached("DELETE FROM draft_keywords WHERE id = ?1")?
            .execute([id])?;
        changed = true;
    }
    for (position, keyword) in group.keywords.iter().enumerate() {
        let position = position as i64;
        let Some(id) = keyword.id else {
            let new = NewKeyword {
                text: &keyword.text,
                match_type: keyword.match_type.unwrap_or(default),
                cpc_bid_micros: keyword.cpc_bid_micros.new_value().copied(),
                final_url: keyword.final_url.new_value().map(String::as_str),
            };
            insert_keyword(conn, group_id, position, new)?;
            changed = true;
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
        changed |= old_keywords[&id] != keyword.text;
    }
    Ok(changed)
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
            let stored_keywords = check_ad_group_ids(write, &patch, &existing)?;
            let kept: HashSet<i64> = patch.ad_groups.iter().filter_map(|g| g.id).collect();
            for id in existing.keys().filter(|id| !kept.contains(id)) {
                write
                    .prepare_cached("DELETE FROM draft_ad_groups WHERE id = ?1")?
                    .execute([id])?;
            }
            let mut refresh = Vec::new();
            for ((position, group), old_keywords) in
                patch.ad_groups.iter().enumerate().zip(stored_keywords)
            {
                let (group_id, renamed) =
                    save_ad_group(write, draft_id, position as i64, group, &existing)?;
                let rewritten = save_keywords(write, group_id, group, &old_keywords, default)?;
                if renamed || rewritten {
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
            check_rsa_ids(write, &patch, &groups)?;
            let mut kept: HashMap<i64, Vec<i64>> = HashMap::new();
            for rsa in &patch.rsas {
                kept.entry(rsa.ad_group_id).or_default().extend(rsa.id);
            }
            for (group, ids) in &kept {
                let stored: Vec<i64> = write
                    .prepare_cached("SELECT id FROM draft_rsas WHERE ad_group_id = ?1")?
                    .query_map([group], |row| row.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                for id in stored.into_iter().filter(|id| !ids.contains(id)) {
                    write
                        .prepare_cached("DELETE FROM draft_rsas WHERE id = ?1")?
                        .execute([id])?;
                }
            }
            let mut positions: HashMap<i64, i64> = HashMap::new();
            for rsa in &patch.rsas {
                let position = positions.entry(rsa.ad_group_id).or_insert(0);
                save_rsa(write, rsa, *position)?;
                *position += 1;
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
