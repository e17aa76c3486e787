//! The onboarding assistant without a model: a fixed interview, one question per reply. The
//! thread's own replies count where it stands: reply 0 greets and asks the first question,
//! reply k saves the answer to question k and asks the next, and the last sums up and
//! completes the thread. A reopened thread starts the interview again.

use serde_json::Value;

use super::tools::{Workspace, PROFILE_FIELDS};
use crate::schema::FrontendAction;

/// (profile field, question), in the order asked.
const QUESTIONS: [(&str, &str); 7] = [
    ("business_description", "What does your business do?"),
    (
        "website",
        "What is your website's address? (Say \"none\" if you have none.)",
    ),
    (
        "products_and_services",
        "Which products or services do you want to advertise?",
    ),
    ("target_customers", "Who are your customers?"),
    (
        "area_served",
        "Which area do you serve: a town, a region, a whole country?",
    ),
    (
        "monthly_budget",
        "How much would you like to spend on advertising each month?",
    ),
    (
        "goals",
        "What is your main goal: calls, visits to your shop, online sales, bookings?",
    ),
];

const WELCOME: &str = "Welcome! I will ask you seven short questions about your business so \
                       that we can prepare your advertising.";

/// The interview's next reply to `answer`, with its changes made in `workspace`.
pub fn reply(replies_so_far: u32, answer: &str, workspace: &mut Workspace) -> String {
    let turn = replies_so_far as usize % (QUESTIONS.len() + 1);
    if turn == 0 {
        workspace.act(FrontendAction::DisableSubmitButton);
        return format!("{WELCOME}\n\n1/7. {}", QUESTIONS[0].1);
    }
    let (field, _) = QUESTIONS[turn - 1];
    let mut fields = serde_json::Map::new();
    fields.insert(field.into(), Value::from(answer.trim()));
    workspace.save_profile_fields(fields);
    match QUESTIONS.get(turn) {
        Some((_, question)) => {
            workspace.act(FrontendAction::DisableSubmitButton);
            format!("Thank you.\n\n{}/7. {question}", turn + 1)
        }
        None => {
            workspace.complete_thread();
            summary(&workspace.business_profile())
        }
    }
}

fn summary(profile: &Value) -> String {
    let mut text = String::from("Thank you, that is everything. Here is what I noted:\n");
    for (field, label) in PROFILE_FIELDS {
        if let Some(answer) = profile.get(field).and_then(Value::as_str) {
            text.push_str(&format!("\n- {label}: {answer}"));
        }
    }
    text.push_str("\n\nYou can now submit your answers.");
    text
}
