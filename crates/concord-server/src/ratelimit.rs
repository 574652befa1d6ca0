//! Per-key rate limits (GCRA, via `governor`): sends per user, logins per IP and per account.

use concord_proto::UserId;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

pub struct Limiters {
    sends: DefaultKeyedRateLimiter<UserId>,
    logins_by_ip: DefaultKeyedRateLimiter<IpAddr>,
    logins_by_account: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN)
}

impl Limiters {
    pub fn new(cfg: &crate::config::RateLimitConfig) -> Self {
        let per_minute = |n: u32| Quota::per_minute(nz(n)).allow_burst(nz(n));
        Self {
            sends: DefaultKeyedRateLimiter::keyed(
                Quota::per_second(nz(cfg.sends_per_second)).allow_burst(nz(cfg.send_burst)),
            ),
            logins_by_ip: DefaultKeyedRateLimiter::keyed(per_minute(cfg.logins_per_minute_per_ip)),
            logins_by_account: DefaultKeyedRateLimiter::keyed(per_minute(
                cfg.logins_per_minute_per_account,
            )),
            clock: DefaultClock::default(),
        }
    }

    /// `Err(wait)`: over the limit, retry after `wait`.
    pub fn check_send(&self, user: UserId) -> Result<(), Duration> {
        self.sends
            .check_key(&user)
            .map_err(|n| n.wait_time_from(self.clock.now()))
    }

    pub fn check_login(&self, ip: IpAddr, account: &str) -> Result<(), Duration> {
        self.logins_by_ip
            .check_key(&ip)
            .map_err(|n| n.wait_time_from(self.clock.now()))?;
        let account = account.trim().to_lowercase();
        let account: String = account.chars().take(254).collect();
        self.logins_by_account
            .check_key(&account)
            .map_err(|n| n.wait_time_from(self.clock.now()))
    }

    /// Forget keys whose limits have fully recovered, so memory stays bounded.
    pub fn prune(&self) {
        self.sends.retain_recent();
        self.logins_by_ip.retain_recent();
        self.logins_by_account.retain_recent();
    }
}
