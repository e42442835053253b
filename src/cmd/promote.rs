//! `carbon-gate promote`: judge a registered model version on its run's emissions evidence
//! exactly as `check` judges, write the verdict tags on it, and move the alias when the verdict
//! is not `fail` (fail closed: see [`crate::registry`]). The MLflow work is `registry`'s; this
//! file loads the policy, chooses the evidence, reads and evaluates it, renders the report and
//! decides the exit code.

use std::path::PathBuf;

use super::{Outcome, tracking};
use crate::cli::{InputArgs, PromoteArgs};
use crate::diagnostic::Warning;
use crate::error::Error;
use crate::exit::Exit;
use crate::ledger::{self, Attribution};
use crate::policy::eval::{BaselineInput, GroupInput, ReportedBaseline, Subject};
use crate::registry::mlflow::{self, Mlflow, ModelVersion, Tag};
use crate::registry::{
    self, Counted, Evidence, PREFIX, Recorded, cut, inputs_digest, number, quality_metrics,
    recorded, run_evidence, runtime, semver_of, verdict_tags,
};
use crate::report::{Role, Verdict};
use crate::store::Target;
use crate::units::{Energy, Mass};
use crate::{codes, ingest};

/// `carbon-gate promote`.
pub(crate) fn promote(
    args: &PromoteArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Outcome, Error> {
    // Everything local is checked before the registry is touched.
    let (policy_paths, notes) = promote_policy_paths(args)?;
    let mut loaded = crate::policy::load(&policy_paths)?;
    // A registry version without a semver tag must not escape its versioned budgets.
    loaded.policy.version_required = true;
    let digest = crate::digest::files_digest(&loaded.policy.files)?;
    let file_metrics = args
        .metrics
        .as_deref()
        .map(crate::metrics::load)
        .transpose()?;
    // A ledger URL that cannot be one is refused before the registry is touched (exit 2).
    let ledger = args.ledger.url.as_deref().map(Target::parse).transpose()?;
    let client = tracking::client(&args.registry, env)?;
    let mut outcome = runtime()?.block_on(promote_with(
        args,
        &client,
        &loaded,
        &digest,
        file_metrics,
        ledger.as_ref(),
    ))?;
    outcome.stderr.splice(0..0, notes);
    Ok(outcome)
}

/// The policy `promote` judges by: `--policy`; else the `policy` of the configuration (`--config`,
/// else `carbon-gate.yaml` found as `check` finds it); else `policies`. With the lines to say.
fn promote_policy_paths(args: &PromoteArgs) -> Result<(Vec<PathBuf>, Vec<String>), Error> {
    if !args.policy.is_empty() {
        return Ok((args.policy.clone(), Vec::new()));
    }
    let (config, notes) = match &args.config {
        Some(named) => (Some(named.clone()), Vec::new()),
        None => match super::discover::in_working_tree() {
            Some(found) => {
                let line = super::discover::using_line(&found);
                (Some(found), vec![line])
            }
            None => (None, Vec::new()),
        },
    };
    let from_config = match &config {
        Some(path) => crate::config::load_policy(path)?,
        None => Vec::new(),
    };
    let paths = if from_config.is_empty() {
        vec![PathBuf::from("policies")]
    } else {
        from_config
    };
    Ok((paths, notes))
}

async fn promote_with(
    args: &PromoteArgs,
    client: &Mlflow,
    loaded: &crate::policy::Loaded,
    digest: &str,
    file_metrics: Option<crate::metrics::Metrics>,
    ledger: Option<&Target>,
) -> Result<Outcome, Error> {
    use crate::policy::model::EvidenceRule;
    let name = &args.model;
    let target = format!("models:/{name}/{}", args.version);
    let mv = client
        .model_version(name, &args.version)
        .await?
        .ok_or_else(|| {
            Error::Usage(format!(
                "{target} not found in the MLflow registry at {}: check --model and --version (the registry's version number, e.g. 3)",
                client.base()
            ))
        })?;
    if mv.name != *name || mv.version != args.version {
        return Err(Error::Service(format!(
            "MLflow at {} answered the lookup of {target} with models:/{}/{}; nothing was moved",
            client.base(),
            mv.name,
            mv.version
        )));
    }
    if let Some(status) = mv.status.as_deref().filter(|s| *s != "READY") {
        return Err(Error::Usage(format!(
            "{target} is {status}, not READY: it cannot be promoted yet"
        )));
    }
    let semver = match &args.model_version {
        Some(v) => Some(v.clone()),
        None => semver_of(&mv, &args.semver_tag, true)?,
    };
    let holder = client.alias(name, &args.alias).await?;
    let run = match mv.run_id.as_deref().filter(|r| !r.is_empty()) {
        Some(id) => Some(client.run(id).await.map_err(|e| match e {
            mlflow::RegistryError::NotFound(m) => Error::Usage(format!(
                "{target} names run {id}, which the tracking server does not have: {m}"
            )),
            other => other.into(),
        })?),
        None => None,
    };
    let rule = loaded.policy.evidence;
    let mut inputs = Vec::new();
    let mut warnings = Vec::new();
    let evidence = if !args.input.logs.is_empty() {
        if rule == EvidenceRule::Artifacts {
            return Err(Error::Usage(format!(
                "the policy says `evidence: artifacts`: {target} is judged on the emissions logs among its run's artifacts, not on logs named on the command line; leave them out"
            )));
        }
        Evidence::Logs(args.input.logs.clone())
    } else if let Some(run) = &run {
        run_evidence(client, run, &tracking::artifacts(&args.registry)).await?
    } else {
        Evidence::Nothing(format!(
            "{target} was not registered from a run and no logs were given on the command line"
        ))
    };
    if rule == EvidenceRule::Artifacts
        && let Evidence::Metrics(record, _) = &evidence
    {
        return Err(Error::input(
            crate::error::Problem::new(
                record.source.clone(),
                format!(
                    "the policy says `evidence: artifacts`, but the run of {target} has no emissions log among its artifacts (looked for {}), only {PREFIX}* metrics, which anyone who can write to the run can log",
                    args.registry.artifact_globs.join(", ")
                ),
            )
            .with_help("log the tracker's emissions file as an artifact of the training run (mlflow.log_artifact)"),
        ));
    }
    let attribution = Attribution {
        model: Some(name.clone()),
        version: semver.clone(),
        phase: args.input.phase,
        rules: loaded.policy.ledger_rules(),
        keep_runs: ledger.is_some_and(|t| !matches!(t, Target::History(_))),
    };
    let counted = subject_of(
        evidence,
        &args.input,
        &attribution,
        &mut inputs,
        &mut warnings,
    )?;
    let mut metrics = quality_metrics(run.as_ref());
    metrics.extend(counted.entry.metrics.clone());
    if let Some(m) = &file_metrics {
        metrics.extend(m.clone());
    }
    let candidate = Subject {
        entry: counted.entry.clone(),
        metrics,
        kind: None,
    };
    let baseline = match holder.as_ref().filter(|h| h.version != mv.version) {
        Some(h) => baseline_of(client, h, args, &loaded.policy, &mut inputs, &mut warnings).await?,
        None => None,
    };
    let mut groups = vec![GroupInput {
        candidate,
        baseline,
        alternatives: Vec::new(),
    }];
    let runs = super::ledger::take_runs(&mut groups);
    let mut report = crate::cmd::evaluate::evaluate(
        loaded,
        &groups,
        crate::cmd::evaluate::Evidence {
            inputs,
            warnings,
            policy_ref: None,
            policy_changes: Vec::new(),
            whatif: false,
        },
        args.today.unwrap_or_else(crate::cmd::today),
    )?;
    match ledger {
        Some(Target::History(_)) => {
            return Err(Error::Usage(
                "`promote --ledger` needs a database (`sqlite:PATH` or `postgres://…`), not a history file".to_owned(),
            ));
        }
        Some(database) if !args.registry.dry_run => super::ledger::record_check(
            database,
            &loaded.policy,
            runs,
            &mut report,
            None,
            None,
            "promote",
        )?,
        _ => super::ledger::without_ledger(&loaded.policy, &mut report),
    }
    let (buffer, mut stderr) =
        crate::cmd::output::render_check(&report, args.format, args.explain, &args.out)?;
    let Some(candidate) = report.models.iter().find(|m| m.role == Role::Candidate) else {
        return Err(Error::Usage(format!(
            "no candidate was evaluated for {target}"
        )));
    };
    let tags = verdict_tags(
        candidate,
        report.verdict,
        &report.summary,
        digest,
        &report.policy_files,
        &args.alias,
        holder.as_ref(),
        &counted,
    );
    let extra: Vec<Tag> = args
        .set_tags
        .iter()
        .map(|(k, v)| Tag {
            key: k.clone(),
            value: cut(v.clone()),
        })
        .collect();
    let passes = report.verdict != Verdict::Fail;
    let from = holder
        .as_ref()
        .map_or_else(|| "unset".to_owned(), |h| format!("version {}", h.version));
    let mut say = |line: String| stderr.push(format!("carbon-gate: {line}"));
    if args.registry.dry_run {
        for t in &tags {
            say(format!(
                "dry run: would set tag {} = {} on {target}",
                t.key, t.value
            ));
        }
        if passes {
            for t in &extra {
                say(format!(
                    "dry run: would set tag {} = {} on {target}",
                    t.key, t.value
                ));
            }
            say(format!(
                "dry run: would move alias {} of `{name}` from {from} to version {}",
                args.alias, mv.version
            ));
        } else {
            say(format!(
                "dry run: would leave alias {} of `{name}` as it is ({from}): the verdict is fail",
                args.alias
            ));
        }
    } else {
        registry::write_tags(client, name, &mv.version, &tags, &args.alias).await?;
        say(format!("set {} carbon_gate.* tags on {target}", tags.len()));
        if passes {
            registry::move_alias(
                client,
                name,
                &args.alias,
                &mv.version,
                holder.as_ref(),
                &extra,
            )
            .await?;
            say(format!(
                "moved alias {} of `{name}` from {from} to version {}",
                args.alias, mv.version
            ));
        } else {
            say(format!(
                "alias {} of `{name}` not moved: it stays {}",
                args.alias,
                holder.as_ref().map_or_else(
                    || "unset".to_owned(),
                    |h| format!("on version {}", h.version)
                )
            ));
        }
    }
    let stdout = crate::cmd::output::deliver(buffer, args.out.output.as_deref())?;
    stderr.push(format!("carbon-gate: {}", report.summary));
    Ok(Outcome {
        stdout,
        stderr,
        exit: if passes {
            Exit::Pass
        } else {
            Exit::BudgetExceeded
        },
    })
}

/// Totals and contributions of one model from evidence.
fn subject_of(
    evidence: Evidence,
    input: &InputArgs,
    attribution: &Attribution,
    inputs: &mut Vec<ingest::InputFile>,
    warnings: &mut Vec<Warning>,
) -> Result<Counted, Error> {
    let model = attribution.model.clone().unwrap_or_default();
    let kind = evidence.kind();
    let (entries, digest) = match evidence {
        Evidence::Artifacts { paths, root } => {
            let read = crate::cmd::read::read_entries(&paths, input, attribution, false)?;
            let digest = inputs_digest(&read.inputs, Some(&root))?;
            inputs.extend(read.inputs);
            warnings.extend(read.warnings);
            (read.entries, Some(digest))
        }
        Evidence::Logs(paths) => {
            let read = crate::cmd::read::read_entries(&paths, input, attribution, false)?;
            let digest = inputs_digest(&read.inputs, None)?;
            inputs.extend(read.inputs);
            warnings.extend(read.warnings);
            (read.entries, Some(digest))
        }
        Evidence::Metrics(record, digest) => {
            warnings.push(Warning::at(
                codes::REGISTRY_RUN_METRICS,
                record.source.clone(),
                "no emissions log among the run's artifacts: its totals are the carbon_gate.* metrics logged on the run (reported, not measured here)",
            ));
            let mut reconciled = ledger::reconcile_with(vec![*record], attribution.rules)?;
            let (entries, more) = ledger::aggregate(&mut reconciled, attribution)?;
            warnings.extend(more);
            (entries, Some(digest))
        }
        Evidence::Nothing(why) => {
            warnings.push(Warning::general(codes::REGISTRY_NO_EVIDENCE, why));
            (Vec::new(), None)
        }
    };
    Ok(Counted {
        entry: crate::cmd::read::take_entry(entries, &model),
        kind,
        digest,
    })
}

/// The baseline: the version that holds the alias. Its run's evidence is used when it is what
/// the holder's promotion counted (same digest); otherwise the figures that promotion recorded
/// in its `carbon_gate.*` tags are — evidence added to a run later must not move the baseline.
async fn baseline_of(
    client: &Mlflow,
    holder: &ModelVersion,
    args: &PromoteArgs,
    policy: &crate::policy::Policy,
    inputs: &mut Vec<ingest::InputFile>,
    warnings: &mut Vec<Warning>,
) -> Result<Option<BaselineInput>, Error> {
    let semver = semver_of(holder, &args.semver_tag, false)?;
    let run = match holder.run_id.as_deref().filter(|r| !r.is_empty()) {
        Some(id) => match client.run(id).await {
            Ok(r) => Some(r),
            Err(mlflow::RegistryError::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let label = format!(
        "models:/{}/{} (alias {})",
        holder.name, holder.version, args.alias
    );
    let recorded = recorded(holder);
    let from_tags = |rec: &Recorded| {
        Some(BaselineInput::Report(ReportedBaseline {
            model: holder.name.clone(),
            version: semver.as_ref().map(ToString::to_string),
            source: label.clone(),
            energy: Energy::kwh(rec.energy),
            co2e: Mass::kg(rec.co2e),
            metrics: quality_metrics(run.as_ref()),
        }))
    };
    // The run's evidence, when it can be read. A baseline whose run now holds evidence that
    // cannot be read (a negative metric, a broken artifact) falls back to what was recorded;
    // with nothing recorded, the error stands: regression rules must not lose their baseline
    // because someone broke its run.
    let evidence = match &run {
        Some(r) => match run_evidence(client, r, &tracking::artifacts(&args.registry)).await {
            Ok(e) => e,
            Err(e @ (Error::Service(_) | Error::Output { .. })) => return Err(e),
            Err(e) if recorded.is_none() => return Err(e),
            Err(e) => Evidence::Nothing(e.to_string()),
        },
        None => Evidence::Nothing(String::new()),
    };
    if let Evidence::Nothing(why) = &evidence {
        if let Some(rec) = &recorded {
            let because = if why.is_empty() {
                "no evidence on its run".to_owned()
            } else {
                format!("its run's evidence cannot be used ({why})")
            };
            warnings.push(Warning::general(
                codes::REGISTRY_BASELINE_TAGS,
                format!(
                    "{label}: {because}; its totals are the carbon_gate.* tags its promotion wrote"
                ),
            ));
            return Ok(from_tags(rec));
        }
        warnings.push(Warning::general(
            codes::REGISTRY_NO_EVIDENCE,
            format!("{label}: no emissions evidence on its run nor carbon_gate.* tags on it: regression rules have no baseline"),
        ));
        return Ok(None);
    }
    let attribution = Attribution {
        model: Some(holder.name.clone()),
        version: semver.clone(),
        phase: args.input.phase,
        rules: policy.ledger_rules(),
        keep_runs: false,
    };
    let mut read_inputs = Vec::new();
    let mut read_warnings = Vec::new();
    let counted = match subject_of(
        evidence,
        &args.input,
        &attribution,
        &mut read_inputs,
        &mut read_warnings,
    ) {
        Ok(c) => Some(c),
        Err(e @ (Error::Service(_) | Error::Output { .. })) => return Err(e),
        Err(_) if recorded.is_some() => None,
        Err(e) => return Err(e),
    };
    if let Some(rec) = &recorded {
        let now = counted.as_ref().and_then(|c| c.digest.clone());
        let same = rec.digest.is_some() && rec.digest == now;
        if !same {
            let was = rec.kind.as_deref().unwrap_or("evidence");
            let what = match (&rec.digest, &now) {
                (None, _) => format!(
                    "{label}: its promotion recorded no evidence digest (an older carbon-gate), so its run's evidence cannot be matched to what was counted"
                ),
                (Some(then), Some(now)) => format!(
                    "{label}: its run's evidence is not what its promotion counted ({was} {then}, now {now}): an artifact or metric was added or changed since"
                ),
                (Some(then), None) => format!(
                    "{label}: its run's evidence cannot be read any more (its promotion counted {was} {then})"
                ),
            };
            if rec.digest.is_some()
                && policy.changed_baseline == crate::policy::model::ChangedBaselineRule::Refuse
            {
                return Err(Error::Usage(format!(
                    "{what}; the policy says `changed-baseline: refuse`, so nothing is promoted against it: restore the run's evidence, or promote the baseline again"
                )));
            }
            let message = format!(
                "{what}; judged against the figures it recorded ({} kg CO2e, {} kWh)",
                number(rec.co2e),
                number(rec.energy)
            );
            let code = if rec.digest.is_some() {
                codes::BASELINE_EVIDENCE_CHANGED
            } else {
                codes::REGISTRY_BASELINE_TAGS
            };
            warnings.push(Warning::general(code, message));
            return Ok(from_tags(rec));
        }
    }
    let Some(counted) = counted else {
        return Ok(None);
    };
    inputs.extend(read_inputs);
    warnings.extend(read_warnings);
    let mut metrics = quality_metrics(run.as_ref());
    metrics.extend(counted.entry.metrics.clone());
    Ok(Some(BaselineInput::Logs(Box::new(Subject {
        entry: counted.entry,
        metrics,
        kind: None,
    }))))
}
