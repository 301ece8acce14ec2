//! Per-user rate and concurrency limits, and the Qualys headers that report them.
//!
//! Both limits are off unless configured. The rate limit is a fixed window per user: the first
//! call opens a window of `window` seconds in which `calls` calls are allowed. The concurrency
//! limit caps the calls one user has running at once. A refused call counts against neither.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the headers report for a limit that is off: nothing stops a client, but the numbers stay
/// positive so that clients which pace themselves by them do not wait.
pub const UNLIMITED_CALLS: u32 = 1_000_000;
pub const UNLIMITED_WINDOW_SECS: u64 = 3600;
pub const UNLIMITED_CONCURRENCY: u32 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub calls: u32,
    pub window: Duration,
}

impl std::str::FromStr for RateLimit {
    type Err = String;

    /// `N/SECONDS`, e.g. `300/3600`; a bare `N` means per hour.
    fn from_str(s: &str) -> Result<RateLimit, String> {
        let (calls, window) = s.split_once('/').unwrap_or((s, "3600"));
        let calls: u32 = calls
            .trim()
            .parse()
            .map_err(|_| format!("'{s}': expected CALLS/SECONDS, e.g. 300/3600"))?;
        let secs: u64 = window
            .trim()
            .trim_end_matches('s')
            .parse()
            .map_err(|_| format!("'{s}': expected CALLS/SECONDS, e.g. 300/3600"))?;
        if calls == 0 || secs == 0 {
            return Err(format!("'{s}': calls and seconds must be at least 1"));
        }
        Ok(RateLimit {
            calls,
            window: Duration::from_secs(secs),
        })
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LimitConfig {
    pub rate: Option<RateLimit>,
    pub concurrency: Option<u32>,
}

/// The six numbers the Qualys headers carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub limit: u32,
    pub remaining: u32,
    pub window_secs: u64,
    pub to_wait_secs: u64,
    pub concurrency_limit: u32,
    pub running: u32,
}

impl Usage {
    pub fn headers(&self) -> [(&'static str, String); 6] {
        [
            ("X-RateLimit-Limit", self.limit.to_string()),
            ("X-RateLimit-Remaining", self.remaining.to_string()),
            ("X-RateLimit-Window-Sec", self.window_secs.to_string()),
            ("X-RateLimit-ToWait-Sec", self.to_wait_secs.to_string()),
            (
                "X-Concurrency-Limit-Limit",
                self.concurrency_limit.to_string(),
            ),
            ("X-Concurrency-Limit-Running", self.running.to_string()),
        ]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exceeded {
    /// Qualys code 1965.
    Rate(Usage),
    /// Qualys code 1960.
    Concurrency(Usage),
}

struct UserState {
    window_start: Instant,
    used: u32,
    running: u32,
}

pub struct Limits {
    config: LimitConfig,
    users: Mutex<HashMap<i64, UserState>>,
}

/// A call in progress; dropping it frees its concurrency slot.
pub struct Permit {
    limits: Arc<Limits>,
    user: i64,
    pub usage: Usage,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut users = self.limits.users.lock().expect("limits");
        if let Some(u) = users.get_mut(&self.user) {
            u.running = u.running.saturating_sub(1);
        }
    }
}

impl Limits {
    pub fn new(config: LimitConfig) -> Limits {
        Limits {
            config,
            users: Mutex::new(HashMap::new()),
        }
    }

    pub fn config(&self) -> LimitConfig {
        self.config
    }

    fn usage(&self, state: Option<&UserState>, now: Instant) -> Usage {
        let (limit, window) = match self.config.rate {
            Some(r) => (r.calls, r.window),
            None => (UNLIMITED_CALLS, Duration::from_secs(UNLIMITED_WINDOW_SECS)),
        };
        let (used, running, to_wait) = match state {
            Some(s) if now.duration_since(s.window_start) < window => {
                let left = window - now.duration_since(s.window_start);
                (s.used, s.running, left)
            }
            Some(s) => (0, s.running, Duration::ZERO),
            None => (0, 0, Duration::ZERO),
        };
        let remaining = if self.config.rate.is_some() {
            limit.saturating_sub(used)
        } else {
            limit
        };
        Usage {
            limit,
            remaining,
            window_secs: window.as_secs(),
            // Only a spent window makes a client wait; round up so it never retries too early.
            to_wait_secs: if remaining == 0 {
                to_wait.as_secs() + u64::from(to_wait.subsec_nanos() > 0)
            } else {
                0
            },
            concurrency_limit: self.config.concurrency.unwrap_or(UNLIMITED_CONCURRENCY),
            running,
        }
    }

    /// What the headers say for `user` right now, without counting a call.
    pub fn peek(&self, user: i64) -> Usage {
        let users = self.users.lock().expect("limits");
        self.usage(users.get(&user), Instant::now())
    }

    /// Counts one call of `user`, or says which limit refuses it.
    pub fn acquire(self: &Arc<Self>, user: i64) -> Result<Permit, Exceeded> {
        let now = Instant::now();
        let mut users = self.users.lock().expect("limits");
        let state = users.entry(user).or_insert(UserState {
            window_start: now,
            used: 0,
            running: 0,
        });
        if let Some(r) = self.config.rate
            && now.duration_since(state.window_start) >= r.window
        {
            state.window_start = now;
            state.used = 0;
        }
        if let Some(r) = self.config.rate
            && state.used >= r.calls
        {
            return Err(Exceeded::Rate(self.usage(Some(state), now)));
        }
        if let Some(c) = self.config.concurrency
            && state.running >= c
        {
            return Err(Exceeded::Concurrency(self.usage(Some(state), now)));
        }
        if self.config.rate.is_some() {
            state.used += 1;
        }
        state.running += 1;
        let usage = self.usage(Some(state), now);
        Ok(Permit {
            limits: self.clone(),
            user,
            usage,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rate_limits() {
        let r: RateLimit = "300/3600".parse().unwrap();
        assert_eq!((r.calls, r.window.as_secs()), (300, 3600));
        assert_eq!("5".parse::<RateLimit>().unwrap().window.as_secs(), 3600);
        assert!("0/10".parse::<RateLimit>().is_err());
        assert!("x/10".parse::<RateLimit>().is_err());
    }

    #[test]
    fn the_rate_limit_refuses_the_call_past_the_window_budget() {
        let limits = Arc::new(Limits::new(LimitConfig {
            rate: Some("2/60".parse().unwrap()),
            concurrency: None,
        }));
        let a = limits.acquire(1).unwrap();
        assert_eq!(a.usage.remaining, 1);
        drop(a);
        let b = limits.acquire(1).unwrap();
        assert_eq!((b.usage.remaining, b.usage.to_wait_secs > 0), (0, true));
        drop(b);
        match limits.acquire(1) {
            Err(Exceeded::Rate(u)) => assert!(u.to_wait_secs > 0 && u.to_wait_secs <= 60),
            _ => panic!("expected the rate limit"),
        }
        // Another user has a budget of their own.
        assert!(limits.acquire(2).is_ok());
    }

    #[test]
    fn the_concurrency_limit_counts_running_calls_only() {
        let limits = Arc::new(Limits::new(LimitConfig {
            rate: None,
            concurrency: Some(1),
        }));
        let a = limits.acquire(1).unwrap();
        assert_eq!(a.usage.running, 1);
        assert!(matches!(limits.acquire(1), Err(Exceeded::Concurrency(_))));
        drop(a);
        assert!(limits.acquire(1).is_ok());
        assert_eq!(limits.peek(1).running, 0);
    }
}
