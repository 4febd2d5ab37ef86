//! The pre-open checks the live trader runs before its first decision: the session is up, the
//! account is the kind the user asked for (paper or live), the clocks agree, and the ledger and
//! IB were reconciled.

use std::fmt;

use crate::broker::IbBroker;
use crate::error::{IbError, Result};

/// How far TWS's clock and this machine's may differ before the trader refuses to start: the
/// decision time and the order's DAY end are computed here, the fills happen there.
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 5;

/// What the pre-open checks found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreOpenReport {
    /// The account traded.
    pub account: String,
    /// Whether it is a paper account (IB's paper accounts start with `D`: `DU…`, `DF…`).
    pub paper: bool,
    /// This machine's clock minus TWS's, in seconds.
    pub clock_skew_seconds: i64,
    /// Orders of this ledger still working at IB.
    pub open_orders: usize,
    /// Positions in Volta's book of IB's executions.
    pub positions: usize,
    /// Why new openings are stopped, if they are.
    pub openings_stopped: Option<String>,
}

impl fmt::Display for PreOpenReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "account {} ({}), clock skew {} s, {} working order(s), {} position(s), openings {}",
            self.account,
            if self.paper { "paper" } else { "LIVE" },
            self.clock_skew_seconds,
            self.open_orders,
            self.positions,
            self.openings_stopped
                .as_deref()
                .map_or_else(|| "allowed".to_owned(), |why| format!("stopped: {why}"))
        )
    }
}

/// Whether an IB account id is a paper account.
#[must_use]
pub fn is_paper_account(account: &str) -> bool {
    account.starts_with('D')
}

impl IbBroker {
    /// The account Volta trades: the one configured (which TWS must manage), else the only
    /// one TWS manages.
    ///
    /// # Errors
    /// [`IbError::InvalidConfig`] for an account TWS does not manage, or none configured when
    /// TWS manages several (or none).
    pub fn trading_account(&self) -> Result<String> {
        let managed = self.managed_accounts();
        match (&self.config().account, managed.as_slice()) {
            (Some(asked), _) if managed.iter().any(|a| a == asked) => Ok(asked.clone()),
            (Some(asked), _) => Err(IbError::InvalidConfig {
                name: "account",
                value: asked.clone(),
                requirement: "one of the accounts this TWS login manages",
            }),
            (None, [only]) => Ok(only.clone()),
            (None, _) => Err(IbError::InvalidConfig {
                name: "account",
                value: managed.join(","),
                requirement: "set when the login manages several accounts (or none)",
            }),
        }
    }

    /// Runs the pre-open checks. `local_unix_seconds` is this machine's clock (the caller's
    /// injected wall clock); `want_live` is what the user asked for.
    ///
    /// # Errors
    /// [`IbError::InvalidConfig`] for an account that is not managed by this login, a paper
    /// account asked to trade live or a live account asked to trade paper;
    /// [`IbError::Request`] when TWS does not answer; [`IbError::Reconciliation`] for a clock
    /// skew over [`MAX_CLOCK_SKEW_SECONDS`], a halted ledger, or IB positions in Volta's
    /// contracts that differ from the ledger's book.
    pub fn pre_open(&self, local_unix_seconds: i64, want_live: bool) -> Result<PreOpenReport> {
        if let Some(why) = self.halted() {
            return Err(IbError::Reconciliation {
                detail: why.to_owned(),
            });
        }
        let account = self.trading_account()?;
        let paper = is_paper_account(&account);
        if paper == want_live {
            return Err(IbError::InvalidConfig {
                name: "account",
                value: account,
                requirement: if want_live {
                    "a live account for --mode ib-live (this one is paper)"
                } else {
                    "a paper account (DU…) for --mode ib-paper (this one trades real money)"
                },
            });
        }
        let server = self.server_unix_seconds()?;
        let skew = local_unix_seconds - server;
        if skew.abs() > MAX_CLOCK_SKEW_SECONDS {
            return Err(IbError::Reconciliation {
                detail: format!(
                    "this machine's clock is {skew} s off TWS's (at most {MAX_CLOCK_SKEW_SECONDS} s): fix the clock (NTP) before trading"
                ),
            });
        }
        let differences = self.position_differences(&account)?;
        if !differences.is_empty() {
            return Err(IbError::Reconciliation {
                detail: format!(
                    "IB's positions in {account} differ from the ledger's: {}. An exercise, \
                     assignment or trade in Volta's contracts that the ledger does not have: \
                     settle it at IB (or close it there), then start again",
                    differences.join("; ")
                ),
            });
        }
        Ok(PreOpenReport {
            account,
            paper,
            clock_skew_seconds: skew,
            open_orders: volta_core::broker::Broker::open_orders(self).len(),
            positions: volta_core::broker::Broker::positions(self).len(),
            openings_stopped: self.openings_stopped().map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ib_paper_accounts_start_with_d() {
        assert!(is_paper_account("DU1234567"));
        assert!(is_paper_account("DF7654321"));
        assert!(!is_paper_account("U1234567"));
        assert!(!is_paper_account("F1234567"));
    }
}
