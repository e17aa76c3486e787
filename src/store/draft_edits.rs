//! What both backends decide alike when a campaign draft is edited: which ids a body may name
//! (and the 422 when it names another's), what a new keyword gets, whether a step-2 ad group's
//! keywords changed, and whether a step-3 item leaves an RSA as it is. Each backend reads what
//! these need and writes what they decide with its own statements.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::{StoreError, StoreResult};
use crate::schema::{
    AdGroupInput, AdGroupsPatch, AdText, AdsPatch, KeywordCreate, KeywordInput, KeywordMatchType,
    RsaInput,
};

/// The keywords of an ad group, by id: their texts.
pub(crate) type KeywordTexts = HashMap<i64, String>;

/// A 422 at `loc` (after `body`).
fn invalid(loc: &[Value], message: String) -> StoreError {
    let mut full = vec![Value::from("body")];
    full.extend_from_slice(loc);
    StoreError::Invalid { loc: full, message }
}

/// The draft's default match type as stored (NULL or unknown text is broad).
pub(crate) fn default_match_type_as_stored(stored: Option<&str>) -> KeywordMatchType {
    stored
        .and_then(KeywordMatchType::parse)
        .unwrap_or(KeywordMatchType::Broad)
}

/// A new keyword of an ad group.
pub(crate) struct NewKeyword<'a> {
    pub text: &'a str,
    pub match_type: KeywordMatchType,
    pub cpc_bid_micros: Option<i64>,
    pub final_url: Option<&'a str>,
}

impl<'a> NewKeyword<'a> {
    /// A keyword of the ad-group and keyword routes; `default` is the draft's match type.
    pub fn created(new: &'a KeywordCreate, default: KeywordMatchType) -> Self {
        NewKeyword {
            text: &new.text,
            match_type: new.match_type.unwrap_or(default),
            cpc_bid_micros: new.cpc_bid_micros.0,
            final_url: new.final_url.0.as_deref(),
        }
    }

    /// A keyword of a step-2 body without an id.
    pub fn listed(keyword: &'a KeywordInput, default: KeywordMatchType) -> Self {
        NewKeyword {
            text: &keyword.text,
            match_type: keyword.match_type.unwrap_or(default),
            cpc_bid_micros: keyword.cpc_bid_micros.new_value().copied(),
            final_url: keyword.final_url.new_value().map(String::as_str),
        }
    }
}

/// Checks that every `id` of a step-2 body is one of the draft's ad groups (`existing`: id and
/// name) or of its ad group's keywords (`stored`: each ad group's), each once; answers the
/// stored keywords of each body ad group (none for a new one).
pub(crate) fn check_ad_group_ids(
    patch: &AdGroupsPatch,
    existing: &HashMap<i64, String>,
    mut stored: HashMap<i64, KeywordTexts>,
) -> StoreResult<Vec<KeywordTexts>> {
    let mut seen_groups = HashSet::new();
    let mut seen_keywords = HashSet::new();
    let mut listed = Vec::with_capacity(patch.ad_groups.len());
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
                stored.remove(&id).unwrap_or_default()
            }
            None => KeywordTexts::new(),
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
        listed.push(group_keywords);
    }
    Ok(listed)
}

/// The stored ids a list leaves out (`kept` are the ids it names): what it deletes.
pub(crate) fn left_out<'a>(
    stored: impl IntoIterator<Item = &'a i64>,
    kept: impl IntoIterator<Item = Option<i64>>,
) -> Vec<i64> {
    let kept: HashSet<i64> = kept.into_iter().flatten().collect();
    stored
        .into_iter()
        .filter(|id| !kept.contains(id))
        .copied()
        .collect()
}

/// Whether step 2 rewrites an ad group's keywords (`old` as stored): a text changed, or a
/// keyword was added or removed. Such an ad group's RSAs are refreshed.
pub(crate) fn keywords_rewritten(group: &AdGroupInput, old: &KeywordTexts) -> bool {
    let kept = group.keywords.iter().filter(|k| k.id.is_some()).count();
    kept < old.len()
        || group.keywords.iter().any(|keyword| match keyword.id {
            Some(id) => old.get(&id) != Some(&keyword.text),
            None => true,
        })
}

/// Whether step 2 asks for an ad group's RSAs to be refreshed: renamed (a new one with
/// keywords counts as renamed: it needs RSAs), or its keywords rewritten.
pub(crate) fn ad_group_changed(
    group: &AdGroupInput,
    existing: &HashMap<i64, String>,
    old_keywords: &KeywordTexts,
) -> bool {
    match group.id {
        None => !group.keywords.is_empty(),
        Some(id) => {
            existing.get(&id) != Some(&group.name) || keywords_rewritten(group, old_keywords)
        }
    }
}

/// Checks that every RSA of a step-3 body names an ad group of the draft (`groups`), and every
/// `id` one of that ad group's RSAs (`rsa_groups`: the draft's RSAs and their ad groups), each
/// once.
pub(crate) fn check_rsa_ids(
    patch: &AdsPatch,
    groups: &HashMap<i64, String>,
    rsa_groups: &HashMap<i64, i64>,
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
        if rsa_groups.get(&id) != Some(&rsa.ad_group_id) {
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

/// The draft's RSAs (`rsa_groups`: id and ad group) a step-3 body deletes: those of an ad group
/// it names that it leaves out. Other ad groups' RSAs are left alone.
pub(crate) fn left_out_rsas(patch: &AdsPatch, rsa_groups: &HashMap<i64, i64>) -> Vec<i64> {
    let mut kept: HashMap<i64, HashSet<i64>> = HashMap::new();
    for rsa in &patch.rsas {
        kept.entry(rsa.ad_group_id).or_default().extend(rsa.id);
    }
    rsa_groups
        .iter()
        .filter(|(id, group)| kept.get(group).is_some_and(|ids| !ids.contains(id)))
        .map(|(id, _)| *id)
        .collect()
}

/// Each step-3 item with its position in its ad group, in the body's order.
pub(crate) fn positioned_rsas(patch: &AdsPatch) -> Vec<(&RsaInput, i64)> {
    let mut positions: HashMap<i64, i64> = HashMap::new();
    patch
        .rsas
        .iter()
        .map(|rsa| {
            let position = positions.entry(rsa.ad_group_id).or_insert(0);
            let at = *position;
            *position += 1;
            (rsa, at)
        })
        .collect()
}

/// What a person writes of an RSA: headlines, descriptions, path1, path2, final URL.
#[derive(PartialEq)]
pub(crate) struct RsaContent {
    pub headlines: Vec<AdText>,
    pub descriptions: Vec<AdText>,
    pub path1: Option<String>,
    pub path2: Option<String>,
    pub final_url: Option<String>,
}

impl RsaContent {
    pub fn sent(rsa: &RsaInput) -> Self {
        RsaContent {
            headlines: rsa.headlines.clone(),
            descriptions: rsa.descriptions.clone(),
            path1: rsa.path1.0.clone(),
            path2: rsa.path2.0.clone(),
            final_url: rsa.final_url.0.clone(),
        }
    }

    /// The stored columns, the texts still JSON.
    pub fn stored(
        headlines: &str,
        descriptions: &str,
        path1: Option<String>,
        path2: Option<String>,
        final_url: Option<String>,
    ) -> StoreResult<Self> {
        Ok(RsaContent {
            headlines: serde_json::from_str(headlines)?,
            descriptions: serde_json::from_str(descriptions)?,
            path1,
            path2,
            final_url,
        })
    }

    /// Headlines and descriptions as their columns' JSON.
    pub fn texts_json(&self) -> StoreResult<(String, String)> {
        Ok((
            serde_json::to_string(&self.headlines)?,
            serde_json::to_string(&self.descriptions)?,
        ))
    }
}

/// Whether a step-3 item (`sent`) leaves a stored RSA as it is: sent back unchanged, or sent
/// without any headline or description for an RSA whose copy is the generator's (generated, or
/// waiting to be, and not since written by a person). The second is what a client sends back
/// for an RSA it loaded before its copy arrived; taken as a person's edit, it would throw the
/// generated copy away.
pub(crate) fn leaves_as_is(stored: &RsaContent, generator_owns: bool, sent: &RsaContent) -> bool {
    let blank = sent.headlines.is_empty() && sent.descriptions.is_empty();
    stored == sent || (blank && generator_owns)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(keywords: serde_json::Value) -> AdGroupInput {
        serde_json::from_value(serde_json::json!({"id": 1, "name": "Bread", "keywords": keywords}))
            .unwrap()
    }

    #[test]
    fn only_a_new_removed_or_retexted_keyword_rewrites_an_ad_group() {
        let old = KeywordTexts::from([(1, "rye".to_string()), (2, "spelt".to_string())]);
        let reordered = group(serde_json::json!([
            {"id": 2, "text": "spelt", "match_type": "EXACT"}, {"id": 1, "text": "rye"}]));
        assert!(!keywords_rewritten(&reordered, &old));
        for changed in [
            serde_json::json!([{"id": 1, "text": "rye"}]),
            serde_json::json!([{"id": 1, "text": "rye"}, {"id": 2, "text": "oat"}]),
            serde_json::json!([{"id": 1, "text": "rye"}, {"id": 2, "text": "spelt"},
                               {"text": "oat"}]),
        ] {
            assert!(
                keywords_rewritten(&group(changed.clone()), &old),
                "{changed}"
            );
        }
    }
}
