//! Alerts against real servers on 127.0.0.1: a webhook receiver and an SMTP server written
//! here, and a run of the engine that raises them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use volta_data::store::{JournalStore, SqliteStore};
use volta_engine::{SimulatedClock, StopSignal};
use volta_monitor::alerts::{Alert, Channel, Email, EmailConfig, Severity, SmtpSecurity, Webhook};
use volta_monitor::{AlertConfig, ConnectionState, ModelRow};

use crate::common::{self, date, parse_metrics};

type Log = Arc<Mutex<Vec<String>>>;

/// An HTTP server on 127.0.0.1 that records each request's body and answers with the next
/// of `statuses` (then 200).
fn webhook_receiver(statuses: Vec<u16>) -> (String, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let log: Log = Arc::default();
    let bodies = Arc::clone(&log);
    std::thread::spawn(move || {
        let mut statuses = statuses.into_iter();
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            bodies
                .lock()
                .unwrap()
                .push(String::from_utf8(body).unwrap());
            let status = statuses.next().unwrap_or(200);
            let reply =
                format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let mut stream = reader.into_inner();
            stream.write_all(reply.as_bytes()).unwrap();
        }
    });
    (url, log)
}

/// An SMTP server on 127.0.0.1 (no TLS, no login) that records each message's data.
fn smtp_server() -> (u16, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let log: Log = Arc::default();
    let messages = Arc::clone(&log);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            smtp_session(stream, &messages);
        }
    });
    (port, log)
}

fn smtp_session(stream: TcpStream, messages: &Log) {
    let mut out = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut say = |s: &str| out.write_all(s.as_bytes()).unwrap();
    say("220 localhost ESMTP test\r\n");
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap_or(0) > 0 {
        let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" | "HELO" => say("250-localhost\r\n250 8BITMIME\r\n"),
            "MAIL" | "RCPT" | "RSET" | "NOOP" => say("250 OK\r\n"),
            "DATA" => {
                say("354 go on\r\n");
                let mut data = String::new();
                let mut l = String::new();
                while reader.read_line(&mut l).unwrap_or(0) > 0 && l != ".\r\n" {
                    data.push_str(&l);
                    l.clear();
                }
                messages.lock().unwrap().push(data);
                say("250 queued\r\n");
            }
            "QUIT" => {
                say("221 bye\r\n");
                return;
            }
            _ => say("502 no\r\n"),
        }
        line.clear();
    }
}

fn kill_switch_alert() -> Alert {
    Alert {
        kind: "kill_switch",
        severity: Severity::Critical,
        key: "kill_switch".to_owned(),
        at: None,
        text: "the drawdown kill switch fired".to_owned(),
    }
}

fn quick(config: AlertConfig) -> AlertConfig {
    AlertConfig {
        attempts: 3,
        retry_backoff_seconds: 0.05,
        ..config
    }
}

#[test]
fn webhook_and_email_deliver_once_retrying_a_failure() {
    let (url, hooks) = webhook_receiver(vec![500]);
    let (port, mails) = smtp_server();
    let email = Email::from_config(
        &EmailConfig {
            host: "127.0.0.1".to_owned(),
            port,
            security: SmtpSecurity::None,
            from: "volta@example.invalid".to_owned(),
            to: vec!["trader@example.invalid".to_owned()],
            user_env: "VOLTA_TEST_NO_SUCH_USER_VARIABLE".to_owned(),
            password_env: "VOLTA_TEST_NO_SUCH_PASSWORD_VARIABLE".to_owned(),
        },
        "test",
    )
    .unwrap();
    let stop = StopSignal::new();
    let monitor = common::monitor(
        &stop,
        &quick(AlertConfig::default()),
        vec![Box::new(Webhook::new(url)), Box::new(email)],
    );
    monitor.raise(kill_switch_alert());
    // The same key again within the window: shown, not sent.
    monitor.raise(kill_switch_alert());
    monitor.finish();

    let hooks = hooks.lock().unwrap().clone();
    // The first attempt got a 500, the retry a 200: two requests, one alert.
    assert_eq!(hooks.len(), 2, "{hooks:?}");
    let body: serde_json::Value = serde_json::from_str(&hooks[1]).unwrap();
    assert_eq!(
        body["text"],
        "[volta critical] kill_switch: the drawdown kill switch fired"
    );
    let mails = mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(
        mails[0].contains("Subject: [volta critical] kill_switch"),
        "{}",
        mails[0]
    );
    assert!(
        mails[0].contains("To: trader@example.invalid"),
        "{}",
        mails[0]
    );
    assert!(
        mails[0].contains("the drawdown kill switch fired"),
        "{}",
        mails[0]
    );

    let m = parse_metrics(&monitor.metrics_text());
    assert_eq!(m["volta_alerts_total{kind=\"kill_switch\"}"], 2.0);
    assert_eq!(m["volta_alerts_suppressed_total{why=\"duplicate\"}"], 1.0);
    assert!(!m.contains_key("volta_alert_delivery_failures_total{channel=\"webhook\"}"));
}

#[test]
#[expect(
    clippy::disallowed_methods,
    reason = "measures that raising an alert does not wait for a failing channel"
)]
fn a_failing_channel_is_retried_logged_and_never_blocks() {
    // A port nobody listens on.
    let url = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/hook", listener.local_addr().unwrap())
    };
    let stop = StopSignal::new();
    let monitor = common::monitor(
        &stop,
        &AlertConfig {
            retry_backoff_seconds: 0.3,
            ..quick(AlertConfig::default())
        },
        vec![Box::new(Webhook::new(url))],
    );
    let begin = std::time::Instant::now();
    monitor.raise(kill_switch_alert());
    monitor.record_error("broker", "order 7 refused");
    let raising = begin.elapsed();
    // Three attempts 0.3 s then 0.6 s apart take ~0.9 s on the channel's thread; raising
    // took none of it.
    assert!(raising < Duration::from_millis(100), "{raising:?}");
    monitor.finish();
    assert!(begin.elapsed() >= Duration::from_millis(900));
    let m = parse_metrics(&monitor.metrics_text());
    assert_eq!(
        m["volta_alert_delivery_failures_total{channel=\"webhook\"}"],
        2.0
    );
    assert_eq!(m["volta_errors_total{source=\"alert_webhook\"}"], 2.0);
    assert_eq!(m["volta_errors_total{source=\"broker\"}"], 1.0);
    let state = monitor.snapshot();
    assert!(
        state.alerts.iter().any(|a| a
            .text
            .starts_with("alert channel webhook failed: request failed")),
        "{:?}",
        state.alerts
    );
    // The log line and the state carry no URL.
    assert!(state.alerts.iter().all(|a| !a.text.contains("127.0.0.1")));
}

#[test]
fn the_circuit_breaker_and_a_disconnect_alert_and_show() {
    let stop = StopSignal::new();
    let (monitor, sent) = recording(&stop);
    monitor.set_connection(ConnectionState::Disconnected {
        reason: "TWS closed the socket".to_owned(),
    });
    monitor.circuit_breaker(Some("3 rejected orders"));
    let m = parse_metrics(&monitor.metrics_text());
    assert_eq!(m["volta_circuit_breaker_tripped"], 1.0);
    assert_eq!(m["volta_connection_up"], 0.0);
    assert_eq!(m["volta_connection_state{state=\"disconnected\"}"], 1.0);
    assert_eq!(m["volta_connection_state{state=\"simulated\"}"], 0.0);
    let state = monitor.snapshot();
    assert_eq!(
        state.halt.circuit_breaker.as_deref(),
        Some("3 rejected orders")
    );
    assert_eq!(state.connection.as_str(), "disconnected");
    monitor.circuit_breaker(None);
    monitor.set_connection(ConnectionState::Connected);
    let m = parse_metrics(&monitor.metrics_text());
    assert_eq!(m["volta_circuit_breaker_tripped"], 0.0);
    assert_eq!(m["volta_connection_up"], 1.0);
    assert_eq!(monitor.snapshot().halt.circuit_breaker, None);
    monitor.finish();
    let sent: Vec<(&str, Severity)> = sent
        .lock()
        .unwrap()
        .iter()
        .map(|a| (a.kind, a.severity))
        .collect();
    assert_eq!(
        sent,
        [
            ("disconnect", Severity::Warning),
            ("circuit_breaker", Severity::Critical)
        ]
    );
}

#[test]
fn the_model_in_use_is_shown_and_a_new_one_alerted_once() {
    let stop = StopSignal::new();
    let (monitor, sent) = recording(&stop);
    let mut record = volta_data::store::ModelRecord::new(
        "gbm-spy-2023-01-31",
        "gbm",
        "gbm-spy-2023-01-31/model.json",
        "v1",
        date(2019, 1, 2),
        date(2023, 1, 31),
    );
    record.metrics.insert("auc".to_owned(), 0.52);
    record.regime_metrics.insert(
        "high_vol".to_owned(),
        std::collections::BTreeMap::from([("auc".to_owned(), 0.41), ("samples".to_owned(), 40.0)]),
    );
    record.promoted = true;
    monitor.set_model(ModelRow::new(&record, 0.5));
    // The same model again (a restart of the panel) is not news.
    monitor.set_model(ModelRow::new(&record, 0.5));
    let shown = monitor.snapshot().model.unwrap();
    assert_eq!(shown.id, "gbm-spy-2023-01-31");
    assert_eq!(shown.regimes["high_vol"]["auc"], 0.41);
    assert_eq!(shown.min_score, 0.5);
    // What the page reads: the record's per-regime metrics, dates as text.
    let json = serde_json::to_value(monitor.snapshot()).unwrap();
    assert_eq!(json["model"]["regimes"]["high_vol"]["samples"], 40.0);
    assert_eq!(json["model"]["train_to"], "2023-01-31");
    // A retraining promoted another.
    record.id = "gbm-spy-2023-02-28".to_owned();
    record.train_to = date(2023, 2, 28);
    monitor.set_model(ModelRow::new(&record, 0.5));
    monitor.finish();
    let sent = sent.lock().unwrap();
    let texts: Vec<(&str, Severity, &str)> = sent
        .iter()
        .map(|a| (a.kind, a.severity, a.text.as_str()))
        .collect();
    assert_eq!(
        texts,
        [(
            "model",
            Severity::Info,
            "the model in use is now gbm-spy-2023-02-28 (gbm, trained to 2023-02-28), replacing \
             gbm-spy-2023-01-31"
        )]
    );
}

/// A monitor with default alerts whose one channel keeps what it is sent.
fn recording(stop: &StopSignal) -> (volta_monitor::Monitor, Arc<Mutex<Vec<Alert>>>) {
    let sent: Arc<Mutex<Vec<Alert>>> = Arc::default();
    let monitor = common::monitor(
        stop,
        &AlertConfig::default(),
        vec![Box::new(Recorder(Arc::clone(&sent)))],
    );
    (monitor, sent)
}

/// A channel that keeps what it is sent.
struct Recorder(Arc<Mutex<Vec<Alert>>>);

impl Channel for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }
    fn send(&mut self, alert: &Alert) -> Result<(), String> {
        self.0.lock().unwrap().push(alert.clone());
        Ok(())
    }
}

#[test]
fn a_run_raises_fills_summaries_and_drawdown_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let sent: Arc<Mutex<Vec<Alert>>> = Arc::default();
    let stop = StopSignal::new();
    let config = AlertConfig {
        drawdown_thresholds: vec![0.001],
        fills: true,
        daily_summary: true,
        dedup_seconds: 0.0,
        max_per_minute: 1_000_000,
        ..AlertConfig::default()
    };
    let monitor = common::monitor(&stop, &config, vec![Box::new(Recorder(Arc::clone(&sent)))]);
    let backtest = common::backtest(dir.path(), date(2023, 1, 3), date(2023, 3, 31));
    let result = backtest
        .run_with_clock(
            "backtest",
            SimulatedClock::new,
            &mut |_, _| {},
            vec![Box::new(monitor.observer())],
            &stop,
        )
        .unwrap();
    monitor.finish();
    let store = SqliteStore::open(&backtest.journal).unwrap();
    let fills = store.fills(&result.run_id).unwrap();
    let sessions = store.equity_curve(&result.run_id).unwrap().len();
    let sent = sent.lock().unwrap();
    let count = |kind| sent.iter().filter(|a| a.kind == kind).count();
    assert_eq!(count("fill"), fills.len());
    assert_eq!(count("daily_summary"), sessions);
    assert!(
        count("drawdown") >= 1,
        "a 0.1 % drawdown happens in a quarter"
    );
    let summary = sent.iter().find(|a| a.kind == "daily_summary").unwrap();
    assert!(
        summary.text.starts_with("2023-01-03: equity "),
        "{}",
        summary.text
    );
    assert!(result.summary.metrics.max_drawdown >= 0.001);
}
