//! A trader's monitor in one call ([`start`]): the settings file, the alert channels from the
//! environment, the dashboard's server. `volta-live` calls it before its first session, so a
//! bad bind or a missing token stops it before anything trades.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use volta_engine::StopSignal;

use crate::error::{MonitorError, Result};
use crate::{
    Alerter, ConnectionState, DashboardConfig, DashboardHandle, Monitor, MonitorConfig,
    MonitorState, WallClock, serve,
};

/// What [`start`] needs.
#[derive(Clone)]
pub struct LiveOptions<'a> {
    /// The run's mode (`sim-paper`, `ib-paper`, `ib-live`).
    pub mode: &'a str,
    /// The broker link at start.
    pub connection: ConnectionState,
    /// Where the dashboard listens; `None`: no dashboard (metrics and alerts still run).
    pub dashboard: Option<SocketAddr>,
    /// The monitor's TOML ([`MonitorConfig`]); defaults when `None`.
    pub config: Option<&'a Path>,
    /// The run's controls: the dashboard's halt goes through it.
    pub control: StopSignal,
    /// Wall time.
    pub clock: Arc<dyn WallClock>,
}

impl std::fmt::Debug for LiveOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveOptions")
            .field("mode", &self.mode)
            .field("dashboard", &self.dashboard)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A trader's monitor: add [`Monitor::observer`] to the run's observers.
#[derive(Debug)]
pub struct LiveMonitor {
    /// The monitor.
    pub monitor: Monitor,
    /// The dashboard's server, if one was asked for.
    pub dashboard: Option<DashboardHandle>,
    /// What to tell the person at start: the dashboard's address and what guards it, the
    /// alert channels.
    pub banner: Vec<String>,
}

/// Reads the settings, opens the alert channels and serves the dashboard.
///
/// # Errors
/// A settings file that cannot be read or is wrong ([`MonitorError::Config`],
/// [`MonitorError::ConfigParse`]), a non-loopback bind without a token
/// ([`MonitorError::TokenRequired`]), an address in use ([`MonitorError::Bind`]).
pub fn start(options: LiveOptions<'_>) -> Result<LiveMonitor> {
    let (config, source_name) = match options.config {
        Some(path) => {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| MonitorError::ConfigParse {
                source_name: name.clone(),
                message: e.to_string(),
            })?;
            (MonitorConfig::from_toml(&text, &name)?, name)
        }
        None => (MonitorConfig::default(), "defaults".to_owned()),
    };
    // The token is checked before any thread starts: a refused bind leaves nothing behind.
    let dashboard = options
        .dashboard
        .map(DashboardConfig::from_env)
        .transpose()?;
    let channels = Alerter::channels(&config.alerts, &source_name)?;
    let mut banner = vec![if channels.is_empty() {
        "alerts: no channel configured (shown on the dashboard only)".to_owned()
    } else {
        format!(
            "alerts: {}",
            channels
                .iter()
                .map(|c| c.name())
                .collect::<Vec<_>>()
                .join(" and ")
        )
    }];
    let monitor = Monitor::new(
        MonitorState::new("", options.mode, options.connection),
        options.control,
        options.clock,
        &config.alerts,
        channels,
    )?;
    let handle = match &dashboard {
        Some(config) => {
            let handle = serve(config, monitor.clone())?;
            banner.insert(0, config.describe(handle.addr()));
            Some(handle)
        }
        None => None,
    };
    Ok(LiveMonitor {
        monitor,
        dashboard: handle,
        banner,
    })
}
