//! Background generation of a draft's RSAs and extensions against the stand-in model: the two
//! generate endpoints, the worker, tolerant reading of the model's JSON, errors in our own
//! words, quotas, and tasks that survive a SIGKILL (or give up after their attempts).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::fake_llm::{
    Answer, FakeLlm, Hostile, GENERATED_EXTENSIONS, GENERATED_RSA, LEAKY_SECRET,
};
use crate::harness::{Server, CUSTOMER_ID};

const DRAFTS: &str = "/api/v1/campaigns/drafts";

/// A server with the stand-in model, a company with its connections and one draft in it.
struct World {
    llm: FakeLlm,
    server: Server,
    token: String,
    company: i64,
    draft: i64,
}

impl World {
    fn start(env: &[(&str, &str)]) -> World {
        let llm = FakeLlm::start();
        let mut all = vec![("ADTHREAD_LLM_BASE_URL", llm.base_url.as_str())];
        all.extend_from_slice(env);
        let server = Server::start_with(&all);
        let token = server.admin_token();
        let company = server.company_with_connections(&token, "Acme Bakery");
        let draft = new_draft(&server, &token, company);
        World {
            llm,
            server,
            token,
            company,
            draft,
        }
    }

    fn ad_group(&self, name: &str, keywords: &[&str]) -> i64 {
        ad_group(&self.server, &self.token, self.draft, name, keywords)
    }

    /// The model's next answer is `answer`, after `secs` seconds.
    fn answers_late(&self, answer: &Value, secs: u64) {
        self.llm
            .script([Answer::text(&answer.to_string()).after(Duration::from_secs(secs))]);
    }

    /// Posts a generate call of the draft (no body); its 200 answer.
    fn generate(&self, what: &str) -> Value {
        let path = format!("{DRAFTS}/{}/{what}/generate", self.draft);
        self.server
            .post(&self.token, &path, &json!({}))
            .expect(200)
            .body
    }

    fn generate_rsas(&self, ad_group: i64) -> Value {
        self.generate(&format!("ad-groups/{ad_group}/rsa"))
    }

    fn generate_extensions(&self) -> Value {
        self.generate("extensions")
    }

    fn draft(&self) -> Value {
        self.server
            .get(&self.token, &format!("{DRAFTS}/{}", self.draft))
            .expect(200)
            .body
    }

    fn status(&self) -> Value {
        self.server
            .get(
                &self.token,
                &format!("{DRAFTS}/{}/generation-status", self.draft),
            )
            .expect(200)
            .body
    }

    /// Polls the generation status until `all_complete`, as a client would.
    fn settled(&self) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let status = self.status();
            if status["all_complete"] == true {
                return status;
            }
            assert!(Instant::now() < deadline, "never complete: {status}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn rsas(&self) -> Vec<Value> {
        self.draft()["ad_groups"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|group| group["rsas"].as_array().unwrap().clone())
            .collect()
    }
}

fn new_draft(server: &Server, token: &str, company: i64) -> i64 {
    server
        .post(
            token,
            &format!("{DRAFTS}?company_id={company}"),
            &json!({"name": "Spring bread", "google_ads_customer_id": CUSTOMER_ID,
                    "campaign_name": "Spring bread - Search",
                    "website_url": "https://acme.example"}),
        )
        .expect(200)
        .body["id"]
        .as_i64()
        .unwrap()
}

/// A new ad group with keywords in the draft (no RSA queued); its id.
fn ad_group(server: &Server, token: &str, draft: i64, name: &str, keywords: &[&str]) -> i64 {
    let keywords: Vec<Value> = keywords.iter().map(|text| json!({"text": text})).collect();
    let answer = server
        .post(
            token,
            &format!("{DRAFTS}/{draft}/ad-groups?regenerate_rsas=false"),
            &json!({"name": name, "keywords": keywords}),
        )
        .expect(200)
        .body;
    let groups = answer["draft"]["ad_groups"].as_array().unwrap();
    groups.last().unwrap()["id"].as_i64().unwrap()
}

fn texts(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["text"].as_str().unwrap().to_string())
        .collect()
}

fn waits_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "waited in vain for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn task_row(server: &Server, task_id: &str) -> (String, i64, Option<String>) {
    let row = server.sql(&format!(
        "SELECT status, attempts, error FROM generation_tasks WHERE id = '{task_id}'"
    ));
    let mut columns = row.splitn(3, '|');
    let mut next = || columns.next().unwrap().to_string();
    let (status, attempts, error) = (next(), next().parse().unwrap(), next());
    (
        status,
        attempts,
        Some(error).filter(|error| !error.is_empty()),
    )
}

#[test]
fn generated_rsas_fill_three_new_rsas_and_the_status_reaches_all_complete() {
    let world = World::start(&[]);
    let group = world.ad_group("Sourdough", &["sourdough bread", "rye loaf"]);
    let answer = world.generate_rsas(group);
    let rsa_ids: Vec<i64> = answer["rsa_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_i64().unwrap())
        .collect();
    assert_eq!(rsa_ids.len(), 3, "{answer}");
    assert!(["pending", "in_progress"].contains(&answer["status"].as_str().unwrap()));
    let task_id = answer["task_id"].as_str().unwrap();
    assert!(task_id.starts_with("task_"), "{answer}");

    let status = world.settled();
    let listed: Vec<i64> = status["rsas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rsa| rsa["rsa_id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, rsa_ids);
    for rsa in status["rsas"].as_array().unwrap() {
        assert_eq!(rsa["status"], "completed", "{status}");
        assert_eq!(rsa["task_id"], task_id);
        assert_eq!(rsa["error"], Value::Null);
    }
    let draft = world.draft();
    assert_eq!(draft["all_rsas_generated"], true);
    let rsas = world.rsas();
    assert_eq!(rsas.len(), 3);
    for rsa in &rsas {
        assert_eq!(
            texts(&rsa["headlines"]),
            GENERATED_RSA["headlines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h.as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        );
        assert_eq!(rsa["descriptions"].as_array().unwrap().len(), 2);
        assert_eq!(rsa["headlines"][0]["pinned_position"], Value::Null);
        assert_eq!(rsa["final_url"], "https://acme.example");
    }
    assert_eq!(task_row(&world.server, task_id).0, "completed");
    let generated = world
        .server
        .sql("SELECT count(*) FROM draft_rsas WHERE generated_at IS NOT NULL");
    assert_eq!(generated, "3");

    // One call per RSA, each telling the model about the company, the campaign and the group.
    let received = world.llm.received();
    assert_eq!(received.len(), 3);
    for request in &received {
        let prompt = request.messages()[1]["content"].as_str().unwrap();
        for fact in [
            "Acme Bakery",
            "Spring bread - Search",
            "Sourdough",
            "rye loaf",
        ] {
            assert!(prompt.contains(fact), "{fact} missing from {prompt}");
        }
        assert!(request.body.get("tools").is_none());
    }
    // Their tokens are the company's, as chat's are.
    let usage = world
        .server
        .get(
            &world.token,
            &format!("/api/v1/companies/{}/usage", world.company),
        )
        .expect(200)
        .body;
    assert_eq!(usage["month_tokens"], 45, "{usage}");
}

#[test]
fn generated_extensions_are_added_after_the_drafts_own_without_repeats() {
    let world = World::start(&[]);
    world
        .server
        .patch(
            &world.token,
            &format!("{DRAFTS}/{}/extensions", world.draft),
            &json!({"callouts": [{"callout_text": "Family Owned"},
                                 {"callout_text": "open sundays"}]}),
        )
        .expect(200);
    let answer = world.generate_extensions();
    assert_eq!(answer["status"], "pending", "{answer}");
    let task_id = answer["task_id"].as_str().unwrap().to_string();
    let status = world.settled();
    assert_eq!(
        status["extensions"],
        json!({"task_id": task_id, "status": "completed", "error": null})
    );
    let draft = world.draft();
    assert_eq!(draft["extensions_generation_status"], "completed");
    assert_eq!(draft["extensions_task_id"], task_id.as_str());
    let extensions = &draft["extensions"];
    let callouts: Vec<&str> = extensions["callouts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["callout_text"].as_str().unwrap())
        .collect();
    // The person's two first; "Open Sundays" is theirs already (case aside).
    assert_eq!(
        callouts,
        [
            "Family Owned",
            "open sundays",
            "Organic Flour",
            "Free Pickup"
        ]
    );
    assert_eq!(extensions["sitelinks"].as_array().unwrap().len(), 2);
    assert_eq!(
        extensions["sitelinks"][0]["final_url"],
        "https://acme.example/bread"
    );
    assert_eq!(
        extensions["structured_snippets"],
        json!([{"header": "TYPES", "values": ["Sourdough", "Rye", "Spelt"]}])
    );
    assert_eq!(extensions["phone"], Value::Null);

    // Generating again adds nothing the draft already has.
    world.generate_extensions();
    world.settled();
    assert_eq!(world.draft()["extensions"], *extensions);
}

#[test]
fn a_second_extensions_generate_while_one_runs_answers_the_running_task() {
    let world = World::start(&[]);
    world.answers_late(&GENERATED_EXTENSIONS, 2);
    let first = world.generate_extensions();
    waits_for("the model to be asked", || world.llm.received().len() == 1);
    let second = world.generate_extensions();
    assert_eq!(second["task_id"], first["task_id"]);
    assert_eq!(second["status"], "in_progress");
    assert_eq!(world.status()["all_complete"], false);
    assert_eq!(world.draft()["extensions_generation_status"], "in_progress");
    world.settled();
    assert_eq!(world.server.count("generation_tasks"), 1);
    assert_eq!(world.llm.received().len(), 1);
}

#[test]
fn the_models_json_is_read_tolerantly_and_only_what_fits_is_kept() {
    let world = World::start(&[]);
    let group = world.ad_group("Cakes", &["birthday cake"]);
    let long = "A headline far longer than thirty characters";
    let fenced = format!(
        "Here are your ads!\n```json\n{}\n```\nLet me know.",
        json!({"headlines": ["Cakes for Every Party", long, "Custom Birthday Cakes",
                             "cakes for every party", "Order by Friday"],
               "descriptions": ["Handmade cakes, decorated your way.", "x".repeat(91),
                                "Pick up Saturday morning."],
               "notes": "extra keys are ignored", "score": 9})
    );
    let around = format!(
        "Sure. {} Hope this helps.",
        json!({"descriptions": ["One fine description.", "Another fine description."],
               "headlines": [{"text": "Objects Work Too"}, "Plain Strings", "Mixed Is Fine"]})
    );
    world.llm.script([
        Answer::text(&fenced),
        Answer::text(&around),
        Answer::text(&GENERATED_RSA.to_string()),
    ]);
    world.generate_rsas(group);
    world.settled();
    let rsas = world.rsas();
    assert!(
        rsas.iter().all(|rsa| rsa["status"] == "completed"),
        "{rsas:?}"
    );
    assert_eq!(
        texts(&rsas[0]["headlines"]),
        [
            "Cakes for Every Party",
            "Custom Birthday Cakes",
            "Order by Friday"
        ]
    );
    assert_eq!(
        texts(&rsas[0]["descriptions"]),
        [
            "Handmade cakes, decorated your way.",
            "Pick up Saturday morning."
        ]
    );
    assert_eq!(
        texts(&rsas[1]["headlines"]),
        ["Objects Work Too", "Plain Strings", "Mixed Is Fine"]
    );
}

#[test]
fn an_unusable_answer_fails_with_our_error_and_never_the_servers_words() {
    let world = World::start(&[("ADTHREAD_LLM_API_KEY", "sk-generation-secret")]);
    let group = world.ad_group("Bread", &["bread"]);
    world.llm.script([
        Answer::text("I refuse: INTERNAL-MODEL-NOTE-31337"),
        Answer::hostile(Hostile::Leaky(500)),
        Answer::text(&json!({"headlines": ["Too few"], "descriptions": ["a", "b"]}).to_string()),
    ]);
    let answer = world.generate_rsas(group);
    let status = world.settled();
    let rsas = status["rsas"].as_array().unwrap();
    assert!(rsas.iter().all(|rsa| rsa["status"] == "failed"), "{status}");
    assert_eq!(
        rsas[0]["error"],
        "The language model's answer held no JSON object of the kind asked for"
    );
    assert_eq!(rsas[1]["error"], "The language model's server failed (500)");
    assert!(rsas[2]["error"]
        .as_str()
        .unwrap()
        .contains("held 1 usable headlines and 2 usable descriptions"));
    let everything = format!("{status} {}", world.draft());
    for secret in ["INTERNAL-MODEL-NOTE", LEAKY_SECRET, "sk-generation-secret"] {
        assert!(!everything.contains(secret), "{secret} reached a client");
    }
    assert_eq!(world.draft()["all_rsas_generated"], false);
    let (state, _, error) = task_row(&world.server, answer["task_id"].as_str().unwrap());
    assert_eq!(state, "failed");
    assert!(error
        .unwrap()
        .starts_with("3 of 3 RSAs could not be generated"));

    // Extensions: garbage fails the task, and the draft shows why.
    world.llm.script([Answer::text(
        "```json\n{\"callouts\": [\"far too long a callout text\"]}\n```",
    )]);
    world.generate_extensions();
    world.settled();
    let draft = world.draft();
    assert_eq!(draft["extensions_generation_status"], "failed");
    assert!(draft["extensions_generation_error"]
        .as_str()
        .unwrap()
        .starts_with("The language model's answer held no usable extension"));
    assert_eq!(draft["extensions"]["callouts"], json!([]));
}

#[test]
fn without_a_model_generate_is_503_and_nothing_is_queued() {
    let server = Server::start();
    let token = server.admin_token();
    let company = server.company_with_connections(&token, "Acme");
    let draft = new_draft(&server, &token, company);
    let group = ad_group(&server, &token, draft, "Bread", &["bread"]);
    for path in [
        format!("{DRAFTS}/{draft}/ad-groups/{group}/rsa/generate"),
        format!("{DRAFTS}/{draft}/extensions/generate"),
    ] {
        server
            .post(&token, &path, &json!({}))
            .expect_detail(503, "needs a language model");
    }
    // What does not exist is still 404 first.
    server
        .post(
            &token,
            &format!("{DRAFTS}/{draft}/ad-groups/{}/rsa/generate", group + 1),
            &json!({}),
        )
        .expect(404);
    server
        .post(
            &token,
            &format!("{DRAFTS}/{}/extensions/generate", draft + 1),
            &json!({}),
        )
        .expect(404);
    assert_eq!(server.count("generation_tasks"), 0);
    assert_eq!(server.count("draft_rsas"), 0);
    let status = server
        .get(&token, &format!("{DRAFTS}/{draft}/generation-status"))
        .expect(200)
        .body;
    assert_eq!(status["all_complete"], true);
}

#[test]
fn another_companys_draft_and_an_ad_group_of_another_draft_are_404() {
    let world = World::start(&[]);
    let group = world.ad_group("Bread", &["bread"]);
    let other_draft = new_draft(&world.server, &world.token, world.company);
    let other_group = ad_group(&world.server, &world.token, other_draft, "Cakes", &["cake"]);
    let outsider = world.server.user("outsider@example.com", false);
    let rsa_path =
        |draft: i64, group: i64| format!("{DRAFTS}/{draft}/ad-groups/{group}/rsa/generate");
    world
        .server
        .post(&outsider, &rsa_path(world.draft, group), &json!({}))
        .expect_detail(404, "Campaign draft not found");
    world
        .server
        .post(
            &outsider,
            &format!("{DRAFTS}/{}/extensions/generate", world.draft),
            &json!({}),
        )
        .expect_detail(404, "Campaign draft not found");
    world
        .server
        .post(
            &world.token,
            &rsa_path(world.draft, other_group),
            &json!({}),
        )
        .expect_detail(404, "not found in this campaign draft");
    world
        .server
        .post(&world.token, &rsa_path(world.draft, 999_999), &json!({}))
        .expect(404);
    world
        .server
        .post(&world.token, &rsa_path(world.draft, 0), &json!({}))
        .expect(404);
    assert_eq!(world.server.count("generation_tasks"), 0);
    assert_eq!(world.server.count("draft_rsas"), 0);
}

#[test]
fn a_spent_monthly_quota_fails_the_rest_with_a_clear_error() {
    // One call (15 tokens) fits in a quota of 10; the next finds it spent.
    let world = World::start(&[("ADTHREAD_MONTHLY_TOKEN_QUOTA", "10")]);
    let group = world.ad_group("Bread", &["bread"]);
    world.generate_rsas(group);
    let status = world.settled();
    let states: Vec<&str> = status["rsas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rsa| rsa["status"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["completed", "failed", "failed"]);
    assert_eq!(
        status["rsas"][1]["error"],
        "This company has used its monthly quota of 10 tokens"
    );
    assert_eq!(world.llm.received().len(), 1);
}

/// Generates one ad group's RSAs against a model that stalls on the first, and waits until
/// the worker is stuck in that call: the task and the ad group.
fn stalled_generation(world: &World) -> String {
    let group = world.ad_group("Bread", &["bread"]);
    world.answers_late(&GENERATED_RSA, 600);
    let answer = world.generate_rsas(group);
    waits_for("the model to be asked", || world.llm.received().len() == 1);
    let task_id = answer["task_id"].as_str().unwrap().to_string();
    assert_eq!(task_row(&world.server, &task_id).0, "in_progress");
    assert_eq!(world.status()["rsas"][0]["status"], "in_progress");
    task_id
}

#[test]
fn generation_cut_off_by_sigkill_resumes_after_restart_and_completes() {
    let mut world = World::start(&[]);
    let task_id = stalled_generation(&world);
    world.server.sigkill();
    world.llm.forget_script();
    world.server.restart();
    let status = world.settled();
    assert!(
        status["rsas"]
            .as_array()
            .unwrap()
            .iter()
            .all(|rsa| rsa["status"] == "completed" && rsa["task_id"] == task_id.as_str()),
        "{status}"
    );
    assert_eq!(world.draft()["all_rsas_generated"], true);
    assert_eq!(
        task_row(&world.server, &task_id),
        ("completed".into(), 2, None)
    );
}

#[test]
fn a_task_cut_off_more_often_than_its_attempts_fails_saying_so() {
    let mut world = World::start(&[("ADTHREAD_LLM_GENERATION_ATTEMPTS", "1")]);
    let task_id = stalled_generation(&world);
    world.server.sigkill();
    world.llm.forget_script();
    world.server.restart();
    let status = world.settled();
    for rsa in status["rsas"].as_array().unwrap() {
        assert_eq!(rsa["status"], "failed", "{status}");
        assert!(rsa["error"]
            .as_str()
            .unwrap()
            .contains("cut off by a server stop once"));
    }
    let (state, attempts, _) = task_row(&world.server, &task_id);
    assert_eq!((state.as_str(), attempts), ("failed", 1));
    assert_eq!(world.llm.received().len(), 1, "not tried again");
}

#[test]
fn a_clean_stop_gives_the_task_back_without_counting_the_attempt() {
    let mut world = World::start(&[("ADTHREAD_LLM_GENERATION_ATTEMPTS", "1")]);
    let task_id = stalled_generation(&world);
    assert!(world.server.terminate().success());
    assert_eq!(
        task_row(&world.server, &task_id),
        ("pending".into(), 0, None)
    );
    world.llm.forget_script();
    world.server.restart();
    world.settled();
    assert_eq!(
        task_row(&world.server, &task_id),
        ("completed".into(), 1, None)
    );
    assert_eq!(world.draft()["all_rsas_generated"], true);
}

fn rsa_ids(answer: &Value) -> Vec<i64> {
    answer["rsa_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_i64().unwrap())
        .collect()
}

#[test]
fn an_rsa_a_person_edits_during_generation_keeps_their_copy_and_later_runs_leave_it_alone() {
    let world = World::start(&[]);
    let group = world.ad_group("Bread", &["bread"]);
    world.answers_late(&GENERATED_RSA, 2);
    let ids = rsa_ids(&world.generate_rsas(group));
    waits_for("the model to be asked", || world.llm.received().len() == 1);
    // While the model writes the first RSA, a person writes it (and sends the others as they are).
    let mine = json!({"id": ids[0], "ad_group_id": group,
        "headlines": [{"text": "My Own Headline"}, {"text": "Written By Hand"}, {"text": "Keep It"}],
        "descriptions": [{"text": "A person wrote this."}, {"text": "Generation must not touch it."}]});
    let mut rsas = vec![mine.clone()];
    for rsa in &world.rsas()[1..] {
        rsas.push(
            json!({"id": rsa["id"], "ad_group_id": group, "headlines": rsa["headlines"],
                         "descriptions": rsa["descriptions"]}),
        );
    }
    world
        .server
        .patch(
            &world.token,
            &format!("{DRAFTS}/{}/ads", world.draft),
            &json!({"rsas": rsas}),
        )
        .expect(200);
    let status = world.settled();
    let kept = |world: &World| {
        let first = world.rsas()[0].clone();
        assert_eq!(first["id"], ids[0]);
        assert_eq!(
            first["headlines"],
            mine["headlines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| json!({"text": h["text"], "pinned_position": null}))
                .collect::<Value>()
        );
    };
    kept(&world);
    assert_eq!(status["rsas"][1]["status"], "completed", "{status}");
    assert_eq!(status["rsas"][2]["status"], "completed", "{status}");
    // The person's RSA (`not_started`) has its copy: a client polling the flag is not kept waiting.
    assert_eq!(status["rsas"][0]["status"], "not_started", "{status}");
    assert_eq!(world.draft()["all_rsas_generated"], true);

    // A keyword added later regenerates the ad group's other RSAs, never the person's.
    world.llm.forget_script();
    let before = world.llm.received().len();
    world
        .server
        .post(
            &world.token,
            &format!("{DRAFTS}/{}/ad-groups/{group}/keywords", world.draft),
            &json!({"text": "rye bread"}),
        )
        .expect(200);
    world.settled();
    kept(&world);
    assert_eq!(
        world.llm.received().len(),
        before + 2,
        "two RSAs regenerated"
    );
    let prompt = world.llm.received().last().unwrap().messages()[1]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(prompt.contains("rye bread"), "{prompt}");
}

#[test]
fn deleting_the_ad_group_or_the_draft_mid_generation_leaves_nothing_waiting() {
    let world = World::start(&[]);
    let group = world.ad_group("Bread", &["bread"]);
    world.answers_late(&GENERATED_RSA, 1);
    world.generate_rsas(group);
    waits_for("the model to be asked", || world.llm.received().len() == 1);
    // The task and its RSAs go with their ad group, while the model writes the first RSA.
    world
        .server
        .patch(
            &world.token,
            &format!("{DRAFTS}/{}/ad-groups", world.draft),
            &json!({"ad_groups": []}),
        )
        .expect(200);
    let status = world.status();
    assert_eq!(status["all_complete"], true, "{status}");
    assert_eq!(status["rsas"], json!([]));
    assert_eq!(world.server.count("generation_tasks"), 0);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        world.llm.received().len(),
        1,
        "no call for the RSAs deleted"
    );

    // The worker is not wedged: a new ad group and a deleted draft's extensions work out.
    world.answers_late(&GENERATED_EXTENSIONS, 1);
    world.generate_extensions();
    waits_for("the extensions call", || world.llm.received().len() == 2);
    world
        .server
        .delete(&world.token, &format!("{DRAFTS}/{}", world.draft))
        .expect(204);
    let draft = new_draft(&world.server, &world.token, world.company);
    let group = ad_group(&world.server, &world.token, draft, "Cakes", &["cake"]);
    let again = World { draft, ..world };
    again.generate_rsas(group);
    let status = again.settled();
    assert!(status["rsas"]
        .as_array()
        .unwrap()
        .iter()
        .all(|rsa| rsa["status"] == "completed"));
    assert_eq!(again.server.count("draft_extension_items"), 0);
    assert!(
        !again.server.log().contains("panic"),
        "{}",
        again.server.log()
    );
}

#[test]
fn a_task_resumed_without_a_model_fails_saying_so() {
    let mut world = World::start(&[]);
    let task_id = stalled_generation(&world);
    world.server.sigkill();
    world
        .server
        .env
        .retain(|(key, _)| key != "ADTHREAD_LLM_BASE_URL");
    world.server.restart();
    let status = world.settled();
    for rsa in status["rsas"].as_array().unwrap() {
        assert_eq!(rsa["status"], "failed", "{status}");
        assert_eq!(
            rsa["error"],
            "No language model is configured (llm.base_url); generate again once one is"
        );
    }
    assert_eq!(task_row(&world.server, &task_id).0, "failed");
}

#[test]
fn a_client_sending_back_rsas_it_loaded_before_their_copy_arrived_keeps_the_generated_copy() {
    let world = World::start(&[]);
    let group = world.ad_group("Bread", &["bread"]);
    world.answers_late(&GENERATED_RSA, 1);
    let ids = rsa_ids(&world.generate_rsas(group));
    // The wizard loads the draft while the copy is still being written...
    let loaded = world.rsas();
    assert!(loaded.iter().all(|rsa| rsa["headlines"] == json!([])));
    world.settled();
    // ...and saves step 3 afterwards: its own RSA rewritten, the others sent back as loaded.
    let mut sent: Vec<Value> = loaded
        .iter()
        .map(|rsa| {
            json!({"id": rsa["id"], "ad_group_id": group,
                          "headlines": rsa["headlines"], "descriptions": rsa["descriptions"]})
        })
        .collect();
    sent[0]["headlines"] = json!([{"text": "Mine"}, {"text": "All Mine"}, {"text": "Hands Off"}]);
    sent[0]["descriptions"] = json!([{"text": "Written by a person."}, {"text": "Kept."}]);
    world
        .server
        .patch(
            &world.token,
            &format!("{DRAFTS}/{}/ads", world.draft),
            &json!({"rsas": sent}),
        )
        .expect(200);
    let rsas = world.rsas();
    assert_eq!(rsas.len(), 3);
    assert_eq!(rsas[0]["id"], ids[0]);
    assert_eq!(
        texts(&rsas[0]["headlines"]),
        ["Mine", "All Mine", "Hands Off"]
    );
    for rsa in &rsas[1..] {
        assert_eq!(rsa["status"], "completed", "{rsa}");
        let generated: Vec<&str> = GENERATED_RSA["headlines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|text| text.as_str().unwrap())
            .collect();
        assert_eq!(
            texts(&rsa["headlines"]),
            generated,
            "the generated copy is kept"
        );
    }
}
