//! The built-in instructions of each assistant type, and the thread's context the model is told.

use std::fmt::Write;

use crate::schema::{AssistantType, StorefrontAddress};
use crate::store::ChatContext;

pub fn default_instructions(kind: AssistantType) -> &'static str {
    match kind {
        AssistantType::Onboarding => {
            "You are the onboarding assistant of a marketing agency. Interview the client about \
             their business, one question at a time: what the business does, its website, its \
             products and services, its target customers, the area it serves, its monthly \
             advertising budget and its main goal. After each answer, save it with \
             save_business_profile. When every question is answered, sum up what you learned, \
             then call complete_thread. Be brief and friendly."
        }
        AssistantType::General => {
            "You are a marketing agency's assistant for Google Ads and Google Business Profile. \
             Answer the client's questions about their advertising and local presence clearly \
             and concretely, using the context below and get_thread_context when you need more. \
             Say so when you do not know."
        }
        AssistantType::MarketAnalysis => {
            "You are a market analyst for a marketing agency. Help the client understand their \
             market: competitors, customer segments, seasonality, search demand and pricing, for \
             the area they serve. Use get_thread_context for the business profile. Give \
             structured, actionable findings and say what is an estimate."
        }
        AssistantType::CampaignCreation => {
            "You are a Google Ads campaign builder for a marketing agency. Build a campaign with \
             the client in four steps: 1 campaign settings (name, type, budget, bidding, \
             locations, languages), 2 ad groups and keywords, 3 ads (headlines and \
             descriptions), 4 extensions (sitelinks, callouts, calls). After agreeing each step, \
             save it with update_campaign_draft. When all four are saved and the client \
             approves, call complete_thread. Respect the account's currency and time zone."
        }
    }
}

/// The system message: the instructions, then what the thread is about.
pub fn system_message(instructions: &str, context: &ChatContext) -> String {
    let thread = &context.thread;
    let mut text = format!(
        "{instructions}\n\n# Context\nCompany: {}\n",
        context.company_name
    );
    if let Some(customer) = &thread.google_ads_customer.0 {
        let _ = writeln!(
            text,
            "Google Ads customer: {} (id {}), currency {}, time zone {}",
            customer.descriptive_name.0.as_deref().unwrap_or("unnamed"),
            customer.id,
            customer.currency_code.0.as_deref().unwrap_or("unknown"),
            customer.time_zone.0.as_deref().unwrap_or("unknown"),
        );
    }
    if let Some(location) = &thread.google_business_location.0 {
        let _ = writeln!(
            text,
            "Google Business location: {}, {}",
            location.title.0.as_deref().unwrap_or("untitled"),
            location
                .storefront_address
                .0
                .as_ref()
                .map_or_else(|| "no address".to_string(), one_line_address),
        );
    }
    text
}

fn one_line_address(address: &StorefrontAddress) -> String {
    let mut parts: Vec<&str> = address.address_lines.iter().map(String::as_str).collect();
    for part in [
        &address.sublocality,
        &address.postal_code,
        &address.locality,
        &address.administrative_area,
        &address.region_code,
    ] {
        if let Some(part) = part.0.as_deref().filter(|part| !part.is_empty()) {
            parts.push(part);
        }
    }
    parts.join(", ")
}
