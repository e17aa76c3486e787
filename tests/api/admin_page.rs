//! The admin page: served from inside the binary, and used end to end in Debian's chromium
//! (tests/browser/, driven by playwright-core; tests/setup/browser.sh installs both).

use std::path::Path;
use std::process::Command;

use std::time::Duration;

use serde_json::{json, Value};

use crate::fake_llm::{Answer, FakeLlm, GENERATED_RSA};
use crate::harness::{Server, CUSTOMER_ID};

const STATIC_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/static");
const BROWSER_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser");
const SCREENSHOTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/screenshots");
const GENERATION_SCREENSHOTS: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/target/screenshots-generation");
const DRAFTS: &str = "/api/v1/campaigns/drafts";

fn text(body: &Value) -> &str {
    body.as_str().expect("a text body")
}

#[test]
fn the_page_is_served_from_the_binary_with_its_types_and_security_headers() {
    let server = Server::start();
    for path in ["/admin", "/admin/", "/admin/index.html"] {
        let page = server.get_anonymous(path, &[]).expect(200);
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        let csp = page.header("content-security-policy").unwrap();
        for directive in [
            "script-src 'self'",
            "frame-ancestors 'none'",
            "default-src 'none'",
        ] {
            assert!(csp.contains(directive), "{csp}");
        }
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{csp}"
        );
        assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
        let html = text(&page.body);
        assert!(html.contains(r#"<script type="module" src="/admin/app.js"></script>"#));
        assert_eq!(
            html.matches("<script").count(),
            html.matches("<script type=\"module\" src=\"/admin/")
                .count(),
            "no inline script"
        );
    }

    // Every file of static/ is served as it is on disk, with its type, and imports only its
    // neighbours (nothing from a CDN).
    let mut files = 0;
    for entry in std::fs::read_dir(STATIC_DIR).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let on_disk = std::fs::read_to_string(&path).unwrap();
        let served = server
            .get_anonymous(&format!("/admin/{name}"), &[])
            .expect(200);
        let expected_type = match path.extension().unwrap().to_str().unwrap() {
            "html" => "text/html; charset=utf-8",
            "css" => "text/css; charset=utf-8",
            "js" => "text/javascript; charset=utf-8",
            "svg" => "image/svg+xml",
            other => panic!("add a content type check for .{other}"),
        };
        assert_eq!(served.header("content-type"), Some(expected_type), "{name}");
        assert_eq!(served.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(text(&served.body), on_disk, "{name} is the embedded copy");
        for import in on_disk.split(" from '").skip(1) {
            let target = import.split('\'').next().unwrap();
            let local = target.strip_prefix("./").expect("relative imports only");
            assert!(
                Path::new(STATIC_DIR).join(local).exists(),
                "{name} imports {target}"
            );
        }
        assert!(
            !on_disk.contains("://cdn"),
            "{name} loads nothing from a CDN"
        );
        files += 1;
    }
    assert!(files >= 5, "index.html, app.css and the modules");

    let first = server.get_anonymous("/admin/app.js", &[]).expect(200);
    let etag = first.header("etag").unwrap().to_string();
    server
        .get_anonymous("/admin/app.js", &[("if-none-match", &etag)])
        .expect(304);
    let missing = server.get_anonymous("/admin/missing.js", &[]).expect(404);
    assert_eq!(missing.body["detail"], "Not Found");
    server
        .get_anonymous("/admin/../Cargo.toml", &[])
        .expect(404);
    let posted = server
        .client
        .post(server.url("/admin/"))
        .send()
        .unwrap()
        .status();
    assert_eq!(posted.as_u16(), 405);
}

/// Runs `node tests/browser/admin_page.mjs BASE admin@localhost PASSWORD <rest>`, failing with
/// everything it printed; `rest` starts with the user's email (or `-`) and the screenshot folder.
fn run_admin_page(server: &Server, rest: &[&str]) {
    let script = "admin_page.mjs";
    let password = server.admin_password();
    let shots = rest[1];
    let args = [&[server.base.as_str(), "admin@localhost", &password], rest].concat();
    assert!(
        Path::new(BROWSER_DIR)
            .join("node_modules/playwright-core")
            .exists(),
        "playwright-core is missing: run tests/setup/browser.sh (tests/run does)"
    );
    let output = Command::new("node")
        .arg(Path::new(BROWSER_DIR).join(script))
        .args(&args)
        .current_dir(BROWSER_DIR)
        .output()
        .expect("run node");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "{script} failed (screenshots in {shots}):\n{printed}\n--- server log ---\n{}",
        server.log()
    );
    println!("{printed}");
}

#[test]
fn an_agency_runs_its_day_from_the_browser() {
    let server = Server::start();
    let planner = server.user("planner@agency.test", false);
    server.get(&planner, "/api/v1/users/me").expect(200);
    run_admin_page(&server, &["planner@agency.test", SCREENSHOTS]);

    // What the page did is what the API now says.
    let refused = server.get(&planner, "/api/v1/users/me").expect(401);
    assert_eq!(refused.body["detail"], "Not authenticated");
    server
        .sign_in("planner@agency.test", "password-of-planner@agency.test")
        .expect(400);
    let newcomer = server.token("newcomer@agency.test", "newcomer-password");
    let me = server.get(&newcomer, "/api/v1/users/me").expect(200);
    assert_eq!(me.body["profile"]["first_name"], "Nora");
    assert_eq!(me.body["is_admin"], false);

    let admin = server.admin_token();
    let companies = server.get(&admin, "/api/v1/companies").expect(200);
    assert_eq!(companies.body[0]["name"], "Acme Bakery");
    let company = companies.body[0]["id"].as_i64().unwrap();
    let threads = server
        .get(
            &admin,
            &format!("/api/v1/chat/threads?company_id={company}&limit=100"),
        )
        .expect(200);
    assert_eq!(
        threads.body.as_array().unwrap().len(),
        21,
        "22 created, 1 deleted"
    );
    let location = server
        .get(
            &admin,
            &format!("/api/v1/companies/{company}/google-business-locations"),
        )
        .expect(200);
    assert_eq!(location.body[0]["title"], "Acme Paris Rivoli");
    assert_eq!(
        location.body[0]["storefront_address"]["address_lines"],
        json!(["1 rue de Rivoli", "Bâtiment B"])
    );

    // The wizard's draft, as the API keeps it: one left (the other deleted), every step saved.
    let drafts = server
        .get(&admin, &format!("{DRAFTS}?company_id={company}"))
        .expect(200);
    let drafts = drafts.body["drafts"].as_array().unwrap();
    assert_eq!(drafts.len(), 1, "one created and deleted, one kept");
    let draft = &drafts[0];
    assert_eq!(draft["name"], "Spring sale");
    assert_eq!(draft["daily_budget_micros"], 25_500_000);
    assert_eq!(draft["bidding_strategy"]["type"], "MAXIMIZE_CONVERSIONS");
    assert_eq!(draft["language_ids"], json!([1002]));
    assert_eq!(draft["ad_groups"][0]["keywords"][1]["match_type"], "EXACT");
    assert_eq!(
        draft["ad_groups"][0]["keywords"][1]["cpc_bid_micros"],
        Value::Null
    );
    let rsa = &draft["ad_groups"][0]["rsas"][0];
    assert_eq!(
        rsa["headlines"][2]["text"],
        "Sourdough Baked Fresh Every Day"
    );
    assert_eq!(rsa["headlines"][0]["pinned_position"], 1);
    assert_eq!(rsa["path1"], "sourdough");
    assert_eq!(
        draft["extensions"]["callouts"],
        json!([{"callout_text": "Organic Flour"}])
    );
    assert_eq!(draft["extensions"]["phone"]["country_code"], "FR");
}

/// The wizard's generate buttons against the stand-in model: the status shows while the model
/// writes (each RSA answer comes two seconds late), then the generated copy.
#[test]
fn the_wizard_generates_ads_and_extensions_with_live_status() {
    let llm = FakeLlm::start();
    let late = Answer::text(&GENERATED_RSA.to_string()).after(Duration::from_secs(2));
    llm.script([late.clone(), late.clone(), late]);
    let server = Server::start_with(&[("ADTHREAD_LLM_BASE_URL", llm.base_url.as_str())]);
    let admin = server.admin_token();
    let company = server.company_with_connections(&admin, "Acme Bakery");
    let draft = server
        .post(
            &admin,
            &format!("{DRAFTS}?company_id={company}"),
            &json!({"name": "Spring sale", "google_ads_customer_id": CUSTOMER_ID,
                    "website_url": "https://acme.example"}),
        )
        .expect(200)
        .body["id"]
        .as_i64()
        .unwrap();
    server
        .patch(
            &admin,
            &format!("{DRAFTS}/{draft}/ad-groups?regenerate_rsas=false"),
            &json!({"ad_groups": [{"name": "Sourdough",
                                   "keywords": [{"text": "sourdough bread"}]}]}),
        )
        .expect(200);
    // A thread whose draft this is, as the campaign assistant's first saved step links them.
    let thread = server.thread_in(
        &admin,
        company,
        json!({"assistant_type": "campaign_creation", "name": "Spring sale thread"}),
    );
    server.link_draft_to_thread(&json!(draft), &json!(thread));
    let hash = format!("#/drafts/{draft}?company={company}");
    run_admin_page(&server, &["-", GENERATION_SCREENSHOTS, &hash, &thread]);

    let status = server
        .get(&admin, &format!("{DRAFTS}/{draft}/generation-status"))
        .expect(200);
    assert_eq!(status.body["all_complete"], true);
    assert_eq!(status.body["rsas"].as_array().unwrap().len(), 3);
    assert_eq!(status.body["extensions"]["status"], "completed");
}
