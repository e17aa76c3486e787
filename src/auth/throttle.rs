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
//!
//! Where the counts live is chosen once, at start-up: in this process's memory on SQLite (one
//! process owns the file), in the database on PostgreSQL, where several processes must count
//! together (`store/postgres/coordination/throttle.rs`: each attempt judged and counted in one
//! transaction holding locks on its address and account). Either way the policy below judges:
//! the stores only give it each key's count and the time since its last failure, and keep what
//! it counted. Shared counts are purged once a minute of what is forgotten anyway, instead of
//! being capped at `max_entries`.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::config::AuthConfig;
use crate::store::coordination::{
    AttemptCount, AttemptLook, FailureCount, SharedCoordination, ThrottleKeys,
};
use crate::store::StoreResult;

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

    /// Small numbers for tests: 3 free failures per account, 5 per address, 4 checks a minute,
    /// 2 registrations an hour, 100 entries.
    #[cfg(test)]
    pub(crate) fn small() -> Self {
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

    /// The time between two password checks of one account, once its burst is spent.
    fn pace_interval(&self) -> Duration {
        Duration::from_secs(60) / self.account_checks_per_minute.max(1)
    }

    /// How far ahead of now an account's pace may run: the burst, less the check being made.
    fn pace_burst(&self) -> Duration {
        self.pace_interval() * self.account_checks_per_minute.saturating_sub(1)
    }

    /// How long until an account whose pace runs `ahead` of now has a check to spend.
    fn pace_wait(&self, ahead: Duration) -> Duration {
        ahead.saturating_sub(self.pace_burst())
    }

    /// The pace after one check is spent, if one is left (the generic cell rate algorithm).
    fn pace_spent(&self, ahead: Duration) -> Option<Duration> {
        self.pace_wait(ahead)
            .is_zero()
            .then(|| ahead + self.pace_interval())
    }

    /// Whether a password check may be made now (the rule at the top of this file), and if so
    /// what it counts as.
    fn judge_attempt(&self, look: AttemptLook) -> Result<AttemptCount, RetryAfter> {
        let memory = self.memory;
        let address_wait = wait(look.address, memory, |count| {
            self.block(count, self.free_per_address)
        });
        let pair_wait = wait(look.pair, memory, |count| {
            self.block(count, self.free_per_account)
        });
        let failed_here = remembered(look.pair, memory).is_some();
        let pace_wait = if failed_here {
            self.pace_wait(look.pace_ahead)
        } else {
            Duration::ZERO
        };
        refuse_while(address_wait.max(pair_wait).max(pace_wait))?;
        Ok(AttemptCount {
            address: one_more(look.address, memory),
            pair: one_more(look.pair, memory),
            pace_ahead: self.pace_spent(look.pace_ahead),
        })
    }

    /// Whether a registration may be made now; its count if so. After
    /// `registrations_per_address`, the next waits until `registration_window` has passed since
    /// the last one.
    fn judge_registration(&self, seen: Option<FailureCount>) -> Result<u32, RetryAfter> {
        let window = self.registration_window;
        let per_address = self.registrations_per_address;
        refuse_while(wait(seen, window, |count| {
            if count < per_address {
                Duration::ZERO
            } else {
                window
            }
        }))?;
        Ok(one_more(seen, window))
    }

    /// The longest a count is remembered.
    fn longest_memory(&self) -> Duration {
        self.memory.max(self.registration_window)
    }
}

/// A count, unless its last failure is `memory` ago or more.
fn remembered(seen: Option<FailureCount>, memory: Duration) -> Option<FailureCount> {
    seen.filter(|seen| seen.age < memory)
}

/// How long a key stays blocked, given how its count translates to a block.
fn wait(seen: Option<FailureCount>, memory: Duration, block: impl Fn(u32) -> Duration) -> Duration {
    remembered(seen, memory).map_or(Duration::ZERO, |seen| {
        block(seen.count).saturating_sub(seen.age)
    })
}

/// The count after one more failure.
fn one_more(seen: Option<FailureCount>, memory: Duration) -> u32 {
    remembered(seen, memory)
        .map_or(0, |seen| seen.count)
        .saturating_add(1)
}

/// An account, by the SHA-256 of its trimmed, lowercased email: 32 bytes whatever was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct AccountKey([u8; 32]);

impl AccountKey {
    fn of(email: &str) -> Self {
        AccountKey(Sha256::digest(email.trim().to_lowercase().as_bytes()).into())
    }
}

/// A check's keys as the database keeps them.
fn shared_keys(account: AccountKey, address: AddressKey) -> ThrottleKeys {
    ThrottleKeys {
        account: account.0,
        address: address.octets(),
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

    /// 16 bytes, an IPv4 address mapped into IPv6.
    fn octets(self) -> [u8; 16] {
        match self.0 {
            IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
            IpAddr::V6(v6) => v6.octets(),
        }
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

    fn seen(&self, key: &K, now: Instant) -> Option<FailureCount> {
        self.map.get(key).map(|failures| FailureCount {
            count: failures.count,
            age: now.duration_since(failures.last),
        })
    }

    /// Keeps `count` failures for `key`, the last now; what is forgotten after `memory` makes
    /// room first.
    fn set(&mut self, key: K, count: u32, now: Instant, memory: Duration) {
        make_room(
            &mut self.map,
            &key,
            self.capacity,
            |failures| now.duration_since(failures.last) >= memory,
            |failures| failures.last,
        );
        self.map.insert(key, Failures { count, last: now });
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
    /// How far ahead of now `account`'s pace runs.
    fn ahead(&self, account: &AccountKey, now: Instant) -> Duration {
        self.full_at.get(account).map_or(Duration::ZERO, |full_at| {
            full_at.saturating_duration_since(now)
        })
    }

    fn set(&mut self, account: AccountKey, now: Instant, ahead: Duration) {
        // An account back to full loses nothing by being dropped.
        make_room(
            &mut self.full_at,
            &account,
            self.capacity,
            |full_at| *full_at <= now,
            |full_at| *full_at,
        );
        self.full_at.insert(account, now + ahead);
    }
}

struct Tables {
    addresses: Counts<AddressKey>,
    pairs: Counts<(AccountKey, AddressKey)>,
    paces: Paces,
    registrations: Counts<AddressKey>,
}

/// What the server remembers of recent password checks and registrations: in this process,
/// or shared by every process on the database.
pub enum Throttle {
    Local(LocalThrottle),
    Shared {
        policy: ThrottlePolicy,
        coordination: SharedCoordination,
    },
}

/// The counts in this process's memory.
pub struct LocalThrottle {
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
    /// In the database when processes share it (`shared` is Some), else in this process.
    pub fn new(policy: ThrottlePolicy, shared: Option<SharedCoordination>) -> Self {
        match shared {
            Some(coordination) => Throttle::Shared {
                policy,
                coordination,
            },
            None => Throttle::Local(LocalThrottle::new(policy)),
        }
    }

    /// Whether a password of `email`'s account, sent from `address`, may be checked now (the
    /// rule is at the top of this file); counted when it may.
    pub async fn attempt(
        &self,
        email: &str,
        address: IpAddr,
    ) -> StoreResult<Result<(), RetryAfter>> {
        match self {
            Throttle::Local(local) => Ok(local.attempt(email, address)),
            Throttle::Shared {
                policy,
                coordination,
            } => {
                coordination.purge_when_due(policy.longest_memory()).await?;
                let keys = shared_keys(AccountKey::of(email), AddressKey::of(address));
                coordination
                    .judge_attempt(&keys, |look| policy.judge_attempt(look))
                    .await
            }
        }
    }

    /// The owner got in from `address`: that address's failures against the account no longer
    /// count, and this attempt does not count against the address. The address's other
    /// failures still do, so that an attacker cannot clear its count by signing in to an
    /// account of its own.
    pub async fn succeeded(&self, email: &str, address: IpAddr) -> StoreResult<()> {
        match self {
            Throttle::Local(local) => {
                local.succeeded(email, address);
                Ok(())
            }
            Throttle::Shared { coordination, .. } => {
                let keys = shared_keys(AccountKey::of(email), AddressKey::of(address));
                coordination.forgive_attempt(&keys).await
            }
        }
    }

    /// Whether `address` may register an account now; counts it when it may.
    pub async fn register(&self, address: IpAddr) -> StoreResult<Result<(), RetryAfter>> {
        match self {
            Throttle::Local(local) => Ok(local.register(address)),
            Throttle::Shared {
                policy,
                coordination,
            } => {
                coordination.purge_when_due(policy.longest_memory()).await?;
                coordination
                    .judge_registration(&AddressKey::of(address).octets(), |seen| {
                        policy.judge_registration(seen)
                    })
                    .await
            }
        }
    }
}

impl LocalThrottle {
    pub fn new(policy: ThrottlePolicy) -> Self {
        let capacity = policy.max_entries;
        LocalThrottle {
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

    fn attempt(&self, email: &str, address: IpAddr) -> Result<(), RetryAfter> {
        let now = Instant::now();
        let policy = &self.policy;
        let (account, address) = (AccountKey::of(email), AddressKey::of(address));
        let pair = (account, address);
        let mut tables = self.tables();
        let counted = policy.judge_attempt(AttemptLook {
            address: tables.addresses.seen(&address, now),
            pair: tables.pairs.seen(&pair, now),
            pace_ahead: tables.paces.ahead(&account, now),
        })?;
        tables
            .addresses
            .set(address, counted.address, now, policy.memory);
        tables.pairs.set(pair, counted.pair, now, policy.memory);
        if let Some(ahead) = counted.pace_ahead {
            tables.paces.set(account, now, ahead);
        }
        Ok(())
    }

    fn succeeded(&self, email: &str, address: IpAddr) {
        let (account, address) = (AccountKey::of(email), AddressKey::of(address));
        let mut tables = self.tables();
        tables.pairs.forget(&(account, address));
        tables.addresses.forgive_one(&address);
    }

    fn register(&self, address: IpAddr) -> Result<(), RetryAfter> {
        let now = Instant::now();
        let policy = &self.policy;
        let address = AddressKey::of(address);
        let mut tables = self.tables();
        let count = policy.judge_registration(tables.registrations.seen(&address, now))?;
        tables
            .registrations
            .set(address, count, now, policy.registration_window);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> ThrottlePolicy {
        ThrottlePolicy::small()
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
        let throttle = LocalThrottle::new(policy());
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
        let throttle = LocalThrottle::new(policy());
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
        let throttle = LocalThrottle::new(policy());
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
        let throttle = LocalThrottle::new(policy());
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
        counts.set(1, 1, start, memory);
        counts.set(2, 1, start + Duration::from_secs(1), memory);
        counts.set(1, 2, start + Duration::from_secs(2), memory);
        counts.set(3, 1, start + Duration::from_secs(3), memory);
        let mut kept: Vec<_> = counts.map.keys().copied().collect();
        kept.sort_unstable();
        assert_eq!(kept, [1, 3]);
    }

    #[test]
    fn an_ipv6_subscriber_is_one_address_for_its_whole_64() {
        let throttle = LocalThrottle::new(policy());
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
        let throttle = LocalThrottle::new(policy());
        assert_eq!(throttle.register(address(1)), Ok(()));
        assert_eq!(throttle.register(address(1)), Ok(()));
        assert_eq!(throttle.register(address(1)), Err(RetryAfter(3600)));
        assert_eq!(throttle.register(address(2)), Ok(()));
    }
}
