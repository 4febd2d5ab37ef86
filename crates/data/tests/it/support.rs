//! A scriptable HTTP/1.1 replay server on 127.0.0.1 for the Yahoo source's tests.
//!
//! It is a real TCP server (one thread per connection, `Connection: close` on every reply)
//! that answers from the recorded bodies in `fixtures/yahoo/`. Each test scripts it: a reply
//! per route (optionally a queue of replies, one per request, before the standing one), errors
//! (429 with `Retry-After`, 5xx), a hang past the client's timeout, a dropped connection. It
//! plays Yahoo's session too: `/cookie` sets a cookie, `/v1/test/getcrumb` gives the crumb for
//! it, and with [`ReplayServer::require_session`] every API call without both is refused with
//! 401 "Invalid Crumb". It logs every request with its arrival time.

#![allow(
    dead_code,
    unreachable_pub,
    reason = "each test binary uses a different part of the helper"
)]

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use volta_data::source::YahooConfig;
use volta_data::source::yahoo::{Clock, MonotonicClock, RateLimit, RetryPolicy};

/// The body of a recorded reply.
pub fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/yahoo")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What the server does with one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with a recorded body from `fixtures/yahoo/`.
    Fixture(&'static str),
    /// Any status, body and extra headers.
    Raw {
        status: u16,
        body: String,
        headers: Vec<(String, String)>,
    },
    /// Says nothing for this long, then closes the connection.
    Hang(Duration),
    /// Closes the connection without a reply.
    Drop,
}

impl Reply {
    /// 200 with this JSON body.
    pub fn json(body: impl Into<String>) -> Self {
        Self::status(200, body)
    }
    /// This status and body.
    pub fn status(status: u16, body: impl Into<String>) -> Self {
        Self::Raw {
            status,
            body: body.into(),
            headers: Vec::new(),
        }
    }
    /// 429 with `Retry-After: <seconds>`.
    pub fn too_many(retry_after_seconds: u64) -> Self {
        Self::Raw {
            status: 429,
            body: "Too Many Requests".to_owned(),
            headers: vec![("Retry-After".to_owned(), retry_after_seconds.to_string())],
        }
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Logged {
    /// Arrival, on the server's clock ([`ReplayServer::now`]).
    pub at: Duration,
    /// Path without the query.
    pub path: String,
    /// Decoded query parameters.
    pub query: HashMap<String, String>,
    /// The `Cookie` header, if any.
    pub cookie: Option<String>,
    /// The `User-Agent` header, if any.
    pub user_agent: Option<String>,
}

struct Route {
    path: String,
    /// Query parameters that must be present with these values.
    query: Vec<(String, String)>,
    queue: VecDeque<Reply>,
    standing: Option<Reply>,
}

struct State {
    routes: Vec<Route>,
    log: Vec<Logged>,
    require_session: bool,
    /// Session generation: cookie `A3=d=cookie<gen>`, crumb `crumb/<gen>.x` (a `/` to check
    /// that the client encodes it).
    generation: u32,
}

impl State {
    fn cookie(&self) -> String {
        format!("A3=d=cookie{}", self.generation)
    }
    fn crumb(&self) -> String {
        format!("crumb/{}.x", self.generation)
    }
}

/// The replay server. Stops accepting when dropped.
pub struct ReplayServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    clock: Arc<MonotonicClock>,
    stop: Arc<AtomicBool>,
}

pub const CRUMB_PATH: &str = "/v1/test/getcrumb";
pub const INVALID_CRUMB: &str =
    r#"{"finance":{"result":null,"error":{"code":"Unauthorized","description":"Invalid Crumb"}}}"#;

impl ReplayServer {
    /// A server on an ephemeral port of 127.0.0.1 with no API routes yet.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State {
            routes: Vec::new(),
            log: Vec::new(),
            require_session: false,
            generation: 1,
        }));
        let clock = Arc::new(MonotonicClock::new());
        let stop = Arc::new(AtomicBool::new(false));
        let (st, ck, sp) = (state.clone(), clock.clone(), stop.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (st, ck) = (st.clone(), ck.clone());
                thread::spawn(move || handle(stream, &st, ck.as_ref()));
            }
        });
        Self {
            addr,
            state,
            clock,
            stop,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The server's clock reading (the one requests are logged on).
    pub fn now(&self) -> Duration {
        self.clock.now()
    }

    /// A config pointing at this server: no rate limit to speak of, three attempts with
    /// millisecond backoff, short timeouts.
    pub fn config(&self) -> YahooConfig {
        YahooConfig {
            base_url: self.url(),
            cookie_url: format!("{}/cookie", self.url()),
            crumb_path: CRUMB_PATH.to_owned(),
            user_agent: "volta-test".to_owned(),
            connect_timeout: Duration::from_secs(2),
            read_timeout: Duration::from_millis(500),
            request_timeout: Duration::from_secs(3),
            rate_limit: RateLimit {
                requests_per_second: 10_000.0,
                burst: 1_000,
            },
            retry: RetryPolicy {
                max_attempts: 3,
                base_delay: Duration::from_millis(5),
                max_delay: Duration::from_millis(200),
                jitter: 0.5,
                jitter_seed: 11,
            },
        }
    }

    fn add(&self, path: &str, query: &[(&str, &str)], queue: Vec<Reply>, standing: Option<Reply>) {
        let mut state = self.state.lock().unwrap();
        state.routes.retain(|r| {
            !(r.path == path
                && r.query.len() == query.len()
                && r.query
                    .iter()
                    .zip(query)
                    .all(|(a, b)| a.0 == b.0 && a.1 == b.1))
        });
        state.routes.push(Route {
            path: path.to_owned(),
            query: query
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            queue: queue.into(),
            standing,
        });
    }

    /// Answers every request to `path` with `reply`.
    pub fn route(&self, path: &str, reply: Reply) {
        self.add(path, &[], Vec::new(), Some(reply));
    }

    /// Answers requests to `path` whose query holds `query` with `reply` (these routes win
    /// over plain ones).
    pub fn route_query(&self, path: &str, query: &[(&str, &str)], reply: Reply) {
        self.add(path, query, Vec::new(), Some(reply));
    }

    /// Answers the next requests to `path` with `replies`, one each, then with `then`.
    pub fn script(&self, path: &str, replies: Vec<Reply>, then: Reply) {
        self.add(path, &[], replies, Some(then));
    }

    /// Refuses API calls without the current cookie and crumb (401 "Invalid Crumb").
    pub fn require_session(&self) {
        self.state.lock().unwrap().require_session = true;
    }

    /// Issues a new cookie and crumb: the old ones stop working.
    pub fn rotate_session(&self) {
        self.state.lock().unwrap().generation += 1;
    }

    /// The current crumb and cookie.
    pub fn session(&self) -> (String, String) {
        let state = self.state.lock().unwrap();
        (state.crumb(), state.cookie())
    }

    /// Every request so far.
    pub fn log(&self) -> Vec<Logged> {
        self.state.lock().unwrap().log.clone()
    }

    /// Requests whose path starts with `prefix`.
    pub fn requests(&self, prefix: &str) -> Vec<Logged> {
        self.log()
            .into_iter()
            .filter(|l| l.path.starts_with(prefix))
            .collect()
    }

    /// The paths requested, in order (`/cookie`, `/v1/test/getcrumb`, `/v8/finance/chart/QQQ`).
    pub fn paths(&self) -> Vec<String> {
        self.log().into_iter().map(|l| l.path).collect()
    }
}

impl Drop for ReplayServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                if let Ok(b) = u8::from_str_radix(hex, 16) {
                    out.push(b);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn write_reply(stream: &mut TcpStream, status: u16, body: &str, headers: &[(String, String)]) {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json;charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n",
        reason(status),
        body.len()
    );
    for (k, v) in headers {
        let _ = write!(head, "{k}: {v}\r\n");
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
    let _ = stream.flush();
}

/// Logs a request and picks its reply: the session endpoints, the session check, then the
/// most specific matching route.
fn decide(st: &mut State, request: Logged) -> Reply {
    let (path, query, cookie) = (
        request.path.clone(),
        request.query.clone(),
        request.cookie.clone(),
    );
    st.log.push(request);
    let path = path.as_str();
    let has_cookie = cookie.as_deref().is_some_and(|c| c.contains(&st.cookie()));
    if path == "/cookie" {
        // fc.yahoo.com answers 404 and sets the cookie anyway.
        Reply::Raw {
            status: 404,
            body: "Not Found".to_owned(),
            headers: vec![
                (
                    "Set-Cookie".to_owned(),
                    format!(
                        "{}; Expires=Fri, 20 Feb 2026 11:47:40 GMT; Max-Age=31557600; Domain=.yahoo.com; Path=/; SameSite=None; Secure",
                        st.cookie()
                    ),
                ),
                (
                    "Set-Cookie".to_owned(),
                    "A1S=d=x&j=WORLD; Path=/".to_owned(),
                ),
            ],
        }
    } else if path == CRUMB_PATH {
        if has_cookie {
            Reply::Raw {
                status: 200,
                body: st.crumb(),
                headers: vec![("Content-Type".to_owned(), "text/plain".to_owned())],
            }
        } else {
            Reply::status(403, "Forbidden")
        }
    } else if st.require_session
        && !(has_cookie && query.get("crumb").is_some_and(|c| *c == st.crumb()))
    {
        Reply::status(401, INVALID_CRUMB)
    } else {
        let matching = st
            .routes
            .iter_mut()
            .filter(|r| r.path == path && r.query.iter().all(|(k, v)| query.get(k) == Some(v)))
            .max_by_key(|r| r.query.len());
        match matching {
            Some(route) => route
                .queue
                .pop_front()
                .or_else(|| route.standing.clone())
                .unwrap_or_else(|| Reply::status(404, "no reply scripted")),
            None => Reply::status(404, format!("no route for {path}")),
        }
    }
}

fn handle(mut stream: TcpStream, state: &Mutex<State>, clock: &dyn Clock) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return; // the accept loop's wake-up connection, or a client that gave up
    }
    let at = clock.now();
    let mut cookie = None;
    let mut user_agent = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "cookie" => cookie = Some(value.trim().to_owned()),
                "user-agent" => user_agent = Some(value.trim().to_owned()),
                _ => {}
            }
        }
    }
    let target = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    let (path, raw_query) = target.split_once('?').unwrap_or((&target, ""));
    let query: HashMap<String, String> = raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();

    let reply = decide(
        &mut state.lock().unwrap(),
        Logged {
            at,
            path: path.to_owned(),
            query,
            cookie,
            user_agent,
        },
    );
    match reply {
        Reply::Fixture(name) => write_reply(&mut stream, 200, &fixture(name), &[]),
        Reply::Raw {
            status,
            body,
            headers,
        } => write_reply(&mut stream, status, &body, &headers),
        Reply::Hang(d) => thread::sleep(d),
        Reply::Drop => {}
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
}
