//! Sign-in throttling: after a few failed sign-ins for one account, or from one client address,
//! further attempts are refused (429 with Retry-After) for a time that doubles with each new
//! failure, up to a cap. The cap keeps an attacker from locking the real owner out for long;
//! failures are forgotten after a quiet period, and a success clears its account's count.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::AuthConfig;

/// Entries kept at most per kind of key, so that a flood of made-up emails cannot eat memory.
const MAX_ENTRIES: usize = 50_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// The settings, from `[auth]`.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    pub free_per_account: u32,
    pub free_per_address: u32,
    pub max_block: Duration,
    pub memory: Duration,
}

impl ThrottlePolicy {
    pub fn from_config(auth: &AuthConfig) -> Self {
        ThrottlePolicy {
            free_per_account: auth.login_failures_per_account,
            free_per_address: auth.login_failures_per_address,
            max_block: Duration::from_secs(auth.login_block_max_secs),
            memory: Duration::from_secs(auth.login_failure_memory_secs),
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
}

/// Counts failures per account (email, case-insensitive) and per client address.
pub struct Throttle {
    policy: ThrottlePolicy,
    accounts: Mutex<HashMap<String, Failures>>,
    addresses: Mutex<HashMap<IpAddr, Failures>>,
}

/// The attempt is refused; try again after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

impl Throttle {
    pub fn new(policy: ThrottlePolicy) -> Self {
        Throttle {
            policy,
            accounts: Mutex::new(HashMap::new()),
            addresses: Mutex::new(HashMap::new()),
        }
    }

    /// Whether an attempt for `email` from `address` may check its password now. An attempt let
    /// through counts as a failure until `succeeded` says otherwise, so that many attempts sent
    /// at once cannot all slip through before the first one fails.
    pub fn attempt(&self, email: &str, address: Option<IpAddr>) -> Result<(), RetryAfter> {
        let now = Instant::now();
        let account = account_key(email);
        let policy = self.policy;
        let wait = remaining(&self.accounts, &account, now, |count| {
            policy.block(count, policy.free_per_account)
        });
        let wait = wait.max(address.map_or(Duration::ZERO, |address| {
            remaining(&self.addresses, &address, now, |count| {
                policy.block(count, policy.free_per_address)
            })
        }));
        if !wait.is_zero() {
            // Rounded up: a client that waits exactly Retry-After seconds must get through.
            return Err(RetryAfter(
                wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            ));
        }
        record(&self.accounts, account, now, policy.memory);
        if let Some(address) = address {
            record(&self.addresses, address, now, policy.memory);
        }
        Ok(())
    }

    /// The owner got in: their account's failures no longer count, and this attempt does not
    /// count against the address. The address's earlier failures still do, so that an attacker
    /// cannot reset its count by signing in to an account of its own.
    pub fn succeeded(&self, email: &str, address: Option<IpAddr>) {
        lock(&self.accounts).remove(&account_key(email));
        if let Some(address) = address {
            if let Some(failures) = lock(&self.addresses).get_mut(&address) {
                failures.count = failures.count.saturating_sub(1);
            }
        }
    }
}

fn account_key(email: &str) -> String {
    email.trim().to_lowercase()
}

fn lock<K, V>(map: &Mutex<HashMap<K, V>>) -> std::sync::MutexGuard<'_, HashMap<K, V>> {
    // The maps hold plain counters: one left by a panicking thread is still consistent.
    map.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn remaining<K: std::hash::Hash + Eq>(
    map: &Mutex<HashMap<K, Failures>>,
    key: &K,
    now: Instant,
    block: impl Fn(u32) -> Duration,
) -> Duration {
    lock(map).get(key).map_or(Duration::ZERO, |failures| {
        (failures.last + block(failures.count)).saturating_duration_since(now)
    })
}

fn record<K: std::hash::Hash + Eq>(
    map: &Mutex<HashMap<K, Failures>>,
    key: K,
    now: Instant,
    memory: Duration,
) {
    let mut map = lock(map);
    if map.len() >= MAX_ENTRIES {
        map.retain(|_, failures| now.duration_since(failures.last) < memory);
    }
    if map.len() >= MAX_ENTRIES && !map.contains_key(&key) {
        // Still full of recent failures: forget the ones that count least.
        let threshold = map.values().map(|f| f.count).min().unwrap_or(0);
        map.retain(|_, failures| failures.count > threshold);
    }
    let failures = map.entry(key).or_insert(Failures {
        count: 0,
        last: now,
    });
    if now.duration_since(failures.last) >= memory {
        failures.count = 0;
    }
    failures.count = failures.count.saturating_add(1);
    failures.last = now;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(max_block_secs: u64) -> Throttle {
        Throttle::new(ThrottlePolicy {
            free_per_account: 3,
            free_per_address: 5,
            max_block: Duration::from_secs(max_block_secs),
            memory: Duration::from_secs(900),
        })
    }

    #[test]
    fn blocks_double_after_the_free_failures_up_to_the_cap() {
        let policy = throttle(10).policy;
        let blocks: Vec<u64> = (0..8).map(|n| policy.block(n, 3).as_secs()).collect();
        assert_eq!(blocks, [0, 0, 0, 1, 2, 4, 8, 10]);
    }

    #[test]
    fn an_account_is_blocked_whatever_the_address_and_the_case_of_its_email() {
        let throttle = throttle(60);
        for n in 0..3 {
            assert_eq!(
                throttle.attempt("Owner@Example.com", Some([10, 0, 0, n].into())),
                Ok(())
            );
        }
        assert_eq!(
            throttle.attempt("owner@example.com", Some([10, 0, 0, 9].into())),
            Err(RetryAfter(1))
        );
        assert_eq!(throttle.attempt("other@example.com", None), Ok(()));
        throttle.succeeded("owner@example.com", None);
        assert_eq!(throttle.attempt("owner@example.com", None), Ok(()));
    }

    #[test]
    fn an_address_is_blocked_whatever_the_account() {
        let throttle = throttle(60);
        let address = Some([192, 168, 1, 7].into());
        for n in 0..5 {
            assert_eq!(
                throttle.attempt(&format!("user{n}@example.com"), address),
                Ok(())
            );
        }
        assert!(throttle.attempt("new@example.com", address).is_err());
        assert_eq!(throttle.attempt("new@example.com", None), Ok(()));
    }
}
