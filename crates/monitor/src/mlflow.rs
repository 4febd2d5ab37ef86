//! Experiment tracking in MLflow over its REST API: when `MLFLOW_TRACKING_URI` is set, a training
//! or validation run also goes to the tracking server — its parameters, metrics (per fold as
//! steps), tags, and artefacts (the report, the plots, the model files). Without the variable
//! nothing changes: [`MlflowClient::from_env`] gives `None`.
//!
//! Only the tracking server's REST API is spoken (`/api/2.0/mlflow/…`), with artefacts through
//! the server's proxied artefact store (`/api/2.0/mlflow-artifacts/…`, on by default since
//! MLflow 2.0), so a trainer needs no Python and no access to the artefact store itself.
//! Credentials come only from the environment (`MLFLOW_TRACKING_TOKEN` as a bearer token, or
//! `MLFLOW_TRACKING_USERNAME` / `MLFLOW_TRACKING_PASSWORD`) and are never put in an error.
//!
//! Times are the caller's (milliseconds since 1970): the library reads no clock.

use std::time::Duration;

use serde_json::{Value, json};

use crate::error::MonitorError;

/// Parameters and metrics go in batches of at most these sizes (MLflow's `log-batch` limits).
const MAX_PARAMS_PER_BATCH: usize = 100;
const MAX_METRICS_PER_BATCH: usize = 1000;

/// A client of one MLflow tracking server.
pub struct MlflowClient {
    base: String,
    auth: Option<String>,
    agent: ureq::Agent,
}

impl std::fmt::Debug for MlflowClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MlflowClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// One MLflow run, created by [`MlflowClient::start_run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MlflowRun {
    /// The experiment's id.
    pub experiment_id: String,
    /// The run's id.
    pub run_id: String,
    /// Where its artefacts go (`mlflow-artifacts:/…` when the server proxies them).
    pub artifact_uri: String,
}

/// A metric value at a step (a fold, an epoch) and a time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricPoint<'a> {
    /// The metric's name.
    pub key: &'a str,
    /// Its value (finite: MLflow refuses NaN over JSON).
    pub value: f64,
    /// The step.
    pub step: i64,
    /// When, in milliseconds since 1970-01-01 UTC.
    pub timestamp_ms: i64,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// It finished.
    Finished,
    /// It failed.
    Failed,
}

impl MlflowClient {
    /// The client `MLFLOW_TRACKING_URI` names, with the credentials the environment holds;
    /// `None` when the variable is unset or empty (tracking off).
    ///
    /// # Errors
    /// [`MonitorError::Mlflow`] if the URI is not an `http(s)://` address.
    pub fn from_env() -> Result<Option<Self>, MonitorError> {
        let var = |name| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let Some(uri) = var("MLFLOW_TRACKING_URI") else {
            return Ok(None);
        };
        let auth = if let Some(token) = var("MLFLOW_TRACKING_TOKEN") {
            Some(format!("Bearer {token}"))
        } else if let (Some(user), Some(password)) = (
            var("MLFLOW_TRACKING_USERNAME"),
            var("MLFLOW_TRACKING_PASSWORD"),
        ) {
            Some(format!("Basic {}", base64(&format!("{user}:{password}"))))
        } else {
            None
        };
        Self::new(&uri, auth).map(Some)
    }

    /// A client of the server at `uri` (`http://127.0.0.1:5000`), sending `authorization` (a
    /// whole `Authorization` header value) with every request when given.
    ///
    /// # Errors
    /// [`MonitorError::Mlflow`] if `uri` is not an `http(s)://` address.
    pub fn new(uri: &str, authorization: Option<String>) -> Result<Self, MonitorError> {
        let base = uri.trim().trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(MonitorError::Mlflow {
                operation: "connect",
                message: format!(
                    "MLFLOW_TRACKING_URI must be an http(s):// address of a tracking server, \
                     not `{}`",
                    redact(&base)
                ),
            });
        }
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .http_status_as_error(false)
            .build()
            .new_agent();
        Ok(Self {
            base,
            auth: authorization,
            agent,
        })
    }

    /// The server's address, without any credentials it carried.
    #[must_use]
    pub fn address(&self) -> String {
        redact(&self.base)
    }

    /// Sends one request; the reply's JSON, or an error naming `operation` and MLflow's own
    /// message (never the credentials).
    fn call(
        &self,
        operation: &'static str,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, MonitorError> {
        let url = format!("{}{path}", self.base);
        let failed = |message: String| MonitorError::Mlflow { operation, message };
        let reply = match (method, body) {
            ("GET", _) => {
                let mut req = self.agent.get(&url);
                if let Some(a) = &self.auth {
                    req = req.header("Authorization", a);
                }
                req.call()
            }
            (_, Some(body)) => {
                let mut req = self.agent.post(&url);
                if let Some(a) = &self.auth {
                    req = req.header("Authorization", a);
                }
                req.header("Content-Type", "application/json")
                    .send(body.to_string())
            }
            _ => return Err(failed(format!("{method} without a body"))),
        };
        let mut reply = reply.map_err(|e| {
            failed(format!(
                "request to {} failed ({})",
                self.address(),
                crate::alerts::error_kind(&e)
            ))
        })?;
        let status = reply.status();
        let text = reply.body_mut().read_to_string().unwrap_or_default();
        if !status.is_success() {
            let detail = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_else(|| text.chars().take(200).collect());
            return Err(failed(format!("HTTP {}: {detail}", status.as_u16())));
        }
        if text.trim().is_empty() {
            return Ok(json!({}));
        }
        serde_json::from_str(&text).map_err(|e| failed(format!("reply is not JSON: {e}")))
    }

    /// The id of experiment `name`, created if it does not exist.
    ///
    /// # Errors
    /// [`MonitorError::Mlflow`] if the server refuses or cannot be reached.
    pub fn experiment(&self, name: &str) -> Result<String, MonitorError> {
        let path = format!(
            "/api/2.0/mlflow/experiments/get-by-name?experiment_name={}",
            percent_encode(name)
        );
        match self.call("find experiment", "GET", &path, None) {
            Ok(v) => id_at(&v, &["experiment", "experiment_id"], "find experiment"),
            Err(MonitorError::Mlflow { message, .. }) if message.starts_with("HTTP 404") => {
                let v = self.call(
                    "create experiment",
                    "POST",
                    "/api/2.0/mlflow/experiments/create",
                    Some(&json!({ "name": name })),
                )?;
                id_at(&v, &["experiment_id"], "create experiment")
            }
            Err(e) => Err(e),
        }
    }

    /// Starts a run named `run_name` in experiment `experiment` (created if needed), with
    /// `tags`, at `start_ms`.
    ///
    /// # Errors
    /// [`MonitorError::Mlflow`] if the server refuses or cannot be reached.
    pub fn start_run(
        &self,
        experiment: &str,
        run_name: &str,
        tags: &[(&str, &str)],
        start_ms: i64,
    ) -> Result<MlflowRun, MonitorError> {
        let experiment_id = self.experiment(experiment)?;
        let tags: Vec<Value> = tags
            .iter()
            .map(|(k, v)| json!({ "key": k, "value": v }))
            .collect();
        let v = self.call(
            "create run",
            "POST",
            "/api/2.0/mlflow/runs/create",
            Some(&json!({
                "experiment_id": experiment_id,
                "run_name": run_name,
                "start_time": start_ms,
                "tags": tags,
            })),
        )?;
        Ok(MlflowRun {
            run_id: id_at(&v, &["run", "info", "run_id"], "create run")?,
            artifact_uri: id_at(&v, &["run", "info", "artifact_uri"], "create run")?,
            experiment_id,
        })
    }

    /// Logs parameters (name → value as text), in batches.
    ///
    /// # Errors
    /// [`MonitorError::Mlflow`] if the server refuses (a parameter logged twice with another
    /// value is refused by MLflow).
    pub fn log_params(
        &self,
        run: &MlflowRun,
        params: &[(&str, String)],
    ) -> Result<(), MonitorError> {
        for chunk in params.chunks(MAX_PARAMS_PER_BATCH) {
            let params: Vec<Value> = chunk
                .iter()
                .map(|(k, v)| json!({ "key": k, "value": v }))
                .collect();
            self.call(
                "log parameters",
                "POST",
                "/api/2.0/mlflow/runs/log-batch",
                Some(&json!({ "run_id": run.run_id, "params": params })),
            )?;
        }
        Ok(())
    }

    /// Logs metric points, in batches. A point that is not finite is refused before anything
    /// is sent.
    ///
    /// # Errors
    /// [`MonitorError::Mlflow`] for a non-finite value or a refusal.
    pub fn log_metrics(
        &self,
        run: &MlflowRun,
        points: &[MetricPoint<'_>],
    ) -> Result<(), MonitorError> {
        if let Some(p) = points.iter().find(|p| !p.value.is_finite()) {
            return Err(MonitorError::Mlflow {
                operation: "log metrics",
                message: format!("metric `{}` at step {} is {}", p.key, p.step, p.value),
            });
        }
        for chunk in points.chunks(MAX_METRICS_PER_BATCH) {
            let metrics: Vec<Value> = chunk
                .iter()
                .map(|p| {
                    json!({
                        "key": p.key, "value": p.value, "step": p.step,
                        "timestamp": p.timestamp_ms,
                    })
                })
                .collect();
            self.call(
                "log metrics",
                "POST",
                "/api/2.0/mlflow/runs/log-batch",
                Some(&json!({ "run_id": run.run_id, "metrics": metrics })),
            )?;
        }
        Ok(())
    }

    /// Uploads `bytes` as artefact `name` (a relative path: `report.html`, `plots/a.svg`) of
    /// `run`, through the server's proxied artefact store.
    ///
    /// # Errors
    /// [`MonitorError::Mlflow`] if the run's artefacts are not served by the tracking server
    /// (an `artifact_uri` other than `mlflow-artifacts:`), if `name` is not a plain relative
    /// path, or if the upload is refused.
    pub fn log_artifact(
        &self,
        run: &MlflowRun,
        name: &str,
        bytes: &[u8],
    ) -> Result<(), MonitorError> {
        let failed = |message: String| MonitorError::Mlflow {
            operation: "upload artefact",
            message,
        };
        let Some(root) = run.artifact_uri.strip_prefix("mlflow-artifacts:") else {
            return Err(failed(format!(
                "the run's artefacts go to `{}`, which the tracking server does not serve \
                 (start it with --serve-artifacts)",
                run.artifact_uri
            )));
        };
        let plain = !name.is_empty()
            && name
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != "..");
        if !plain {
            return Err(failed(format!("`{name}` is not a plain relative path")));
        }
        let root = root.trim_start_matches('/');
        let path: Vec<String> = root
            .split('/')
            .chain(name.split('/'))
            .map(percent_encode)
            .collect();
        let url = format!(
            "{}/api/2.0/mlflow-artifacts/artifacts/{}",
            self.base,
            path.join("/")
        );
        let mut req = self.agent.put(&url);
        if let Some(a) = &self.auth {
            req = req.header("Authorization", a);
        }
        let reply = req
            .header("Content-Type", "application/octet-stream")
            .send(bytes)
            .map_err(|e| {
                failed(format!(
                    "request to {} failed ({})",
                    self.address(),
                    crate::alerts::error_kind(&e)
                ))
            })?;
        if reply.status().is_success() {
            Ok(())
        } else {
            Err(failed(format!("HTTP {}", reply.status().as_u16())))
        }
    }

    /// Ends `run` with `status` at `end_ms`.
    ///
    /// # Errors
    /// [`MonitorError::Mlflow`] if the server refuses or cannot be reached.
    pub fn end_run(
        &self,
        run: &MlflowRun,
        status: RunStatus,
        end_ms: i64,
    ) -> Result<(), MonitorError> {
        let status = match status {
            RunStatus::Finished => "FINISHED",
            RunStatus::Failed => "FAILED",
        };
        self.call(
            "end run",
            "POST",
            "/api/2.0/mlflow/runs/update",
            Some(&json!({ "run_id": run.run_id, "status": status, "end_time": end_ms })),
        )?;
        Ok(())
    }
}

/// The string at `path` in `v`, or an error naming the reply's shape.
fn id_at(v: &Value, path: &[&str], operation: &'static str) -> Result<String, MonitorError> {
    let mut at = v;
    for key in path {
        at = at.get(key).unwrap_or(&Value::Null);
    }
    at.as_str()
        .map(str::to_owned)
        .ok_or_else(|| MonitorError::Mlflow {
            operation,
            message: format!("the reply has no {}", path.join(".")),
        })
}

/// `uri` with any `user:password@` removed.
fn redact(uri: &str) -> String {
    match (uri.find("://"), uri.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}***@{}", &uri[..scheme + 3], &uri[at + 1..])
        }
        _ => uri.to_owned(),
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    out
}

/// Standard base64 with padding (for HTTP Basic credentials).
fn base64(s: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_encode_as_the_rfcs_say() {
        assert_eq!(
            base64("Aladdin:open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(base64("ab"), "YWI=");
        assert_eq!(base64("abc"), "YWJj");
        assert_eq!(
            percent_encode("volta walk/forward"),
            "volta%20walk%2Fforward"
        );
        assert_eq!(redact("http://me:secret@host:5000"), "http://***@host:5000");
        assert_eq!(redact("http://host:5000"), "http://host:5000");
    }

    #[test]
    fn a_uri_that_is_not_http_is_refused_without_its_credentials() {
        let err = MlflowClient::new("file:///tmp/mlruns", None).unwrap_err();
        assert!(err.to_string().contains("http(s)://"), "{err}");
        let err = MlflowClient::new("ftp://u:hunter2@h", None).unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn non_finite_metrics_are_refused_before_sending() {
        // Port 9 (discard) on localhost: nothing is sent, so nothing needs to listen.
        let client = MlflowClient::new("http://127.0.0.1:9", None).unwrap();
        let run = MlflowRun {
            experiment_id: "1".into(),
            run_id: "r".into(),
            artifact_uri: "mlflow-artifacts:/1/r/artifacts".into(),
        };
        let point = MetricPoint {
            key: "auc",
            value: f64::NAN,
            step: 0,
            timestamp_ms: 0,
        };
        let err = client.log_metrics(&run, &[point]).unwrap_err();
        assert!(
            err.to_string().contains("metric `auc` at step 0 is NaN"),
            "{err}"
        );
        let err = client.log_artifact(&run, "../x", b"").unwrap_err();
        assert!(
            err.to_string().contains("not a plain relative path"),
            "{err}"
        );
    }
}
