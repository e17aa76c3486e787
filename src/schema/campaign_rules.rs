//! Google's rules over a typed campaign draft, as pure functions: each step's warnings (what
//! that step's saved values break) and `validate`'s verdict (the same rules as errors, the
//! draft-wide ones added, and advice). Lengths count characters, not bytes. Limits: Google Ads
//! help and API reference (see docs/api.md).

use super::{
    AdGroup, AdText, CampaignDraft, DraftValidationError, Extensions, Nullable, StepWarning,
};

pub const MIN_HEADLINES: usize = 3;
pub const MAX_HEADLINES: usize = 15;
pub const MAX_HEADLINE_CHARS: usize = 30;
pub const MIN_DESCRIPTIONS: usize = 2;
pub const MAX_DESCRIPTIONS: usize = 4;
pub const MAX_DESCRIPTION_CHARS: usize = 90;
pub const MAX_PATH_CHARS: usize = 15;
pub const MAX_SITELINK_TEXT_CHARS: usize = 25;
pub const MAX_SITELINK_DESCRIPTION_CHARS: usize = 35;
pub const MAX_SITELINKS: usize = 20;
pub const MAX_CALLOUT_CHARS: usize = 25;
pub const MAX_CALLOUTS: usize = 20;
pub const MIN_SNIPPET_VALUES: usize = 3;
pub const MAX_SNIPPET_VALUES: usize = 10;
pub const MAX_SNIPPET_VALUE_CHARS: usize = 25;
pub const MAX_KEYWORD_CHARS: usize = 80;
pub const MAX_KEYWORD_WORDS: usize = 10;
pub const MAX_AD_GROUP_NAME_CHARS: usize = 255;
pub const MAX_CAMPAIGN_NAME_CHARS: usize = 255;

pub const REQUIRED: &str = "REQUIRED";
pub const INVALID_RANGE: &str = "INVALID_RANGE";
pub const TOO_LONG: &str = "TOO_LONG";
pub const TOO_FEW: &str = "TOO_FEW";
pub const TOO_MANY: &str = "TOO_MANY";
pub const INVALID_VALUE: &str = "INVALID_VALUE";

/// Collects warnings in field order.
#[derive(Default)]
struct Found(Vec<StepWarning>);

impl Found {
    fn add(&mut self, path: impl Into<String>, code: &str, message: impl Into<String>) {
        self.0.push(StepWarning {
            path: path.into(),
            code: code.into(),
            message: message.into(),
        });
    }

    fn required(&mut self, path: impl Into<String>, what: &str) {
        self.add(path, REQUIRED, format!("{what} is required"));
    }

    /// Text of at most `max` characters, not blank when `required`.
    fn text(&mut self, path: String, value: &str, max: usize, required: bool, what: &str) {
        let chars = value.chars().count();
        if required && value.trim().is_empty() {
            self.required(path, what);
        } else if chars > max {
            self.add(
                path,
                TOO_LONG,
                format!("{what} has {chars} characters; at most {max} are allowed"),
            );
        }
    }

    fn optional_text(&mut self, path: String, value: &Nullable<String>, max: usize, what: &str) {
        if let Some(value) = &value.0 {
            self.text(path, value, max, false, what);
        }
    }

    /// A list of `min..=max` items.
    fn count(&mut self, path: String, len: usize, min: usize, max: usize, what: &str) {
        if len < min {
            self.add(
                path,
                TOO_FEW,
                format!("{len} {what}; at least {min} are required"),
            );
        } else if len > max {
            self.add(
                path,
                TOO_MANY,
                format!("{len} {what}; at most {max} are allowed"),
            );
        }
    }

    fn positive(&mut self, path: impl Into<String>, value: Option<i64>, what: &str) {
        if let Some(value) = value.filter(|value| *value <= 0) {
            self.add(
                path,
                INVALID_RANGE,
                format!("{what} must be greater than 0 (got {value})"),
            );
        }
    }
}

/// Step 1: what the campaign settings break.
pub fn settings_warnings(draft: &CampaignDraft) -> Vec<StepWarning> {
    let mut found = Found::default();
    match &draft.campaign_name.0 {
        None => found.required("campaign_name", "The campaign name"),
        Some(name) => found.text(
            "campaign_name".into(),
            name,
            MAX_CAMPAIGN_NAME_CHARS,
            true,
            "The campaign name",
        ),
    }
    if draft.website_url.0.is_none() {
        found.required("website_url", "The website URL");
    }
    match draft.daily_budget_micros.0 {
        None => found.required("daily_budget_micros", "A daily budget"),
        budget => found.positive("daily_budget_micros", budget, "The daily budget"),
    }
    if let Some(bidding) = &draft.bidding_strategy.0 {
        found.positive(
            "bidding_strategy.target_cpa_micros",
            bidding.target_cpa_micros.0,
            "The target CPA",
        );
        found.positive(
            "bidding_strategy.max_cpc_bid_ceiling_micros",
            bidding.max_cpc_bid_ceiling_micros.0,
            "The maximum CPC bid",
        );
        if let Some(roas) = bidding.target_roas.0.filter(|roas| *roas <= 0.0) {
            found.add(
                "bidding_strategy.target_roas",
                INVALID_RANGE,
                format!("The target ROAS must be greater than 0 (got {roas})"),
            );
        }
    }
    if let (Some(start), Some(end)) = (&draft.start_date.0, &draft.end_date.0) {
        if end.0 < start.0 {
            found.add(
                "end_date",
                INVALID_RANGE,
                "The end date is before the start date",
            );
        }
    }
    if let Some(schedule) = &draft.ad_schedule.0 {
        for (n, entry) in schedule.schedule_entries.iter().enumerate() {
            let path = |field: &str| format!("ad_schedule.schedule_entries[{n}].{field}");
            if !(0..=23).contains(&entry.start_hour) {
                found.add(path("start_hour"), INVALID_RANGE, "Hours run from 0 to 23");
            }
            if !(0..=24).contains(&entry.end_hour) {
                found.add(path("end_hour"), INVALID_RANGE, "Hours run from 0 to 24");
            }
            for (field, minute) in [
                ("start_minute", entry.start_minute.0),
                ("end_minute", entry.end_minute.0),
            ] {
                if minute.is_some_and(|minute| ![0, 15, 30, 45].contains(&minute)) {
                    found.add(path(field), INVALID_RANGE, "Minutes are 0, 15, 30 or 45");
                }
            }
        }
    }
    found.0
}

/// Step 2: what the ad groups and keywords break.
pub fn ad_group_warnings(draft: &CampaignDraft) -> Vec<StepWarning> {
    let mut found = Found::default();
    if draft.ad_groups.is_empty() {
        found.add("ad_groups", TOO_FEW, "At least one ad group is required");
    }
    for (g, group) in draft.ad_groups.iter().enumerate() {
        found.text(
            format!("ad_groups[{g}].name"),
            &group.name,
            MAX_AD_GROUP_NAME_CHARS,
            true,
            "The ad group name",
        );
        found.positive(
            format!("ad_groups[{g}].cpc_bid_micros"),
            group.cpc_bid_micros.0,
            "The bid",
        );
        if group.keywords.is_empty() {
            found.add(
                format!("ad_groups[{g}].keywords"),
                TOO_FEW,
                "An ad group needs at least one keyword",
            );
        }
        for (k, keyword) in group.keywords.iter().enumerate() {
            let path = |field: &str| format!("ad_groups[{g}].keywords[{k}].{field}");
            found.text(
                path("text"),
                &keyword.text,
                MAX_KEYWORD_CHARS,
                true,
                "The keyword",
            );
            let words = keyword.text.split_whitespace().count();
            if words > MAX_KEYWORD_WORDS {
                found.add(
                    path("text"),
                    TOO_MANY,
                    format!(
                        "The keyword has {words} words; at most {MAX_KEYWORD_WORDS} are allowed"
                    ),
                );
            }
            found.positive(path("cpc_bid_micros"), keyword.cpc_bid_micros.0, "The bid");
        }
    }
    found.0
}

fn ad_texts(
    found: &mut Found,
    path: &str,
    texts: &[AdText],
    (min, max, max_chars, max_pin): (usize, usize, usize, i64),
    what: &str,
) {
    found.count(path.to_string(), texts.len(), min, max, what);
    for (n, text) in texts.iter().enumerate() {
        found.text(
            format!("{path}[{n}].text"),
            &text.text,
            max_chars,
            true,
            "The text",
        );
        if let Some(pin) = text
            .pinned_position
            .0
            .filter(|pin| !(1..=max_pin).contains(pin))
        {
            found.add(
                format!("{path}[{n}].pinned_position"),
                INVALID_RANGE,
                format!("Pinned positions run from 1 to {max_pin} (got {pin})"),
            );
        }
    }
}

fn rsa_warnings(found: &mut Found, g: usize, group: &AdGroup) {
    if group.rsas.is_empty() {
        found.add(
            format!("ad_groups[{g}].rsas"),
            TOO_FEW,
            "An ad group needs at least one responsive search ad",
        );
    }
    for (r, rsa) in group.rsas.iter().enumerate() {
        let path = format!("ad_groups[{g}].rsas[{r}]");
        ad_texts(
            found,
            &format!("{path}.headlines"),
            &rsa.headlines,
            (MIN_HEADLINES, MAX_HEADLINES, MAX_HEADLINE_CHARS, 3),
            "headlines",
        );
        ad_texts(
            found,
            &format!("{path}.descriptions"),
            &rsa.descriptions,
            (MIN_DESCRIPTIONS, MAX_DESCRIPTIONS, MAX_DESCRIPTION_CHARS, 2),
            "descriptions",
        );
        found.optional_text(
            format!("{path}.path1"),
            &rsa.path1,
            MAX_PATH_CHARS,
            "Path 1",
        );
        found.optional_text(
            format!("{path}.path2"),
            &rsa.path2,
            MAX_PATH_CHARS,
            "Path 2",
        );
        if rsa.path2.0.is_some() && rsa.path1.0.is_none() {
            found.add(
                format!("{path}.path1"),
                REQUIRED,
                "Path 2 can only be used with path 1",
            );
        }
    }
}

/// Step 3: what the responsive search ads break.
pub fn ads_warnings(draft: &CampaignDraft) -> Vec<StepWarning> {
    let mut found = Found::default();
    for (g, group) in draft.ad_groups.iter().enumerate() {
        rsa_warnings(&mut found, g, group);
    }
    found.0
}

/// Step 4: what the extensions break.
pub fn extension_warnings(draft: &CampaignDraft) -> Vec<StepWarning> {
    let mut found = Found::default();
    let Extensions {
        sitelinks,
        callouts,
        phone,
        structured_snippets,
    } = &draft.extensions;
    found.count(
        "extensions.sitelinks".into(),
        sitelinks.len(),
        0,
        MAX_SITELINKS,
        "sitelinks",
    );
    for (n, sitelink) in sitelinks.iter().enumerate() {
        let path = |field: &str| format!("extensions.sitelinks[{n}].{field}");
        found.text(
            path("link_text"),
            &sitelink.link_text,
            MAX_SITELINK_TEXT_CHARS,
            true,
            "The link text",
        );
        found.optional_text(
            path("description_1"),
            &sitelink.description_1,
            MAX_SITELINK_DESCRIPTION_CHARS,
            "Description line 1",
        );
        found.optional_text(
            path("description_2"),
            &sitelink.description_2,
            MAX_SITELINK_DESCRIPTION_CHARS,
            "Description line 2",
        );
    }
    found.count(
        "extensions.callouts".into(),
        callouts.len(),
        0,
        MAX_CALLOUTS,
        "callouts",
    );
    for (n, callout) in callouts.iter().enumerate() {
        found.text(
            format!("extensions.callouts[{n}].callout_text"),
            &callout.callout_text,
            MAX_CALLOUT_CHARS,
            true,
            "The callout",
        );
    }
    if let Some(phone) = &phone.0 {
        if phone.phone_number.trim().is_empty() {
            found.required("extensions.phone.phone_number", "The phone number");
        }
    }
    for (n, snippet) in structured_snippets.iter().enumerate() {
        let path = format!("extensions.structured_snippets[{n}]");
        if snippet.header.trim().is_empty() {
            found.required(format!("{path}.header"), "The header");
        }
        found.count(
            format!("{path}.values"),
            snippet.values.len(),
            MIN_SNIPPET_VALUES,
            MAX_SNIPPET_VALUES,
            "values",
        );
        for (v, value) in snippet.values.iter().enumerate() {
            found.text(
                format!("{path}.values[{v}]"),
                value,
                MAX_SNIPPET_VALUE_CHARS,
                true,
                "The value",
            );
        }
    }
    found.0
}

/// `validate`'s verdict: every step's rules and the draft-wide ones as errors (the draft is
/// valid when there is none), and advice that does not stop a campaign as warnings.
pub fn validate_draft(draft: &CampaignDraft) -> (Vec<DraftValidationError>, Vec<String>) {
    let mut found = Found::default();
    found.0.extend(settings_warnings(draft));
    found.0.extend(ad_group_warnings(draft));
    found.0.extend(ads_warnings(draft));
    found.0.extend(extension_warnings(draft));
    let complete = draft
        .ad_groups
        .iter()
        .any(|group| !group.keywords.is_empty() && !group.rsas.is_empty());
    if !complete {
        found.add(
            "ad_groups",
            TOO_FEW,
            "At least one ad group with a keyword and a responsive search ad is required",
        );
    }
    if draft.website_url.0.is_none() {
        for (g, group) in draft.ad_groups.iter().enumerate() {
            for (r, rsa) in group.rsas.iter().enumerate() {
                if rsa.final_url.0.is_none() {
                    found.add(
                        format!("ad_groups[{g}].rsas[{r}].final_url"),
                        REQUIRED,
                        "A final URL is required (on the ad or as the draft's website_url)",
                    );
                }
            }
        }
    }
    let errors = found
        .0
        .into_iter()
        .map(|warning| DraftValidationError {
            field: warning.path,
            code: warning.code,
            message: warning.message,
        })
        .collect();
    (errors, advice(draft))
}

/// What Google recommends but does not require.
fn advice(draft: &CampaignDraft) -> Vec<String> {
    let mut advice = Vec::new();
    if draft.language_ids.is_empty() {
        advice.push("No language is targeted: the campaign will target every language".into());
    }
    if draft.location_targets.is_empty() {
        advice.push("No location is targeted: the campaign will target every location".into());
    }
    if draft.bidding_strategy.0.is_none() {
        advice.push("No bidding strategy is set".into());
    }
    for group in &draft.ad_groups {
        let headlines = group.rsas.iter().map(|rsa| rsa.headlines.len()).max();
        if headlines.is_some_and(|count| count < 8) {
            advice.push(format!(
                "Ad group \"{}\": Google recommends at least 8 headlines per ad",
                group.name
            ));
        }
    }
    if draft.extensions.sitelinks.len() < 2 {
        advice.push("Add at least 2 sitelinks: ads show them only from 2".into());
    }
    if draft.extensions.callouts.is_empty() {
        advice.push("No callouts: they give ads more room".into());
    }
    advice
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{
        Callout, DraftId, GenerationStatus, KeywordMatchType, ResponsiveSearchAd,
        StructuredSnippet, Timestamp,
    };
    use crate::schema::{Keyword, Sitelink};

    fn text(text: &str) -> AdText {
        AdText {
            text: text.into(),
            pinned_position: Nullable(None),
        }
    }

    fn rsa(headlines: &[&str], descriptions: &[&str]) -> ResponsiveSearchAd {
        ResponsiveSearchAd {
            id: 1,
            ad_group_id: 1,
            headlines: headlines.iter().map(|h| text(h)).collect(),
            descriptions: descriptions.iter().map(|d| text(d)).collect(),
            path1: Nullable(None),
            path2: Nullable(None),
            final_url: Nullable(None),
            status: GenerationStatus::NotStarted,
            error: Nullable(None),
        }
    }

    fn draft() -> CampaignDraft {
        CampaignDraft {
            id: DraftId(1),
            name: "Draft".into(),
            google_ads_customer_id: 1,
            date_added: Timestamp::now(),
            date_updated: Timestamp::now(),
            market_analysis_id: Nullable(None),
            campaign_name: Nullable(Some("Shoes".into())),
            website_url: Nullable(Some("https://shoes.example".into())),
            daily_budget_micros: Nullable(Some(10_000_000)),
            bidding_strategy: Nullable(None),
            default_match_type: KeywordMatchType::Broad,
            language_ids: vec![1000],
            location_targets: Vec::new(),
            network_settings: Nullable(None),
            ad_schedule: Nullable(None),
            start_date: Nullable(None),
            end_date: Nullable(None),
            conversion_goals: Vec::new(),
            extensions: Extensions::default(),
            ad_groups_task_id: Nullable(None),
            ad_groups_generation_status: GenerationStatus::NotStarted,
            ad_groups_generation_error: Nullable(None),
            extensions_task_id: Nullable(None),
            extensions_generation_status: GenerationStatus::NotStarted,
            extensions_generation_error: Nullable(None),
            is_published: false,
            published_at: Nullable(None),
            published_campaign_id: Nullable(None),
            all_rsas_generated: false,
            ad_groups: vec![AdGroup {
                id: 1,
                name: "Running shoes".into(),
                cpc_bid_micros: Nullable(None),
                keywords: vec![Keyword {
                    id: 1,
                    text: "running shoes".into(),
                    match_type: KeywordMatchType::Broad,
                    cpc_bid_micros: Nullable(None),
                    final_url: Nullable(None),
                }],
                rsas: vec![rsa(&["One", "Two", "Three"], &["First", "Second"])],
            }],
        }
    }

    fn paths(warnings: &[StepWarning]) -> Vec<(&str, &str)> {
        warnings
            .iter()
            .map(|w| (w.path.as_str(), w.code.as_str()))
            .collect()
    }

    #[test]
    fn a_complete_draft_breaks_nothing() {
        let (errors, _) = validate_draft(&draft());
        assert_eq!(errors, vec![]);
    }

    #[test]
    fn budget_is_required_and_positive() {
        let mut draft = draft();
        draft.daily_budget_micros = Nullable(None);
        assert_eq!(
            paths(&settings_warnings(&draft)),
            [("daily_budget_micros", REQUIRED)]
        );
        draft.daily_budget_micros = Nullable(Some(0));
        assert_eq!(
            paths(&settings_warnings(&draft)),
            [("daily_budget_micros", INVALID_RANGE)]
        );
    }

    #[test]
    fn headlines_count_characters_not_bytes() {
        let mut draft = draft();
        // 30 characters, 60 bytes: allowed; 31 characters: too long.
        let thirty = "é".repeat(30);
        let thirty_one = "é".repeat(31);
        draft.ad_groups[0].rsas[0] = rsa(&[&thirty, "Two", &thirty_one], &["First", "Second"]);
        assert_eq!(
            paths(&ads_warnings(&draft)),
            [("ad_groups[0].rsas[0].headlines[2].text", TOO_LONG)]
        );
    }

    #[test]
    fn rsa_counts_and_paths() {
        let mut draft = draft();
        let mut ad = rsa(&["One", "Two"], &["a", "b", "c", "d", "e"]);
        ad.path2 = Nullable(Some("sale".into()));
        draft.ad_groups[0].rsas[0] = ad;
        assert_eq!(
            paths(&ads_warnings(&draft)),
            [
                ("ad_groups[0].rsas[0].headlines", TOO_FEW),
                ("ad_groups[0].rsas[0].descriptions", TOO_MANY),
                ("ad_groups[0].rsas[0].path1", REQUIRED),
            ]
        );
    }

    #[test]
    fn extensions_limits() {
        let mut draft = draft();
        draft.extensions.sitelinks = vec![Sitelink {
            link_text: "x".repeat(26),
            final_url: Nullable(None),
            description_1: Nullable(None),
            description_2: Nullable(Some("y".repeat(36))),
            final_mobile_url: Nullable(None),
        }];
        draft.extensions.callouts = vec![Callout {
            callout_text: "z".repeat(26),
        }];
        draft.extensions.structured_snippets = vec![StructuredSnippet {
            header: "Brands".into(),
            values: vec!["a".into(), "b".repeat(26)],
        }];
        assert_eq!(
            paths(&extension_warnings(&draft)),
            [
                ("extensions.sitelinks[0].link_text", TOO_LONG),
                ("extensions.sitelinks[0].description_2", TOO_LONG),
                ("extensions.callouts[0].callout_text", TOO_LONG),
                ("extensions.structured_snippets[0].values", TOO_FEW),
                ("extensions.structured_snippets[0].values[1]", TOO_LONG),
            ]
        );
    }

    #[test]
    fn validate_needs_an_ad_group_with_a_keyword_and_an_rsa() {
        let mut draft = draft();
        draft.ad_groups[0].rsas.clear();
        let (errors, _) = validate_draft(&draft);
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["ad_groups[0].rsas", "ad_groups"]);
    }
}
