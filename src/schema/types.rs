//! Field types that poem-openapi lacks: a nullable value, a change's field (`Patch`), an RFC
//! 3339 timestamp kept as text, a web link,
//! and a JSON object kept as its raw text so `extra_data` is never re-parsed on the way out;
//! and `ObjectOnly`, for structs that must come from JSON objects.

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde::de::{Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

/// A field that is always sent, as `null` when empty (FastAPI's `T | None`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Nullable<T>(pub Option<T>);

// Not derived: the derive would ask `T: Default`, which an empty value never needs.
impl<T> Default for Nullable<T> {
    fn default() -> Self {
        Nullable(None)
    }
}

impl<T> From<Option<T>> for Nullable<T> {
    fn from(value: Option<T>) -> Self {
        Nullable(value)
    }
}

impl<T: Type> Type for Nullable<T> {
    const IS_REQUIRED: bool = false;
    type RawValueType = T::RawValueType;
    type RawElementValueType = T::RawElementValueType;

    fn name() -> Cow<'static, str> {
        format!("nullable_{}", T::name()).into()
    }

    fn schema_ref() -> MetaSchemaRef {
        match T::schema_ref() {
            MetaSchemaRef::Inline(schema) => MetaSchemaRef::Inline(Box::new(MetaSchema {
                nullable: true,
                ..*schema
            })),
            reference @ MetaSchemaRef::Reference(_) => {
                MetaSchemaRef::Inline(Box::new(MetaSchema {
                    nullable: true,
                    all_of: vec![reference],
                    ..MetaSchema::ANY
                }))
            }
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        self.0.as_ref().and_then(Type::as_raw_value)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        match &self.0 {
            Some(value) => value.raw_element_iter(),
            None => Box::new(std::iter::empty()),
        }
    }

    fn is_none(&self) -> bool {
        self.0.is_none()
    }
}

impl<T: ParseFromJSON> ParseFromJSON for Nullable<T> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        Option::<T>::parse_from_json(value)
            .map(Nullable)
            .map_err(ParseError::propagate)
    }
}

impl<T: ToJSON> ToJSON for Nullable<T> {
    fn to_json(&self) -> Option<Value> {
        Some(
            self.0
                .as_ref()
                .and_then(ToJSON::to_json)
                .unwrap_or(Value::Null),
        )
    }
}

/// A field of a change (PATCH): absent keeps the stored value, `null` clears it, a value
/// replaces it. Use it with `#[serde(default)]`; the document shows it as an optional nullable
/// field, as `Nullable<T>` outside `Option`.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T> Patch<T> {
    pub fn is_keep(&self) -> bool {
        matches!(self, Patch::Keep)
    }

    /// The value it sets, if it sets one.
    pub fn new_value(&self) -> Option<&T> {
        match self {
            Patch::Set(value) => Some(value),
            Patch::Keep | Patch::Clear => None,
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Patch<U> {
        match self {
            Patch::Keep => Patch::Keep,
            Patch::Clear => Patch::Clear,
            Patch::Set(value) => Patch::Set(f(value)),
        }
    }
}

/// Called only for a field that is present (`#[serde(default)]` makes an absent one `Keep`).
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            Some(value) => Patch::Set(value),
            None => Patch::Clear,
        })
    }
}

impl<T: Type> Type for Patch<T> {
    const IS_REQUIRED: bool = false;
    type RawValueType = T::RawValueType;
    type RawElementValueType = T::RawElementValueType;

    fn name() -> Cow<'static, str> {
        Nullable::<T>::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        Nullable::<T>::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        self.new_value().and_then(Type::as_raw_value)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        match self.new_value() {
            Some(value) => value.raw_element_iter(),
            None => Box::new(std::iter::empty()),
        }
    }

    fn is_none(&self) -> bool {
        self.is_keep()
    }
}

impl<T: ParseFromJSON> ParseFromJSON for Patch<T> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            None => Ok(Patch::Keep),
            Some(Value::Null) => Ok(Patch::Clear),
            value => T::parse_from_json(value)
                .map(Patch::Set)
                .map_err(ParseError::propagate),
        }
    }
}

impl<T: ToJSON> ToJSON for Patch<T> {
    fn to_json(&self) -> Option<Value> {
        match self {
            Patch::Keep => None,
            Patch::Clear => Some(Value::Null),
            Patch::Set(value) => value.to_json(),
        }
    }
}

/// poem-openapi's view of a type sent as one JSON string of a documented format: its name and
/// schema, reading with `parse` (None: not of this type) and writing with `text`.
macro_rules! text_type {
    ($type:ident, $name:literal, $schema:expr, $parse:expr, $text:expr) => {
        impl Type for $type {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> Cow<'static, str> {
                $name.into()
            }

            fn schema_ref() -> MetaSchemaRef {
                MetaSchemaRef::Inline(Box::new($schema))
            }

            fn as_raw_value(&self) -> Option<&Self> {
                Some(self)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
                Box::new(std::iter::once(self))
            }
        }

        impl ParseFromJSON for $type {
            fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
                let parse: fn(String) -> Option<$type> = $parse;
                match value {
                    Some(Value::String(text)) => parse(text.clone())
                        .ok_or_else(|| ParseError::expected_type(Value::String(text))),
                    other => Err(ParseError::expected_type(other.unwrap_or_default())),
                }
            }
        }

        impl ToJSON for $type {
            fn to_json(&self) -> Option<Value> {
                let text: fn(&$type) -> String = $text;
                Some(Value::String(text(self)))
            }
        }
    };
}

/// An RFC 3339 UTC date-time such as `2023-11-07T05:31:56.123456Z`, stored and sent as text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub String);

impl Timestamp {
    pub fn now() -> Self {
        Timestamp(
            chrono::Utc::now()
                .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                .to_string(),
        )
    }
}

text_type!(
    Timestamp,
    "string_date-time",
    MetaSchema::new_with_format("string", "date-time"),
    |text| chrono::DateTime::parse_from_rfc3339(&text)
        .is_ok()
        .then_some(Timestamp(text)),
    |timestamp| timestamp.0.clone()
);

/// A calendar date, `YYYY-MM-DD` exactly (documented as `format: date`, which poem-openapi's
/// own `NaiveDate` does not say).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Date(pub chrono::NaiveDate);

impl Date {
    pub fn parse(text: &str) -> Option<Date> {
        (text.len() == 10)
            .then(|| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
            .flatten()
            .map(Date)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Date::parse(&text).ok_or_else(|| {
            serde::de::Error::custom("Input should be a valid date in the format YYYY-MM-DD")
        })
    }
}

text_type!(
    Date,
    "string_date",
    MetaSchema::new_with_format("string", "date"),
    |text| Date::parse(&text),
    |date| date.0.to_string()
);

/// A URL a page renders as a link: absolute http(s) with a host (`rules::check_link_url`),
/// documented as `format: uri` with the same bounds, and refused at reading otherwise.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct WebUrl(pub String);

impl<'de> Deserialize<'de> for WebUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match super::rules::check_link_url("url", &text) {
            Some(problem) => Err(serde::de::Error::custom(problem.message)),
            None => Ok(WebUrl(text)),
        }
    }
}

text_type!(
    WebUrl,
    "string_uri",
    MetaSchema {
        max_length: Some(super::rules::MAX_LINK_URL_CHARS),
        pattern: Some(WEB_URL_PATTERN.into()),
        ..MetaSchema::new_with_format("string", "uri")
    },
    |text| super::rules::check_link_url("url", &text)
        .is_none()
        .then_some(WebUrl(text)),
    |url| url.0.clone()
);

/// What the document promises of a `WebUrl`'s start; the parser checks the rest.
const WEB_URL_PATTERN: &str = "^[Hh][Tt][Tt][Pp][Ss]?://";

/// A JSON object, kept as the exact text the client sent.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct JsonObject(pub Box<RawValue>);

/// How deeply `extra_data` and other free-form objects may nest.
pub const MAX_JSON_DEPTH: usize = 32;

impl JsonObject {
    pub fn empty() -> Self {
        JsonObject(RawValue::from_string("{}".into()).expect("literal JSON"))
    }

    /// Trusts text that came out of our own database, where a CHECK keeps it valid.
    pub fn from_stored(text: String) -> Self {
        RawValue::from_string(text)
            .map(JsonObject)
            .unwrap_or_else(|_| Self::empty())
    }

    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    pub fn to_value(&self) -> Value {
        serde_json::from_str(self.0.get()).unwrap_or(Value::Null)
    }

    pub fn from_value(value: &Value) -> Self {
        Self::from_stored(value.to_string())
    }
}

impl PartialEq for JsonObject {
    fn eq(&self, other: &Self) -> bool {
        self.to_value() == other.to_value()
    }
}

impl<'de> Deserialize<'de> for JsonObject {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        if !raw.get().trim_start().starts_with('{') {
            return Err(serde::de::Error::custom(
                "Input should be a valid dictionary",
            ));
        }
        if nesting_depth(raw.get()) > MAX_JSON_DEPTH {
            return Err(serde::de::Error::custom(format!(
                "Objects and arrays may nest at most {MAX_JSON_DEPTH} levels deep"
            )));
        }
        Ok(JsonObject(raw))
    }
}

/// Deepest bracket nesting of valid JSON text, skipping brackets inside strings.
fn nesting_depth(json: &str) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for byte in json.bytes() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

impl Type for JsonObject {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "object".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            additional_properties: Some(Box::new(MetaSchemaRef::Inline(Box::new(MetaSchema::ANY)))),
            ..MetaSchema::new("object")
        }))
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl ParseFromJSON for JsonObject {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(value @ Value::Object(_)) => Ok(Self::from_value(&value)),
            other => Err(ParseError::expected_type(other.unwrap_or_default())),
        }
    }
}

impl ToJSON for JsonObject {
    fn to_json(&self) -> Option<Value> {
        Some(self.to_value())
    }
}

/// Reads a struct from a JSON object only. serde's derive also fills a struct from an array,
/// field by field (`[null, "FR", ...]`); the document promises an object. Use it through
/// `#[serde(remote = "Self")]` and a `Deserialize` impl that wraps the deserializer in it.
pub struct ObjectOnly<D>(pub D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for ObjectOnly<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_map(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}

/// Reads an enum from its text, so that a value of the wrong type is reported as such (serde's
/// derive makes serde_json report a number where a variant belongs as a syntax error).
pub(super) fn enum_from_text<'de, D, T>(
    deserializer: D,
    parse: fn(&str) -> Option<T>,
    names: &'static [&'static str],
) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let text = String::deserialize(deserializer)?;
    parse(&text).ok_or_else(|| serde::de::Error::unknown_variant(&text, names))
}

/// For an `Option<T>` field that may be left out (`None`, with `#[serde(default)]`) but not sent
/// as `null`: `null` is refused as `T` refuses it. A field that `null` clears is a `Patch`.
pub(super) fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_tells_absent_from_null() {
        #[derive(Deserialize)]
        struct Change {
            #[serde(default)]
            name: Patch<String>,
        }
        let read = |json: &str| serde_json::from_str::<Change>(json).unwrap().name;
        assert_eq!(read("{}"), Patch::Keep);
        assert_eq!(read(r#"{"name":null}"#), Patch::Clear);
        assert_eq!(read(r#"{"name":"x"}"#), Patch::Set("x".to_string()));
        assert!(serde_json::from_str::<Change>(r#"{"name":1}"#).is_err());
    }

    #[test]
    fn depth_ignores_brackets_in_strings() {
        assert_eq!(nesting_depth(r#"{"a":"[[[{{{\"]]"}"#), 1);
        assert_eq!(nesting_depth(r#"{"a":[{"b":[]}]}"#), 4);
    }

    #[test]
    fn only_objects_are_accepted() {
        assert!(serde_json::from_str::<JsonObject>("[1]").is_err());
        assert!(serde_json::from_str::<JsonObject>(" {\"k\": 1}").is_ok());
        let deep = format!(
            "{}{}",
            "{\"a\":".repeat(40),
            "1".to_string() + &"}".repeat(40)
        );
        assert!(serde_json::from_str::<JsonObject>(&deep).is_err());
    }
}
