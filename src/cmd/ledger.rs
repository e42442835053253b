//! The organisation's ledger from the commands: which counted runs a `check` (or `record`)
//! stores, with embodied carbon computed by the policy's reference values, and what it tells.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::error::Error;
use crate::policy::eval::{BaselineInput, GroupInput};
use crate::record::RunRecord;
use crate::reference::Reference;
use crate::render::links;
use crate::store::from_record::{self, Embodied, Recording};
use crate::store::{StoredRun, Target};

/// A counted run of a check, with the model and version it was judged under.
pub(crate) struct Counted {
    pub(crate) model: String,
    pub(crate) version: Option<String>,
    pub(crate) record: RunRecord,
}

/// The counted runs the entries of `groups` kept ([`crate::ledger::Attribution::keep_runs`]),
/// taken out of them: candidates, baselines read from logs, alternatives.
pub(crate) fn take_runs(groups: &mut [GroupInput]) -> Vec<Counted> {
    let mut out = Vec::new();
    let mut take = |entry: &mut crate::ledger::Entry| {
        let version = entry.version.as_ref().map(ToString::to_string);
        for record in std::mem::take(&mut entry.runs) {
            out.push(Counted {
                model: entry.model.clone(),
                version: version.clone(),
                record,
            });
        }
    };
    for g in groups {
        take(&mut g.candidate.entry);
        if let Some(BaselineInput::Logs(b)) = &mut g.baseline {
            take(&mut b.entry);
        }
        for a in &mut g.alternatives {
            take(&mut a.entry);
        }
    }
    out
}

/// Who is recording: now, and the repository and commit from the validated CI environment
/// (`$GITHUB_REPOSITORY`/`$CI_PROJECT_PATH`, the commit given or `$GITHUB_SHA`/`$CI_COMMIT_SHA`).
pub(crate) fn recording(commit: Option<&str>) -> Recording {
    let env = super::set_var;
    let repository = env("GITHUB_REPOSITORY")
        .or_else(|| env("CI_PROJECT_PATH"))
        .and_then(|r| links::repository(&r).map(str::to_owned));
    let commit = commit
        .map(str::to_owned)
        .or_else(|| env("CI_COMMIT_SHA"))
        .and_then(|c| links::commit_hash(&c));
    Recording {
        at: from_record::instant(time::OffsetDateTime::now_utc().unix_timestamp() as f64)
            .unwrap_or_default(),
        repository,
        commit,
    }
}

/// The pull (merge) request of this job, from the environment: `$GITHUB_REF`
/// (`refs/pull/N/merge`) or `$CI_MERGE_REQUEST_IID`.
pub(crate) fn pull_request() -> Option<u64> {
    let env = super::set_var;
    env("GITHUB_REF")
        .and_then(|r| {
            r.strip_prefix("refs/pull/")
                .and_then(|rest| rest.split('/').next().map(str::to_owned))
        })
        .or_else(|| env("CI_MERGE_REQUEST_IID"))
        .and_then(|n| links::digits(&n).and_then(|d| d.parse().ok()))
}

/// The stored form of each counted run: its file's digest, and embodied carbon computed from
/// its hardware and duration (the policy's reference values) where its log gives none. Runs of
/// one key merge ([`StoredRun::merge`]).
pub(crate) fn stored_runs(
    counted: &[Counted],
    policy: &crate::policy::Policy,
    recording: &Recording,
) -> Result<Vec<StoredRun>, Error> {
    let reference = Reference::embedded()?;
    let mut digests: HashMap<PathBuf, String> = HashMap::new();
    let mut out: Vec<StoredRun> = Vec::with_capacity(counted.len());
    let mut at: HashMap<String, usize> = HashMap::new();
    for c in counted {
        let r = &c.record;
        let digest = match digests.get(&r.source.file) {
            Some(d) => d.clone(),
            None => {
                let d = crate::digest::file_sha256(&r.source.file)?;
                digests.insert(r.source.file.clone(), d.clone());
                d
            }
        };
        let embodied = if r.embodied.is_none() {
            crate::embodied::for_run(&reference, &policy.overrides, &r.hardware, r.duration)
                .ok()
                .map(|s| Embodied {
                    central: s.central,
                    low: s.low,
                    high: s.high,
                    basis: s.basis,
                })
        } else {
            None
        };
        let run = from_record::stored(
            r,
            &c.model,
            c.version.as_deref(),
            embodied,
            &digest,
            recording,
        );
        match at.get(&run.key) {
            Some(&i) => {
                out[i].merge(&run);
            }
            None => {
                at.insert(run.key.clone(), out.len());
                out.push(run);
            }
        }
    }
    Ok(out)
}

/// The ledger `--ledger` (or `$CARBON_GATE_LEDGER`) names, if any.
pub(crate) fn target(named: Option<&str>) -> Result<Option<Target>, Error> {
    named
        .map(str::to_owned)
        .or_else(|| super::set_var("CARBON_GATE_LEDGER"))
        .map(|t| Target::parse(&t))
        .transpose()
}
