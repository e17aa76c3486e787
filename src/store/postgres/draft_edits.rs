//! Editing a campaign draft on PostgreSQL: the four steps, and the ad-group and keyword routes,
//! answering what `sqlite/draft_edits.rs` answers. What an edit decides (which ids a body may
//! name, what to regenerate) is the neutral `store/draft_edits.rs`; only the statements are
//! this backend's.
//!
//! Each edit is one transaction that first locks the draft's row (`FOR NO KEY UPDATE`): edits
//! of one draft, from any process, then run one after another, each reading what the previous
//! one committed, as SQLite's single writer gives. Without it, two new keywords could be given
//! one position, and two step-2 bodies could interleave into a list neither sent. The lock
//! does not block the foreign keys' reads, so other drafts' work and a generation worker's
//! inserts go on. The answer is read in the same transaction, so it includes the edit (read
//! committed: copy a generation worker commits meanwhile may show in it, as it would a moment
//! later).

use std::collections::HashMap;

use deadpool_postgres::{Object, Transaction};
use serde::Serialize;
use tokio_postgres::types::ToSql;

use super::access::{visible_draft, HOLD_DRAFT};
use super::campaigns::load_draft;
use super::generation_queueing::queue_rsas;
use super::statements::{execute, optional_row, row, rows};
use super::PostgresDatabase;
use crate::schema::{
    AdGroupCreate, AdGroupInput, AdGroupUpdate, AdGroupsPatch, AdsPatch, CampaignDraft,
    CampaignSettingsPatch, DraftId, ExtensionsPatch, KeywordCreate, KeywordMatchType,
    KeywordUpdate, Patch, RsaInput, Timestamp,
};
use crate::store::draft_edits::{
    ad_group_changed, check_ad_group_ids, check_rsa_ids, default_match_type_as_stored,
    leaves_as_is, left_out, left_out_rsas, positioned_rsas, KeywordTexts, NewKeyword, RsaContent,
};
use crate::store::generation::RsaRun;
use crate::store::parameters::{json_patch_params, json_text, patch_params};
use crate::store::{DraftEditStore, StoreError, StoreResult, Viewer};

/// Starts an edit of draft `draft_id`: its visibility first (NotFound), and its row locked.
async fn begin_edit(
    client: &mut Object,
    viewer: Viewer,
    draft_id: DraftId,
) -> StoreResult<Transaction<'_>> {
    let tx = client.transaction().await?;
    visible_draft(&tx, viewer, draft_id, HOLD_DRAFT).await?;
    Ok(tx)
}

/// Ends an edit: the draft's `date_updated` moves, and it is answered whole, as committed.
async fn answer_edit(tx: Transaction<'_>, draft_id: DraftId) -> StoreResult<CampaignDraft> {
    execute(
        &tx,
        "UPDATE campaign_drafts SET date_updated = $2 WHERE id = $1",
        &[&draft_id.0, &Timestamp::now().0],
    )
    .await?;
    let draft = load_draft(&tx, draft_id).await?;
    tx.commit().await?;
    Ok(draft)
}

async fn default_match_type(
    tx: &Transaction<'_>,
    draft_id: DraftId,
) -> StoreResult<KeywordMatchType> {
    let found = row(
        tx,
        "SELECT default_match_type FROM campaign_drafts WHERE id = $1",
        &[&draft_id.0],
    )
    .await?;
    Ok(default_match_type_as_stored(
        found.try_get::<_, Option<&str>>(0)?,
    ))
}

/// The draft's ad groups: id and name.
async fn ad_groups(tx: &Transaction<'_>, draft_id: DraftId) -> StoreResult<HashMap<i64, String>> {
    rows(
        tx,
        "SELECT id, name FROM draft_ad_groups WHERE draft_id = $1",
        &[&draft_id.0],
    )
    .await?
    .iter()
    .map(|group| Ok((group.try_get(0)?, group.try_get(1)?)))
    .collect()
}

/// The keywords of each of the draft's ad groups: id and text.
async fn draft_keywords(
    tx: &Transaction<'_>,
    draft_id: DraftId,
) -> StoreResult<HashMap<i64, KeywordTexts>> {
    let found = rows(
        tx,
        "SELECT k.ad_group_id, k.id, k.text FROM draft_keywords k \
         JOIN draft_ad_groups g ON g.id = k.ad_group_id WHERE g.draft_id = $1",
        &[&draft_id.0],
    )
    .await?;
    let mut keywords: HashMap<i64, KeywordTexts> = HashMap::new();
    for keyword in found {
        keywords
            .entry(keyword.try_get(0)?)
            .or_default()
            .insert(keyword.try_get(1)?, keyword.try_get(2)?);
    }
    Ok(keywords)
}

/// The draft's RSAs: id and ad group.
async fn rsa_groups(tx: &Transaction<'_>, draft_id: DraftId) -> StoreResult<HashMap<i64, i64>> {
    rows(
        tx,
        "SELECT r.id, r.ad_group_id FROM draft_rsas r \
         JOIN draft_ad_groups g ON g.id = r.ad_group_id WHERE g.draft_id = $1",
        &[&draft_id.0],
    )
    .await?
    .iter()
    .map(|rsa| Ok((rsa.try_get(0)?, rsa.try_get(1)?)))
    .collect()
}

/// The name of ad group `ad_group_id` of the draft, or NotFound.
async fn ad_group_name(
    tx: &Transaction<'_>,
    draft_id: DraftId,
    ad_group_id: i64,
) -> StoreResult<String> {
    let found = optional_row(
        tx,
        "SELECT name FROM draft_ad_groups WHERE id = $1 AND draft_id = $2",
        &[&ad_group_id, &draft_id.0],
    )
    .await?
    .ok_or_else(|| StoreError::NotFound("Ad group not found".into()))?;
    Ok(found.try_get(0)?)
}

/// The text of keyword `keyword_id` of ad group `ad_group_id` of the draft, or NotFound.
async fn keyword_text(
    tx: &Transaction<'_>,
    draft_id: DraftId,
    ad_group_id: i64,
    keyword_id: i64,
) -> StoreResult<String> {
    ad_group_name(tx, draft_id, ad_group_id).await?;
    let found = optional_row(
        tx,
        "SELECT text FROM draft_keywords WHERE id = $1 AND ad_group_id = $2",
        &[&keyword_id, &ad_group_id],
    )
    .await?
    .ok_or_else(|| StoreError::NotFound("Keyword not found".into()))?;
    Ok(found.try_get(0)?)
}

/// The position after the last of the rows of `table` whose `parent` is `id` (both names are
/// literals of this module).
async fn next_position(
    tx: &Transaction<'_>,
    table: &str,
    parent: &str,
    id: i64,
) -> StoreResult<i64> {
    let found = row(
        tx,
        &format!("SELECT COALESCE(MAX(position), -1) + 1 FROM {table} WHERE {parent} = $1"),
        &[&id],
    )
    .await?;
    Ok(found.try_get(0)?)
}

/// Deletes the rows of `table` (a literal of this module) with these ids.
async fn delete_rows(tx: &Transaction<'_>, table: &str, ids: &[i64]) -> StoreResult<()> {
    if !ids.is_empty() {
        execute(
            tx,
            &format!("DELETE FROM {table} WHERE id = ANY($1)"),
            &[&ids],
        )
        .await?;
    }
    Ok(())
}

async fn insert_keyword(
    tx: &Transaction<'_>,
    ad_group_id: i64,
    position: i64,
    keyword: NewKeyword<'_>,
) -> StoreResult<()> {
    execute(
        tx,
        "INSERT INTO draft_keywords (ad_group_id, position, text, match_type, cpc_bid_micros, \
         final_url) VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &ad_group_id,
            &position,
            &keyword.text,
            &keyword.match_type.as_str(),
            &keyword.cpc_bid_micros,
            &keyword.final_url,
        ],
    )
    .await?;
    Ok(())
}

async fn insert_ad_group(
    tx: &Transaction<'_>,
    draft_id: DraftId,
    position: i64,
    name: &str,
    cpc_bid_micros: Option<i64>,
) -> StoreResult<i64> {
    let inserted = row(
        tx,
        "INSERT INTO draft_ad_groups (draft_id, position, name, cpc_bid_micros) \
         VALUES ($1, $2, $3, $4) RETURNING id",
        &[&draft_id.0, &position, &name, &cpc_bid_micros],
    )
    .await?;
    Ok(inserted.try_get(0)?)
}

/// A change to a stored keyword: `None` (and `Patch::Keep`) keep a column.
struct KeywordChange<'a> {
    position: Option<i64>,
    text: Option<&'a str>,
    match_type: Option<KeywordMatchType>,
    cpc_bid_micros: &'a Patch<i64>,
    final_url: &'a Patch<String>,
}

async fn change_keyword(
    tx: &Transaction<'_>,
    keyword_id: i64,
    change: KeywordChange<'_>,
) -> StoreResult<()> {
    let (bid_sent, bid) = patch_params(change.cpc_bid_micros.clone());
    let (url_sent, url) = patch_params(change.final_url.clone());
    execute(
        tx,
        "UPDATE draft_keywords SET position = COALESCE($2, position), text = COALESCE($3, text), \
         match_type = COALESCE($4, match_type), \
         cpc_bid_micros = CASE WHEN $5 THEN $6 ELSE cpc_bid_micros END, \
         final_url = CASE WHEN $7 THEN $8 ELSE final_url END WHERE id = $1",
        &[
            &keyword_id,
            &change.position,
            &change.text,
            &change.match_type.map(KeywordMatchType::as_str),
            &bid_sent,
            &bid,
            &url_sent,
            &url,
        ],
    )
    .await?;
    Ok(())
}

/// Changes a stored ad group: `None` (and `Patch::Keep`) keep a column.
async fn change_ad_group(
    tx: &Transaction<'_>,
    ad_group_id: i64,
    position: Option<i64>,
    name: Option<&str>,
    cpc_bid_micros: &Patch<i64>,
) -> StoreResult<()> {
    let (bid_sent, bid) = patch_params(cpc_bid_micros.clone());
    execute(
        tx,
        "UPDATE draft_ad_groups SET position = COALESCE($2, position), name = COALESCE($3, name), \
         cpc_bid_micros = CASE WHEN $4 THEN $5 ELSE cpc_bid_micros END WHERE id = $1",
        &[&ad_group_id, &position, &name, &bid_sent, &bid],
    )
    .await?;
    Ok(())
}

/// Queues the refresh of the ad group's RSAs when asked to.
async fn regenerate_rsas(
    tx: &Transaction<'_>,
    draft_id: DraftId,
    ad_group_id: i64,
    regenerate: bool,
) -> StoreResult<()> {
    if regenerate {
        queue_rsas(tx, draft_id, ad_group_id, RsaRun::Refresh).await?;
    }
    Ok(())
}

/// Replaces the draft's `kind` extension items with `items`, in their order.
async fn replace_items<T: Serialize>(
    tx: &Transaction<'_>,
    draft_id: DraftId,
    kind: &str,
    items: &Option<Vec<T>>,
) -> StoreResult<()> {
    let Some(items) = items else {
        return Ok(());
    };
    execute(
        tx,
        "DELETE FROM draft_extension_items WHERE draft_id = $1 AND kind = $2",
        &[&draft_id.0, &kind],
    )
    .await?;
    let data = items
        .iter()
        .map(serde_json::to_string)
        .collect::<Result<Vec<_>, _>>()?;
    execute(
        tx,
        "INSERT INTO draft_extension_items (draft_id, kind, position, data) \
         SELECT $1, $2, item.n - 1, item.data FROM unnest($3::TEXT[]) WITH ORDINALITY \
         AS item (data, n) ORDER BY item.n",
        &[&draft_id.0, &kind, &data],
    )
    .await?;
    Ok(())
}

/// Step 1's changes to the draft's own row, in one statement.
async fn apply_settings(
    tx: &Transaction<'_>,
    draft_id: DraftId,
    patch: &CampaignSettingsPatch,
) -> StoreResult<()> {
    let (campaign_sent, campaign_name) = patch_params(patch.campaign_name.clone());
    let (website_sent, website_url) = patch_params(patch.website_url.clone());
    let (budget_sent, budget) = patch_params(patch.daily_budget_micros.clone());
    let (bidding_sent, bidding) = json_patch_params(&patch.bidding_strategy)?;
    let (network_sent, network) = json_patch_params(&patch.network_settings)?;
    let (schedule_sent, schedule) = json_patch_params(&patch.ad_schedule)?;
    let day = |date: crate::schema::Date| date.0.to_string();
    let (start_sent, start) = patch_params(patch.start_date.clone().map(day));
    let (end_sent, end) = patch_params(patch.end_date.clone().map(day));
    execute(
        tx,
        "UPDATE campaign_drafts SET name = COALESCE($2, name), \
         campaign_name = CASE WHEN $3 THEN $4 ELSE campaign_name END, \
         website_url = CASE WHEN $5 THEN $6 ELSE website_url END, \
         daily_budget_micros = CASE WHEN $7 THEN $8 ELSE daily_budget_micros END, \
         bidding_strategy = CASE WHEN $9 THEN $10 ELSE bidding_strategy END, \
         network_settings = CASE WHEN $11 THEN $12 ELSE network_settings END, \
         ad_schedule = CASE WHEN $13 THEN $14 ELSE ad_schedule END, \
         start_date = CASE WHEN $15 THEN $16 ELSE start_date END, \
         end_date = CASE WHEN $17 THEN $18 ELSE end_date END, \
         language_ids = COALESCE($19, language_ids), \
         location_targets = COALESCE($20, location_targets), \
         conversion_goals = COALESCE($21, conversion_goals), \
         default_match_type = COALESCE($22, default_match_type) WHERE id = $1",
        &[
            &draft_id.0,
            &patch.name,
            &campaign_sent,
            &campaign_name,
            &website_sent,
            &website_url,
            &budget_sent,
            &budget,
            &bidding_sent,
            &bidding,
            &network_sent,
            &network,
            &schedule_sent,
            &schedule,
            &start_sent,
            &start,
            &end_sent,
            &end,
            &json_text(patch.language_ids.as_ref())?,
            &json_text(patch.location_targets.as_ref())?,
            &json_text(patch.conversion_goals.as_ref())?,
            &patch.default_match_type.map(KeywordMatchType::as_str),
        ],
    )
    .await?;
    Ok(())
}

/// Whether the step-3 item leaves stored RSA `id` as it is (`leaves_as_is`).
async fn stays(tx: &Transaction<'_>, id: i64, sent: &RsaContent) -> StoreResult<bool> {
    let found = row(
        tx,
        "SELECT headlines, descriptions, path1, path2, final_url, edited_at IS NULL \
         FROM draft_rsas WHERE id = $1",
        &[&id],
    )
    .await?;
    let stored = RsaContent::stored(
        found.try_get(0)?,
        found.try_get(1)?,
        found.try_get(2)?,
        found.try_get(3)?,
        found.try_get(4)?,
    )?;
    Ok(leaves_as_is(&stored, found.try_get(5)?, sent))
}

type Param<'a> = &'a (dyn ToSql + Sync);

/// Saves one RSA of step 3 at `position`. A person's change of content (and a new RSA) marks it
/// edited and takes it from any generation task, which then leaves it alone.
async fn save_rsa(tx: &Transaction<'_>, rsa: &RsaInput, position: i64) -> StoreResult<()> {
    let sent = RsaContent::sent(rsa);
    let (headlines, descriptions) = sent.texts_json()?;
    let now = Timestamp::now().0;
    let content: [Param; 6] = [
        &headlines,
        &descriptions,
        &sent.path1,
        &sent.path2,
        &sent.final_url,
        &now,
    ];
    let Some(id) = rsa.id else {
        let key: [Param; 2] = [&rsa.ad_group_id, &position];
        let params = [&key[..], &content[..]].concat();
        execute(
            tx,
            "INSERT INTO draft_rsas (ad_group_id, position, headlines, descriptions, path1, \
             path2, final_url, edited_at, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'not_started')",
            &params,
        )
        .await?;
        return Ok(());
    };
    if stays(tx, id, &sent).await? {
        execute(
            tx,
            "UPDATE draft_rsas SET position = $2 WHERE id = $1",
            &[&id, &position],
        )
        .await?;
        return Ok(());
    }
    let key: [Param; 2] = [&id, &position];
    let params = [&key[..], &content[..]].concat();
    execute(
        tx,
        "UPDATE draft_rsas SET headlines = $3, descriptions = $4, path1 = $5, path2 = $6, \
         final_url = $7, edited_at = $8, position = $2, task_id = NULL, error = NULL, \
         status = CASE status WHEN 'completed' THEN 'completed' ELSE 'not_started' END \
         WHERE id = $1",
        &params,
    )
    .await?;
    Ok(())
}

/// Saves one ad group of step 2 at `position` (created when it has no `id`); answers its id.
async fn save_ad_group(
    tx: &Transaction<'_>,
    draft_id: DraftId,
    position: i64,
    group: &AdGroupInput,
) -> StoreResult<i64> {
    let Some(id) = group.id else {
        let bid = group.cpc_bid_micros.new_value().copied();
        return insert_ad_group(tx, draft_id, position, &group.name, bid).await;
    };
    change_ad_group(
        tx,
        id,
        Some(position),
        Some(&group.name),
        &group.cpc_bid_micros,
    )
    .await?;
    Ok(id)
}

/// Replaces the keywords of ad group `group_id` with step 2's `group.keywords`.
async fn save_keywords(
    tx: &Transaction<'_>,
    group_id: i64,
    group: &AdGroupInput,
    old_keywords: &KeywordTexts,
    default: KeywordMatchType,
) -> StoreResult<()> {
    let kept = group.keywords.iter().map(|keyword| keyword.id);
    delete_rows(tx, "draft_keywords", &left_out(old_keywords.keys(), kept)).await?;
    for (position, keyword) in group.keywords.iter().enumerate() {
        let position = position as i64;
        let Some(id) = keyword.id else {
            insert_keyword(tx, group_id, position, NewKeyword::listed(keyword, default)).await?;
            continue;
        };
        let change = KeywordChange {
            position: Some(position),
            text: Some(&keyword.text),
            match_type: keyword.match_type,
            cpc_bid_micros: &keyword.cpc_bid_micros,
            final_url: &keyword.final_url,
        };
        change_keyword(tx, id, change).await?;
    }
    Ok(())
}

impl DraftEditStore for PostgresDatabase {
    async fn patch_campaign_settings(
        &self,
        viewer: Viewer,
        draft_id: DraftId,
        patch: CampaignSettingsPatch,
        apply_to_all_keywords: bool,
    ) -> StoreResult<CampaignDraft> {
        let mut client = self.connection().await?;
        let tx = begin_edit(&mut client, viewer, draft_id).await?;
        if let Some(new) = patch.default_match_type {
            let previous = default_match_type(&tx, draft_id).await?;
            execute(
                &tx,
                "UPDATE draft_keywords SET match_type = $2 WHERE ad_group_id IN \
                 (SELECT id FROM draft_ad_groups WHERE draft_id = $1) \
                 AND ($3 OR match_type = $4)",
                &[
                    &draft_id.0,
                    &new.as_str(),
                    &apply_to_all_keywords,
                    &previous.as_str(),
                ],
            )
            .await?;
        }
        apply_settings(&tx, draft_id, &patch).await?;
        answer_edit(tx, draft_id).await
    }

    async fn patch_ad_groups(
        &self,
        viewer: Viewer,
        draft_id: DraftId,
        patch: AdGroupsPatch,
        regenerate: bool,
    ) -> StoreResult<CampaignDraft> {
        let mut client = self.connection().await?;
        let tx = begin_edit(&mut client, viewer, draft_id).await?;
        let default = default_match_type(&tx, draft_id).await?;
        let existing = ad_groups(&tx, draft_id).await?;
        let stored = draft_keywords(&tx, draft_id).await?;
        let listed_keywords = check_ad_group_ids(&patch, &existing, stored)?;
        let kept = patch.ad_groups.iter().map(|group| group.id);
        delete_rows(&tx, "draft_ad_groups", &left_out(existing.keys(), kept)).await?;
        let mut refresh = Vec::new();
        for ((position, group), old_keywords) in
            patch.ad_groups.iter().enumerate().zip(listed_keywords)
        {
            let group_id = save_ad_group(&tx, draft_id, position as i64, group).await?;
            save_keywords(&tx, group_id, group, &old_keywords, default).await?;
            if ad_group_changed(group, &existing, &old_keywords) {
                refresh.push(group_id);
            }
        }
        for group_id in refresh {
            regenerate_rsas(&tx, draft_id, group_id, regenerate).await?;
        }
        answer_edit(tx, draft_id).await
    }

    async fn patch_ads(
        &self,
        viewer: Viewer,
        draft_id: DraftId,
        patch: AdsPatch,
    ) -> StoreResult<CampaignDraft> {
        let mut client = self.connection().await?;
        let tx = begin_edit(&mut client, viewer, draft_id).await?;
        let groups = ad_groups(&tx, draft_id).await?;
        let rsas = rsa_groups(&tx, draft_id).await?;
        check_rsa_ids(&patch, &groups, &rsas)?;
        delete_rows(&tx, "draft_rsas", &left_out_rsas(&patch, &rsas)).await?;
        for (rsa, position) in positioned_rsas(&patch) {
            save_rsa(&tx, rsa, position).await?;
        }
        answer_edit(tx, draft_id).await
    }

    async fn patch_extensions(
        &self,
        viewer: Viewer,
        draft_id: DraftId,
        patch: ExtensionsPatch,
    ) -> StoreResult<CampaignDraft> {
        let mut client = self.connection().await?;
        let tx = begin_edit(&mut client, viewer, draft_id).await?;
        replace_items(&tx, draft_id, "sitelink", &patch.sitelinks).await?;
        replace_items(&tx, draft_id, "callout", &patch.callouts).await?;
        replace_items(
            &tx,
            draft_id,
            "structured_snippet",
            &patch.structured_snippets,
        )
        .await?;
        let (phone_sent, phone) = json_patch_params(&patch.phone)?;
        if phone_sent {
            execute(
                &tx,
                "UPDATE campaign_drafts SET phone = $2 WHERE id = $1",
                &[&draft_id.0, &phone],
            )
            .await?;
        }
        answer_edit(tx, draft_id).await
    }

    async fn create_ad_group(
        &self,
        viewer: Viewer,
        draft_id: DraftId,
        new: AdGroupCreate,
        regenerate: bool,
    ) -> StoreResult<CampaignDraft> {
        let mut client = self.connection().await?;
        let tx = begin_edit(&mut client, viewer, draft_id).await?;
        let default = default_match_type(&tx, draft_id).await?;
        let position = next_position(&tx, "draft_ad_groups", "draft_id", draft_id.0).await?;
        let bid = new.cpc_bid_micros.0;
        let group_id = insert_ad_group(&tx, draft_id, position, &new.name, bid).await?;
        for (position, keyword) in new.keywords.iter().enumerate() {
            let keyword = NewKeyword::created(keyword, default);
            insert_keyword(&tx, group_id, position as i64, keyword).await?;
        }
        let regenerate = regenerate && !new.keywords.is_empty();
        regenerate_rsas(&tx, draft_id, group_id, regenerate).await?;
        answer_edit(tx, draft_id).await
    }

    async fn update_ad_group(
        &self,
        viewer: Viewer,
        draft_id: DraftId,
        ad_group_id: i64,
        change: AdGroupUpdate,
        regenerate: bool,
    ) -> StoreResult<CampaignDraft> {
        let mut client = self.connection().await?;
        let tx = begin_edit(&mut client, viewer, draft_id).await?;
        let name = ad_group_name(&tx, draft_id, ad_group_id).await?;
        let new_name = change.name.as_deref();
        change_ad_group(&tx, ad_group_id, None, new_name, &change.cpc_bid_micros).await?;
        let renamed = new_name.is_some_and(|new| new != name);
        regenerate_rsas(&tx, draft_id, ad_group_id, regenerate && renamed).await?;
        answer_edit(tx, draft_id).await
    }

    async fn create_keyword(
        &self,
        viewer: Viewer,
        draft_id: DraftId,
        ad_group_id: i64,
        new: KeywordCreate,
        regenerate: bool,
    ) -> StoreResult<CampaignDraft> {
        let mut client = self.connection().await?;
        let tx = begin_edit(&mut client, viewer, draft_id).await?;
        ad_group_name(&tx, draft_id, ad_group_id).await?;
        let default = default_match_type(&tx, draft_id).await?;
        let position = next_position(&tx, "draft_keywords", "ad_group_id", ad_group_id).await?;
        let keyword = NewKeyword::created(&new, default);
        insert_keyword(&tx, ad_group_id, position, keyword).await?;
        regenerate_rsas(&tx, draft_id, ad_group_id, regenerate).await?;
        answer_edit(tx, draft_id).await
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
        let mut client = self.connection().await?;
        let tx = begin_edit(&mut client, viewer, draft_id).await?;
        let text = keyword_text(&tx, draft_id, ad_group_id, keyword_id).await?;
        let keyword = KeywordChange {
            position: None,
            text: change.text.as_deref(),
            match_type: change.match_type,
            cpc_bid_micros: &change.cpc_bid_micros,
            final_url: &change.final_url,
        };
        change_keyword(&tx, keyword_id, keyword).await?;
        let retexted = change.text.as_ref().is_some_and(|new| *new != text);
        regenerate_rsas(&tx, draft_id, ad_group_id, regenerate && retexted).await?;
        answer_edit(tx, draft_id).await
    }

    async fn delete_keyword(
        &self,
        viewer: Viewer,
        draft_id: DraftId,
        ad_group_id: i64,
        keyword_id: i64,
        regenerate: bool,
    ) -> StoreResult<CampaignDraft> {
        let mut client = self.connection().await?;
        let tx = begin_edit(&mut client, viewer, draft_id).await?;
        keyword_text(&tx, draft_id, ad_group_id, keyword_id).await?;
        delete_rows(&tx, "draft_keywords", &[keyword_id]).await?;
        regenerate_rsas(&tx, draft_id, ad_group_id, regenerate).await?;
        answer_edit(tx, draft_id).await
    }
}
