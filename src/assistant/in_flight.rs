//! Messages being answered by the model, per company: how many (capped by
//! `llm.max_concurrent_per_company`) and the tokens they have reserved from the monthly quota.
//! A `Slot` is taken before the model is called and given back when it is dropped, on every
//! path: a stored reply, an error, or a client that went away.
//!
//! On SQLite they are counted in this process. When processes share a PostgreSQL database, each
//! slot is a row there (`store/postgres/coordination/slots.rs`), so every process counts the
//! places and reservations of all; a slot whose process died stops counting once its
//! `lifetime` has passed, which is set well past the longest an answer can take.

use crate::schema::CompanyId;
use crate::store::coordination::{SharedCoordination, SharedSlot, SlotRequest};
use crate::store::{StoreError, StoreResult};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// The answers in flight: counted in this process, or in the database.
pub enum InFlight {
    Local(LocalInFlight),
    Shared {
        coordination: SharedCoordination,
        lifetime: Duration,
    },
}

/// One answer's place (or a background call's reservation), given back when dropped.
pub enum Slot {
    Local(LocalSlot),
    Shared(SharedSlot),
}

impl InFlight {
    /// Shared through the database when `shared` is Some, each slot for at most `lifetime`.
    pub fn new(shared: Option<SharedCoordination>, lifetime: Duration) -> Self {
        match shared {
            Some(coordination) => InFlight::Shared {
                coordination,
                lifetime,
            },
            None => InFlight::Local(LocalInFlight::default()),
        }
    }

    /// Takes one of the company's `limit` places, reserving `tokens`; None when all are taken.
    pub async fn take(
        &self,
        company_id: CompanyId,
        limit: u32,
        tokens: u64,
    ) -> StoreResult<Option<Slot>> {
        self.admit(company_id, Some(limit), tokens).await
    }

    /// Reserves `tokens` for a background generation call, outside the places for messages.
    pub async fn reserve(&self, company_id: CompanyId, tokens: u64) -> StoreResult<Slot> {
        // Asking for no place, it cannot find them all taken.
        self.admit(company_id, None, tokens)
            .await?
            .ok_or(StoreError::Busy)
    }

    /// Takes one of `limit` places (none with None), reserving `reserved_tokens`.
    async fn admit(
        &self,
        company_id: CompanyId,
        limit: Option<u32>,
        reserved_tokens: u64,
    ) -> StoreResult<Option<Slot>> {
        match self {
            InFlight::Local(local) => Ok(match limit {
                Some(limit) => local.take(company_id, limit, reserved_tokens),
                None => Some(local.reserve(company_id, reserved_tokens)),
            }
            .map(Slot::Local)),
            InFlight::Shared {
                coordination,
                lifetime,
            } => {
                let request = SlotRequest {
                    company_id,
                    limit,
                    reserved_tokens,
                    lifetime: *lifetime,
                };
                Ok(coordination.take_slot(request).await?.map(Slot::Shared))
            }
        }
    }
}

impl Slot {
    /// Tokens reserved by the company's other answers when this one was admitted.
    pub fn reserved_by_others(&self) -> u64 {
        match self {
            Slot::Local(slot) => slot.reserved_by_others,
            Slot::Shared(slot) => slot.reserved_by_others,
        }
    }
}

#[derive(Default, Clone)]
pub struct LocalInFlight {
    companies: Arc<Mutex<HashMap<CompanyId, CompanyLoad>>>,
}

#[derive(Default)]
struct CompanyLoad {
    answers: u32,
    reserved_tokens: u64,
}

/// One message's place among its company's answers in flight, in this process.
pub struct LocalSlot {
    company_id: CompanyId,
    /// 1 for a message being answered, 0 for a background generation call (which reserves
    /// tokens but takes none of the company's places for messages).
    answers: u32,
    reserved_tokens: u64,
    /// Tokens reserved by the company's other answers when this one was admitted.
    pub reserved_by_others: u64,
    in_flight: LocalInFlight,
}

impl LocalInFlight {
    /// Takes one of the company's `limit` places, reserving `tokens`; None when all are taken.
    pub fn take(&self, company_id: CompanyId, limit: u32, tokens: u64) -> Option<LocalSlot> {
        let mut companies = self.companies();
        let load = companies.entry(company_id).or_default();
        if load.answers >= limit {
            return None;
        }
        let reserved_by_others = load.reserved_tokens;
        load.answers += 1;
        load.reserved_tokens = load.reserved_tokens.saturating_add(tokens);
        Some(LocalSlot {
            company_id,
            answers: 1,
            reserved_tokens: tokens,
            reserved_by_others,
            in_flight: self.clone(),
        })
    }

    /// Reserves `tokens` for a background generation call, outside the places for messages.
    pub fn reserve(&self, company_id: CompanyId, tokens: u64) -> LocalSlot {
        let mut companies = self.companies();
        let load = companies.entry(company_id).or_default();
        let reserved_by_others = load.reserved_tokens;
        load.reserved_tokens = load.reserved_tokens.saturating_add(tokens);
        LocalSlot {
            company_id,
            answers: 0,
            reserved_tokens: tokens,
            reserved_by_others,
            in_flight: self.clone(),
        }
    }

    /// Never poisoned in practice (nothing here panics); if it were, the counts are still sound.
    fn companies(&self) -> MutexGuard<'_, HashMap<CompanyId, CompanyLoad>> {
        self.companies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn companies_tracked(&self) -> usize {
        self.companies().len()
    }
}

impl Drop for LocalSlot {
    fn drop(&mut self) {
        let mut companies = self.in_flight.companies();
        if let Some(load) = companies.get_mut(&self.company_id) {
            load.answers -= self.answers;
            load.reserved_tokens -= self.reserved_tokens;
            if load.answers == 0 && load.reserved_tokens == 0 {
                companies.remove(&self.company_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_capped_per_company_and_given_back_on_drop() {
        let in_flight = LocalInFlight::default();
        let first = in_flight.take(CompanyId(1), 2, 100).unwrap();
        assert_eq!(first.reserved_by_others, 0);
        let second = in_flight.take(CompanyId(1), 2, 100).unwrap();
        assert_eq!(second.reserved_by_others, 100);
        assert!(
            in_flight.take(CompanyId(1), 2, 100).is_none(),
            "a third place"
        );
        assert!(
            in_flight.take(CompanyId(2), 2, 100).is_some(),
            "another company is not held up"
        );
        drop(first);
        let third = in_flight.take(CompanyId(1), 2, 100).unwrap();
        assert_eq!(third.reserved_by_others, 100);
        drop((second, third));
        assert_eq!(
            in_flight.companies_tracked(),
            0,
            "idle companies are forgotten"
        );
    }
}
