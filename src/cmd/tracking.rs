//! What `promote` and `record` share: the MLflow client and the choice of a run's evidence, from
//! the registry arguments and the environment.

use crate::cli::{Registry, RegistryArgs};
use crate::error::Error;
use crate::http::Retry;
use crate::registry::ArtifactOptions;
use crate::registry::mlflow::{Auth, Mlflow};

/// The client of the registry at `--tracking-uri`, with the credentials and retries of the
/// environment.
pub(crate) fn client(
    args: &RegistryArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Mlflow, Error> {
    match args.registry {
        Registry::Mlflow => Ok(Mlflow::new(
            &args.tracking_uri,
            Auth::from_env(env),
            Retry::from_env(env),
        )?),
    }
}

/// Which artifacts of a run are its evidence, and how they are downloaded.
pub(crate) fn artifacts(args: &RegistryArgs) -> ArtifactOptions {
    ArtifactOptions {
        globs: args.artifact_globs.clone(),
        download_dir: args.download_dir.clone(),
        max_mib: args.max_artifact_mib,
    }
}
