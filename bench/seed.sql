-- Benchmark data, run by bench/run on a database whose schema the real server created and that
-- has the user bench@localhost (made with `adthread user create`).
--   company 1: the create test's company, with one Google Ads customer and one Business location;
--   companies 2-101: 10,000 threads each (1,000,000 in all, interleaved as if created over time),
--   each company with its own customer and location, which every one of its threads references.
-- The benchmark user is a plain member (not an admin) of every company, so access is checked
-- the way it is for most callers.
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -262144;
PRAGMA foreign_keys = OFF;

BEGIN;

WITH RECURSIVE company(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM company WHERE id < 101)
INSERT INTO companies (id, name, date_added, date_updated)
SELECT id, 'Bench company ' || id, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z'
FROM company;

INSERT INTO company_members (company_id, user_id, role, date_added)
SELECT c.id, u.id, 'member', '2026-01-01T00:00:00.000000Z'
FROM companies c, users u WHERE u.email = 'bench@localhost';

INSERT INTO google_ads_customers (company_id, id, descriptive_name, currency_code, time_zone,
    status, manager, is_active, is_deleted, date_added, date_updated)
SELECT id, 1234567890, 'Bench company ' || id || ' Ads', 'EUR', 'Europe/Paris', 'ENABLED',
    0, 1, 0, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z'
FROM companies;

INSERT INTO google_business_locations (company_id, id, title, store_code, maps_uri,
    storefront_address, date_added, date_updated)
SELECT id, 'locations/4242', 'Bench company ' || id || ' Paris', 'PAR-' || id,
    'https://maps.google.com/?cid=' || id,
    json_object('region_code', 'FR', 'language_code', 'fr', 'postal_code', '75001',
        'administrative_area', 'Île-de-France', 'locality', 'Paris', 'sublocality', '1er',
        'address_lines', json_array('1 rue de Rivoli', 'Bâtiment B')),
    '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z'
FROM companies;

WITH RECURSIVE
  n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999999),
  thread(i, company_id, at) AS (
    SELECT i, 2 + i % 100,
           strftime('%Y-%m-%dT%H:%M:%S.000000Z', 1767225600 + i * 20, 'unixepoch')
    FROM n)
INSERT INTO chat_threads (thread_id, company_id, assistant_id, customer_id, location_id,
    login_customer_id, name, description, extra_data, is_completed, date_added, date_updated)
SELECT
    'thr_' || printf('%012x', (1767225600 + i * 20) * 1000) || lower(hex(randomblob(10))),
    company_id,
    CASE i % 4 WHEN 0 THEN 'asst_onboarding' WHEN 1 THEN 'asst_general'
               WHEN 2 THEN 'asst_market_analysis' ELSE 'asst_campaign_creation' END,
    1234567890,
    'locations/4242',
    CASE WHEN i % 3 = 0 THEN 9876543210 END,
    'Campaign review ' || i,
    'Weekly review of search and local campaigns for the spring season',
    json_object(
        'source', 'bench',
        'campaign', json_object('name', 'Spring sale ' || (i % 50), 'budget_micros', 25000000,
            'bidding', 'MAXIMIZE_CONVERSIONS', 'start_date', '2026-03-01',
            'end_date', '2026-05-31'),
        'keywords', json_array('fresh bread', 'croissant delivery', 'bakery near me',
            'sourdough paris', 'birthday cakes'),
        'audience', json_object('age', json_array('25-34', '35-44'), 'radius_km', 12,
            'languages', json_array('fr', 'en')),
        'notes', 'Client asked for a weekly summary with cost per conversion and store visits.'),
    i % 5 = 0,
    at, at
FROM thread;

COMMIT;

PRAGMA journal_mode = WAL;
