//! Alerts: a chat webhook (JSON `{"text": …}`, as Slack, Mattermost and Rocket.Chat take it)
//! and email (SMTP, `lettre`), raised on drawdown thresholds, the kill switch, a person's halt,
//! the daily-loss circuit breaker, disconnects, errors, fills (off by default) and a daily
//! summary.
//!
//! Raising an alert never blocks trading: it is deduplicated (the same key within
//! `dedup_seconds` is dropped) and rate limited (`max_per_minute` over all kinds) on the
//! caller's thread, then queued to each channel's own thread, which retries a failed delivery
//! with a doubling backoff and then logs the failure (without secrets) and moves on. A full
//! queue drops the alert (and counts it) rather than wait.
//!
//! Secrets come only from the environment: the webhook's URL (`VOLTA_ALERT_WEBHOOK_URL` by
//! default) and the SMTP user and password (`VOLTA_SMTP_USER`, `VOLTA_SMTP_PASSWORD`).

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::NaiveDateTime;
use serde::Deserialize;

use crate::WallClock;
use crate::error::{MonitorError, Result};

/// How bad it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// For the record (fills, the daily summary).
    Info,
    /// Look soon (a drawdown threshold, a disconnect, an error).
    Warning,
    /// Look now (the kill switch, a halt).
    Critical,
}

impl Severity {
    /// `info`, `warning` or `critical`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// What raised it: `drawdown`, `kill_switch`, `halt`, `circuit_breaker`, `disconnect`,
    /// `error`, `fill`, `daily_summary`.
    pub kind: &'static str,
    /// How bad.
    pub severity: Severity,
    /// Alerts with the same key within the deduplication window are one alert.
    pub key: String,
    /// Exchange time of the event behind it.
    pub at: Option<NaiveDateTime>,
    /// The message.
    pub text: String,
}

impl Alert {
    /// The message as a channel sends it: `[volta critical] kill_switch: …`.
    #[must_use]
    pub fn line(&self) -> String {
        format!(
            "[volta {}] {}: {}",
            self.severity.as_str(),
            self.kind,
            self.text
        )
    }
}

/// The `[alerts]` settings (all optional).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertConfig {
    /// Drawdowns (fractions below the equity peak) that raise an alert as equity falls through
    /// them; each again only after a new peak.
    pub drawdown_thresholds: Vec<f64>,
    /// An alert for every fill.
    pub fills: bool,
    /// A summary at every session's close.
    pub daily_summary: bool,
    /// Seconds in which an alert with the same key is sent once.
    pub dedup_seconds: f64,
    /// Alerts sent per minute at most, over all kinds (the rest are dropped and counted).
    pub max_per_minute: u32,
    /// Deliveries tried per alert and channel before giving up.
    pub attempts: u32,
    /// Seconds before the second attempt; doubled before each next one.
    pub retry_backoff_seconds: f64,
    /// The chat webhook, if any.
    pub webhook: Option<WebhookConfig>,
    /// Email, if any.
    pub email: Option<EmailConfig>,
}

impl Default for AlertConfig {
    /// Thresholds at 5, 10 and 20 % drawdown, no fill alerts, a daily summary, 5 minutes of
    /// deduplication, 20 alerts a minute, 3 attempts 1 s then 2 s apart, no channel.
    fn default() -> Self {
        Self {
            drawdown_thresholds: vec![0.05, 0.10, 0.20],
            fills: false,
            daily_summary: true,
            dedup_seconds: 300.0,
            max_per_minute: 20,
            attempts: 3,
            retry_backoff_seconds: 1.0,
            webhook: None,
            email: None,
        }
    }
}

/// A chat webhook.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// The environment variable holding the URL (the URL is a secret: it carries the token).
    pub url_env: String,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            url_env: "VOLTA_ALERT_WEBHOOK_URL".to_owned(),
        }
    }
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// TLS from the first byte (port 465).
    Tls,
    /// Plain, upgraded by STARTTLS, which is required (port 587).
    Starttls,
    /// No encryption: only for a relay on this machine (tests, a local MTA).
    None,
}

/// Email by SMTP.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// The SMTP server.
    pub host: String,
    /// Its port (default 587).
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    /// How the connection is secured (default STARTTLS).
    #[serde(default = "default_security")]
    pub security: SmtpSecurity,
    /// The sender.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
    /// The environment variable holding the SMTP user (no login when unset).
    #[serde(default = "default_user_env")]
    pub user_env: String,
    /// The environment variable holding the SMTP password.
    #[serde(default = "default_password_env")]
    pub password_env: String,
}

const fn default_smtp_port() -> u16 {
    587
}
const fn default_security() -> SmtpSecurity {
    SmtpSecurity::Starttls
}
fn default_user_env() -> String {
    "VOLTA_SMTP_USER".to_owned()
}
fn default_password_env() -> String {
    "VOLTA_SMTP_PASSWORD".to_owned()
}

impl AlertConfig {
    /// Checks the settings; `source_name` names the file in errors.
    ///
    /// # Errors
    /// [`MonitorError::Config`] naming the first bad setting.
    pub fn validate(&self, source_name: &str) -> Result<()> {
        let bad = |field, value: String, requirement| MonitorError::Config {
            source_name: source_name.to_owned(),
            field,
            value,
            requirement,
        };
        if let Some(t) = self
            .drawdown_thresholds
            .iter()
            .find(|t| !(t.is_finite() && **t > 0.0 && **t < 1.0))
        {
            return Err(bad(
                "alerts.drawdown_thresholds",
                t.to_string(),
                "fractions in (0, 1)",
            ));
        }
        if !(self.dedup_seconds.is_finite() && self.dedup_seconds >= 0.0) {
            return Err(bad(
                "alerts.dedup_seconds",
                self.dedup_seconds.to_string(),
                "0 or more",
            ));
        }
        if !(self.retry_backoff_seconds.is_finite() && self.retry_backoff_seconds >= 0.0) {
            return Err(bad(
                "alerts.retry_backoff_seconds",
                self.retry_backoff_seconds.to_string(),
                "0 or more",
            ));
        }
        if self.attempts == 0 {
            return Err(bad("alerts.attempts", "0".to_owned(), "at least 1"));
        }
        if let Some(email) = &self.email
            && email.to.is_empty()
        {
            return Err(bad(
                "alerts.email.to",
                "[]".to_owned(),
                "at least one address",
            ));
        }
        Ok(())
    }
}

/// Somewhere alerts go.
pub trait Channel: Send {
    /// Its name in logs and metrics (`webhook`, `email`).
    fn name(&self) -> &'static str;

    /// Delivers one alert.
    ///
    /// # Errors
    /// Why it failed, in words that carry no secret (never the URL or a password).
    fn send(&mut self, alert: &Alert) -> std::result::Result<(), String>;
}

/// A chat webhook: POSTs `{"text": "<line>"}`.
#[derive(Debug)]
pub struct Webhook {
    url: String,
    agent: ureq::Agent,
}

impl Webhook {
    /// A webhook posting to `url` (a secret: never logged), 5 s timeout.
    #[must_use]
    pub fn new(url: String) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(5)))
            .http_status_as_error(false)
            .build()
            .new_agent();
        Self { url, agent }
    }
}

impl Channel for Webhook {
    fn name(&self) -> &'static str {
        "webhook"
    }

    fn send(&mut self, alert: &Alert) -> std::result::Result<(), String> {
        let body = serde_json::json!({ "text": alert.line() }).to_string();
        let reply = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/json")
            .send(body.as_str())
            // ureq's error can name the URL: say only what kind of failure it was.
            .map_err(|e| format!("request failed ({})", error_kind(&e)))?;
        let status = reply.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("HTTP status {}", status.as_u16()))
        }
    }
}

/// What kind of failure `e` was, without its text (which can name a secret URL).
pub(crate) fn error_kind(e: &ureq::Error) -> &'static str {
    match e {
        ureq::Error::Io(_) => "connection",
        ureq::Error::Timeout(_) => "timeout",
        ureq::Error::HostNotFound => "host not found",
        ureq::Error::ConnectionFailed => "connection failed",
        ureq::Error::Tls(_) => "TLS",
        _ => "HTTP",
    }
}

/// Email by SMTP.
pub struct Email {
    transport: lettre::SmtpTransport,
    from: lettre::message::Mailbox,
    to: Vec<lettre::message::Mailbox>,
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Email")
            .field("to", &self.to.len())
            .finish_non_exhaustive()
    }
}

impl Email {
    /// The channel `config` describes; the login (if `user_env` is set) comes from the
    /// environment.
    ///
    /// # Errors
    /// [`MonitorError::Config`] for an address that does not parse or a server lettre refuses.
    pub fn from_config(config: &EmailConfig, source_name: &str) -> Result<Self> {
        use lettre::transport::smtp::authentication::Credentials;
        let bad = |field, value: String, requirement| MonitorError::Config {
            source_name: source_name.to_owned(),
            field,
            value,
            requirement,
        };
        let mailbox = |field, s: &str| {
            s.parse::<lettre::message::Mailbox>()
                .map_err(|_| bad(field, s.to_owned(), "an email address"))
        };
        let from = mailbox("alerts.email.from", &config.from)?;
        let to = config
            .to
            .iter()
            .map(|a| mailbox("alerts.email.to", a))
            .collect::<Result<Vec<_>>>()?;
        let builder = match config.security {
            SmtpSecurity::None => lettre::SmtpTransport::builder_dangerous(&config.host),
            SmtpSecurity::Tls => lettre::SmtpTransport::relay(&config.host)
                .map_err(|_| bad("alerts.email.host", config.host.clone(), "a host name"))?,
            SmtpSecurity::Starttls => lettre::SmtpTransport::starttls_relay(&config.host)
                .map_err(|_| bad("alerts.email.host", config.host.clone(), "a host name"))?,
        };
        let mut builder = builder
            .port(config.port)
            .timeout(Some(Duration::from_secs(10)));
        if let Ok(user) = std::env::var(&config.user_env) {
            let password = std::env::var(&config.password_env).unwrap_or_default();
            builder = builder.credentials(Credentials::new(user, password));
        }
        Ok(Self {
            transport: builder.build(),
            from,
            to,
        })
    }
}

impl Channel for Email {
    fn name(&self) -> &'static str {
        "email"
    }

    fn send(&mut self, alert: &Alert) -> std::result::Result<(), String> {
        use lettre::Transport;
        let mut message = lettre::Message::builder()
            .from(self.from.clone())
            .subject(format!(
                "[volta {}] {}",
                alert.severity.as_str(),
                alert.kind
            ));
        for to in &self.to {
            message = message.to(to.clone());
        }
        let message = message
            .body(alert.line())
            .map_err(|e| format!("building the message: {e}"))?;
        self.transport.send(&message).map(|_| ()).map_err(|e| {
            // lettre's SMTP errors carry the server's reply, never the credentials.
            format!("SMTP: {e}")
        })
    }
}

/// What a channel thread reports back.
pub type FailureHook = Arc<dyn Fn(&'static str, &str) + Send + Sync>;

/// Deduplicates, rate limits and queues alerts to every channel's thread.
pub struct Alerter {
    gate: Mutex<Gate>,
    queues: Vec<SyncSender<Alert>>,
    threads: Vec<JoinHandle<()>>,
    clock: Arc<dyn WallClock>,
}

impl std::fmt::Debug for Alerter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Alerter({} channels)", self.queues.len())
    }
}

/// Why an alert was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    /// The same key within the deduplication window.
    Duplicate,
    /// Over the rate limit.
    RateLimit,
}

impl Dropped {
    /// `duplicate` or `rate_limit`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Duplicate => "duplicate",
            Self::RateLimit => "rate_limit",
        }
    }
}

struct Gate {
    dedup: Duration,
    max_per_minute: usize,
    last_by_key: HashMap<String, Duration>,
    sent: VecDeque<Duration>,
}

impl Gate {
    fn admit(&mut self, key: &str, now: Duration) -> std::result::Result<(), Dropped> {
        if let Some(last) = self.last_by_key.get(key)
            && now.saturating_sub(*last) < self.dedup
        {
            return Err(Dropped::Duplicate);
        }
        let minute = Duration::from_secs(60);
        while self
            .sent
            .front()
            .is_some_and(|t| now.saturating_sub(*t) >= minute)
        {
            self.sent.pop_front();
        }
        if self.sent.len() >= self.max_per_minute {
            return Err(Dropped::RateLimit);
        }
        self.sent.push_back(now);
        self.last_by_key.insert(key.to_owned(), now);
        Ok(())
    }
}

/// Alerts queued per channel before new ones are dropped.
const QUEUE: usize = 256;

impl Alerter {
    /// An alerter over `channels`, each on its own thread; `on_failure(channel, reason)` is
    /// called when a delivery fails after every attempt.
    ///
    /// # Errors
    /// [`MonitorError::Server`] if a thread cannot start.
    pub fn new(
        config: &AlertConfig,
        channels: Vec<Box<dyn Channel>>,
        clock: Arc<dyn WallClock>,
        on_failure: &FailureHook,
    ) -> Result<Self> {
        let mut queues = Vec::new();
        let mut threads = Vec::new();
        for channel in channels {
            let (tx, rx) = sync_channel(QUEUE);
            let retry = Retry {
                attempts: config.attempts.max(1),
                backoff: Duration::from_secs_f64(config.retry_backoff_seconds),
            };
            let hook = Arc::clone(on_failure);
            let thread = std::thread::Builder::new()
                .name(format!("volta-alerts-{}", channel.name()))
                .spawn(move || deliver(channel, &rx, retry, &hook))
                .map_err(MonitorError::Server)?;
            queues.push(tx);
            threads.push(thread);
        }
        Ok(Self {
            gate: Mutex::new(Gate {
                dedup: Duration::from_secs_f64(config.dedup_seconds),
                max_per_minute: config.max_per_minute as usize,
                last_by_key: HashMap::new(),
                sent: VecDeque::new(),
            }),
            queues,
            threads,
            clock,
        })
    }

    /// The channels `config` names, their secrets read from the environment. A webhook whose
    /// variable is unset is left out, with a warning on stderr (naming the variable only).
    ///
    /// # Errors
    /// As [`Email::from_config`].
    pub fn channels(config: &AlertConfig, source_name: &str) -> Result<Vec<Box<dyn Channel>>> {
        let mut channels: Vec<Box<dyn Channel>> = Vec::new();
        if let Some(webhook) = &config.webhook {
            match std::env::var(&webhook.url_env) {
                Ok(url) if !url.is_empty() => channels.push(Box::new(Webhook::new(url))),
                _ => eprintln!(
                    "alerts: the webhook is configured but {} is not set: webhook alerts off",
                    webhook.url_env
                ),
            }
        }
        if let Some(email) = &config.email {
            channels.push(Box::new(Email::from_config(email, source_name)?));
        }
        Ok(channels)
    }

    /// Queues `alert` to every channel unless it is a duplicate or over the rate limit. Never
    /// waits: a full queue drops it.
    ///
    /// # Errors
    /// Why it was dropped.
    pub fn raise(&self, alert: &Alert) -> std::result::Result<(), Dropped> {
        let now = self.clock.elapsed();
        self.gate
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .admit(&alert.key, now)?;
        for queue in &self.queues {
            match queue.try_send(alert.clone()) {
                Ok(()) | Err(TrySendError::Disconnected(_)) => {}
                Err(TrySendError::Full(_)) => {
                    eprintln!(
                        "alerts: a channel's queue is full: alert {} dropped",
                        alert.kind
                    );
                }
            }
        }
        Ok(())
    }

    /// Stops taking alerts and waits for the channels to deliver what is queued.
    pub fn shutdown(mut self) {
        self.queues.clear();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Retry {
    attempts: u32,
    backoff: Duration,
}

fn deliver(mut channel: Box<dyn Channel>, rx: &Receiver<Alert>, retry: Retry, hook: &FailureHook) {
    for alert in rx {
        let mut wait = retry.backoff;
        for attempt in 1..=retry.attempts {
            match channel.send(&alert) {
                Ok(()) => break,
                Err(reason) if attempt == retry.attempts => {
                    eprintln!(
                        "alerts: {} failed to deliver a {} alert after {attempt} attempts: {reason}",
                        channel.name(),
                        alert.kind
                    );
                    hook(channel.name(), &reason);
                }
                Err(_) => {
                    std::thread::sleep(wait);
                    wait *= 2;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_within_the_window_and_alerts_over_the_rate_are_dropped() {
        let mut gate = Gate {
            dedup: Duration::from_secs(300),
            max_per_minute: 3,
            last_by_key: HashMap::new(),
            sent: VecDeque::new(),
        };
        let at = Duration::from_secs;
        assert_eq!(gate.admit("a", at(0)), Ok(()));
        assert_eq!(gate.admit("a", at(299)), Err(Dropped::Duplicate));
        assert_eq!(gate.admit("b", at(1)), Ok(()));
        assert_eq!(gate.admit("c", at(2)), Ok(()));
        assert_eq!(gate.admit("d", at(3)), Err(Dropped::RateLimit));
        // A minute after the first, one slot frees; five minutes after, `a` is new again.
        assert_eq!(gate.admit("d", at(60)), Ok(()));
        assert_eq!(gate.admit("a", at(300)), Ok(()));
    }

    #[test]
    fn config_checks_name_the_bad_setting() {
        let config = AlertConfig {
            drawdown_thresholds: vec![0.1, 1.5],
            ..AlertConfig::default()
        };
        let err = config.validate("monitor.toml").unwrap_err().to_string();
        assert!(
            err.contains("alerts.drawdown_thresholds") && err.contains("1.5"),
            "{err}"
        );
        assert!(AlertConfig::default().validate("defaults").is_ok());
    }
}
