//! Reading the copy the model generates for a draft, which is not trusted: find the JSON object
//! in its message (alone, in a fenced block, or with words around it), keep the items that fit
//! Google's limits and drop the rest (an over-long headline is unusable, so it is not stored
//! for `validate` to flag), and say in our own words when nothing usable is left. Pure code.

use serde_json::{Map, Value};

use crate::schema::{AdText, Callout, Nullable, Sitelink, StructuredSnippet};
use crate::store::GeneratedExtensions;

/// Google's limits for a responsive search ad.
pub const HEADLINE_CHARS: usize = 30;
pub const HEADLINES: std::ops::RangeInclusive<usize> = 3..=15;
pub const DESCRIPTION_CHARS: usize = 90;
pub const DESCRIPTIONS: std::ops::RangeInclusive<usize> = 2..=4;
/// Google's limits for extensions.
pub const SITELINK_TEXT_CHARS: usize = 25;
pub const SITELINK_DESCRIPTION_CHARS: usize = 35;
pub const CALLOUT_CHARS: usize = 25;
pub const SNIPPET_VALUE_CHARS: usize = 25;
pub const SNIPPET_VALUES: std::ops::RangeInclusive<usize> = 3..=10;
/// Items of each extension list kept from one generation (our cap).
pub const EXTENSION_ITEMS: usize = 20;
/// A final URL longer than this is not kept (the draft's `website_url` bound).
const URL_CHARS: usize = 2083;
/// How many `{` are tried as the start of the object before giving up.
const OBJECT_STARTS: usize = 32;

/// The structured snippet headers Google accepts, as stored (upper case, underscores).
pub const SNIPPET_HEADERS: &[&str] = &[
    "AMENITIES",
    "BRANDS",
    "COURSES",
    "DEGREE_PROGRAMS",
    "DESTINATIONS",
    "FEATURED_HOTELS",
    "INSURANCE_COVERAGE",
    "MODELS",
    "NEIGHBORHOODS",
    "SERVICE_CATALOG",
    "SHOWS",
    "STYLES",
    "TYPES",
];

/// The first JSON object in the model's message: the whole message, a fenced block, or the
/// first `{` from which an object parses.
pub fn json_object(content: &str) -> Option<Map<String, Value>> {
    let as_object = |text: &str| match serde_json::from_str::<Value>(text.trim()) {
        Ok(Value::Object(object)) => Some(object),
        _ => None,
    };
    if let Some(object) = as_object(content) {
        return Some(object);
    }
    if let Some(fenced) = fenced_block(content) {
        if let Some(object) = as_object(fenced) {
            return Some(object);
        }
    }
    content
        .match_indices('{')
        .take(OBJECT_STARTS)
        .find_map(|(at, _)| {
            let mut values =
                serde_json::Deserializer::from_str(&content[at..]).into_iter::<Value>();
            match values.next() {
                Some(Ok(Value::Object(object))) => Some(object),
                _ => None,
            }
        })
}

/// The text of the first ``` block, without its language tag.
fn fenced_block(content: &str) -> Option<&str> {
    let (_, after) = content.split_once("```")?;
    let body = after.split_once('\n').map_or(after, |(tag, rest)| {
        if tag.trim().chars().all(|c| c.is_ascii_alphanumeric()) {
            rest
        } else {
            after
        }
    });
    Some(body.split_once("```").map_or(body, |(inside, _)| inside))
}

/// A trimmed, non-empty string of at most `chars` characters: a string, or an object's `key`.
fn text_of(value: &Value, key: &str, chars: usize) -> Option<String> {
    let text = match value {
        Value::String(text) => text.as_str(),
        Value::Object(object) => object.get(key)?.as_str()?,
        _ => return None,
    };
    let text = text.trim();
    (!text.is_empty() && text.chars().count() <= chars).then(|| text.to_string())
}

/// The distinct (case-blind) texts of `key`'s list that fit, at most `max`.
fn texts(
    object: &Map<String, Value>,
    key: &str,
    item_key: &str,
    chars: usize,
    max: usize,
) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    object
        .get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| text_of(item, item_key, chars))
                .filter(|text| seen.insert(text.to_lowercase()))
                .take(max)
                .collect()
        })
        .unwrap_or_default()
}

fn ad_texts(texts: Vec<String>) -> Vec<AdText> {
    texts
        .into_iter()
        .map(|text| AdText {
            text,
            pinned_position: Nullable(None),
        })
        .collect()
}

/// An RSA's headlines and descriptions, or why the answer holds none usable.
pub fn rsa_copy(content: &str) -> Result<(Vec<AdText>, Vec<AdText>), String> {
    let object = json_object(content).ok_or_else(not_an_object)?;
    let headlines = texts(
        &object,
        "headlines",
        "text",
        HEADLINE_CHARS,
        *HEADLINES.end(),
    );
    let descriptions = texts(
        &object,
        "descriptions",
        "text",
        DESCRIPTION_CHARS,
        *DESCRIPTIONS.end(),
    );
    if headlines.len() < *HEADLINES.start() || descriptions.len() < *DESCRIPTIONS.start() {
        return Err(format!(
            "The language model's answer held {} usable headlines and {} usable descriptions; \
             an RSA needs at least {} headlines of at most {HEADLINE_CHARS} characters and {} \
             descriptions of at most {DESCRIPTION_CHARS}",
            headlines.len(),
            descriptions.len(),
            HEADLINES.start(),
            DESCRIPTIONS.start(),
        ));
    }
    Ok((ad_texts(headlines), ad_texts(descriptions)))
}

fn not_an_object() -> String {
    "The language model's answer held no JSON object of the kind asked for".into()
}

fn web_url(value: Option<&Value>) -> Option<String> {
    let url = value?.as_str()?.trim();
    let web = url.starts_with("https://") || url.starts_with("http://");
    (web && url.len() > "https://".len() && url.chars().count() <= URL_CHARS).then(|| url.into())
}

fn sitelink(item: &Value, website_url: Option<&str>) -> Option<Sitelink> {
    let object = item.as_object()?;
    let link_text = text_of(object.get("link_text")?, "", SITELINK_TEXT_CHARS)?;
    let description = |key: &str| {
        object
            .get(key)
            .and_then(|value| text_of(value, "", SITELINK_DESCRIPTION_CHARS))
    };
    let final_url = web_url(object.get("final_url")).or_else(|| website_url.map(String::from));
    Some(Sitelink {
        link_text,
        final_url: Nullable(final_url),
        description_1: Nullable(description("description_1")),
        description_2: Nullable(description("description_2")),
        final_mobile_url: Nullable(None),
    })
}

fn snippet(item: &Value) -> Option<StructuredSnippet> {
    let object = item.as_object()?;
    let header = object
        .get("header")?
        .as_str()?
        .trim()
        .to_uppercase()
        .replace([' ', '-'], "_");
    let header = SNIPPET_HEADERS.iter().find(|known| **known == header)?;
    let values = texts(
        object,
        "values",
        "",
        SNIPPET_VALUE_CHARS,
        *SNIPPET_VALUES.end(),
    );
    (values.len() >= *SNIPPET_VALUES.start()).then(|| StructuredSnippet {
        header: header.to_string(),
        values,
    })
}

/// Sitelinks, callouts and structured snippets that fit Google's limits (a sitelink without a
/// usable URL gets the draft's website), or why the answer holds none.
pub fn extension_copy(
    content: &str,
    website_url: Option<&str>,
) -> Result<GeneratedExtensions, String> {
    let object = json_object(content).ok_or_else(not_an_object)?;
    let list = |key: &str| {
        object
            .get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let mut seen = std::collections::HashSet::new();
    let sitelinks: Vec<Sitelink> = list("sitelinks")
        .iter()
        .filter_map(|item| sitelink(item, website_url))
        .filter(|item| seen.insert(item.link_text.to_lowercase()))
        .take(EXTENSION_ITEMS)
        .collect();
    let callouts = texts(
        &object,
        "callouts",
        "callout_text",
        CALLOUT_CHARS,
        EXTENSION_ITEMS,
    )
    .into_iter()
    .map(|callout_text| Callout { callout_text })
    .collect::<Vec<_>>();
    let mut headers = std::collections::HashSet::new();
    let structured_snippets: Vec<StructuredSnippet> = list("structured_snippets")
        .iter()
        .filter_map(snippet)
        .filter(|item| headers.insert(item.header.clone()))
        .take(EXTENSION_ITEMS)
        .collect();
    if sitelinks.is_empty() && callouts.is_empty() && structured_snippets.is_empty() {
        return Err(format!(
            "The language model's answer held no usable extension (sitelink text of at most \
             {SITELINK_TEXT_CHARS} characters, callouts of at most {CALLOUT_CHARS}, snippets \
             with a Google header and {} to {} values of at most {SNIPPET_VALUE_CHARS})",
            SNIPPET_VALUES.start(),
            SNIPPET_VALUES.end()
        ));
    }
    Ok(GeneratedExtensions {
        sitelinks,
        callouts,
        structured_snippets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSA: &str = r#"{"headlines": ["Fresh bread daily", "Sourdough to go", "Bakery near you"],
        "descriptions": ["Baked every morning with organic flour.", "Order online, pick up."]}"#;

    #[test]
    fn the_object_is_found_alone_fenced_or_among_words() {
        assert!(json_object(RSA).is_some());
        assert!(json_object(&format!("```json\n{RSA}\n```")).is_some());
        assert!(json_object(&format!("Sure! Here it is:\n```\n{RSA}\n```\nEnjoy.")).is_some());
        assert!(json_object(&format!("Here you go {{not json}} then {RSA} bye")).is_some());
        assert!(json_object("no object at all").is_none());
        assert!(json_object("[1, 2, 3]").is_none());
    }

    #[test]
    fn over_long_and_duplicate_items_are_dropped_and_counts_trimmed() {
        let long = "x".repeat(31);
        let content = serde_json::json!({
            "headlines": (0..20).map(|n| format!("Headline {n}")).chain([long.clone()]).collect::<Vec<_>>(),
            "descriptions": ["One.", "one.", "Two.", "Three.", "Four.", "Five.", "y".repeat(91)],
            "extra": {"ignored": true}
        })
        .to_string();
        let (headlines, descriptions) = rsa_copy(&content).unwrap();
        assert_eq!(headlines.len(), 15);
        assert!(headlines.iter().all(|h| h.text.chars().count() <= 30));
        let texts: Vec<&str> = descriptions.iter().map(|d| d.text.as_str()).collect();
        assert_eq!(texts, ["One.", "Two.", "Three.", "Four."]);
    }

    #[test]
    fn too_little_usable_copy_is_an_error_in_our_words() {
        let err =
            rsa_copy(r#"{"headlines": ["Only one"], "descriptions": ["a", "b"]}"#).unwrap_err();
        assert!(err.contains("1 usable headlines"), "{err}");
        assert!(rsa_copy("I cannot help with that.").is_err());
    }

    #[test]
    fn extensions_keep_what_fits() {
        let content = serde_json::json!({
            "sitelinks": [
                {"link_text": "Our menu", "description_1": "Fresh daily", "description_2": "z".repeat(40), "final_url": "https://acme.example/menu"},
                {"link_text": "w".repeat(26)},
                {"link_text": "Contact", "final_url": "javascript:alert(1)"}
            ],
            "callouts": ["Free delivery", {"callout_text": "Open Sundays"}, "c".repeat(26), 5],
            "structured_snippets": [
                {"header": "Service catalog", "values": ["Bread", "Cakes", "Coffee"]},
                {"header": "Made up", "values": ["A", "B", "C"]},
                {"header": "BRANDS", "values": ["Only one"]}
            ]
        })
        .to_string();
        let items = extension_copy(&content, Some("https://acme.example")).unwrap();
        assert_eq!(items.sitelinks.len(), 2);
        assert_eq!(items.sitelinks[0].description_2, Nullable(None));
        assert_eq!(
            items.sitelinks[1].final_url,
            Nullable(Some("https://acme.example".into()))
        );
        assert_eq!(items.callouts.len(), 2);
        assert_eq!(items.structured_snippets.len(), 1);
        assert_eq!(items.structured_snippets[0].header, "SERVICE_CATALOG");
        assert!(extension_copy(r#"{"sitelinks": [], "callouts": []}"#, None).is_err());
    }
}
