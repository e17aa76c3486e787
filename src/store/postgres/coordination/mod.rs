//! What several processes on one database must share to behave as one server (issue 17): the
//! sign-in throttle's counts (`throttle.rs`), the answers in flight with their quota
//! reservations (`slots.rs`) and the thread's turn lock (`turns.rs`). On SQLite one process owns
//! the file and keeps these in its memory; the neutral `store::coordination` hands them out.
//!
//! Serializing uses advisory locks, in their two-key form so that they never meet the one-key
//! locks elsewhere (the migration lock): the first key names what is locked (a constant per
//! use), the second is 32 bits of the SHA-256 of what is locked. Two keys that hash alike only
//! wait for each other, which costs time, never correctness.
//!
//! Every time here is the database's clock, so processes on machines whose clocks differ still
//! agree. Durations cross the wire as whole microseconds.

mod slots;
mod throttle;
mod turns;

use std::time::Duration;

use sha2::{Digest, Sha256};

pub use slots::{SharedSlot, SlotRequest};
pub use turns::SharedTurn;

/// The second key of an advisory lock on `what`.
fn lock_key(what: &[u8]) -> i32 {
    let digest = Sha256::digest(what);
    i32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

/// A count of microseconds from the database as a duration; a negative one (a moment the clock
/// has not reached) as none.
fn duration_of(micros: i64) -> Duration {
    Duration::from_micros(u64::try_from(micros).unwrap_or(0))
}
