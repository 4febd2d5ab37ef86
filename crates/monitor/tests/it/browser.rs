//! The page in a real browser: headless Chromium driven by `chromedriver` over `WebDriver`
//! (`fantoccini`). Without Chromium the test says so and passes, except in CI (`CI=true`), where
//! it fails: `scripts/setup.sh` installs Debian's `chromium` and `chromium-driver`.
//!
//! `VOLTA_DASHBOARD_SCREENSHOT=docs/dashboard.png` also saves a screenshot of the page.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::NaiveDateTime;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use volta_engine::{Clock, StopSignal};
use volta_monitor::{AlertConfig, DashboardConfig, ModelRow, serve};

use crate::common::{self, date};

/// A clock that spends `per_session` of wall time on each new session (a sim-paper run,
/// faster).
struct Paced {
    now: NaiveDateTime,
    per_session: Duration,
    stop: StopSignal,
}

impl Clock for Paced {
    fn now(&self) -> NaiveDateTime {
        self.now
    }

    fn advance_to(&mut self, at: NaiveDateTime) -> volta_engine::Result<()> {
        volta_engine::clock::ensure_forward(self.now, at)?;
        if at.date() != self.now.date() && !self.stop.is_raised() {
            std::thread::sleep(self.per_session);
        }
        self.now = at;
        Ok(())
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

/// The browser's console messages (chromedriver's log endpoint; fantoccini has no call for
/// it).
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.to_owned()))
    }
}

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn the_page_updates_a_running_session_without_a_reload() {
    let (Some(chromium), Some(chromedriver)) = (on_path("chromium"), on_path("chromedriver"))
    else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI needs chromium and chromedriver on PATH: scripts/setup.sh installs Debian's \
             chromium and chromium-driver"
        );
        eprintln!("skipped: chromium or chromedriver is not installed (scripts/setup.sh)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let stop = StopSignal::new();
    let monitor = common::monitor_of("sim-paper", &stop, &AlertConfig::default(), Vec::new());
    // With a token: the halt control is on (reads stay open on 127.0.0.1).
    let config = DashboardConfig {
        token: Some("browser-test-token-0123".to_owned()),
        ..DashboardConfig::local(0)
    };
    let server = serve(&config, monitor.clone()).unwrap();
    let base = format!("http://{}/", server.addr());
    monitor.set_model(model_row());

    // A sim-paper session under way: a session every 0.3 s.
    let run = {
        let stop = stop.clone();
        let observer = monitor.observer();
        let backtest = common::backtest(dir.path(), date(2023, 1, 3), date(2023, 6, 30));
        std::thread::spawn(move || {
            let clock_stop = stop.clone();
            backtest
                .run_with_clock(
                    "sim-paper",
                    move |start| Paced {
                        now: start,
                        per_session: Duration::from_millis(300),
                        stop: clock_stop,
                    },
                    &mut |_, _| {},
                    vec![Box::new(observer)],
                    &stop,
                )
                .map(|r| r.run_id)
                .unwrap()
        })
    };

    let port = free_port();
    let _driver = Driver(
        Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let profile = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".to_owned(),
            serde_json::json!({
                "binary": chromium,
                "args": ["--headless", "--no-sandbox", "--disable-gpu",
                         format!("--user-data-dir={}", profile.path().display()),
                         "--window-size=1400,1900"],
            }),
        );
        caps.insert(
            "goog:loggingPrefs".to_owned(),
            serde_json::json!({ "browser": "ALL" }),
        );
        let driver_url = format!("http://127.0.0.1:{port}");
        let mut client = None;
        // Up to 30 s: Chromium starts slowly on a loaded two-core machine.
        for _ in 0..150 {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&driver_url)
                .await
            {
                Ok(c) => {
                    client = Some(c);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
        let client = client.expect("chromedriver answers");
        check_page(&client, &base).await;
        let _ = client.close().await;
    });
    stop.raise();
    run.join().unwrap();
    server.shutdown();
}

/// A registry record's metrics as the trainer writes them (two regimes).
fn model_row() -> ModelRow {
    let metrics = |samples: f64, auc: f64, log_loss: f64, brier: f64| {
        std::collections::BTreeMap::from([
            ("samples".to_owned(), samples),
            ("auc".to_owned(), auc),
            ("log_loss".to_owned(), log_loss),
            ("brier".to_owned(), brier),
        ])
    };
    ModelRow {
        id: "gbm-spy-2022-12-30".to_owned(),
        kind: "gbm".to_owned(),
        train_from: date(2019, 1, 2),
        train_to: date(2022, 12, 30),
        promoted: true,
        min_score: 0.55,
        metrics: metrics(310.0, 0.5412, 0.6811, 0.2433),
        regimes: std::collections::BTreeMap::from([
            (
                "high_vol".to_owned(),
                metrics(120.0, 0.4131, 0.7001, 0.2512),
            ),
            ("neutral".to_owned(), metrics(190.0, 0.6181, 0.6702, 0.2381)),
        ]),
    }
}

async fn text(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn check_page(client: &Client, base: &str) {
    client.goto(base).await.unwrap();
    // The page marks itself: a reload would lose the mark.
    client
        .execute("window.__volta_mark = 42; return null;", vec![])
        .await
        .unwrap();
    let mut first = String::new();
    for _ in 0..150 {
        first = text(client, "#equity").await;
        if first != "—" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_ne!(first, "—", "equity shown");
    let first_asof = text(client, "#asof").await;
    // A few seconds (and sessions) later the numbers have changed.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let later_asof = text(client, "#asof").await;
    assert_ne!(first_asof, later_asof, "the page follows the run");
    let mark = client
        .execute("return window.__volta_mark;", vec![])
        .await
        .unwrap();
    assert_eq!(mark, serde_json::json!(42), "no reload");

    client
        .find(Locator::Css("table#positions"))
        .await
        .expect("the positions table");
    for chart in ["#equity-chart svg", "#drawdown-chart svg"] {
        client.find(Locator::Css(chart)).await.expect(chart);
    }
    let rows = client
        .find_all(Locator::Css("table#orders tbody tr"))
        .await
        .unwrap();
    assert!(!rows.is_empty());
    let connection = text(client, "#connection").await;
    assert_eq!(connection, "connection: simulated");
    // The model panel: the record's summary and one row per regime, its numbers to 3 places.
    let summary = text(client, "#model-summary").await;
    assert!(
        summary
            .starts_with("gbm-spy-2022-12-30 (gbm, promoted), trained on 2019-01-02 … 2022-12-30")
            && summary.contains("below 0.55")
            && summary.contains("AUC 0.541"),
        "{summary}"
    );
    let regimes = client
        .find_all(Locator::Css("table#model-regimes tbody tr"))
        .await
        .unwrap();
    assert_eq!(regimes.len(), 2);
    let high_vol = regimes[0].text().await.unwrap();
    assert!(high_vol.starts_with("high_vol"), "{high_vol}");
    assert!(
        high_vol.contains("120") && high_vol.contains("0.413"),
        "{high_vol}"
    );
    let halt = client.find(Locator::Css("#halt-button")).await.unwrap();
    assert_eq!(
        halt.prop("disabled").await.unwrap().as_deref(),
        Some("false")
    );

    if let Ok(path) = std::env::var("VOLTA_DASHBOARD_SCREENSHOT") {
        // Let a few more sessions in so the charts have a shape.
        tokio::time::sleep(Duration::from_secs(6)).await;
        let png = client.screenshot().await.unwrap();
        std::fs::write(&path, png).unwrap();
    }

    let log = client.issue_cmd(BrowserLog).await.unwrap();
    let errors: Vec<&serde_json::Value> = log
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .filter(|e| e["level"] == "SEVERE" || e["level"] == "WARNING")
                .collect()
        })
        .unwrap_or_default();
    assert!(errors.is_empty(), "console errors: {errors:?}");
}
