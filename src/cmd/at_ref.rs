//! The policy and the configuration at a git ref (`--policy-ref`), read through git or GitHub's
//! contents API, and which logs the change edited since that ref.

use std::path::Path;

use crate::cli::CheckArgs;
use crate::error::{self, Error, display_path};
use crate::report::CheckReport;
use crate::{codes, config, diagnostic, policy, provenance};

/// The policy at `reference` (through git, or GitHub's contents API where git cannot), and what
/// the working tree changes in it and in the configuration.
pub(crate) fn policy_at_ref(
    args: &CheckArgs,
    paths: &[std::path::PathBuf],
    reference: &str,
) -> Result<(policy::Loaded, Vec<String>), Error> {
    let at_ref = ref_source(args, reference);
    let source = at_ref.source();
    let texts = policy::at_ref::read(paths, reference, &source)?;
    let base = policy::from_texts(texts, Vec::new())?;
    let changes = match policy::load(paths) {
        Ok(head) => {
            let mut c = policy::at_ref::changes(&base.policy, &head.policy);
            if c.is_empty() {
                let same_text = head.policy.files.len() == base.policy.files.len()
                    && head.policy.files.iter().all(|f| {
                        let name = error::path_text(f);
                        crate::git::show(reference, &name)
                            .ok()
                            .is_none_or(|t| std::fs::read(f).is_ok_and(|w| w == t))
                    });
                if !same_text {
                    c.push("policy files edited (no limit changed)".to_owned());
                }
            }
            c
        }
        Err(e) => vec![format!("the working tree's policy does not validate: {e}")],
    };
    Ok((base, changes))
}

/// Which logs the change added or modified compared with `--policy-ref`: told in the report;
/// refused where the policy requires evidence from the base or from artifacts
/// (`evidence: base-or-artifact`), which cannot be told without a base ref.
pub(crate) fn evidence_provenance(
    args: &CheckArgs,
    cfg: Option<&config::Config>,
    rule: policy::model::EvidenceRule,
    report: &mut CheckReport,
) -> Result<(), Error> {
    let Some(reference) = &args.policy_ref else {
        if rule.refuses_changed_logs() {
            return Err(Error::Usage(format!(
                "the policy says `evidence: {}`: pass --policy-ref with the base of the change, so that logs the change edited can be told apart",
                rule.name()
            )));
        }
        return Ok(());
    };
    let mut logs: Vec<std::path::PathBuf> = args.eval.input.logs.clone();
    logs.extend(args.eval.baseline.iter().cloned());
    if let Some(cfg) = cfg {
        for g in &cfg.groups {
            logs.extend(g.candidate.logs.iter().cloned());
            if let Some(config::Baseline::Logs(b)) = &g.baseline {
                logs.extend(b.logs.iter().cloned());
            }
            for a in &g.alternatives {
                logs.extend(a.logs.iter().cloned());
            }
        }
    }
    let read: Vec<std::path::PathBuf> = report.inputs.iter().map(|i| i.path.clone()).collect();
    let changed = match provenance::changed_since(reference, &logs, &read) {
        Ok(c) => c,
        Err(why) if rule.refuses_changed_logs() => {
            return Err(Error::Usage(format!(
                "the policy says `evidence: {}`, but git cannot tell which logs the change edited since {reference}: {why}",
                rule.name()
            )));
        }
        Err(_) => return Ok(()),
    };
    if changed.is_empty() {
        return Ok(());
    }
    let listed: Vec<String> = changed.iter().map(ToString::to_string).collect();
    if rule.refuses_changed_logs() {
        return Err(Error::input(
            error::Problem::new(
                error::Location::file(&changed[0].path),
                format!(
                    "the policy requires evidence from the base or from artifacts (`evidence: {}`), but this change edits the logs it would be judged on: {}",
                    rule.name(),
                    listed.join("; ")
                ),
            )
            .with_help(
                "read the logs the training job uploaded as artifacts (or the registry's), not logs committed in the change",
            ),
        ));
    }
    report.warnings.push(diagnostic::Warning::general(
        codes::EVIDENCE_CHANGED,
        format!(
            "this change edits the logs it is judged on (compared with {reference}): {}",
            listed.join("; ")
        ),
    ));
    report.evidence_changes = listed;
    Ok(())
}

/// Where files at a git ref are read from: git, or GitHub's contents API where git has no such
/// ref and a token and repository are known.
struct RefSource {
    git_has_ref: bool,
    token: String,
    repo: String,
    api_url: String,
}

impl RefSource {
    fn source(&self) -> policy::at_ref::Source<'_> {
        if self.git_has_ref || self.token.is_empty() || self.repo.is_empty() {
            policy::at_ref::Source::Git
        } else {
            policy::at_ref::Source::GitHub {
                api_url: &self.api_url,
                repo: &self.repo,
                token: &self.token,
            }
        }
    }
}

fn ref_source(args: &CheckArgs, reference: &str) -> RefSource {
    let git_has_ref = crate::git::has_commit(reference);
    RefSource {
        git_has_ref,
        token: args.publish.github_token.clone().unwrap_or_default(),
        repo: args
            .publish
            .repo
            .clone()
            .or_else(|| std::env::var("GITHUB_REPOSITORY").ok())
            .unwrap_or_default(),
        api_url: std::env::var("GITHUB_API_URL")
            .unwrap_or_else(|_| "https://api.github.com".to_owned()),
    }
}

/// Whether a file is at `path` at `reference`, read as [`config_at_ref`] reads it (for a
/// configuration the working tree no longer has: the base's still decides).
pub(crate) fn exists_at_ref(args: &CheckArgs, path: &Path, reference: &str) -> bool {
    let at_ref = ref_source(args, reference);
    policy::at_ref::read(&[path.to_owned()], reference, &at_ref.source())
        .is_ok_and(|texts| !texts.is_empty())
}

/// `carbon-gate.yaml` at the base ref (`--policy-ref`), and what the change does to it. The
/// pull request's copy decides nothing: it could point the candidate at a decoy log, move the
/// real logs to the alternatives, or add a forged baseline. A configuration that does not exist
/// at the base is an error (fail closed).
pub(crate) fn config_at_ref(
    args: &CheckArgs,
    path: &Path,
    reference: &str,
) -> Result<(config::Config, Vec<String>), Error> {
    let at_ref = ref_source(args, reference);
    let source = at_ref.source();
    let texts = policy::at_ref::read(&[path.to_owned()], reference, &source).map_err(|e| {
        Error::Config(vec![
            error::Problem::new(
                error::Location::file(path),
                format!(
                    "cannot read the configuration at {reference}: {}",
                    e.to_string().lines().next().unwrap_or_default()
                ),
            )
            .with_help(
                "with --policy-ref the configuration that decides the verdict is the base's: commit carbon-gate.yaml to the base branch first (a new configuration takes effect once merged)",
            ),
        ])
    })?;
    let Some((_, text)) = texts.into_iter().next() else {
        return Err(Error::Config(vec![error::Problem::new(
            error::Location::file(path),
            format!("carbon-gate.yaml does not exist at {reference}"),
        )]));
    };
    let base = config::parse(path, &text)?;
    let mut changes = Vec::new();
    match std::fs::read_to_string(path) {
        Ok(head) if head == text => {}
        Ok(_) => changes.push(format!(
            "{} changed (the verdict used the configuration at {reference}: its candidates, baselines, alternatives and metrics)",
            display_path(path)
        )),
        Err(_) => changes.push(format!(
            "{} removed in the working tree (the verdict used the configuration at {reference})",
            display_path(path)
        )),
    }
    Ok((base, changes))
}
