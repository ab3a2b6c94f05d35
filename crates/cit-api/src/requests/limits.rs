//! Fixed-window counters of submissions per client address and per tenant, in this node's memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct RateLimits {
    window: Duration,
    per_address: u32,
    per_tenant: u32,
    counts: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimits {
    pub fn new(per_address: u32, per_tenant: u32, window: Duration) -> Self {
        Self { window, per_address, per_tenant, counts: Mutex::new(HashMap::new()) }
    }

    /// Counts one attempt from `address` to `tenant`; `Err(seconds to wait)` once either has
    /// used up its window (the refused attempt is not counted).
    pub fn hit(&self, tenant: &str, address: &str) -> Result<(), u64> {
        let now = Instant::now();
        let Ok(mut map) = self.counts.lock() else {
            return Ok(());
        };
        if map.len() > 100_000 {
            let window = self.window;
            map.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let keys = [(format!("a:{tenant}:{address}"), self.per_address), (format!("t:{tenant}"), self.per_tenant)];
        let mut wait = 0;
        for (key, limit) in &keys {
            if let Some((start, count)) = map.get(key) {
                let elapsed = now.duration_since(*start);
                if elapsed < self.window && *count >= *limit {
                    wait = wait.max((self.window - elapsed).as_secs().max(1));
                }
            }
        }
        if wait > 0 {
            return Err(wait);
        }
        for (key, _) in keys {
            let entry = map.entry(key).or_insert((now, 0));
            if now.duration_since(entry.0) >= self.window {
                *entry = (now, 0);
            }
            entry.1 += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_and_tenant_limits() {
        let l = RateLimits::new(2, 3, Duration::from_secs(60));
        assert!(l.hit("lecce", "1.1.1.1").is_ok());
        assert!(l.hit("lecce", "1.1.1.1").is_ok());
        assert!(l.hit("lecce", "1.1.1.1").is_err());
        assert!(l.hit("genova", "1.1.1.1").is_ok());
        assert!(l.hit("lecce", "2.2.2.2").is_ok());
        assert!(l.hit("lecce", "3.3.3.3").is_err(), "the tenant has used its three");
    }
}
