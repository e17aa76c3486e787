//! What makes a request body acceptable: each body type checks itself (`Validate`, run by the
//! body extractor after serde has read it), with the rules shared here for the API (422s naming
//! the field) and the command line. The document states the same bounds in each type's
//! `#[oai(validator(...))]` attributes, which poem-openapi cannot read from constants; the test
//! `document_states_the_enforced_bounds` keeps both in step.

use std::ops::RangeInclusive;

pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest chat message accepted, in characters.
pub const MAX_MESSAGE_CHARS: usize = 32_000;
/// Longest assistant instructions accepted, in characters.
pub const MAX_INSTRUCTIONS_CHARS: usize = 32_000;
/// Longest company name and Business location id, in characters.
pub const MAX_LABEL_CHARS: usize = 200;
pub const PHONE_NUMBER_CHARS: RangeInclusive<usize> = 9..=15;
pub const MAX_NAME_CHARS: usize = 200;
/// RFC 5321's limit on a forward path, less its angle brackets.
pub const MAX_EMAIL_CHARS: usize = 254;

/// What is wrong with one field, in the words and kinds FastAPI (pydantic) uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: &'static str,
    pub message: String,
    pub kind: &'static str,
}

impl FieldProblem {
    pub fn new(field: &'static str, message: impl Into<String>, kind: &'static str) -> Self {
        FieldProblem {
            field,
            message: message.into(),
            kind,
        }
    }

    pub fn missing(field: &'static str) -> Self {
        FieldProblem::new(field, "Field required", "missing")
    }
}

/// A request body that knows its own rules beyond its shape (lengths, bounds, agreements
/// between fields): everything wrong with it, in field order; empty when it is acceptable.
pub trait Validate {
    fn validate(&self) -> Vec<FieldProblem> {
        Vec::new()
    }
}

/// `local@domain`: one `@`, neither side empty, no spaces or control characters, a domain of
/// non-empty dot-separated labels. `user@localhost` is accepted: a self-hosted install may
/// live on a private network.
pub fn check_email(email: &str) -> Option<FieldProblem> {
    let invalid = |reason: &str| {
        Some(FieldProblem::new(
            "email",
            format!("value is not a valid email address: {reason}"),
            "value_error",
        ))
    };
    if email.chars().count() > MAX_EMAIL_CHARS {
        return invalid("it has more than 254 characters");
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return invalid("it contains a space or a control character");
    }
    let Some((local, domain)) = email.split_once('@') else {
        return invalid("it must have an @-sign");
    };
    if domain.contains('@') {
        return invalid("it must have exactly one @-sign");
    }
    if local.is_empty() {
        return invalid("there must be something before the @-sign");
    }
    if domain.split('.').any(str::is_empty) {
        return invalid("the part after the @-sign is not a valid domain name");
    }
    None
}

pub fn check_password(field: &'static str, password: &str) -> Option<FieldProblem> {
    (password.chars().count() < MIN_PASSWORD_CHARS).then(|| {
        FieldProblem::new(
            field,
            format!("String should have at least {MIN_PASSWORD_CHARS} characters"),
            "string_too_short",
        )
    })
}

pub fn check_confirmation(password: &str, confirmation: &str) -> Option<FieldProblem> {
    (password != confirmation)
        .then(|| FieldProblem::new("password_confirm", "Passwords do not match", "value_error"))
}

/// Everything wrong with a new account, in the order the fields are read: email, password, its
/// confirmation (when the form has one), then the profile.
pub fn new_account_problems(
    email: &str,
    password: &str,
    confirmation: Option<&str>,
    profile: &super::UserProfile,
) -> Vec<FieldProblem> {
    check_email(email)
        .into_iter()
        .chain(check_password("password", password))
        .chain(confirmation.and_then(|confirmation| check_confirmation(password, confirmation)))
        .chain(profile.problems())
        .collect()
}

/// `first_name` and `last_name`: at most 200 characters; `phone_number`: 9 to 15.
pub fn check_profile_field(field: &'static str, value: &str) -> Option<FieldProblem> {
    let allowed = match field {
        "phone_number" => PHONE_NUMBER_CHARS,
        _ => 0..=MAX_NAME_CHARS,
    };
    check_chars(field, value, allowed)
}

/// A string of `allowed` characters, in pydantic's words.
pub fn check_chars(
    field: &'static str,
    value: &str,
    allowed: RangeInclusive<usize>,
) -> Option<FieldProblem> {
    let length = value.chars().count();
    if length < *allowed.start() {
        Some(FieldProblem::new(
            field,
            format!("String should have at least {} characters", allowed.start()),
            "string_too_short",
        ))
    } else if length > *allowed.end() {
        Some(FieldProblem::new(
            field,
            format!("String should have at most {} characters", allowed.end()),
            "string_too_long",
        ))
    } else {
        None
    }
}

/// A company name or a location id: 1 to 200 characters, kept exactly as sent; `example`
/// ends the message (`", such as locations/123"`).
pub fn check_label(field: &'static str, value: &str, example: &str) -> Option<FieldProblem> {
    let length = value.chars().count();
    (length == 0 || length > MAX_LABEL_CHARS).then(|| {
        FieldProblem::new(
            field,
            format!("The {field} must have 1 to {MAX_LABEL_CHARS} characters{example}"),
            // As it always was, too long included.
            "string_too_short",
        )
    })
}

/// pydantic's `HttpUrl` limit, so a client written for the published API sees the same bound.
pub const MAX_LINK_URL_CHARS: usize = 2083;

/// A URL the server stores and a page renders as a link (`maps_uri`): absolute http(s) with a
/// host, so a stored value can never become a `javascript:` or `data:` link on someone's screen.
pub fn check_link_url(field: &'static str, value: &str) -> Option<FieldProblem> {
    if value.chars().count() > MAX_LINK_URL_CHARS {
        return Some(FieldProblem::new(
            field,
            format!("URL should have at most {MAX_LINK_URL_CHARS} characters"),
            "url_too_long",
        ));
    }
    let parsed = match url::Url::parse(value) {
        Ok(parsed) if !value.chars().any(|c| c.is_whitespace() || c.is_control()) => parsed,
        _ => {
            return Some(FieldProblem::new(
                field,
                "Input should be a valid URL, such as https://maps.google.com/?cid=1",
                "url_parsing",
            ))
        }
    };
    if !matches!(parsed.scheme(), "http" | "https") {
        return Some(FieldProblem::new(
            field,
            "URL scheme should be 'http' or 'https'",
            "url_scheme",
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Some(FieldProblem::new(
            field,
            "URL should have a host",
            "url_parsing",
        ));
    }
    None
}

/// The problems of the profile fields that have a value, in the order given.
pub fn check_profile<'a>(
    fields: impl IntoIterator<Item = (&'static str, Option<&'a str>)>,
) -> Vec<FieldProblem> {
    fields
        .into_iter()
        .filter_map(|(field, value)| check_profile_field(field, value?))
        .collect()
}

#[cfg(test)]
mod tests {
    use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
    use poem_openapi::types::Type;

    use super::*;
    use crate::schema::{
        AssistantChatMessageCreate, AssistantUpdate, CampaignDraftCreate, CompanyCreate,
        GoogleAdsCustomerCreate, GoogleBusinessLocation, UserAdminUpdate, UserCreate, UserRegister,
        UserUpdate, DRAFT_NAME_CHARS, WEBSITE_URL_CHARS,
    };

    /// What the document says of `T`'s `field`.
    fn documented<T: Type>(field: &str) -> MetaSchema {
        let mut registry = Registry::new();
        T::register(&mut registry);
        let schema = &registry.schemas[&*T::name()];
        match schema.properties.iter().find(|(name, _)| *name == field) {
            Some((_, MetaSchemaRef::Inline(property))) => (**property).clone(),
            other => panic!("{field} of {}: {other:?}", T::name()),
        }
    }

    fn lengths<T: Type>(field: &str) -> (Option<usize>, Option<usize>) {
        let property = documented::<T>(field);
        (property.min_length, property.max_length)
    }

    /// The `#[oai(validator(...))]` attributes take only literals: this keeps them equal to the
    /// constants `Validate` enforces.
    #[test]
    fn document_states_the_enforced_bounds() {
        let label = (Some(1), Some(MAX_LABEL_CHARS));
        assert_eq!(lengths::<CompanyCreate>("name"), label);
        assert_eq!(lengths::<GoogleBusinessLocation>("id"), label);
        assert_eq!(
            documented::<GoogleAdsCustomerCreate>("id").minimum,
            Some(1.0)
        );
        assert_eq!(
            lengths::<AssistantUpdate>("instructions"),
            (Some(1), Some(MAX_INSTRUCTIONS_CHARS))
        );
        assert_eq!(
            lengths::<AssistantChatMessageCreate>("content"),
            (Some(1), Some(MAX_MESSAGE_CHARS))
        );
        let password = (Some(MIN_PASSWORD_CHARS), None);
        let name = (None, Some(MAX_NAME_CHARS));
        let phone = (
            Some(*PHONE_NUMBER_CHARS.start()),
            Some(*PHONE_NUMBER_CHARS.end()),
        );
        assert_eq!(lengths::<UserUpdate>("new_password"), password);
        assert_eq!(lengths::<UserAdminUpdate>("password"), password);
        assert_eq!(lengths::<UserRegister>("password"), password);
        assert_eq!(lengths::<UserCreate>("password"), password);
        for field in ["first_name", "last_name"] {
            assert_eq!(lengths::<UserUpdate>(field), name);
            assert_eq!(lengths::<UserRegister>(field), name);
            assert_eq!(lengths::<UserCreate>(field), name);
        }
        assert_eq!(lengths::<UserUpdate>("phone_number"), phone);
        assert_eq!(lengths::<UserRegister>("phone_number"), phone);
        assert_eq!(lengths::<UserCreate>("phone_number"), phone);
        assert_eq!(lengths::<UserRegister>("email").1, Some(MAX_EMAIL_CHARS));
        assert_eq!(lengths::<UserCreate>("email").1, Some(MAX_EMAIL_CHARS));
        let draft_name = (
            Some(*DRAFT_NAME_CHARS.start()),
            Some(*DRAFT_NAME_CHARS.end()),
        );
        assert_eq!(lengths::<CampaignDraftCreate>("name"), draft_name);
        assert_eq!(lengths::<CampaignDraftCreate>("campaign_name"), draft_name);
        assert_eq!(
            lengths::<CampaignDraftCreate>("website_url"),
            (
                Some(*WEBSITE_URL_CHARS.start()),
                Some(*WEBSITE_URL_CHARS.end())
            )
        );
    }

    #[test]
    fn link_urls_must_be_absolute_http_with_a_host() {
        for good in [
            "https://maps.google.com/?cid=123",
            "http://127.0.0.1:8080/map",
        ] {
            assert_eq!(check_link_url("maps_uri", good), None, "{good}");
        }
        for (bad, kind) in [
            ("javascript:alert(1)", "url_scheme"),
            ("data:text/html,<b>x</b>", "url_scheme"),
            ("ftp://example.com/map", "url_scheme"),
            ("/relative/path", "url_parsing"),
            ("maps.google.com", "url_parsing"),
            ("https://exa mple.com", "url_parsing"),
            ("https://example.com/\nSet-Cookie:x", "url_parsing"),
            ("", "url_parsing"),
        ] {
            let problem = check_link_url("maps_uri", bad).expect(bad);
            assert_eq!((problem.field, problem.kind), ("maps_uri", kind), "{bad}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_LINK_URL_CHARS));
        assert_eq!(
            check_link_url("maps_uri", &long).map(|p| p.kind),
            Some("url_too_long")
        );
    }

    #[test]
    fn emails() {
        for good in [
            "a@b.example",
            "admin@localhost",
            "first.last+tag@sub.example.org",
        ] {
            assert_eq!(check_email(good), None, "{good}");
        }
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b@c.d",
            "a b@c.d",
            "a@.com",
            "a@b..c",
            "a@b.",
        ] {
            assert_eq!(
                check_email(bad).map(|p| (p.field, p.kind)),
                Some(("email", "value_error")),
                "{bad:?}"
            );
        }
        assert!(check_email(&format!("{}@b.c", "a".repeat(251))).is_some());
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        assert!(check_password("password", "éééééééé").is_none());
        assert_eq!(
            check_password("password", "1234567").unwrap().kind,
            "string_too_short"
        );
        assert!(check_profile_field("phone_number", "+33612345").is_none());
        assert!(check_profile_field("phone_number", "+12345678901234").is_none());
        assert_eq!(
            check_profile_field("phone_number", "12345678")
                .unwrap()
                .kind,
            "string_too_short"
        );
        assert_eq!(
            check_profile_field("phone_number", "1234567890123456")
                .unwrap()
                .kind,
            "string_too_long"
        );
        assert!(check_profile_field("first_name", &"é".repeat(200)).is_none());
        assert_eq!(
            check_profile_field("last_name", &"x".repeat(201))
                .unwrap()
                .message,
            "String should have at most 200 characters"
        );
    }
}
