//! The integration tests of volta-monitor, in one test binary: a real server on 127.0.0.1,
//! real engine runs, a local webhook receiver and SMTP server, the deploy files, and the page
//! in headless Chromium.

mod alerts;
mod browser;
mod common;
mod dashboard;
mod deploy;
mod halt;
mod mlflow;
