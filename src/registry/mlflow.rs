//! A client for the parts of MLflow's REST API that promotion needs: the Model Registry (model
//! versions, aliases, version tags), runs (metrics, tags, `log-batch`) and run artifacts
//! (`artifacts/list`, and downloads through the tracking server).
//!
//! API habits handled here: a model version's `version` is a string; a missing alias answers
//! 400 `INVALID_PARAMETER_VALUE` (a missing version 404 `RESOURCE_DOES_NOT_EXIST`); errors come
//! as `{"error_code": …, "message": …}`. Authentication as the MLflow clients do it: a bearer
//! token from `MLFLOW_TRACKING_TOKEN`, else basic auth from `MLFLOW_TRACKING_USERNAME` and
//! `MLFLOW_TRACKING_PASSWORD`.

use serde::Deserialize;

use crate::http::{self, Retry};

/// How to authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// No credentials.
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// HTTP basic authentication.
    Basic {
        /// User name.
        user: String,
        /// Password.
        password: String,
    },
}

impl Auth {
    /// Credentials from the environment, as MLflow's own clients read them.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Auth {
        if let Some(token) = env("MLFLOW_TRACKING_TOKEN") {
            return Auth::Bearer(token);
        }
        match (
            env("MLFLOW_TRACKING_USERNAME"),
            env("MLFLOW_TRACKING_PASSWORD"),
        ) {
            (Some(user), Some(password)) => Auth::Basic { user, password },
            _ => Auth::None,
        }
    }

    fn secret(&self) -> &str {
        match self {
            Auth::None => "",
            Auth::Bearer(t) => t,
            Auth::Basic { password, .. } => password,
        }
    }

    fn how(&self) -> &'static str {
        match self {
            Auth::None => {
                "without credentials (set MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD)"
            }
            Auth::Bearer(_) => "with the token in MLFLOW_TRACKING_TOKEN",
            Auth::Basic { .. } => "with MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD",
        }
    }
}

/// Why a registry call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum RegistryError {
    /// The model, version, run or artifact does not exist (the user named it: bad input).
    NotFound(String),
    /// The registry refused the request as malformed (bad input).
    Invalid(String),
    /// Credentials missing or refused (401/403).
    Auth(String),
    /// Unreachable, timed out, 5xx after retries, or an answer that is not MLflow's.
    Service(String),
}

impl std::fmt::Display for RegistryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RegistryError::NotFound(m)
            | RegistryError::Invalid(m)
            | RegistryError::Auth(m)
            | RegistryError::Service(m) => f.write_str(m),
        }
    }
}

impl From<RegistryError> for crate::error::Error {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::NotFound(m) | RegistryError::Invalid(m) => crate::error::Error::Usage(m),
            RegistryError::Auth(m) | RegistryError::Service(m) => crate::error::Error::Service(m),
        }
    }
}

/// A key/value tag.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct Tag {
    /// Key.
    pub key: String,
    /// Value.
    #[serde(default)]
    pub value: String,
}

/// A model version as the registry returns it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ModelVersion {
    /// Registered model name.
    pub name: String,
    /// Version number, as a string.
    pub version: String,
    /// The run that produced it, when registered from a run.
    #[serde(default)]
    pub run_id: Option<String>,
    /// `READY`, `PENDING_REGISTRATION` or `FAILED_REGISTRATION`.
    #[serde(default)]
    pub status: Option<String>,
    /// Where its files are.
    #[serde(default)]
    pub source: Option<String>,
    /// Its tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// The aliases that point at it.
    #[serde(default)]
    pub aliases: Vec<String>,
}

impl ModelVersion {
    /// A tag's value.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|t| t.key == key)
            .map(|t| t.value.as_str())
    }
}

/// A metric's latest value on a run.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Metric {
    /// Key.
    pub key: String,
    /// Value (MLflow also stores NaN and ±inf; those are skipped by callers).
    pub value: serde_json::Value,
}

/// Run info.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RunInfo {
    /// Run id.
    pub run_id: String,
    /// Where its artifacts are.
    #[serde(default)]
    pub artifact_uri: Option<String>,
    /// Experiment.
    #[serde(default)]
    pub experiment_id: Option<String>,
}

/// Run data.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct RunData {
    /// Latest metric values.
    #[serde(default)]
    pub metrics: Vec<Metric>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// A run.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Run {
    /// Info.
    pub info: RunInfo,
    /// Data.
    #[serde(default)]
    pub data: RunData,
}

impl Run {
    /// Finite metric values by key.
    pub fn metrics(&self) -> crate::metrics::Metrics {
        self.data
            .metrics
            .iter()
            .filter_map(|m| Some((m.key.clone(), m.value.as_f64()?)))
            .filter(|(_, v)| v.is_finite())
            .collect()
    }

    /// A tag's value.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.data
            .tags
            .iter()
            .find(|t| t.key == key)
            .map(|t| t.value.as_str())
    }
}

/// One entry of an artifact listing.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FileInfo {
    /// Path relative to the run's artifact root.
    pub path: String,
    /// Whether it is a directory.
    #[serde(default)]
    pub is_dir: bool,
    /// Size in bytes.
    #[serde(default)]
    pub file_size: Option<u64>,
}

#[derive(Deserialize)]
struct ApiError {
    #[serde(default)]
    error_code: String,
    #[serde(default)]
    message: String,
}

/// A client for one tracking server.
pub struct Mlflow {
    http: reqwest::Client,
    base: String,
    auth: Auth,
    retry: Retry,
}

impl Mlflow {
    /// A client for the server at `uri` (`http://` or `https://`).
    pub fn new(uri: &str, auth: Auth, retry: Retry) -> Result<Mlflow, RegistryError> {
        let base = uri.trim().trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(RegistryError::Invalid(format!(
                "tracking URI `{uri}` is not an http(s) URL: promotion talks to an MLflow tracking server (e.g. http://127.0.0.1:5000), not to a local `mlruns` store or a `databricks` profile"
            )));
        }
        let http = http::client(retry.timeout)
            .map_err(|e| RegistryError::Service(format!("cannot build the HTTP client: {e}")))?;
        Ok(Mlflow {
            http,
            base,
            auth,
            retry,
        })
    }

    /// The server's address as given.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> Result<http::Reply, RegistryError> {
        let url = self.url(path);
        let reply = http::send(&self.retry, self.auth.secret(), || {
            let mut request = self.http.request(method.clone(), &url).query(query);
            request = match &self.auth {
                Auth::None => request,
                Auth::Bearer(t) => request.bearer_auth(t),
                Auth::Basic { user, password } => request.basic_auth(user, Some(password)),
            };
            match body {
                Some(b) => request.json(b),
                None => request,
            }
        })
        .await
        .map_err(|e| {
            RegistryError::Service(format!(
                "MLflow at {} failed on {method} {path}: {e}",
                self.base
            ))
        })?;
        match reply.status {
            200..=299 => Ok(reply),
            401 | 403 => Err(RegistryError::Auth(format!(
                "MLflow at {} refused {method} {path} ({}) {}: {}",
                self.base,
                reply.status,
                self.auth.how(),
                http::redact(&error_message(&reply), self.auth.secret())
            ))),
            _ => {
                let message = http::redact(&error_message(&reply), self.auth.secret());
                let code = error_code(&reply);
                let text = format!(
                    "MLflow at {} answered {} to {method} {path}: {message}",
                    self.base, reply.status
                );
                Err(match (reply.status, code.as_str()) {
                    (404, _) | (_, "RESOURCE_DOES_NOT_EXIST") => RegistryError::NotFound(text),
                    (400, _) => RegistryError::Invalid(text),
                    _ => RegistryError::Service(text),
                })
            }
        }
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, RegistryError> {
        let reply = self.call(reqwest::Method::GET, path, query, None).await?;
        self.decode(&reply, path)
    }

    fn decode<T: serde::de::DeserializeOwned>(
        &self,
        reply: &http::Reply,
        path: &str,
    ) -> Result<T, RegistryError> {
        serde_json::from_slice(&reply.body).map_err(|e| {
            RegistryError::Service(format!(
                "MLflow at {} gave an answer to {path} that is not MLflow's ({e}): {}",
                self.base,
                reply.snippet(120)
            ))
        })
    }

    /// A model version; `None` when the registry has no such model or version.
    pub async fn model_version(
        &self,
        name: &str,
        version: &str,
    ) -> Result<Option<ModelVersion>, RegistryError> {
        #[derive(Deserialize)]
        struct Answer {
            model_version: ModelVersion,
        }
        match self
            .get_json::<Answer>(
                "/api/2.0/mlflow/model-versions/get",
                &[("name", name), ("version", version)],
            )
            .await
        {
            Ok(a) => Ok(Some(a.model_version)),
            Err(RegistryError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The version an alias points at; `None` when the alias is not set (MLflow answers 400
    /// `INVALID_PARAMETER_VALUE` for that, or 404 when the model itself is missing).
    pub async fn alias(
        &self,
        name: &str,
        alias: &str,
    ) -> Result<Option<ModelVersion>, RegistryError> {
        #[derive(Deserialize)]
        struct Answer {
            model_version: ModelVersion,
        }
        match self
            .get_json::<Answer>(
                "/api/2.0/mlflow/registered-models/alias",
                &[("name", name), ("alias", alias)],
            )
            .await
        {
            Ok(a) => Ok(Some(a.model_version)),
            Err(RegistryError::NotFound(_) | RegistryError::Invalid(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A run.
    pub async fn run(&self, run_id: &str) -> Result<Run, RegistryError> {
        #[derive(Deserialize)]
        struct Answer {
            run: Run,
        }
        let a: Answer = self
            .get_json("/api/2.0/mlflow/runs/get", &[("run_id", run_id)])
            .await?;
        Ok(a.run)
    }

    /// The artifacts directly under `path` of a run (`""`: the root).
    pub async fn list_artifacts(
        &self,
        run_id: &str,
        path: &str,
    ) -> Result<Vec<FileInfo>, RegistryError> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default)]
            files: Vec<FileInfo>,
        }
        let mut query = vec![("run_id", run_id)];
        if !path.is_empty() {
            query.push(("path", path));
        }
        let a: Answer = self
            .get_json("/api/2.0/mlflow/artifacts/list", &query)
            .await?;
        Ok(a.files)
    }

    /// Download one artifact of a run through the tracking server: from the proxied artifact
    /// store (`/api/2.0/mlflow-artifacts/artifacts/…`) when the run's artifacts live there,
    /// else through the server's own artifact repository (`/get-artifact`, what MLflow's UI uses).
    pub async fn download(&self, run: &Run, path: &str) -> Result<Vec<u8>, RegistryError> {
        let proxied = run
            .info
            .artifact_uri
            .as_deref()
            .and_then(|u| u.strip_prefix("mlflow-artifacts:"))
            .map(|rest| {
                rest.trim_start_matches('/')
                    .trim_end_matches('/')
                    .to_owned()
            });
        let reply = match proxied {
            Some(root) => {
                let full = format!("/api/2.0/mlflow-artifacts/artifacts/{root}/{path}");
                self.call(reqwest::Method::GET, &full, &[], None).await?
            }
            None => {
                self.call(
                    reqwest::Method::GET,
                    "/get-artifact",
                    &[("run_id", run.info.run_id.as_str()), ("path", path)],
                    None,
                )
                .await?
            }
        };
        Ok(reply.body)
    }

    async fn post(&self, path: &str, body: serde_json::Value) -> Result<(), RegistryError> {
        self.call(reqwest::Method::POST, path, &[], Some(&body))
            .await
            .map(|_| ())
    }

    /// Set a tag on a model version.
    pub async fn set_version_tag(
        &self,
        name: &str,
        version: &str,
        key: &str,
        value: &str,
    ) -> Result<(), RegistryError> {
        self.post(
            "/api/2.0/mlflow/model-versions/set-tag",
            serde_json::json!({"name": name, "version": version, "key": key, "value": value}),
        )
        .await
    }

    /// Point an alias at a version.
    pub async fn set_alias(
        &self,
        name: &str,
        alias: &str,
        version: &str,
    ) -> Result<(), RegistryError> {
        self.post(
            "/api/2.0/mlflow/registered-models/alias",
            serde_json::json!({"name": name, "alias": alias, "version": version}),
        )
        .await
    }

    /// Log metrics and tags on a run in one call (`runs/log-batch`).
    pub async fn log_batch(
        &self,
        run_id: &str,
        metrics: &[(String, f64)],
        tags: &[Tag],
        timestamp_ms: i64,
    ) -> Result<(), RegistryError> {
        let metrics: Vec<serde_json::Value> = metrics
            .iter()
            .map(|(k, v)| serde_json::json!({"key": k, "value": v, "timestamp": timestamp_ms, "step": 0}))
            .collect();
        self.post(
            "/api/2.0/mlflow/runs/log-batch",
            serde_json::json!({"run_id": run_id, "metrics": metrics, "tags": tags}),
        )
        .await
    }
}

fn error_message(reply: &http::Reply) -> String {
    match serde_json::from_slice::<ApiError>(&reply.body) {
        Ok(e) if !e.message.is_empty() => {
            if e.error_code.is_empty() {
                e.message
            } else {
                format!("{} ({})", e.message, e.error_code)
            }
        }
        _ => {
            let s = reply.snippet(200);
            if s.trim().is_empty() {
                "(empty body)".to_owned()
            } else {
                s
            }
        }
    }
}

fn error_code(reply: &http::Reply) -> String {
    serde_json::from_slice::<ApiError>(&reply.body)
        .map(|e| e.error_code)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_come_from_the_environment_token_first() {
        let env = |k: &str| match k {
            "MLFLOW_TRACKING_TOKEN" => Some("tok".to_owned()),
            "MLFLOW_TRACKING_USERNAME" => Some("u".to_owned()),
            "MLFLOW_TRACKING_PASSWORD" => Some("p".to_owned()),
            _ => None,
        };
        assert_eq!(Auth::from_env(&env), Auth::Bearer("tok".into()));
        let env = |k: &str| match k {
            "MLFLOW_TRACKING_USERNAME" => Some("u".to_owned()),
            "MLFLOW_TRACKING_PASSWORD" => Some("p".to_owned()),
            _ => None,
        };
        assert_eq!(
            Auth::from_env(&env),
            Auth::Basic {
                user: "u".into(),
                password: "p".into()
            }
        );
        assert_eq!(Auth::from_env(&|_| None), Auth::None);
    }

    #[test]
    fn only_http_servers_are_accepted() {
        assert!(matches!(
            Mlflow::new("file:///tmp/mlruns", Auth::None, Retry::default()),
            Err(RegistryError::Invalid(_))
        ));
        assert!(Mlflow::new("http://127.0.0.1:5000/", Auth::None, Retry::default()).is_ok());
    }
}
