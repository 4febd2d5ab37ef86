//! Where TWS / IB Gateway listens and how the adapter behaves.

use std::time::Duration;

use serde::Deserialize;

use crate::error::{IbError, Result};

/// Which IB program and account the adapter talks to. The port numbers are IB's defaults;
/// the account kind is what the user declared, and is checked against what IB reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IbEndpoint {
    /// Trader Workstation logged into a paper account: port 7497.
    TwsPaper,
    /// IB Gateway, paper account: port 4002.
    GatewayPaper,
    /// Trader Workstation, live account: port 7496.
    TwsLive,
    /// IB Gateway, live account: port 4001.
    GatewayLive,
}

impl IbEndpoint {
    /// IB's default API port for it.
    #[must_use]
    pub const fn default_port(self) -> u16 {
        match self {
            Self::TwsPaper => 7497,
            Self::GatewayPaper => 4002,
            Self::TwsLive => 7496,
            Self::GatewayLive => 4001,
        }
    }

    /// Whether it trades real money.
    #[must_use]
    pub const fn is_live(self) -> bool {
        matches!(self, Self::TwsLive | Self::GatewayLive)
    }
}

/// Market data IB sends: real time needs a subscription on the account; delayed (IB's market
/// data type 3, 15-20 minutes late) works on every paper account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum MarketDataKind {
    /// Real time (type 1).
    Live,
    /// Delayed (type 3), the default: a paper account without subscriptions still works.
    #[default]
    Delayed,
}

/// When the circuit breaker stops new openings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BreakerConfig {
    /// Errors from IB (not warnings) within `error_window` that trip the breaker.
    pub max_errors: u32,
    /// The window for `max_errors`, in seconds.
    pub error_window_seconds: u64,
    /// Whether one rejected order trips it.
    pub trip_on_rejection: bool,
    /// Whether a lost connection trips it.
    pub trip_on_disconnect: bool,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            max_errors: 5,
            error_window_seconds: 300,
            trip_on_rejection: true,
            trip_on_disconnect: true,
        }
    }
}

impl BreakerConfig {
    /// The error window as a duration.
    #[must_use]
    pub const fn error_window(&self) -> Duration {
        Duration::from_secs(self.error_window_seconds)
    }
}

/// The adapter's settings: the `[ib]` table of `live.toml`. No secret lives here: TWS holds the
/// login; the API connection needs none.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IbConfig {
    /// The program and account kind (sets the default port).
    pub endpoint: IbEndpoint,
    /// Host of TWS / the Gateway (default 127.0.0.1).
    #[serde(default = "default_host")]
    pub host: String,
    /// API port; `None` means the endpoint's default.
    #[serde(default)]
    pub port: Option<u16>,
    /// The API client id (default 17). Each connection to one TWS needs its own.
    #[serde(default = "default_client_id")]
    pub client_id: i32,
    /// The account to trade (e.g. `DU1234567`); `None` takes the only one TWS manages.
    #[serde(default)]
    pub account: Option<String>,
    /// Real-time or delayed market data.
    #[serde(default)]
    pub market_data: MarketDataKind,
    /// The circuit breaker.
    #[serde(default)]
    pub breaker: BreakerConfig,
    /// How long a request (contract details, a reconciliation snapshot) may take, in seconds.
    #[serde(default = "default_timeout")]
    pub request_timeout_seconds: u64,
}

fn default_host() -> String {
    "127.0.0.1".to_owned()
}

const fn default_client_id() -> i32 {
    17
}

const fn default_timeout() -> u64 {
    10
}

impl IbConfig {
    /// Defaults for an endpoint: 127.0.0.1, its default port, client id 17, delayed data.
    #[must_use]
    pub fn new(endpoint: IbEndpoint) -> Self {
        Self {
            endpoint,
            host: default_host(),
            port: None,
            client_id: default_client_id(),
            account: None,
            market_data: MarketDataKind::default(),
            breaker: BreakerConfig::default(),
            request_timeout_seconds: default_timeout(),
        }
    }

    /// The same settings on another port (a fake TWS in tests, a non-default TWS port).
    #[must_use]
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// The same settings with another client id.
    #[must_use]
    pub const fn with_client_id(mut self, client_id: i32) -> Self {
        self.client_id = client_id;
        self
    }

    /// `host:port`.
    #[must_use]
    pub fn address(&self) -> String {
        format!(
            "{}:{}",
            self.host,
            self.port.unwrap_or_else(|| self.endpoint.default_port())
        )
    }

    /// The request timeout as a duration.
    #[must_use]
    pub const fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_seconds)
    }

    /// Checks the values.
    ///
    /// # Errors
    /// [`IbError::InvalidConfig`] for a negative client id, an empty host or a zero timeout.
    pub fn validate(&self) -> Result<()> {
        let bad = |name, value: String, requirement| {
            Err(IbError::InvalidConfig {
                name,
                value,
                requirement,
            })
        };
        if self.client_id < 0 {
            return bad("client_id", self.client_id.to_string(), "0 or more");
        }
        if self.host.trim().is_empty() {
            return bad("host", self.host.clone(), "a host name or address");
        }
        if self.request_timeout_seconds == 0 {
            return bad("request_timeout_seconds", "0".to_owned(), "at least 1");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_endpoint_has_ibs_default_port_and_live_ones_say_so() {
        let ports: Vec<(u16, bool)> = [
            IbEndpoint::TwsPaper,
            IbEndpoint::GatewayPaper,
            IbEndpoint::TwsLive,
            IbEndpoint::GatewayLive,
        ]
        .iter()
        .map(|e| (e.default_port(), e.is_live()))
        .collect();
        assert_eq!(
            ports,
            [(7497, false), (4002, false), (7496, true), (4001, true)]
        );
        assert_eq!(
            IbConfig::new(IbEndpoint::GatewayPaper).address(),
            "127.0.0.1:4002"
        );
        assert_eq!(
            IbConfig::new(IbEndpoint::TwsPaper)
                .with_port(5001)
                .address(),
            "127.0.0.1:5001"
        );
    }

    #[test]
    fn the_ib_table_of_live_toml_parses_with_defaults_and_refuses_unknown_keys() {
        let config: IbConfig =
            toml::from_str("endpoint = \"gateway-paper\"\nclient_id = 3\n").unwrap();
        assert_eq!(config.address(), "127.0.0.1:4002");
        assert_eq!(config.client_id, 3);
        assert_eq!(config.market_data, MarketDataKind::Delayed);
        assert_eq!(config.breaker.max_errors, 5);
        let err = toml::from_str::<IbConfig>("endpoint = \"tws-paper\"\npassword = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `password`"), "{err}");
        let bad = IbConfig::new(IbEndpoint::TwsPaper).with_client_id(-1);
        assert!(matches!(
            bad.validate(),
            Err(IbError::InvalidConfig {
                name: "client_id",
                ..
            })
        ));
    }
}
