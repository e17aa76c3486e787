//! Throttling of everything that checks a password (both sign-ins, a password change) and of
//! registration. The rule, for an attempt on account A from client address X:
//!
//! 1. X has failed `free_per_address` times (any accounts): refused for 1 s, 2 s, 4 s, ... after
//!    its last failure, up to `max_block`.
//! 2. X has failed `free_per_account` times against A: refused the same way. Failures from
//!    other addresses never count here, so an attacker elsewhere cannot lock the owner out.
//! 3. X has failed against A before and A's shared pace is spent: refused until it refills. Each
//!    account has `account_checks_per_minute` password checks a minute (a burst of as many) for
//!    every address together; an address that never failed against A is never held by it.
//!    Distributed guessing thus gets that pace plus one guess per fresh address, while the owner
//!    from an address of their own always gets their password checked.
//!
//! A refused attempt never reaches argon2. An attempt let through counts as a failure until
//! `succeeded` says otherwise, so many attempts sent at once cannot all slip past the count.
//!
//! Keys are fixed-size whatever the client sent (an email is kept as its SHA-256, an IPv6
//! address as its /64, which is what one subscriber usually gets), and each table holds at most
//! `max_entries`. A full table first drops what is forgotten anyway, then the entry whose last
//! failure is oldest: an attacker can push its own count out only by making `max_entries`
//! newer failures, each one a throttled password check.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::config::AuthConfig;

/// Entries kept at most per table.
const MAX_ENTRIES: usize = 50_000;

/// The settings, from `[auth]`.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    pub free_per_account: u32,
    pub free_per_address: u32,
    pub account_checks_per_minute: u32,
    pub max_block: Duration,
    pub memory: Duration,
    pub registrations_per_address: u32,
    pub registration_window: Duration,
    pub max_entries: usize,
}

impl ThrottlePolicy {
    pub fn from_config(auth: &AuthConfig) -> Self {
        ThrottlePolicy {
            free_per_account: auth.login_failures_per_account,
            free_per_address: auth.login_failures_per_address,
            account_checks_per_minute: auth.login_account_checks_per_minute,
            max_block: Duration::from_secs(auth.login_block_max_secs),
            memory: Duration::from_secs(auth.login_failure_memory_secs),
            registrations_per_address: auth.registrations_per_address,
            registration_window: Duration::from_secs(auth.registration_window_secs),
            max_entries: MAX_ENTRIES,
        }
    }

    /// How long after its last failure a key with `count` failures stays blocked: nothing up to
    /// `free` failures, then 1 s, 2 s, 4 s, ... up to `max_block`.
    fn block(&self, count: u32, free: u32) -> Duration {
        if count < free {
            return Duration::ZERO;
        }
        let doublings = (count - free).min(30);
        Duration::from_secs(1u64 << doublings).min(self.max_block)
    }

    /// The time between two password checks of one account, once its burst is spent.
    fn pace_interval(&self) -> Duration {
        Duration::from_secs(60) / self.account_checks_per_minute.max(1)
    }

    /// How far ahead of now an account's pace may run: the burst, less the check being made.
    fn pace_burst(&self) -> Duration {
        self.pace_interval() * self.account_checks_per_minute.saturating_sub(1)
    }
}

/// An account, by the SHA-256 of its trimmed, lowercased email: 32 bytes whatever was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct AccountKey([u8; 32]);

impl AccountKey {
    fn of(email: &str) -> Self {
        AccountKey(Sha256::digest(email.trim().to_lowercase().as_bytes()).into())
    }
}

/// A client address; IPv6 by its /64, so one subscriber cannot rotate through its own block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct AddressKey(IpAddr);

impl AddressKey {
    fn of(address: IpAddr) -> Self {
        AddressKey(match address.to_canonical() {
            IpAddr::V6(v6) => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(Ipv6Addr::from(network))
            }
            v4 => v4,
        })
    }
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// Failure counts by key, at most `capacity` of them.
struct Counts<K> {
    map: HashMap<K, Failures>,
    capacity: usize,
}

impl<K: Hash + Eq + Copy> Counts<K> {
    fn new(capacity: usize) -> Self {
        Counts {
            map: HashMap::new(),
            capacity,
        }
    }

    /// The failures of `key` not yet forgotten.
    fn current(&self, key: &K, now: Instant, memory: Duration) -> Option<Failures> {
        self.map
            .get(key)
            .filter(|failures| now.duration_since(failures.last) < memory)
            .copied()
    }

    /// How long `key` stays blocked, given how its count translates to a block.
    fn wait(
        &self,
        key: &K,
        now: Instant,
        memory: Duration,
        block: impl Fn(u32) -> Duration,
    ) -> Duration {
        self.current(key, now, memory)
            .map_or(Duration::ZERO, |failures| {
                (failures.last + block(failures.count)).saturating_duration_since(now)
            })
    }

    fn record(&mut self, key: K, now: Instant, memory: Duration) {
        let count = self.current(&key, now, memory).map_or(0, |f| f.count);
        make_room(
            &mut self.map,
            &key,
            self.capacity,
            |failures| now.duration_since(failures.last) >= memory,
            |failures| failures.last,
        );
        self.map.insert(
            key,
            Failures {
                count: count.saturating_add(1),
                last: now,
            },
        );
    }

    fn forget(&mut self, key: &K) {
        self.map.remove(key);
    }

    fn forgive_one(&mut self, key: &K) {
        if let Some(failures) = self.map.get_mut(key) {
            failures.count = failures.count.saturating_sub(1);
        }
    }
}

/// Before `key` is added to a table holding `capacity` entries: drops the stale ones, and if that
/// is not enough, the one that is oldest by `age`.
fn make_room<K: Hash + Eq + Copy, V>(
    map: &mut HashMap<K, V>,
    key: &K,
    capacity: usize,
    stale: impl Fn(&V) -> bool,
    age: impl Fn(&V) -> Instant,
) {
    if map.len() < capacity || map.contains_key(key) {
        return;
    }
    map.retain(|_, value| !stale(value));
    if map.len() < capacity {
        return;
    }
    let oldest = map
        .iter()
        .min_by_key(|(_, value)| age(value))
        .map(|(k, _)| *k);
    if let Some(oldest) = oldest {
        map.remove(&oldest);
    }
}

/// Each account's shared pace of password checks, as the moment its budget is back to full
/// (the generic cell rate algorithm): one instant per account, and an account whose instant
/// has passed needs no entry at all.
struct Paces {
    full_at: HashMap<AccountKey, Instant>,
    capacity: usize,
}

impl Paces {
    /// How long until `account` has a check to spend.
    fn wait(&self, account: &AccountKey, now: Instant, policy: &ThrottlePolicy) -> Duration {
        self.full_at.get(account).map_or(Duration::ZERO, |full_at| {
            full_at.saturating_duration_since(now + policy.pace_burst())
        })
    }

    /// Spends one check of `account`'s pace, if one is left.
    fn spend(&mut self, account: AccountKey, now: Instant, policy: &ThrottlePolicy) {
        if !self.wait(&account, now, policy).is_zero() {
            return;
        }
        // An account back to full loses nothing by being dropped.
        make_room(
            &mut self.full_at,
            &account,
            self.capacity,
            |full_at| *full_at <= now,
            |full_at| *full_at,
        );
        let start = self.full_at.get(&account).copied().unwrap_or(now).max(now);
        self.full_at.insert(account, start + policy.pace_interval());
    }
}

struct Tables {
    addresses: Counts<AddressKey>,
    pairs: Counts<(AccountKey, AddressKey)>,
    paces: Paces,
    registrations: Counts<AddressKey>,
}

/// What the server remembers of recent password checks and registrations.
pub struct Throttle {
    policy: ThrottlePolicy,
    tables: Mutex<Tables>,
}

/// The attempt is refused; try again after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

impl RetryAfter {
    /// Rounded up: a client that waits exactly Retry-After seconds must get through.
    fn from_wait(wait: Duration) -> Self {
        RetryAfter(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
    }
}

fn refuse_while(wait: Duration) -> Result<(), RetryAfter> {
    if wait.is_zero() {
        Ok(())
    } else {
        Err(RetryAfter::from_wait(wait))
    }
}

impl Throttle {
    pub fn new(policy: ThrottlePolicy) -> Self {
        let capacity = policy.max_entries;
        Throttle {
            policy,
            tables: Mutex::new(Tables {
                addresses: Counts::new(capacity),
                pairs: Counts::new(capacity),
                paces: Paces {
                    full_at: HashMap::new(),
                    capacity,
                },
                registrations: Counts::new(capacity),
            }),
        }
    }

    fn tables(&self) -> MutexGuard<'_, Tables> {
        // The tables hold plain counters: ones left by a panicking thread are still consistent.
        self.tables
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether a password of `email`'s account, sent from `address`, may be checked now (the
    /// rule is at the top of this file).
    pub fn attempt(&self, email: &str, address: IpAddr) -> Result<(), RetryAfter> {
        let now = Instant::now();
        let policy = &self.policy;
        let (account, address) = (AccountKey::of(email), AddressKey::of(address));
        let mut tables = self.tables();
        let address_wait = tables
            .addresses
            .wait(&address, now, policy.memory, |count| {
                policy.block(count, policy.free_per_address)
            });
        let pair = (account, address);
        let pair_wait = tables.pairs.wait(&pair, now, policy.memory, |count| {
            policy.block(count, policy.free_per_account)
        });
        let failed_here = tables.pairs.current(&pair, now, policy.memory).is_some();
        let pace_wait = if failed_here {
            tables.paces.wait(&account, now, policy)
        } else {
            Duration::ZERO
        };
        refuse_while(address_wait.max(pair_wait).max(pace_wait))?;
        tables.addresses.record(address, now, policy.memory);
        tables.pairs.record(pair, now, policy.memory);
        tables.paces.spend(account, now, policy);
        Ok(())
    }

    /// The owner got in from `address`: that address's failures against the account no longer
    /// count, and this attempt does not count against the address. The address's other
    /// failures still do, so that an attacker cannot clear its count by signing in to an
    /// account of its own.
    pub fn succeeded(&self, email: &str, address: IpAddr) {
        let (account, address) = (AccountKey::of(email), AddressKey::of(address));
        let mut tables = self.tables();
        tables.pairs.forget(&(account, address));
        tables.addresses.forgive_one(&address);
    }

    /// Whether `address` may register an account now; counts it when it may. After
    /// `registrations_per_address`, the next waits until `registration_window` has passed
    /// since the last one.
    pub fn register(&self, address: IpAddr) -> Result<(), RetryAfter> {
        let now = Instant::now();
        let policy = &self.policy;
        let address = AddressKey::of(address);
        let window = policy.registration_window;
        let mut tables = self.tables();
        let wait = tables.registrations.wait(&address, now, window, |count| {
            if count < policy.registrations_per_address {
                Duration::ZERO
            } else {
                window
            }
        });
        refuse_while(wait)?;
        tables.registrations.record(address, now, window);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> ThrottlePolicy {
        ThrottlePolicy {
            free_per_account: 3,
            free_per_address: 5,
            account_checks_per_minute: 4,
            max_block: Duration::from_secs(60),
            memory: Duration::from_secs(900),
            registrations_per_address: 2,
            registration_window: Duration::from_secs(3600),
            max_entries: 100,
        }
    }

    fn address(n: u8) -> IpAddr {
        [10, 0, 0, n].into()
    }

    #[test]
    fn blocks_double_after_the_free_failures_up_to_the_cap() {
        let policy = ThrottlePolicy {
            max_block: Duration::from_secs(10),
            ..policy()
        };
        let blocks: Vec<u64> = (0..8).map(|n| policy.block(n, 3).as_secs()).collect();
        assert_eq!(blocks, [0, 0, 0, 1, 2, 4, 8, 10]);
    }

    #[test]
    fn failures_block_an_account_from_their_address_only_whatever_the_case_of_its_email() {
        let throttle = Throttle::new(policy());
        for _ in 0..3 {
            assert_eq!(throttle.attempt("Owner@Example.com", address(1)), Ok(()));
        }
        assert_eq!(
            throttle.attempt("owner@example.com", address(1)),
            Err(RetryAfter(1))
        );
        assert_eq!(throttle.attempt("owner@example.com", address(2)), Ok(()));
        throttle.succeeded("owner@example.com", address(2));
        assert_eq!(throttle.attempt("owner@example.com", address(2)), Ok(()));
    }

    #[test]
    fn an_address_is_blocked_whatever_the_account() {
        let throttle = Throttle::new(policy());
        for n in 0..5 {
            assert_eq!(
                throttle.attempt(&format!("user{n}@example.com"), address(7)),
                Ok(())
            );
        }
        assert!(throttle.attempt("new@example.com", address(7)).is_err());
        assert_eq!(throttle.attempt("new@example.com", address(8)), Ok(()));
    }

    #[test]
    fn distributed_guessing_shares_the_accounts_pace_but_a_fresh_address_is_checked() {
        let throttle = Throttle::new(policy());
        // Four addresses spend the account's four checks of the minute.
        for n in 1..=4 {
            assert_eq!(throttle.attempt("owner@example.com", address(n)), Ok(()));
        }
        // Each of them failed before: its next guess waits for the pace (15 s a check).
        for n in 1..=4 {
            let refused = throttle.attempt("owner@example.com", address(n));
            assert!(matches!(refused, Err(RetryAfter(14..=15))), "{refused:?}");
        }
        // An address with no failure against the account is checked at once.
        assert_eq!(throttle.attempt("owner@example.com", address(99)), Ok(()));
        // Other accounts keep their own pace.
        assert_eq!(throttle.attempt("other@example.com", address(1)), Ok(()));
    }

    #[test]
    fn keys_take_the_same_room_whatever_the_email_and_the_tables_stay_bounded() {
        let throttle = Throttle::new(policy());
        let huge = "x".repeat(100_000);
        for n in 0..=255u8 {
            let email = format!("{huge}{n}@example.com");
            throttle.attempt(&email, address(n)).unwrap();
        }
        let tables = throttle.tables();
        assert_eq!(tables.pairs.map.len(), 100);
        assert_eq!(tables.addresses.map.len(), 100);
        assert_eq!(tables.paces.full_at.len(), 100);
        assert!(std::mem::size_of::<(AccountKey, AddressKey)>() <= 64);
    }

    #[test]
    fn a_full_table_drops_the_oldest_failure_first() {
        let mut counts = Counts::new(2);
        let memory = Duration::from_secs(900);
        let start = Instant::now();
        counts.record(1, start, memory);
        counts.record(2, start + Duration::from_secs(1), memory);
        counts.record(1, start + Duration::from_secs(2), memory);
        counts.record(3, start + Duration::from_secs(3), memory);
        let mut kept: Vec<_> = counts.map.keys().copied().collect();
        kept.sort_unstable();
        assert_eq!(kept, [1, 3]);
    }

    #[test]
    fn an_ipv6_subscriber_is_one_address_for_its_whole_64() {
        let throttle = Throttle::new(policy());
        for n in 0..5u16 {
            let address = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 1, n, n, n, n));
            throttle
                .attempt(&format!("user{n}@example.com"), address)
                .unwrap();
        }
        let same_64 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 9, 9, 9, 9));
        let next_64 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 2, 9, 9, 9, 9));
        assert!(throttle.attempt("new@example.com", same_64).is_err());
        assert_eq!(throttle.attempt("new@example.com", next_64), Ok(()));
    }

    #[test]
    fn registrations_per_address_wait_for_the_window_after_the_allowed_ones() {
        let throttle = Throttle::new(policy());
        assert_eq!(throttle.register(address(1)), Ok(()));
        assert_eq!(throttle.register(address(1)), Ok(()));
        assert_eq!(throttle.register(address(1)), Err(RetryAfter(3600)));
        assert_eq!(throttle.register(address(2)), Ok(()));
    }
}
