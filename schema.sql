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

-- migration 2: campaign drafts (issue 15)
-- A draft belongs to a company and to one of its Google Ads customers. Deleting the company
-- deletes its drafts (and everything under them); a customer used by a draft cannot be removed
-- (409, as for threads). Ad groups, keywords, RSAs, extension items and generation tasks go
-- with their draft (and keywords and RSAs with their ad group). Step-1 values that are objects
-- or lists are kept as JSON text, read back into their typed shapes.
CREATE TABLE campaign_drafts (
    id                     INTEGER PRIMARY KEY,
    company_id             INTEGER NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    google_ads_customer_id INTEGER NOT NULL,
    market_analysis_id     INTEGER,
    thread_seq             INTEGER REFERENCES chat_threads (seq) ON DELETE SET NULL,
    name                   TEXT    NOT NULL,
    campaign_name          TEXT,
    website_url            TEXT,
    daily_budget_micros    INTEGER,
    bidding_strategy       TEXT CHECK (bidding_strategy IS NULL OR json_valid(bidding_strategy)),
    default_match_type     TEXT CHECK (default_match_type IN
                               ('EXACT', 'PHRASE', 'BROAD', 'BROAD_MODIFIER', 'NEGATIVE')),
    language_ids           TEXT CHECK (language_ids IS NULL OR json_valid(language_ids)),
    location_targets       TEXT CHECK (location_targets IS NULL OR json_valid(location_targets)),
    network_settings       TEXT CHECK (network_settings IS NULL OR json_valid(network_settings)),
    ad_schedule            TEXT CHECK (ad_schedule IS NULL OR json_valid(ad_schedule)),
    start_date             TEXT, -- YYYY-MM-DD
    end_date               TEXT,
    conversion_goals       TEXT CHECK (conversion_goals IS NULL OR json_valid(conversion_goals)),
    phone                  TEXT CHECK (phone IS NULL OR json_valid(phone)), -- the call extension
    is_published           INTEGER NOT NULL DEFAULT 0 CHECK (is_published IN (0, 1)),
    published_at           TEXT,
    published_campaign_id  INTEGER,
    date_added             TEXT    NOT NULL,
    date_updated           TEXT    NOT NULL,
    FOREIGN KEY (company_id, google_ads_customer_id)
        REFERENCES google_ads_customers (company_id, id)
);
CREATE INDEX campaign_drafts_by_company ON campaign_drafts (company_id, id);
CREATE INDEX campaign_drafts_by_customer ON campaign_drafts (google_ads_customer_id, company_id);
CREATE INDEX campaign_drafts_by_market_analysis ON campaign_drafts (market_analysis_id, id)
    WHERE market_analysis_id IS NOT NULL;
CREATE INDEX campaign_drafts_by_thread ON campaign_drafts (thread_seq) WHERE thread_seq IS NOT NULL;

-- `position` keeps the order a client gave; ids are the public ones.
CREATE TABLE draft_ad_groups (
    id             INTEGER PRIMARY KEY,
    draft_id       INTEGER NOT NULL REFERENCES campaign_drafts (id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    name           TEXT    NOT NULL,
    cpc_bid_micros INTEGER
);
CREATE INDEX draft_ad_groups_by_draft ON draft_ad_groups (draft_id, position);

CREATE TABLE draft_keywords (
    id             INTEGER PRIMARY KEY,
    ad_group_id    INTEGER NOT NULL REFERENCES draft_ad_groups (id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    text           TEXT    NOT NULL,
    match_type     TEXT    NOT NULL CHECK (match_type IN
                       ('EXACT', 'PHRASE', 'BROAD', 'BROAD_MODIFIER', 'NEGATIVE')),
    cpc_bid_micros INTEGER,
    final_url      TEXT
);
CREATE INDEX draft_keywords_by_ad_group ON draft_keywords (ad_group_id, position);

-- headlines and descriptions: JSON arrays of {"text", "pinned_position"}. `edited_at` is set
-- when a person changes the RSA after it was generated: generation never overwrites it then.
CREATE TABLE draft_rsas (
    id           INTEGER PRIMARY KEY,
    ad_group_id  INTEGER NOT NULL REFERENCES draft_ad_groups (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    headlines    TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(headlines)),
    descriptions TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(descriptions)),
    path1        TEXT,
    path2        TEXT,
    final_url    TEXT,
    status       TEXT    NOT NULL DEFAULT 'not_started' CHECK (status IN
                     ('not_started', 'pending', 'in_progress', 'completed', 'failed')),
    error        TEXT,
    task_id      TEXT REFERENCES generation_tasks (id) ON DELETE SET NULL,
    generated_at TEXT,
    edited_at    TEXT
);
CREATE INDEX draft_rsas_by_ad_group ON draft_rsas (ad_group_id, position);
CREATE INDEX draft_rsas_by_task ON draft_rsas (task_id) WHERE task_id IS NOT NULL;

-- Sitelinks, callouts and structured snippets, one row each; `data` is the item's JSON object.
CREATE TABLE draft_extension_items (
    id       INTEGER PRIMARY KEY,
    draft_id INTEGER NOT NULL REFERENCES campaign_drafts (id) ON DELETE CASCADE,
    kind     TEXT    NOT NULL CHECK (kind IN ('sitelink', 'callout', 'structured_snippet')),
    position INTEGER NOT NULL,
    data     TEXT    NOT NULL CHECK (json_valid(data))
);
CREATE INDEX draft_extension_items_by_draft ON draft_extension_items (draft_id, kind, position);

-- Background generation, one row per task so that a restart finds what was under way. `kind`
-- 'ad_groups' and 'extensions' are the draft's own tasks (the newest of each kind is the one
-- shown); 'rsas' tasks fill the RSAs that name them.
CREATE TABLE generation_tasks (
    id           TEXT    PRIMARY KEY,
    draft_id     INTEGER NOT NULL REFERENCES campaign_drafts (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL CHECK (kind IN ('ad_groups', 'rsas', 'extensions')),
    ad_group_id  INTEGER REFERENCES draft_ad_groups (id) ON DELETE CASCADE,
    status       TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN
                     ('not_started', 'pending', 'in_progress', 'completed', 'failed')),
    error        TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    date_added   TEXT    NOT NULL,
    date_updated TEXT    NOT NULL
);
CREATE INDEX generation_tasks_by_draft ON generation_tasks (draft_id, kind, date_added);
CREATE INDEX generation_tasks_unfinished ON generation_tasks (status)
    WHERE status IN ('pending', 'in_progress');

-- migration 3: tokens spent by background generation (issue 15)
-- Charged to the company like chat replies (its monthly quota counts both); kept when the draft
-- is deleted, so that deleting a draft does not give its tokens back.
CREATE TABLE generation_usage (
    id                INTEGER PRIMARY KEY,
    company_id        INTEGER NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    date_added        TEXT    NOT NULL
);
CREATE INDEX generation_usage_by_company ON generation_usage (company_id, date_added);

-- migration 4: the assistants work on typed drafts (issue 15)
-- The campaign-creation assistant used to keep a loose JSON draft in chat_threads.campaign_draft.
-- It now works on a typed draft linked by campaign_drafts.thread_seq. Each thread that has a
-- loose draft and a Google Ads customer gets a typed draft linked to it, with what converts
-- safely: the name (the loose step-1 "name", else the thread's name, else the company's name
-- followed by " campaign"), `campaign_name`, `website_url` and `daily_budget_micros` of the
-- loose step 1 when they have the typed field's type and length, and a positive integer
-- `extra_data.market_analysis_id`. The column is kept as it was, no longer read or written:
-- the loose JSON (ad groups, ads and extensions of any shape) stays there for an operator.
INSERT INTO campaign_drafts (company_id, google_ads_customer_id, market_analysis_id, thread_seq,
                             name, campaign_name, website_url, daily_budget_micros,
                             default_match_type, date_added, date_updated)
SELECT t.company_id, t.customer_id,
       CASE WHEN json_type(t.extra_data, '$.market_analysis_id') = 'integer'
                 AND json_extract(t.extra_data, '$.market_analysis_id') > 0
            THEN json_extract(t.extra_data, '$.market_analysis_id') END,
       t.seq,
       substr(coalesce(
           CASE WHEN json_type(t.campaign_draft, '$.campaign_settings.name') = 'text'
                THEN nullif(trim(json_extract(t.campaign_draft, '$.campaign_settings.name')), '')
           END,
           nullif(trim(t.name), ''),
           c.name || ' campaign'), 1, 256),
       CASE WHEN json_type(t.campaign_draft, '$.campaign_settings.campaign_name') = 'text'
                 AND length(json_extract(t.campaign_draft, '$.campaign_settings.campaign_name'))
                     BETWEEN 1 AND 256
            THEN json_extract(t.campaign_draft, '$.campaign_settings.campaign_name') END,
       CASE WHEN json_type(t.campaign_draft, '$.campaign_settings.website_url') = 'text'
                 AND length(json_extract(t.campaign_draft, '$.campaign_settings.website_url'))
                     BETWEEN 1 AND 2083
            THEN json_extract(t.campaign_draft, '$.campaign_settings.website_url') END,
       CASE WHEN json_type(t.campaign_draft, '$.campaign_settings.daily_budget_micros') = 'integer'
            THEN json_extract(t.campaign_draft, '$.campaign_settings.daily_budget_micros') END,
       'BROAD',
       strftime('%Y-%m-%dT%H:%M:%f000Z', 'now'), strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')
FROM chat_threads t JOIN companies c ON c.id = t.company_id
WHERE t.campaign_draft IS NOT NULL AND json_type(t.campaign_draft) = 'object'
  AND t.customer_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM campaign_drafts d WHERE d.thread_seq = t.seq);

-- migration 5: ids are never handed out twice (issue 17)
-- with foreign keys off
-- A table whose id is a plain INTEGER PRIMARY KEY gives a new row the largest id + 1, so the id
-- of the newest row came back once that row was deleted: a client's stale reference (a draft's
-- id in a URL, an ad group's in a step sent back, a generation still running for a deleted
-- draft) then named another object, possibly another company's. With AUTOINCREMENT SQLite never
-- hands an id out twice, as PostgreSQL's identity columns never do. The tables whose ids clients
-- see are rebuilt with it, by SQLite's 12-step procedure ("Making Other Kinds Of Table Schema
-- Changes" in https://www.sqlite.org/lang_altertable.html): migrate.rs turns foreign keys off
-- around this migration's transaction and runs PRAGMA foreign_key_check before it commits; each
-- table is created under a new name, filled with its rows and their ids, the old one dropped,
-- the new one renamed and its indexes made again (there are no triggers or views). Copying the
-- rows with their ids records each table's largest id in sqlite_sequence, where AUTOINCREMENT
-- starts. An id deleted before this migration and larger than every id still there can still
-- be handed out once more: nothing remembers it.
-- Users and companies cannot be deleted yet; they are rebuilt now (small tables) so that a
-- delete added later, or done by an operator, cannot bring an id back.
-- Left as they are: chat_threads (clients see the random `thread_id`; `seq` is only a position
-- in the list for its cursor, and a reused one would still be the newest position), the tables
-- whose ids never leave the server (chat_messages, draft_extension_items, generation_usage),
-- and those keyed by a hash, a text id or an id the caller gives (access_tokens, assistants,
-- generation_tasks, the Google connections, memberships and profiles, keyed by company).
CREATE TABLE new_users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO new_users SELECT * FROM users;
DROP TABLE users;
ALTER TABLE new_users RENAME TO users;

CREATE TABLE new_companies (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    date_added   TEXT NOT NULL,
    date_updated TEXT NOT NULL
);
INSERT INTO new_companies SELECT * FROM companies;
DROP TABLE companies;
ALTER TABLE new_companies RENAME TO companies;

CREATE TABLE new_campaign_drafts (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id             INTEGER NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    google_ads_customer_id INTEGER NOT NULL,
    market_analysis_id     INTEGER,
    thread_seq             INTEGER REFERENCES chat_threads (seq) ON DELETE SET NULL,
    name                   TEXT    NOT NULL,
    campaign_name          TEXT,
    website_url            TEXT,
    daily_budget_micros    INTEGER,
    bidding_strategy       TEXT CHECK (bidding_strategy IS NULL OR json_valid(bidding_strategy)),
    default_match_type     TEXT CHECK (default_match_type IN
                               ('EXACT', 'PHRASE', 'BROAD', 'BROAD_MODIFIER', 'NEGATIVE')),
    language_ids           TEXT CHECK (language_ids IS NULL OR json_valid(language_ids)),
    location_targets       TEXT CHECK (location_targets IS NULL OR json_valid(location_targets)),
    network_settings       TEXT CHECK (network_settings IS NULL OR json_valid(network_settings)),
    ad_schedule            TEXT CHECK (ad_schedule IS NULL OR json_valid(ad_schedule)),
    start_date             TEXT, -- YYYY-MM-DD
    end_date               TEXT,
    conversion_goals       TEXT CHECK (conversion_goals IS NULL OR json_valid(conversion_goals)),
    phone                  TEXT CHECK (phone IS NULL OR json_valid(phone)), -- the call extension
    is_published           INTEGER NOT NULL DEFAULT 0 CHECK (is_published IN (0, 1)),
    published_at           TEXT,
    published_campaign_id  INTEGER,
    date_added             TEXT    NOT NULL,
    date_updated           TEXT    NOT NULL,
    FOREIGN KEY (company_id, google_ads_customer_id)
        REFERENCES google_ads_customers (company_id, id)
);
INSERT INTO new_campaign_drafts SELECT * FROM campaign_drafts;
DROP TABLE campaign_drafts;
ALTER TABLE new_campaign_drafts RENAME TO campaign_drafts;
CREATE INDEX campaign_drafts_by_company ON campaign_drafts (company_id, id);
CREATE INDEX campaign_drafts_by_customer ON campaign_drafts (google_ads_customer_id, company_id);
CREATE INDEX campaign_drafts_by_market_analysis ON campaign_drafts (market_analysis_id, id)
    WHERE market_analysis_id IS NOT NULL;
CREATE INDEX campaign_drafts_by_thread ON campaign_drafts (thread_seq) WHERE thread_seq IS NOT NULL;

CREATE TABLE new_draft_ad_groups (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    draft_id       INTEGER NOT NULL REFERENCES campaign_drafts (id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    name           TEXT    NOT NULL,
    cpc_bid_micros INTEGER
);
INSERT INTO new_draft_ad_groups SELECT * FROM draft_ad_groups;
DROP TABLE draft_ad_groups;
ALTER TABLE new_draft_ad_groups RENAME TO draft_ad_groups;
CREATE INDEX draft_ad_groups_by_draft ON draft_ad_groups (draft_id, position);

CREATE TABLE new_draft_keywords (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    ad_group_id    INTEGER NOT NULL REFERENCES draft_ad_groups (id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    text           TEXT    NOT NULL,
    match_type     TEXT    NOT NULL CHECK (match_type IN
                       ('EXACT', 'PHRASE', 'BROAD', 'BROAD_MODIFIER', 'NEGATIVE')),
    cpc_bid_micros INTEGER,
    final_url      TEXT
);
INSERT INTO new_draft_keywords SELECT * FROM draft_keywords;
DROP TABLE draft_keywords;
ALTER TABLE new_draft_keywords RENAME TO draft_keywords;
CREATE INDEX draft_keywords_by_ad_group ON draft_keywords (ad_group_id, position);

CREATE TABLE new_draft_rsas (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    ad_group_id  INTEGER NOT NULL REFERENCES draft_ad_groups (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    headlines    TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(headlines)),
    descriptions TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(descriptions)),
    path1        TEXT,
    path2        TEXT,
    final_url    TEXT,
    status       TEXT    NOT NULL DEFAULT 'not_started' CHECK (status IN
                     ('not_started', 'pending', 'in_progress', 'completed', 'failed')),
    error        TEXT,
    task_id      TEXT REFERENCES generation_tasks (id) ON DELETE SET NULL,
    generated_at TEXT,
    edited_at    TEXT
);
INSERT INTO new_draft_rsas SELECT * FROM draft_rsas;
DROP TABLE draft_rsas;
ALTER TABLE new_draft_rsas RENAME TO draft_rsas;
CREATE INDEX draft_rsas_by_ad_group ON draft_rsas (ad_group_id, position);
CREATE INDEX draft_rsas_by_task ON draft_rsas (task_id) WHERE task_id IS NOT NULL;

-- migration 6: a generation task names the process that claimed it (issue 17)
-- Nothing to do here: one process works an SQLite database, and a restart resumes every task in
-- progress. PostgreSQL records who claimed a task in a table of its own, `generation_claims`,
-- which a copy leaves empty. (A migration of its own all the same, so that both files keep the
-- same numbers.)
SELECT 1;

-- migration 7: what several processes share of sign-ins, answers and turns (issue 17)
-- Nothing to do here: one process owns an SQLite file and keeps the sign-in throttle, the
-- answers in flight and the threads' locks in its memory. PostgreSQL keeps them in tables.
-- (A migration of its own all the same, so that both files keep the same numbers.)
