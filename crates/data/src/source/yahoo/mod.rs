//! Yahoo Finance over HTTP: daily bars from the chart endpoint, expiries and option chains from
//! the options endpoint.
//!
//! - `GET {base}/v8/finance/chart/{symbol}?interval=1d&period1=…&period2=…&events=div|split`
//!   gives daily OHLCV; rows Yahoo leaves all-null (holidays, halts) are skipped and counted
//!   ([`BarsFetch::skipped_empty_rows`]).
//! - `GET {base}/v7/finance/options/{symbol}` gives the listed expiries and the nearest one's
//!   chain; `…?date=<epoch>` gives another expiry's chain. Yahoo has no history of chains: only
//!   [`ChainDate::Latest`] (or the date of Yahoo's latest quote) can be served.
//!
//! Yahoo wants a session first: a cookie (from `fc.yahoo.com`) and a *crumb* fetched with that
//! cookie (`/v1/test/getcrumb`), sent as `crumb=` with every API call. The source fetches both
//! on first use, caches them, and fetches them once more when Yahoo answers 401/403 or "Invalid
//! Crumb". Both are secrets: no error message, `Debug` output or URL in an error carries them.
//!
//! Every request (session ones included) takes a token from a [`TokenBucket`]; transient
//! failures (connection errors, timeouts, 429, 5xx) are retried with capped exponential backoff
//! and jitter ([`RetryPolicy`]), honouring `Retry-After`. Other 4xx are not retried.
//!
//! ```no_run
//! use chrono::NaiveDate;
//! use volta_data::source::{ChainDate, ExpirySelection, MarketDataSource, YahooConfig, YahooSource};
//!
//! # fn main() -> volta_data::Result<()> {
//! let yahoo = YahooSource::new(YahooConfig::default())?;
//! let qqq = "QQQ".parse()?;
//! let day = |m, d| NaiveDate::from_ymd_opt(2024, m, d).unwrap();
//! let bars = yahoo.daily_bars(&qqq, day(1, 2), day(1, 31))?;
//! let chain = yahoo.chain(&qqq, ChainDate::Latest, ExpirySelection::All)?;
//! println!("{} bars, {} quotes at {}", bars.len(), chain.len(), chain.as_of());
//! # Ok(())
//! # }
//! ```

mod json;
mod rate_limit;
mod retry;

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveTime};
use volta_core::{ChainSnapshot, DailyBar, Underlying};

use self::json::{OptionsPage, Problem};
use self::retry::Backoff;
use super::{ChainDate, ExpirySelection, MarketDataSource, check_range, select_expiries};
use crate::{DataError, Result};

pub use self::json::BarsFetch;
pub use self::rate_limit::{Clock, MonotonicClock, RateLimit, TokenBucket};
pub use self::retry::RetryPolicy;

/// Seconds in a day.
const DAY: i64 = 86_400;

/// The name this source reports ([`MarketDataSource::name`]).
pub const SOURCE_NAME: &str = "yahoo";

/// Where and how the Yahoo source talks to Yahoo. Every field can be overridden; tests point
/// the URLs at `http://127.0.0.1:<port>`.
#[derive(Debug, Clone, PartialEq)]
pub struct YahooConfig {
    /// Base URL of the API, without a trailing slash.
    pub base_url: String,
    /// URL that sets the session cookie (any status; only its `Set-Cookie` headers matter).
    pub cookie_url: String,
    /// Path (under `base_url`) that returns the crumb for the cookie.
    pub crumb_path: String,
    /// `User-Agent` header. Yahoo refuses some non-browser agents, hence a browser's.
    pub user_agent: String,
    /// Longest wait to establish a connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Longest silence while waiting for or reading a reply (per socket read).
    pub read_timeout: Duration,
    /// Longest time for one whole exchange: connect, send, headers and body.
    pub request_timeout: Duration,
    /// Request rate, shared by every thread using this source.
    pub rate_limit: RateLimit,
    /// Retries of transient failures.
    pub retry: RetryPolicy,
}

impl Default for YahooConfig {
    /// Yahoo's real hosts; 10 s to connect, 15 s of silence, 30 s per request; the default
    /// rate limit and retry policy.
    fn default() -> Self {
        Self {
            base_url: "https://query2.finance.yahoo.com".to_owned(),
            cookie_url: "https://fc.yahoo.com".to_owned(),
            crumb_path: "/v1/test/getcrumb".to_owned(),
            user_agent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                         Chrome/124.0 Safari/537.36"
                .to_owned(),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(15),
            request_timeout: Duration::from_secs(30),
            rate_limit: RateLimit::default(),
            retry: RetryPolicy::default(),
        }
    }
}

impl YahooConfig {
    fn validate(&self) -> Result<()> {
        let bad = |field, value: String, requirement| {
            Err(DataError::InvalidSourceConfig {
                field,
                value,
                requirement,
            })
        };
        for (field, url) in [
            ("base_url", &self.base_url),
            ("cookie_url", &self.cookie_url),
        ] {
            if !(url.starts_with("http://") || url.starts_with("https://")) || url.ends_with('/') {
                return bad(
                    field,
                    url.clone(),
                    "an http(s):// URL without a trailing slash",
                );
            }
        }
        if !self.crumb_path.starts_with('/') {
            return bad(
                "crumb_path",
                self.crumb_path.clone(),
                "a path starting with /",
            );
        }
        for (field, t) in [
            ("connect_timeout", self.connect_timeout),
            ("read_timeout", self.read_timeout),
            ("request_timeout", self.request_timeout),
        ] {
            if t.is_zero() {
                return bad(field, "0 s".to_owned(), "positive");
            }
        }
        self.retry.validate()
    }
}

/// A cookie and the crumb Yahoo issued for it. Secrets: `Debug` hides them.
struct Session {
    cookie: String,
    crumb: String,
}

impl Session {
    /// Every text that must not appear in an error: the crumb, the cookie header, and each
    /// cookie's `name=value` and value (a server may echo any of them back).
    fn secrets(&self) -> Vec<&str> {
        let mut secrets = vec![self.crumb.as_str()];
        secrets.extend(cookie_secrets(&self.cookie));
        secrets
    }
}

/// The cookie header, each `name=value` pair, and each value of four or more characters
/// (shorter ones are flags such as `x`, not secrets, and redacting them would garble messages).
fn cookie_secrets(cookie: &str) -> Vec<&str> {
    let mut secrets = vec![cookie];
    for pair in cookie.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        secrets.push(pair);
        if let Some((_, value)) = pair.split_once('=')
            && value.len() >= 4
        {
            secrets.push(value);
        }
    }
    // Longest first, so that a pair is redacted whole before its value is looked for.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Session { <redacted> }")
    }
}

/// An HTTP reply the retry loop did not retry.
#[derive(Debug)]
struct Reply {
    status: u16,
    body: String,
    set_cookies: Vec<String>,
}

/// One attempt's outcome.
enum Attempt {
    Done(Reply),
    /// Worth another try, after at least `retry_after` if the server said so.
    Transient {
        error: DataError,
        retry_after: Option<Duration>,
    },
    Fatal(DataError),
}

/// Yahoo Finance as a [`MarketDataSource`]. `Send + Sync`: one source (and its rate limit and
/// session) serves every thread.
#[derive(Debug)]
pub struct YahooSource {
    config: YahooConfig,
    agent: ureq::Agent,
    clock: Arc<dyn Clock>,
    limiter: TokenBucket,
    backoff: Backoff,
    session: Mutex<Option<Arc<Session>>>,
}

impl YahooSource {
    /// A source on the production clock ([`MonotonicClock`]).
    ///
    /// # Errors
    /// [`DataError::InvalidSourceConfig`] naming the first bad setting.
    pub fn new(config: YahooConfig) -> Result<Self> {
        Self::with_clock(config, Arc::new(MonotonicClock::new()))
    }

    /// A source whose rate limiter and backoff read and sleep on `clock`.
    ///
    /// # Errors
    /// As [`YahooSource::new`].
    pub fn with_clock(config: YahooConfig, clock: Arc<dyn Clock>) -> Result<Self> {
        config.validate()?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(config.user_agent.as_str())
            .timeout_connect(Some(config.connect_timeout))
            .timeout_per_read(Some(config.read_timeout))
            .timeout_per_call(Some(config.request_timeout))
            .build()
            .into();
        Ok(Self {
            limiter: TokenBucket::try_new(config.rate_limit, clock.clone())?,
            backoff: Backoff::new(config.retry),
            agent,
            clock,
            session: Mutex::new(None),
            config,
        })
    }

    /// The configuration in use.
    #[must_use]
    pub const fn config(&self) -> &YahooConfig {
        &self.config
    }

    /// The daily bars of `symbol` dated `from..=to` (exchange dates), with the number of
    /// all-null rows Yahoo sent for that range and that were left out.
    ///
    /// Prices are Yahoo's `quote` OHLC in the quote currency: adjusted for splits (Yahoo
    /// rewrites history after a split) but not for dividends; `adjclose` is not used.
    ///
    /// # Errors
    /// [`DataError::InvalidRequest`] if `from > to`; [`DataError::NotAvailable`] if Yahoo does
    /// not know the symbol; [`DataError::BadReply`] for a malformed reply; the HTTP errors of
    /// [`MarketDataSource::daily_bars`].
    pub fn fetch_daily_bars(
        &self,
        symbol: &Underlying,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<BarsFetch> {
        check_range(from, to)?;
        // A day's margin on each side covers exchanges east or west of UTC; the parser keeps
        // only the rows whose exchange date is in range. period2 is exclusive.
        let path = format!("/v8/finance/chart/{}", encode(symbol.as_str()));
        let query = format!(
            "interval=1d&period1={}&period2={}&events={}&includePrePost=false",
            midnight_utc(from) - DAY,
            midnight_utc(to) + 2 * DAY,
            encode("div|split"),
        );
        let (url, body) = self.api_get(&path, &query, || format!("daily bars of {symbol}"))?;
        json::parse_chart(&body, symbol, from, to)
            .map_err(|p| problem(p, &url, &format!("daily bars of {symbol}")))
    }

    /// One options reply: the nearest expiry's chain, or the one expiring at `epoch`.
    fn options_page(&self, symbol: &Underlying, expiry_epoch: Option<i64>) -> Result<OptionsPage> {
        let path = format!("/v7/finance/options/{}", encode(symbol.as_str()));
        let query = expiry_epoch.map_or_else(String::new, |e| format!("date={e}"));
        let what = || format!("options of {symbol}");
        let (url, body) = self.api_get(&path, &query, what)?;
        json::parse_options(&body, symbol).map_err(|p| problem(p, &url, &what()))
    }

    /// `NotAvailable` unless `date` is `Latest` or the session of Yahoo's latest quote.
    fn check_chain_date(symbol: &Underlying, date: ChainDate, page: &OptionsPage) -> Result<()> {
        match date {
            ChainDate::On(day) if day != page.as_of.date() => Err(DataError::NotAvailable {
                source_name: SOURCE_NAME.to_owned(),
                what: format!(
                    "{symbol} option chain of {day}: Yahoo keeps no history of chains and its \
                     latest is of {}",
                    page.as_of
                ),
            }),
            _ => Ok(()),
        }
    }

    /// GET `{base}{path}?{query}` with the session's crumb and cookie, refreshing the session
    /// once on an authorisation failure. Returns the URL (without the crumb) and the body of a
    /// 2xx reply; other statuses become errors (404 with Yahoo's "Not Found" → `NotAvailable`).
    fn api_get(
        &self,
        path: &str,
        query: &str,
        what: impl Fn() -> String,
    ) -> Result<(String, String)> {
        let url = if query.is_empty() {
            format!("{}{path}", self.config.base_url)
        } else {
            format!("{}{path}?{query}", self.config.base_url)
        };
        let separator = if query.is_empty() { '?' } else { '&' };
        let mut refreshed = false;
        loop {
            let session = self.session()?;
            let full = format!("{url}{separator}crumb={}", encode(&session.crumb));
            let secrets = session.secrets();
            let reply = self.send(&url, &full, Some(&session.cookie), true, &secrets)?;
            let auth_failed = matches!(reply.status, 401 | 403)
                || (reply.body.len() < 4096 && reply.body.contains("Invalid Crumb"));
            if auth_failed && !refreshed {
                self.forget_session(&session);
                refreshed = true;
                continue;
            }
            if (200..300).contains(&reply.status) && !auth_failed {
                return Ok((url, reply.body));
            }
            return Err(match json::vendor_error(&reply.body) {
                Some(Problem::NotFound(description)) if reply.status == 404 => {
                    not_available(&what(), &description)
                }
                _ => DataError::Http {
                    url,
                    status: reply.status,
                    body_excerpt: excerpt(&reply.body, &secrets),
                },
            });
        }
    }

    /// The cached session, or a new one.
    fn session(&self) -> Result<Arc<Session>> {
        // Held across the fetch so that threads arriving together fetch one session, not many.
        let mut slot = self.session.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(session) = slot.as_ref() {
            return Ok(session.clone());
        }
        let session = Arc::new(self.fetch_session()?);
        *slot = Some(session.clone());
        Ok(session)
    }

    /// Drops `stale` from the cache (unless another thread already replaced it).
    fn forget_session(&self, stale: &Arc<Session>) {
        let mut slot = self.session.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.as_ref().is_some_and(|s| Arc::ptr_eq(s, stale)) {
            *slot = None;
        }
    }

    /// Cookie from the cookie URL (redirects not followed, any status), then the crumb.
    fn fetch_session(&self) -> Result<Session> {
        let cookie_url = &self.config.cookie_url;
        let reply = self.send(cookie_url, cookie_url, None, false, &[])?;
        let cookie = reply
            .set_cookies
            .iter()
            .filter_map(|c| c.split(';').next())
            .map(str::trim)
            .filter(|pair| pair.contains('='))
            .collect::<Vec<_>>()
            .join("; ");
        let crumb_url = format!("{}{}", self.config.base_url, self.config.crumb_path);
        let secrets = cookie_secrets(&cookie);
        let reply = self.send(&crumb_url, &crumb_url, Some(&cookie), true, &secrets)?;
        if !(200..300).contains(&reply.status) {
            return Err(DataError::Http {
                url: crumb_url,
                status: reply.status,
                body_excerpt: excerpt(&reply.body, &secrets),
            });
        }
        let crumb = reply.body.trim();
        // A crumb is a short token; anything else (an HTML page, a message) is not one. Its
        // text is not echoed, in case it is a crumb after all.
        if crumb.is_empty()
            || crumb.len() > 64
            || crumb
                .chars()
                .any(|c| c.is_whitespace() || c == '<' || c == '{')
        {
            return Err(DataError::BadReply {
                url: crumb_url,
                reason: format!(
                    "the crumb reply ({} bytes) is not a crumb token",
                    reply.body.len()
                ),
            });
        }
        Ok(Session {
            cookie,
            crumb: crumb.to_owned(),
        })
    }

    /// Sends a GET, retrying transient failures per the policy. `url` is what errors show;
    /// `full_url` is what is sent; `secrets` are scrubbed from any text put into an error.
    fn send(
        &self,
        url: &str,
        full_url: &str,
        cookie: Option<&str>,
        follow_redirects: bool,
        secrets: &[&str],
    ) -> Result<Reply> {
        let policy = *self.backoff.policy();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let (error, retry_after) =
                match self.send_once(url, full_url, cookie, follow_redirects, secrets) {
                    Attempt::Done(reply) => return Ok(reply),
                    Attempt::Fatal(error) => return Err(error),
                    Attempt::Transient { error, retry_after } => (error, retry_after),
                };
            let too_long = retry_after.is_some_and(|r| r > policy.max_delay);
            if attempts >= policy.max_attempts || too_long {
                return Err(match error {
                    DataError::RateLimited { .. } => DataError::RateLimited {
                        url: url.to_owned(),
                        attempts,
                        retry_after,
                    },
                    last => DataError::RetriesExhausted {
                        url: url.to_owned(),
                        attempts,
                        last: Box::new(last),
                    },
                });
            }
            self.clock.sleep(self.backoff.delay(attempts, retry_after));
        }
    }

    fn send_once(
        &self,
        url: &str,
        full_url: &str,
        cookie: Option<&str>,
        follow_redirects: bool,
        secrets: &[&str],
    ) -> Attempt {
        self.limiter.acquire();
        let mut request = self.agent.get(full_url);
        if let Some(cookie) = cookie.filter(|c| !c.is_empty()) {
            request = request.header("Cookie", cookie);
        }
        let result = if follow_redirects {
            request.call()
        } else {
            request.config().max_redirects(0).build().call()
        };
        let network = |e: &ureq::Error| DataError::Network {
            url: url.to_owned(),
            reason: scrub(&e.to_string(), secrets),
            timed_out: matches!(e, ureq::Error::Timeout(_)),
        };
        let mut response = match result {
            Ok(response) => response,
            Err(e) if is_transient(&e) => {
                return Attempt::Transient {
                    error: network(&e),
                    retry_after: None,
                };
            }
            Err(e) => return Attempt::Fatal(network(&e)),
        };
        let status = response.status().as_u16();
        let headers = response.headers();
        let retry_after = retry_after(headers);
        let set_cookies = headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect();
        let body = match response.body_mut().read_to_string() {
            Ok(body) => body,
            // The connection dropped or stalled mid-body: as transient as a failed connect.
            Err(e) if is_transient(&e) => {
                return Attempt::Transient {
                    error: network(&e),
                    retry_after: None,
                };
            }
            Err(e) => {
                return Attempt::Fatal(DataError::BadReply {
                    url: url.to_owned(),
                    reason: format!("unreadable body: {}", scrub(&e.to_string(), secrets)),
                });
            }
        };
        if status == 429 {
            return Attempt::Transient {
                error: DataError::RateLimited {
                    url: url.to_owned(),
                    attempts: 1,
                    retry_after,
                },
                retry_after,
            };
        }
        if status >= 500 {
            return Attempt::Transient {
                error: DataError::Http {
                    url: url.to_owned(),
                    status,
                    body_excerpt: excerpt(&body, secrets),
                },
                retry_after,
            };
        }
        Attempt::Done(Reply {
            status,
            body,
            set_cookies,
        })
    }
}

impl MarketDataSource for YahooSource {
    fn name(&self) -> &str {
        SOURCE_NAME
    }

    fn daily_bars(
        &self,
        symbol: &Underlying,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailyBar>> {
        Ok(self.fetch_daily_bars(symbol, from, to)?.bars)
    }

    fn expirations(&self, symbol: &Underlying, date: ChainDate) -> Result<Vec<NaiveDate>> {
        let page = self.options_page(symbol, None)?;
        Self::check_chain_date(symbol, date, &page)?;
        if page.expirations.is_empty() {
            return Err(not_available(
                &format!("options of {symbol}"),
                "no expiry listed",
            ));
        }
        Ok(page.expirations.iter().map(|(d, _)| *d).collect())
    }

    fn chain(
        &self,
        symbol: &Underlying,
        date: ChainDate,
        expiries: ExpirySelection,
    ) -> Result<ChainSnapshot> {
        let (page, quotes) = match expiries {
            ExpirySelection::Only(expiry) => {
                let page = self.options_page(symbol, Some(midnight_utc(expiry)))?;
                Self::check_chain_date(symbol, date, &page)?;
                if !page.expirations.iter().any(|(d, _)| *d == expiry) {
                    return Err(DataError::NotAvailable {
                        source_name: SOURCE_NAME.to_owned(),
                        what: format!(
                            "{symbol} options expiring {expiry}: not among the {} expiries \
                             Yahoo lists at {}",
                            page.expirations.len(),
                            page.as_of
                        ),
                    });
                }
                let quotes = page.quotes.clone();
                (page, quotes)
            }
            ExpirySelection::All => {
                let page = self.options_page(symbol, None)?;
                Self::check_chain_date(symbol, date, &page)?;
                let mut quotes = page.quotes.clone();
                for &(expiry, epoch) in &page.expirations {
                    if Some(expiry) != page.page_expiry {
                        quotes.extend(self.options_page(symbol, Some(epoch))?.quotes);
                    }
                }
                (page, quotes)
            }
        };
        if quotes.is_empty() {
            return Err(DataError::NotAvailable {
                source_name: SOURCE_NAME.to_owned(),
                what: format!(
                    "{symbol} option quotes (Yahoo's chain at {} is empty)",
                    page.as_of
                ),
            });
        }
        let snapshot =
            ChainSnapshot::try_new(page.as_of, symbol.clone(), page.underlying_price, quotes)?;
        select_expiries(SOURCE_NAME, snapshot, expiries)
    }
}

/// A reply problem as an error: Yahoo's "not found" is `NotAvailable`, the rest `BadReply`.
fn problem(problem: Problem, url: &str, what: &str) -> DataError {
    match problem {
        Problem::NotFound(description) => not_available(what, &description),
        Problem::Malformed(reason) => DataError::BadReply {
            url: url.to_owned(),
            reason,
        },
    }
}

fn not_available(what: &str, description: &str) -> DataError {
    DataError::NotAvailable {
        source_name: SOURCE_NAME.to_owned(),
        what: format!("{what} (Yahoo: {description})"),
    }
}

/// Connection errors, timeouts and truncated replies; not TLS or URL errors, which repeat.
fn is_transient(e: &ureq::Error) -> bool {
    matches!(
        e,
        ureq::Error::Io(_)
            | ureq::Error::Timeout(_)
            | ureq::Error::HostNotFound
            | ureq::Error::ConnectionFailed
            | ureq::Error::Protocol(_)
            | ureq::Error::BodyStalled
    )
}

/// `Retry-After` as delta-seconds, or as an HTTP date measured from the reply's own `Date`
/// (the source has no wall clock to compare with).
fn retry_after(headers: &ureq::http::HeaderMap) -> Option<Duration> {
    let text = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(text).ok()?;
    let date = DateTime::parse_from_rfc2822(headers.get("date")?.to_str().ok()?.trim()).ok()?;
    (at - date).to_std().ok()
}

/// Seconds since the epoch of `day` at 00:00 UTC: how Yahoo stamps expiries.
fn midnight_utc(day: NaiveDate) -> i64 {
    day.and_time(NaiveTime::MIN).and_utc().timestamp()
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(text: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Replaces every secret in `text` with `<redacted>`.
fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(secret, "<redacted>");
        let encoded = encode(secret);
        if encoded != *secret {
            out = out.replace(&encoded, "<redacted>");
        }
    }
    out
}

/// The start of a body for an error message: whitespace collapsed, at most 200 characters,
/// secrets scrubbed.
fn excerpt(body: &str, secrets: &[&str]) -> String {
    const MAX: usize = 200;
    let collapsed = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let scrubbed = scrub(&collapsed, secrets);
    if scrubbed.chars().count() <= MAX {
        scrubbed
    } else {
        let cut: String = scrubbed.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_symbols_and_crumbs() {
        assert_eq!(encode("QQQ"), "QQQ");
        assert_eq!(encode("^GSPC"), "%5EGSPC");
        assert_eq!(encode("EURUSD=X"), "EURUSD%3DX");
        assert_eq!(encode("div|split"), "div%7Csplit");
        assert_eq!(encode("a/b.c"), "a%2Fb.c");
    }

    #[test]
    fn scrubs_plain_and_encoded_secrets() {
        let text = "GET /x?crumb=ab%2Fcd failed; cookie A3=zz; crumb ab/cd";
        assert_eq!(
            scrub(text, &["ab/cd", "A3=zz"]),
            "GET /x?crumb=<redacted> failed; cookie <redacted>; crumb <redacted>"
        );
    }

    #[test]
    fn excerpts_are_short_and_flat() {
        let body = format!("<html>\n  <body>{}</body>", "x".repeat(500));
        let e = excerpt(&body, &[]);
        assert!(e.starts_with("<html> <body>xxx"));
        assert_eq!(e.chars().count(), 201);
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let mut h = ureq::http::HeaderMap::new();
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            "retry-after",
            "Thu, 20 Feb 2025 11:48:10 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None, "a date needs the reply's Date");
        h.insert("date", "Thu, 20 Feb 2025 11:47:40 GMT".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(30)));
    }

    #[test]
    fn expiry_epochs_are_midnight_utc() {
        // options-QQQ.json lists 1740355200 for 2025-02-24.
        assert_eq!(
            midnight_utc(NaiveDate::from_ymd_opt(2025, 2, 24).unwrap()),
            1_740_355_200
        );
    }

    #[test]
    fn rejects_bad_configs() {
        let cases: [(YahooConfig, &str); 4] = [
            (
                YahooConfig {
                    base_url: "ftp://x".into(),
                    ..YahooConfig::default()
                },
                "base_url",
            ),
            (
                YahooConfig {
                    cookie_url: "https://fc.yahoo.com/".into(),
                    ..YahooConfig::default()
                },
                "cookie_url",
            ),
            (
                YahooConfig {
                    read_timeout: Duration::ZERO,
                    ..YahooConfig::default()
                },
                "read_timeout",
            ),
            (
                YahooConfig {
                    retry: RetryPolicy {
                        max_attempts: 0,
                        ..RetryPolicy::default()
                    },
                    ..YahooConfig::default()
                },
                "retry.max_attempts",
            ),
        ];
        for (config, field) in cases {
            match YahooSource::new(config) {
                Err(DataError::InvalidSourceConfig { field: f, .. }) => assert_eq!(f, field),
                other => panic!("expected an error on {field}, got {other:?}"),
            }
        }
    }

    #[test]
    fn debug_hides_the_session() {
        let s = Session {
            cookie: "A3=secret-cookie".into(),
            crumb: "secret-crumb".into(),
        };
        let text = format!("{s:?}");
        assert!(!text.contains("secret"), "{text}");
    }
}
