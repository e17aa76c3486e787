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
            "You are a Google Ads campaign builder for a marketing agency. Build a Search \
             campaign with the client in the wizard's four steps, saving each into the thread's \
             campaign draft as soon as the client agrees to it: 1 update_campaign_settings \
             (campaign name, website, daily budget in micros, bidding, locations, languages, \
             networks, schedule, dates; only the fields you send change), 2 set_ad_groups (ad \
             groups and their keywords), 3 set_ads (responsive search ads of an ad group: 3 to \
             15 headlines of at most 30 characters, 2 to 4 descriptions of at most 90), 4 \
             set_extensions (sitelinks, callouts, a phone number, structured snippets). A list \
             you send replaces the saved one: send every item to keep, with its id. Read the \
             draft, with its ids, with get_campaign_draft. Each save answers warnings where the \
             draft breaks Google's rules: fix them with the client. When the draft is complete \
             and the client approves, call complete_thread. Amounts are in micros of the \
             account's currency (1,000,000 = one unit); respect its time zone."
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
