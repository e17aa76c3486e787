//! Users, their profiles, sign-in tokens and the published sign-in's answer.

use poem_openapi::Object;
use serde::{Deserialize, Serialize};

use super::rules::{check_password, check_profile, new_account_problems, FieldProblem, Validate};
use super::types::present;
use super::*;

#[derive(Debug, Clone, PartialEq, Default, Object, Serialize, Deserialize)]
#[oai(rename = "UserProfileSchema")]
pub struct UserProfile {
    #[serde(default)]
    pub first_name: Nullable<String>,
    #[serde(default)]
    pub last_name: Nullable<String>,
    #[serde(default)]
    pub phone_number: Nullable<String>,
}

impl UserProfile {
    pub fn problems(&self) -> Vec<FieldProblem> {
        check_profile([
            ("first_name", self.first_name.0.as_deref()),
            ("last_name", self.last_name.0.as_deref()),
            ("phone_number", self.phone_number.0.as_deref()),
        ])
    }
}

/// A change to a user's profile.
#[derive(Debug, Default)]
pub struct ProfileChange {
    pub first_name: Patch<String>,
    pub last_name: Patch<String>,
    pub phone_number: Patch<String>,
}

impl ProfileChange {
    pub fn is_empty(&self) -> bool {
        self.first_name.is_keep() && self.last_name.is_keep() && self.phone_number.is_keep()
    }
}

#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "UserSchema")]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub is_admin: bool,
    pub is_active: bool,
    pub profile: UserProfile,
    pub date_added: Timestamp,
    pub date_updated: Timestamp,
}

/// A change to the signed-in user's own account: only the fields sent change.
#[derive(Debug, Clone, Default, Object, Deserialize)]
#[oai(rename = "UserUpdateSchema")]
pub struct UserUpdate {
    /// `null` clears it. At most 200 characters.
    #[serde(default)]
    #[oai(validator(max_length = 200))]
    pub first_name: Patch<String>,
    /// `null` clears it. At most 200 characters.
    #[serde(default)]
    #[oai(validator(max_length = 200))]
    pub last_name: Patch<String>,
    /// `null` clears it. 9 to 15 characters.
    #[serde(default)]
    #[oai(validator(min_length = 9, max_length = 15))]
    pub phone_number: Patch<String>,
    /// The password now in use; required with `new_password`.
    #[serde(default, deserialize_with = "present")]
    pub current_password: Option<String>,
    /// At least 8 characters. Signs out every other session of the user.
    #[serde(default, deserialize_with = "present")]
    #[oai(validator(min_length = 8))]
    pub new_password: Option<String>,
}

impl Validate for UserUpdate {
    /// The profile's new values, then the new password.
    fn validate(&self) -> Vec<FieldProblem> {
        let mut problems = check_profile([
            (
                "first_name",
                self.first_name.new_value().map(String::as_str),
            ),
            ("last_name", self.last_name.new_value().map(String::as_str)),
            (
                "phone_number",
                self.phone_number.new_value().map(String::as_str),
            ),
        ]);
        problems.extend(
            self.new_password
                .as_deref()
                .and_then(|password| check_password("new_password", password)),
        );
        problems
    }
}

/// A profile made of a new account's fields, for checking it.
fn profile_of(
    first_name: &Nullable<String>,
    last_name: &Nullable<String>,
    phone_number: &Nullable<String>,
) -> UserProfile {
    UserProfile {
        first_name: first_name.clone(),
        last_name: last_name.clone(),
        phone_number: phone_number.clone(),
    }
}

/// A new account, through `POST /api/v1/users/authorization/register`.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "UserRegisterSchema")]
pub struct UserRegister {
    #[oai(validator(
        max_length = 254,
        pattern = r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@.\s\x00-\x1f\x7f-\x9f]+(\.[^@.\s\x00-\x1f\x7f-\x9f]+)*$"
    ))]
    pub email: String,
    /// At least 8 characters.
    #[oai(validator(min_length = 8))]
    pub password: String,
    /// The same password again.
    pub password_confirm: String,
    /// At most 200 characters.
    #[serde(default)]
    #[oai(validator(max_length = 200))]
    pub first_name: Nullable<String>,
    /// At most 200 characters.
    #[serde(default)]
    #[oai(validator(max_length = 200))]
    pub last_name: Nullable<String>,
    /// 9 to 15 characters.
    #[serde(default)]
    #[oai(validator(min_length = 9, max_length = 15))]
    pub phone_number: Nullable<String>,
}

impl Validate for UserRegister {
    /// The email is checked as it will be kept: without surrounding blanks.
    fn validate(&self) -> Vec<FieldProblem> {
        new_account_problems(
            self.email.trim(),
            &self.password,
            Some(&self.password_confirm),
            &profile_of(&self.first_name, &self.last_name, &self.phone_number),
        )
    }
}

/// The answer of the published API's sign-in and registration: the user and a bearer token.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "LoggedInUserSchema")]
pub struct LoggedInUser {
    pub id: UserId,
    pub email: String,
    pub profile: UserProfile,
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// Always `null`: a self-hosted install checks no reCAPTCHA.
    pub is_google_recaptcha_response_valid: Nullable<bool>,
}

impl LoggedInUser {
    pub fn new(user: User, access_token: String) -> Self {
        LoggedInUser {
            id: user.id,
            email: user.email,
            profile: user.profile,
            access_token,
            token_type: "bearer".into(),
            is_google_recaptcha_response_valid: Nullable(None),
        }
    }
}

/// A user an administrator creates.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "UserCreateSchema")]
pub struct UserCreate {
    #[oai(validator(
        max_length = 254,
        pattern = r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@.\s\x00-\x1f\x7f-\x9f]+(\.[^@.\s\x00-\x1f\x7f-\x9f]+)*$"
    ))]
    pub email: String,
    /// At least 8 characters.
    #[oai(validator(min_length = 8))]
    pub password: String,
    /// Default false.
    #[serde(default)]
    #[oai(default)]
    pub is_admin: bool,
    /// At most 200 characters.
    #[serde(default)]
    #[oai(validator(max_length = 200))]
    pub first_name: Nullable<String>,
    /// At most 200 characters.
    #[serde(default)]
    #[oai(validator(max_length = 200))]
    pub last_name: Nullable<String>,
    /// 9 to 15 characters.
    #[serde(default)]
    #[oai(validator(min_length = 9, max_length = 15))]
    pub phone_number: Nullable<String>,
}

impl Validate for UserCreate {
    /// The email is checked as it will be kept: without surrounding blanks.
    fn validate(&self) -> Vec<FieldProblem> {
        new_account_problems(
            self.email.trim(),
            &self.password,
            None,
            &profile_of(&self.first_name, &self.last_name, &self.phone_number),
        )
    }
}

/// What an administrator changes about a user: only the fields sent change.
#[derive(Debug, Clone, Default, Object, Deserialize)]
#[oai(rename = "UserAdminUpdateSchema")]
pub struct UserAdminUpdate {
    /// A new password (at least 8 characters); every token of the user stops working.
    #[serde(default, deserialize_with = "present")]
    #[oai(validator(min_length = 8))]
    pub password: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub is_admin: Option<bool>,
    /// `false` deactivates: the user can no longer sign in and every token stops working.
    #[serde(default, deserialize_with = "present")]
    pub is_active: Option<bool>,
}

impl Validate for UserAdminUpdate {
    fn validate(&self) -> Vec<FieldProblem> {
        self.password
            .as_deref()
            .and_then(|password| check_password("password", password))
            .into_iter()
            .collect()
    }
}

/// RFC 6749 §5.1 access token response.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "TokenSchema")]
pub struct Token {
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
}
