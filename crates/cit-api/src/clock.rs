//! Time, injectable: the scheduler, token and session expiry, and every timestamp the store
//! writes read this clock, so tests can move time instead of sleeping. The types live in
//! `cit-core` because the store reads the same clock ([`cit_store::Store::with_clock`]).

pub use cit_core::clock::{Clock, ManualClock, SystemClock};
