-- adthread schema. Each migration starts with a line of the form "-- migration N: title"; at
-- start-up the server applies, in one transaction each, those above the database's
-- `PRAGMA user_version`, and sets it to N.
-- Never edit a migration that has shipped: add a new one below.

-- migration 1: accounts, companies, Google connections, assistants, threads, messages
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT    NOT NULL,
    is_admin      INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    is_active     INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    first_name    TEXT,
    last_name     TEXT,
    phone_number  TEXT,
    date_added    TEXT    NOT NULL,
    date_updated  TEXT    NOT NULL
);

-- Only the SHA-256 of a token is kept; the token itself is shown once, to the client that signed in.
CREATE TABLE access_tokens (
    token_hash  BLOB    PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    date_added  TEXT    NOT NULL,
    expires_at  INTEGER NOT NULL -- unix seconds
) WITHOUT ROWID;
CREATE INDEX access_tokens_by_user ON access_tokens (user_id);

CREATE TABLE companies (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    date_added   TEXT NOT NULL,
    date_updated TEXT NOT NULL
);

CREATE TABLE company_members (
    company_id INTEGER NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT    NOT NULL CHECK (role IN ('owner', 'member')),
    date_added TEXT    NOT NULL,
    PRIMARY KEY (user_id, company_id)
) WITHOUT ROWID;
CREATE INDEX company_members_by_company ON company_members (company_id);

-- The company's answers to the onboarding interview: one JSON object.
CREATE TABLE business_profiles (
    company_id   INTEGER PRIMARY KEY REFERENCES companies (id) ON DELETE CASCADE,
    profile      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(profile)),
    date_updated TEXT NOT NULL
);

-- `id` is the Google Ads customer id, given by the caller; unique within a company.
CREATE TABLE google_ads_customers (
    company_id       INTEGER NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    id               INTEGER NOT NULL,
    descriptive_name TEXT,
    currency_code    TEXT,
    time_zone        TEXT,
    status           TEXT,
    manager          INTEGER NOT NULL DEFAULT 0 CHECK (manager IN (0, 1)),
    is_active        INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    is_deleted       INTEGER NOT NULL DEFAULT 0 CHECK (is_deleted IN (0, 1)),
    date_added       TEXT NOT NULL,
    date_updated     TEXT NOT NULL,
    PRIMARY KEY (company_id, id)
) WITHOUT ROWID;

-- `id` is the Business Profile resource name, such as `locations/123`.
CREATE TABLE google_business_locations (
    company_id          INTEGER NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    id                  TEXT    NOT NULL,
    title               TEXT,
    store_code          TEXT,
    maps_uri            TEXT,
    storefront_address  TEXT CHECK (storefront_address IS NULL OR json_valid(storefront_address)),
    date_added          TEXT NOT NULL,
    date_updated        TEXT NOT NULL,
    PRIMARY KEY (company_id, id)
) WITHOUT ROWID;

CREATE TABLE assistants (
    id             TEXT PRIMARY KEY,
    assistant_type TEXT NOT NULL UNIQUE
        CHECK (assistant_type IN ('onboarding', 'general', 'market_analysis', 'campaign_creation')),
    instructions   TEXT, -- NULL: the built-in default for the type
    date_added     TEXT NOT NULL,
    date_updated   TEXT NOT NULL
);
INSERT INTO assistants (id, assistant_type, date_added, date_updated) VALUES
    ('asst_onboarding',        'onboarding',        '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z'),
    ('asst_general',           'general',           '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z'),
    ('asst_market_analysis',   'market_analysis',   '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z'),
    ('asst_campaign_creation', 'campaign_creation', '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z');

-- `seq` orders threads (newest first) and is the keyset for paging; `thread_id` is the public id.
CREATE TABLE chat_threads (
    seq               INTEGER PRIMARY KEY,
    thread_id         TEXT    NOT NULL UNIQUE,
    company_id        INTEGER NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    assistant_id      TEXT    NOT NULL REFERENCES assistants (id),
    customer_id       INTEGER,
    location_id       TEXT,
    login_customer_id INTEGER,
    name              TEXT,
    description       TEXT,
    extra_data        TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(extra_data)),
    is_completed      INTEGER NOT NULL DEFAULT 0 CHECK (is_completed IN (0, 1)),
    campaign_draft    TEXT    CHECK (campaign_draft IS NULL OR json_valid(campaign_draft)),
    date_added        TEXT    NOT NULL,
    date_updated      TEXT    NOT NULL,
    FOREIGN KEY (company_id, customer_id) REFERENCES google_ads_customers (company_id, id),
    FOREIGN KEY (company_id, location_id) REFERENCES google_business_locations (company_id, id)
);
CREATE INDEX chat_threads_by_company ON chat_threads (company_id, seq);
CREATE INDEX chat_threads_by_company_assistant ON chat_threads (company_id, assistant_id, seq);
CREATE INDEX chat_threads_by_customer ON chat_threads (company_id, customer_id, seq);
CREATE INDEX chat_threads_by_location ON chat_threads (company_id, location_id, seq);

-- The conversation, in order. role 'tool' rows and assistant rows that only call tools
-- (tool_calls set) are kept for the model's context and never listed to clients.
CREATE TABLE chat_messages (
    id                INTEGER PRIMARY KEY,
    thread_seq        INTEGER NOT NULL REFERENCES chat_threads (seq) ON DELETE CASCADE,
    role              TEXT    NOT NULL CHECK (role IN ('user', 'assistant', 'tool')),
    content           TEXT    NOT NULL DEFAULT '',
    tool_calls        TEXT    CHECK (tool_calls IS NULL OR json_valid(tool_calls)),
    tool_call_id      TEXT,
    frontend_actions  TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(frontend_actions)),
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    date_added        TEXT    NOT NULL,
    date_updated      TEXT    NOT NULL
);
CREATE INDEX chat_messages_by_thread ON chat_messages (thread_seq, id);
