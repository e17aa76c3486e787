//! The signed-in user, the published API's sign-in and registration, and the accounts
//! administrators manage.

use poem::{FromRequest, Request, RequestBody};
use poem_openapi::param::Path;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::Deserialize;

use super::http::security::{Admin, Caller, ManageUsers, SignedIn};
use super::{ApiTags, AppState, ClientAddress, FormBody, JsonBody, JsonOut};
use crate::api::http::error::ApiError;
use crate::auth::{create_account, forget_initial_password, Confirmation, NewAccount};
use crate::schema::rules::{FieldProblem, Validate};
use crate::schema::{
    LoggedInUser, ProfileChange, User, UserAdminUpdate, UserCreate, UserId, UserProfile,
    UserRegister, UserUpdate,
};
use crate::store::StandingChange;

/// The published API's sign-in form (FastAPI's OAuth2PasswordRequestForm). As in FastAPI, an
/// empty `username` or `password` counts as missing.
#[derive(Debug, Deserialize, Object)]
#[oai(rename = "UserLoginForm")]
pub struct LoginForm {
    /// The user's email.
    #[serde(default)]
    #[oai(validator(min_length = 1))]
    username: String,
    #[serde(default)]
    #[oai(validator(min_length = 1))]
    password: String,
    /// Accepted and ignored.
    grant_type: Option<String>,
    /// Accepted and ignored.
    scope: Option<String>,
    /// Accepted and ignored.
    client_id: Option<String>,
    /// Accepted and ignored.
    client_secret: Option<String>,
    /// Accepted and ignored: a self-hosted install checks no reCAPTCHA.
    google_recaptcha_response: Option<String>,
}

impl Validate for LoginForm {
    fn validate(&self) -> Vec<FieldProblem> {
        [("username", &self.username), ("password", &self.password)]
            .into_iter()
            .filter(|(_, value)| value.is_empty())
            .map(|(field, _)| FieldProblem::missing(field))
            .collect()
    }
}

#[derive(ApiResponse)]
pub enum LoggedIn {
    /// Signed in: the user and a bearer token that works like any other.
    #[oai(status = 200)]
    Ok(
        JsonOut<LoggedInUser>,
        #[oai(header = "Cache-Control")] String,
    ),
}

impl LoggedIn {
    fn new(user: User, access_token: String) -> Self {
        LoggedIn::Ok(
            JsonOut(LoggedInUser::new(user, access_token)),
            "no-store".into(),
        )
    }
}

/// Lets a registration through only when `auth.allow_registration` is on; checked before the
/// body is read, so a closed registration answers 403 whatever was sent.
pub struct RegistrationOpen;

impl<'a> FromRequest<'a> for RegistrationOpen {
    async fn from_request(request: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let open = request
            .data::<AppState>()
            .is_some_and(|state| state.config.auth.allow_registration);
        if open {
            Ok(RegistrationOpen)
        } else {
            Err(ApiError::forbidden("Registration is disabled").reject())
        }
    }
}

pub struct UsersApi {
    pub state: AppState,
}

/// An administrator keeps their own rights and account, so that one always remains.
fn refuse_self_demotion(
    caller: &Caller,
    user_id: UserId,
    change: &UserAdminUpdate,
) -> Result<(), ApiError> {
    if user_id != caller.user_id {
        return Ok(());
    }
    if change.is_admin == Some(false) {
        return Err(ApiError::conflict(
            "You cannot remove your own administrator rights; ask another administrator",
        ));
    }
    if change.is_active == Some(false) {
        return Err(ApiError::conflict(
            "You cannot deactivate your own account; ask another administrator",
        ));
    }
    Ok(())
}

impl UsersApi {
    /// Checks the current password (throttled like a sign-in), then sets the new one, signing
    /// out every other session. A missing current password is refused like a wrong one: the
    /// document cannot say that one field needs the other, so neither case is a 422.
    async fn change_password(
        &self,
        caller: &Caller,
        client: ClientAddress,
        current: Option<String>,
        new: String,
    ) -> Result<(), ApiError> {
        let Some(current) = current else {
            return Err(ApiError::forbidden(
                "current_password is required to change the password",
            ));
        };
        let gate = self.state.password_gate();
        match gate
            .confirm_password(client.0, caller.user_id, current)
            .await?
        {
            Confirmation::Confirmed => {}
            // 403, not 422: the request is well formed, the caller may not do this (and not
            // 401: the token is fine).
            Confirmation::Wrong => return Err(ApiError::forbidden("Incorrect password")),
            Confirmation::Throttled(retry_after) => {
                return Err(ApiError::too_many_requests(
                    "Too many wrong passwords; try again later",
                    retry_after.0,
                ))
            }
        }
        let new_hash = self.state.passwords.hash(new).await?;
        self.state
            .store
            .set_password(caller.user_id, new_hash, Some(caller.token_hash))
            .await?;
        forget_initial_password(&self.state.config, &self.state.store, caller.user_id).await;
        Ok(())
    }
}

#[OpenApi(prefix_path = "/api/v1/users", tag = "ApiTags::Users")]
impl UsersApi {
    /// The signed-in user
    #[oai(path = "/me", method = "get")]
    async fn me(&self, caller: SignedIn) -> Result<JsonOut<User>, ApiError> {
        Ok(JsonOut(self.state.store.user(caller.0.user_id).await?))
    }

    /// Change the signed-in user's profile or password
    ///
    /// Only the fields sent change. A new password needs the current one and signs out every
    /// other session of the user; the token of this request keeps working. Wrong current
    /// passwords are throttled as sign-ins are: 429 with `Retry-After`.
    #[oai(path = "/me", method = "patch")]
    async fn update_me(
        &self,
        caller: SignedIn,
        client: ClientAddress,
        body: JsonBody<UserUpdate>,
    ) -> Result<JsonOut<User>, ApiError> {
        let UserUpdate {
            first_name,
            last_name,
            phone_number,
            current_password,
            new_password,
        } = body.0;
        let profile = ProfileChange {
            first_name,
            last_name,
            phone_number,
        };
        // `current_password` alone changes nothing.
        if let Some(new) = new_password {
            self.change_password(&caller.0, client, current_password, new)
                .await?;
        }
        let user_id = caller.0.user_id;
        let store = &self.state.store;
        let user = if profile.is_empty() {
            store.user(user_id).await?
        } else {
            store.update_profile(user_id, profile).await?
        };
        Ok(JsonOut(user))
    }

    /// Login For Access Token
    ///
    /// The published API's sign-in: form-encoded `username` (the email) and `password`. A wrong
    /// email and a wrong password get the same 401, in about the same time.
    #[oai(path = "/authorization/token", method = "post")]
    async fn token(
        &self,
        client: ClientAddress,
        form: FormBody<LoginForm>,
    ) -> Result<LoggedIn, ApiError> {
        let FormBody(form) = form;
        let gate = self.state.password_gate();
        let signed_in = gate
            .sign_in(client.0, form.username, form.password)
            .await?
            .ok_or_else(|| ApiError::unauthorized("Incorrect email or password"))?;
        let user = self.state.store.user(signed_in.user_id).await?;
        Ok(LoggedIn::new(user, signed_in.token.token))
    }

    /// Register
    ///
    /// Creates an ordinary (not administrator) user and signs it in. Off unless
    /// `auth.allow_registration` is on: 403 then. Throttled per client address: 429 with
    /// `Retry-After` past `auth.registrations_per_address`.
    #[oai(path = "/authorization/register", method = "post")]
    async fn register(
        &self,
        _open: RegistrationOpen,
        client: ClientAddress,
        body: JsonBody<UserRegister>,
    ) -> Result<LoggedIn, ApiError> {
        let request = body.0;
        let profile = UserProfile {
            first_name: request.first_name,
            last_name: request.last_name,
            phone_number: request.phone_number,
        };
        let account = NewAccount::checked(
            &request.email,
            request.password,
            Some(&request.password_confirm),
            false,
            profile,
        )
        .map_err(ApiError::invalid_body)?;
        self.state
            .throttle
            .register(client.0)
            .await?
            .map_err(|retry_after| {
                ApiError::too_many_requests(
                    "Too many registrations from this address; try again later",
                    retry_after.0,
                )
            })?;
        let state = &self.state;
        let (user, issued) = crate::auth::register(
            &state.store,
            &state.passwords,
            state.config.auth.token_lifetime_secs,
            account,
        )
        .await?;
        Ok(LoggedIn::new(user, issued.token))
    }

    /// Every user
    ///
    /// Administrators only.
    #[oai(path = "/", method = "get")]
    async fn list(&self, _admin: Admin<ManageUsers>) -> Result<JsonOut<Vec<User>>, ApiError> {
        Ok(JsonOut(self.state.store.users().await?))
    }

    /// Create a user
    ///
    /// Administrators only. The password needs at least 8 characters; an email already in use: 409.
    #[oai(path = "/", method = "post")]
    async fn create(
        &self,
        _admin: Admin<ManageUsers>,
        body: JsonBody<UserCreate>,
    ) -> Result<JsonOut<User>, ApiError> {
        let new = body.0;
        let profile = UserProfile {
            first_name: new.first_name,
            last_name: new.last_name,
            phone_number: new.phone_number,
        };
        let account = NewAccount::checked(&new.email, new.password, None, new.is_admin, profile)
            .map_err(ApiError::invalid_body)?;
        let state = &self.state;
        Ok(JsonOut(
            create_account(&state.store, &state.passwords, account).await?,
        ))
    }

    /// Change a user
    ///
    /// Administrators only. Resets the password (the user's tokens stop working), makes or
    /// unmakes an administrator, deactivates (the user's tokens stop working at once) or
    /// reactivates. Administrators cannot un-admin or deactivate themselves: 409.
    #[oai(path = "/:user_id", method = "patch")]
    async fn update(
        &self,
        admin: Admin<ManageUsers>,
        user_id: Path<UserId>,
        body: JsonBody<UserAdminUpdate>,
    ) -> Result<JsonOut<User>, ApiError> {
        let (user_id, change) = (user_id.0, body.0);
        refuse_self_demotion(&admin.0, user_id, &change)?;
        let password_hash = match change.password {
            Some(password) => Some(self.state.passwords.hash(password).await?),
            None => None,
        };
        let standing = StandingChange {
            is_admin: change.is_admin,
            is_active: change.is_active,
        };
        let store = &self.state.store;
        let mut user = store.change_standing(user_id, standing).await?;
        if let Some(hash) = password_hash {
            let keep = (user_id == admin.0.user_id).then_some(admin.0.token_hash);
            store.set_password(user_id, hash, keep).await?;
            forget_initial_password(&self.state.config, store, user_id).await;
            user = store.user(user_id).await?;
        }
        Ok(JsonOut(user))
    }
}
