//! The thread list's paging cursor: the position of the last thread shown, as 16 lowercase hex
//! digits. The document gives its pattern, so every cursor it accepts is one this server could
//! have made. The check is written out rather than left to poem-openapi's `pattern` validator,
//! which compiles its regular expression again on every request (a third of a deep page's time).

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromParameter, ParseResult, Type};

const DIGITS: usize = 16;
const PATTERN: &str = "^[0-9a-f]{16}$";

/// A position in the list; pages start after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(pub i64);

impl Cursor {
    pub fn encode(seq: i64) -> String {
        format!("{:0DIGITS$x}", seq.max(0))
    }
}

impl Type for Cursor {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "string(cursor)".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            pattern: Some(PATTERN.into()),
            ..MetaSchema::new("string")
        }))
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ParseFromParameter for Cursor {
    /// A position beyond every thread's (larger than any `seq`) simply starts from the newest.
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        let well_formed = value.len() == DIGITS
            && value
                .bytes()
                .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'));
        if !well_formed {
            return Err(ParseError::custom(format!(
                "a cursor is {DIGITS} lowercase hex digits, as in the previous page's Link header"
            )));
        }
        let position = u64::from_str_radix(value, 16).map_err(ParseError::custom)?;
        Ok(Cursor(i64::try_from(position).unwrap_or(i64::MAX)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_any_position_is_one() {
        assert_eq!(Cursor::encode(12345), "0000000000003039");
        let parse = |text: &str| Cursor::parse_from_parameter(text).ok();
        assert_eq!(parse(&Cursor::encode(12345)), Some(Cursor(12345)));
        assert_eq!(parse("ffffffffffffffff"), Some(Cursor(i64::MAX)));
        for bad in [
            "",
            "garbage",
            "000000000000303",
            "00000000000030390",
            "000000000000303A",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
