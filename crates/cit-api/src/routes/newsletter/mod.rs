//! `/api/v1/t/{tenant}/newsletter/…`: lists, subscription with double opt-in and one-click
//! unsubscribe (no login) in `subscription.rs`; subscribers and campaigns for editors and admins in
//! `campaigns.rs`.

mod campaigns;
mod subscription;

use super::no_store;

pub use campaigns::*;
pub use subscription::*;
