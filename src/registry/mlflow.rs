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

/// The value of the tag `key` among `tags` (MLflow keeps one value per key).
fn tag_value<'a>(tags: &'a [Tag], key: &str) -> Option<&'a str> {
    tags.iter().find(|t| t.key == key).map(|t| t.value.as_str())
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
        tag_value(&self.tags, key)
    }
}

/// A metric's latest value on a run.
#[derive(Debug, Clone, PartialEq, Deserialize, schemars::JsonSchema)]
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
        tag_value(&self.data.tags, key)
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

    fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.auth {
            Auth::None => request,
            Auth::Bearer(t) => request.bearer_auth(t),
            Auth::Basic { user, password } => request.basic_auth(user, Some(password)),
        }
    }

    /// Send a request (with its retries) and return the answer whatever its status: only a
    /// call that got no usable answer is an error here; [`Mlflow::judge`] says what the answer
    /// means.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> Result<http::Reply, RegistryError> {
        let url = self.url(path);
        http::send(&self.retry, self.auth.secret(), || {
            let request = self.authorized(self.http.request(method.clone(), &url).query(query));
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
        })
    }

    /// What an answer means: success, or the kind of failure.
    fn judge(
        &self,
        method: reqwest::Method,
        path: &str,
        reply: http::Reply,
    ) -> Result<http::Reply, RegistryError> {
        match reply.status {
            // Some proxies (and misconfigured gateways) answer 200 with MLflow's error body: the
            // call failed whatever the status says.
            200..=299 if error_code(&reply).is_empty() => Ok(reply),
            200..=299 => Err(RegistryError::Service(format!(
                "MLflow at {} answered {} to {method} {path} with an error body: {}",
                self.base,
                reply.status,
                error_message(&reply, self.auth.secret())
            ))),
            401 | 403 => Err(RegistryError::Auth(format!(
                "MLflow at {} refused {method} {path} ({}) {}: {}",
                self.base,
                reply.status,
                self.auth.how(),
                error_message(&reply, self.auth.secret())
            ))),
            _ => {
                let message = error_message(&reply, self.auth.secret());
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
        let reply = self.send(reqwest::Method::GET, path, query, None).await?;
        let reply = self.judge(reqwest::Method::GET, path, reply)?;
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
                server_text(&reply.snippet(120), self.auth.secret())
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

    /// The version an alias points at; `None` when the alias is not set.
    ///
    /// Only the answer MLflow gives for a missing alias means "unset": 400
    /// `INVALID_PARAMETER_VALUE` saying `Registered model alias <alias> not found`, confirmed by
    /// the registered model's own list of aliases. Any other answer (a 404 page from a proxy, a
    /// 400 of another kind, a model that lists the alias after all) is a service failure: a gate
    /// must not skip the regression check because a lookup failed.
    pub async fn alias(
        &self,
        name: &str,
        alias: &str,
    ) -> Result<Option<ModelVersion>, RegistryError> {
        #[derive(Deserialize)]
        struct Answer {
            model_version: ModelVersion,
        }
        let path = "/api/2.0/mlflow/registered-models/alias";
        let failed = |why: String| {
            RegistryError::Service(format!(
                "MLflow at {} could not tell where alias {alias} of `{name}` points: {why}; nothing was moved",
                self.base
            ))
        };
        let reply = self
            .send(
                reqwest::Method::GET,
                path,
                &[("name", name), ("alias", alias)],
                None,
            )
            .await
            .map_err(|e| failed(e.to_string()))?;
        if reply.status == 400 && missing_alias(&reply.body, alias) {
            // Re-check: the registered model lists its aliases.
            return match self.aliases(name).await? {
                Some(list) if !list.iter().any(|(a, _)| a == alias) => Ok(None),
                Some(list) => Err(failed(format!(
                    "the alias lookup said it is not set, but the model lists it ({})",
                    list.iter()
                        .map(|(a, v)| format!("{a} -> {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))),
                None => Err(failed(format!(
                    "the alias lookup said it is not set, but the model `{name}` itself was not found"
                ))),
            };
        }
        match self
            .judge(reqwest::Method::GET, path, reply)
            .and_then(|r| self.decode::<Answer>(&r, path))
        {
            Ok(a) if a.model_version.name == name => Ok(Some(a.model_version)),
            Ok(a) => Err(failed(format!(
                "the answer names model `{}`",
                a.model_version.name
            ))),
            Err(RegistryError::Auth(m)) => Err(RegistryError::Auth(m)),
            Err(e) => Err(failed(e.to_string())),
        }
    }

    /// The aliases a registered model lists (`registered-models/get`), as (alias, version);
    /// `None` when the model does not exist.
    pub async fn aliases(
        &self,
        name: &str,
    ) -> Result<Option<Vec<(String, String)>>, RegistryError> {
        #[derive(Deserialize)]
        struct Alias {
            alias: String,
            version: String,
        }
        #[derive(Deserialize)]
        struct Model {
            name: String,
            #[serde(default)]
            aliases: Vec<Alias>,
        }
        #[derive(Deserialize)]
        struct Answer {
            registered_model: Model,
        }
        let path = "/api/2.0/mlflow/registered-models/get";
        match self.get_json::<Answer>(path, &[("name", name)]).await {
            Ok(a) if a.registered_model.name == name => Ok(Some(
                a.registered_model
                    .aliases
                    .into_iter()
                    .map(|a| (a.alias, a.version))
                    .collect(),
            )),
            Ok(a) => Err(RegistryError::Service(format!(
                "MLflow at {} answered {path} for `{name}` with model `{}`",
                self.base, a.registered_model.name
            ))),
            Err(RegistryError::NotFound(_)) => Ok(None),
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

    /// Download one artifact of a run through the tracking server into `target`, streamed to
    /// disk and refused beyond `cap` bytes: from the proxied artifact store
    /// (`/api/2.0/mlflow-artifacts/artifacts/…`) when the run's artifacts live there, else
    /// through the server's own artifact repository (`/get-artifact`, what MLflow's UI uses).
    /// `expected` is the size the listing gave; a body of another length, or MLflow's error
    /// body under a 2xx status, is a service failure. Returns the bytes written.
    pub async fn download_to(
        &self,
        run: &Run,
        path: &str,
        target: &std::path::Path,
        cap: u64,
        expected: Option<u64>,
    ) -> Result<u64, DownloadError> {
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
        let (url, query): (String, Vec<(&str, &str)>) = match &proxied {
            Some(root) => (
                self.url(&format!(
                    "/api/2.0/mlflow-artifacts/artifacts/{root}/{path}"
                )),
                Vec::new(),
            ),
            None => (
                self.url("/get-artifact"),
                vec![("run_id", run.info.run_id.as_str()), ("path", path)],
            ),
        };
        let service = |why: String| {
            DownloadError::Registry(RegistryError::Service(format!(
                "MLflow at {} failed to send artifact `{path}` of run {}: {why}",
                self.base, run.info.run_id
            )))
        };
        let written = http::download(
            &self.retry,
            self.auth.secret(),
            || self.authorized(self.http.get(&url).query(&query)),
            target,
            cap,
        )
        .await
        .map_err(|e| match e {
            http::DownloadFailure::TooLarge => DownloadError::TooLarge,
            http::DownloadFailure::Status(reply) => {
                match self.judge(reqwest::Method::GET, path, reply) {
                    Err(RegistryError::NotFound(m)) => {
                        DownloadError::Registry(RegistryError::Service(format!(
                            "{m} (the run lists the artifact, the server does not send it)"
                        )))
                    }
                    Err(e) => DownloadError::Registry(e),
                    Ok(_) => service("an answer that is not a file".to_owned()),
                }
            }
            http::DownloadFailure::Exhausted(e) => service(e.to_string()),
            http::DownloadFailure::Write(e) => DownloadError::Write(e),
        })?;
        if let Some(size) = expected.filter(|s| *s != written) {
            return Err(service(format!(
                "{written} bytes for an artifact the listing gives as {size} bytes"
            )));
        }
        if written == 0 {
            return Err(service("an empty body".to_owned()));
        }
        // MLflow's error body under a 2xx status is not the artifact.
        if written < 4096
            && let Ok(bytes) = std::fs::read(target)
            && !error_code_of(&bytes).is_empty()
        {
            return Err(service(format!(
                "an error body under a success status: {}",
                server_text(&String::from_utf8_lossy(&bytes), self.auth.secret())
            )));
        }
        Ok(written)
    }

    async fn post(&self, path: &str, body: serde_json::Value) -> Result<(), RegistryError> {
        let reply = self
            .send(reqwest::Method::POST, path, &[], Some(&body))
            .await?;
        self.judge(reqwest::Method::POST, path, reply).map(|_| ())
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

/// Text from the server, for a message: the secret redacted (escaping outside text onto one
/// line is the output layer's job, `error::escape_text`, for every message alike).
fn server_text(text: &str, secret: &str) -> String {
    http::redact(text, secret)
}

/// The server's error in words, the secret redacted.
fn error_message(reply: &http::Reply, secret: &str) -> String {
    server_text(&raw_error_message(reply), secret)
}

fn raw_error_message(reply: &http::Reply) -> String {
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
    error_code_of(&reply.body)
}

/// The `error_code` of an MLflow error body (`""` when the bytes are not one).
fn error_code_of(body: &[u8]) -> String {
    serde_json::from_slice::<ApiError>(body)
        .map(|e| e.error_code)
        .unwrap_or_default()
}

/// Whether a 400 answer is MLflow's for an alias that is not set (3.x: `INVALID_PARAMETER_VALUE`,
/// "Registered model alias <alias> not found.").
fn missing_alias(body: &[u8], alias: &str) -> bool {
    serde_json::from_slice::<ApiError>(body).is_ok_and(|e| {
        e.error_code == "INVALID_PARAMETER_VALUE"
            && e.message.trim() == format!("Registered model alias {alias} not found.")
    })
}

/// Why an artifact was not downloaded.
#[derive(Debug)]
pub enum DownloadError {
    /// Larger than the cap.
    TooLarge,
    /// The registry failed.
    Registry(RegistryError),
    /// The local file could not be written.
    Write(std::io::Error),
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
