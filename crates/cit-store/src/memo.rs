//! What the store remembers between writes on this node: today, that a tenant has no enabled
//! webhook subscription, so that an entry write does not read the subscriptions inside its
//! transaction (on SQLite that read holds the one write lock longer). It is forgotten through the
//! change feed ([`crate::changes`]), which attaches itself when it starts, and used only while
//! the feed is current: a process without a feed (the CLI) always reads. A fact read while a
//! change was announced is not kept.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{OnceLock, PoisonError, RwLock};

use crate::changes::Change;

type Gate = Box<dyn Fn() -> bool + Send + Sync>;

/// More tenants than this kept: the set is emptied and fills again.
const MAX_TENANTS: usize = 4096;

#[derive(Default)]
pub(crate) struct Memo {
    /// Whether the change feed is current; absent until a feed starts on this store.
    gate: OnceLock<Gate>,
    writes: AtomicU64,
    no_webhooks: RwLock<HashSet<String>>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket(u64);

impl Memo {
    /// Called once by the change feed of the store this memo belongs to.
    pub(crate) fn attach(&self, gate: Gate) {
        let _ = self.gate.set(gate);
    }

    pub(crate) fn ticket(&self) -> Option<Ticket> {
        self.gate.get().is_some_and(|current| current()).then(|| Ticket(self.writes.load(Ordering::Acquire)))
    }

    pub(crate) fn has_no_webhooks(&self, tenant: &str) -> bool {
        self.no_webhooks.read().unwrap_or_else(PoisonError::into_inner).contains(tenant)
    }

    pub(crate) fn keep_no_webhooks(&self, ticket: Ticket, tenant: &str) {
        let mut set = self.no_webhooks.write().unwrap_or_else(PoisonError::into_inner);
        if self.writes.load(Ordering::Acquire) != ticket.0 {
            return;
        }
        if set.len() >= MAX_TENANTS {
            set.clear();
        }
        set.insert(tenant.to_owned());
    }

    pub(crate) fn forget(&self, change: &Change) {
        let tenant = match change {
            Change::Content(_) => return,
            Change::Tenant(t) => Some(t),
            Change::Everything => None,
        };
        let mut set = self.no_webhooks.write().unwrap_or_else(PoisonError::into_inner);
        self.writes.fetch_add(1, Ordering::AcqRel);
        match tenant {
            Some(t) => {
                set.remove(t);
            }
            None => set.clear(),
        }
    }
}
