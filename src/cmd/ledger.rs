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
        .or_else(|| env("GITHUB_SHA"))
        .or_else(|| env("CI_COMMIT_SHA"))
        .and_then(|c| links::commit_hash(&c));
    Recording {
        at: crate::store::utc_seconds(time::OffsetDateTime::now_utc()),
        repository,
        commit,
    }
}

/// The pull (merge) request of this job: the one named (`--pr`), else from the environment —
/// the GitHub event (`$GITHUB_EVENT_PATH`: `pull_request.number` or `number`), `$GITHUB_REF`
/// (`refs/pull/N/merge`), or GitLab's `$CI_MERGE_REQUEST_IID`.
pub(crate) fn pull_request(named: Option<u64>) -> Option<u64> {
    let env = super::set_var;
    named
        .or_else(|| crate::publish::github::event_pull_request(&env))
        .or_else(|| {
            env("GITHUB_REF")
                .and_then(|r| {
                    r.strip_prefix("refs/pull/")
                        .and_then(|rest| rest.split('/').next().map(str::to_owned))
                })
                .or_else(|| env("CI_MERGE_REQUEST_IID"))
                .and_then(|n| links::digits(&n).and_then(|d| d.parse().ok()))
        })
}

/// The stored form of each counted run: its file's digest, and embodied carbon computed from
/// its hardware and duration (the policy's reference values) where its log gives none. Runs of
/// one key merge ([`StoredRun::merge`]).
pub(crate) fn stored_runs(
    counted: Vec<Counted>,
    policy: &crate::policy::Policy,
    recording: &Recording,
) -> Result<Vec<StoredRun>, Error> {
    let reference = Reference::embedded()?;
    let mut digests: HashMap<PathBuf, String> = HashMap::new();
    let mut out: Vec<StoredRun> = Vec::with_capacity(counted.len());
    let mut at: HashMap<String, usize> = HashMap::new();
    // Each record is dropped once stored: the records and their stored forms are not all held.
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
        // A log that records no hardware at all says nothing to charge a manufacture to.
        let known = r.hardware.cpu.is_some() || r.hardware.gpu.is_some();
        let embodied = if r.embodied.is_none() && known {
            crate::embodied::for_run(reference, &policy.overrides, &r.hardware, r.duration)
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

/// `carbon-gate ledger …`.
pub(crate) fn ledger_command(command: &crate::cli::LedgerCommand) -> Result<super::Outcome, Error> {
    use crate::cli::LedgerCommand;
    match command {
        LedgerCommand::Import { file, ledger } => import(file, &ledger.url),
        LedgerCommand::Migrate { ledger } => migrate(&ledger.url),
        LedgerCommand::Summary(args) => summary(args),
        LedgerCommand::Inventory(args) => inventory(args),
    }
}

/// The database `url` names, opened (and migrated); a history file is refused here.
fn open(url: &str) -> Result<(Target, crate::store::Ledger), Error> {
    open_for(url, true)
}

/// [`open`] for reading: an SQLite ledger that does not exist is an error (a mistyped path
/// would otherwise read as an empty ledger, and leave a new file behind).
fn open_existing(url: &str) -> Result<(Target, crate::store::Ledger), Error> {
    open_for(url, false)
}

fn open_for(url: &str, create: bool) -> Result<(Target, crate::store::Ledger), Error> {
    let target = Target::parse(url)?;
    if let (false, Target::Sqlite(path)) = (create, &target)
        && std::fs::symlink_metadata(path).is_err()
    {
        return Err(Error::Usage(format!(
            "there is no ledger at {}: check the path (`check --ledger {}` creates it)",
            crate::error::display_path(path),
            target.display()
        )));
    }
    if let Target::History(path) = &target {
        return Err(Error::Usage(format!(
            "{} is a history file, not a database: give `sqlite:PATH` or `postgres://USER@HOST:PORT/DB` (and `carbon-gate ledger import {}` to move the history into it)",
            crate::error::display_path(path),
            crate::error::display_path(path),
        )));
    }
    let ledger = crate::store::Ledger::open(&target)?;
    Ok((target, ledger))
}

fn import(file: &std::path::Path, url: &str) -> Result<super::Outcome, Error> {
    // The file is read (and refused when damaged) before the database is touched.
    let history = crate::store::read_history(file)?;
    let (target, mut ledger) = open(url)?;
    let written = off_runtime(|| ledger.import(&history.runs, &history.checks))?;
    Ok(super::Outcome {
        stdout: Vec::new(),
        stderr: vec![format!(
            "carbon-gate: imported {} and {} from {} into {}: {} new, {} grew, {} already there",
            plural(
                history.runs.len(),
                "model-version entry",
                "model-version entries"
            ),
            plural(history.checks.len(), "check", "checks"),
            crate::error::display_path(file),
            target.display(),
            written.new,
            written.grew,
            written.same
        )],
        exit: crate::exit::Exit::Pass,
    })
}

fn migrate(url: &str) -> Result<super::Outcome, Error> {
    let (target, mut ledger) = open(url)?;
    let applied = ledger.migrate()?;
    let version = ledger.schema_version()?;
    let what = if applied.is_empty() {
        "nothing to apply".to_owned()
    } else {
        applied
            .iter()
            .map(|(v, name)| format!("{v:04} {name}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Ok(super::Outcome {
        stdout: Vec::new(),
        stderr: vec![format!(
            "carbon-gate: {} is at schema version {version} ({what})",
            target.display()
        )],
        exit: crate::exit::Exit::Pass,
    })
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The policy the ledger commands read teams and the trajectory from: the files named, else
/// `policies` when it exists, else none.
fn ledger_policy(named: &[PathBuf]) -> Result<crate::policy::Policy, Error> {
    if !named.is_empty() {
        return Ok(crate::policy::load(named)?.policy);
    }
    if std::path::Path::new("policies").is_dir() {
        return Ok(crate::policy::load(&[PathBuf::from("policies")])?.policy);
    }
    Ok(crate::policy::Policy::default())
}

/// The first instant of `day` (UTC), as the ledger writes instants.
fn day_start(day: time::Date) -> String {
    crate::store::utc_seconds(day.midnight().assume_utc())
}

fn summary(args: &crate::cli::SummaryArgs) -> Result<super::Outcome, Error> {
    use crate::cli::{SummaryBy, SummaryFormat};
    use crate::inventory::summary::{self as sum, By};
    let policy = ledger_policy(&args.policy)?;
    let (_, mut ledger) = open_existing(&args.ledger.url)?;
    let from = args.from.map(day_start);
    let to = args.to.and_then(|d| d.next_day()).map(day_start);
    let runs = ledger.runs(from.as_deref(), to.as_deref())?;
    let by = match args.by {
        SummaryBy::Model => By::Model,
        SummaryBy::Team => By::Team,
        SummaryBy::Phase => By::Phase,
        SummaryBy::Version => By::Version,
    };
    let every = every_of(args.every);
    let team_of = |model: &str| policy.team_of(model).map(str::to_owned);
    let summary = sum::summarize(&runs, by, every, from.as_deref(), to.as_deref(), &team_of);
    let text = match args.format {
        SummaryFormat::Table => sum::to_table(&summary),
        SummaryFormat::Json => sum::to_json(&summary),
        SummaryFormat::Csv => sum::to_csv(&summary),
    };
    Ok(super::Outcome {
        stdout: super::output::deliver(text.into_bytes(), args.out.output.as_deref())?,
        stderr: Vec::new(),
        exit: crate::exit::Exit::Pass,
    })
}

fn every_of(every: crate::cli::EveryArg) -> crate::periods::Every {
    use crate::cli::EveryArg;
    match every {
        EveryArg::Month => crate::periods::Every::Month,
        EveryArg::Quarter => crate::periods::Every::Quarter,
        EveryArg::Year => crate::periods::Every::Year,
    }
}

fn inventory(args: &crate::cli::InventoryArgs) -> Result<super::Outcome, Error> {
    use crate::cli::InventoryFormat;
    use crate::inventory as inv;
    let policy = ledger_policy(&args.policy)?;
    let (target, mut ledger) = open_existing(&args.ledger.url)?;
    let runs = ledger.runs(None, None)?;
    let team_of = |model: &str| policy.team_of(model).map(str::to_owned);
    let teams = policy
        .teams
        .iter()
        .map(|t| inv::TeamInfo {
            name: t.name.clone(),
            models: t.models.iter().map(|m| m.as_str().to_owned()).collect(),
            owners: t.owners.clone(),
        })
        .collect();
    let in_scope = |model: &str| {
        policy
            .trajectory
            .as_ref()
            .is_some_and(|t| t.covers(model, &policy))
    };
    let trajectory = policy.trajectory.as_ref().map(|t| inv::TrajectoryInfo {
        base_year: t.base_year,
        base: t.base,
        reduction_per_year: crate::units::Ratio::fraction(t.reduction_per_year),
        covers: t
            .models
            .iter()
            .map(|m| format!("models `{}`", m.as_str()))
            .chain(t.teams.iter().map(|team| format!("team `{team}`")))
            .collect::<Vec<_>>()
            .join(", "),
        in_scope: &in_scope,
    });
    let input = inv::InventoryInput {
        year: args.year,
        runs: &runs,
        team_of: &team_of,
        teams,
        trajectory,
        ledger: target.display(),
        generated_at: recording(None).at,
        policy_files: policy
            .files
            .iter()
            .map(|f| crate::error::display_path(f))
            .collect(),
    };
    let inventory = inv::inventory(&input);
    let text = match args.format {
        InventoryFormat::Markdown => inv::to_markdown(&inventory),
        InventoryFormat::Html => inv::to_html(&inventory),
        InventoryFormat::Json => serde_json::to_string_pretty(&inventory)
            .map_err(|e| Error::Service(format!("cannot write the inventory as JSON: {e}")))?,
    };
    Ok(super::Outcome {
        stdout: super::output::deliver(text.into_bytes(), args.out.output.as_deref())?,
        stderr: Vec::new(),
        exit: crate::exit::Exit::Pass,
    })
}

/// The check event of `command`, before its verdict is known.
fn event_of(command: &str, recording: &Recording, pr: Option<u64>) -> crate::store::CheckEvent {
    crate::store::CheckEvent {
        time: recording.at.clone(),
        command: command.to_owned(),
        repository: recording.repository.clone(),
        commit: recording.commit.clone(),
        pull_request: pull_request(pr),
        verdict: None,
        summary: None,
    }
}

/// `check --ledger DATABASE`: store the counted runs and judge the policy's periods and
/// trajectory on the ledger plus them, in one transaction; the period lines and the verdict go
/// into `report`, the check event records the final verdict.
pub(crate) fn record_check(
    target: &Target,
    policy: &crate::policy::Policy,
    counted: Vec<Counted>,
    report: &mut crate::report::CheckReport,
    commit: Option<&str>,
    pr: Option<u64>,
    command: &str,
) -> Result<(), Error> {
    let recording = recording(commit);
    let runs = stored_runs(counted, policy, &recording)?;
    let base = event_of(command, &recording, pr);
    let report_now: &crate::report::CheckReport = report;
    let (lines, written) = off_runtime(|| {
        let mut ledger = crate::store::Ledger::open(target)?;
        ledger.write(
            &runs,
            |lines: &Vec<crate::policy::periods::PeriodLine>| {
                let (verdict, summary) = report_now.verdict_with_periods(lines);
                crate::store::CheckEvent {
                    verdict: Some(verdict.word().to_lowercase()),
                    summary: Some(summary),
                    ..base.clone()
                }
            },
            |reader| {
                crate::policy::periods::judge(policy, &runs, &mut |start, end| {
                    reader.runs_between(start, end)
                })
            },
        )
    })?;
    report.set_periods(lines);
    report.warnings.extend(dated_long_before(&runs));
    report.ledger = Some(crate::report::LedgerNote {
        ledger: target.display(),
        runs: runs.len(),
        new: written.new,
        grew: written.grew,
        same: written.same,
    });
    Ok(())
}

/// How long before its recording a run may have ended before it is pointed out: a quarter.
const LONG_BEFORE_S: f64 = 92.0 * 86_400.0;

/// Runs whose log dates them more than a quarter before they are recorded count in the budgets
/// of that earlier period, not this one's: a log could date a change's runs into a closed
/// quarter to keep them out of the current one. One `run-dated-long-before` warning names them
/// (the first three and how many), so a reviewer sees it in the comment.
fn dated_long_before(runs: &[StoredRun]) -> Option<crate::diagnostic::Warning> {
    let old: Vec<&StoredRun> = runs
        .iter()
        .filter(|r| {
            match (
                from_record::seconds_of(&r.at),
                from_record::seconds_of(&r.recorded_at),
            ) {
                (Some(at), Some(now)) => now - at > LONG_BEFORE_S,
                _ => false,
            }
        })
        .collect();
    if old.is_empty() {
        return None;
    }
    let named: Vec<String> = old
        .iter()
        .take(3)
        .map(|r| {
            format!(
                "{} at {}, ended {}",
                crate::error::escape_text(&r.run_id),
                crate::error::escape_text(&r.source),
                r.at
            )
        })
        .collect();
    let more = if old.len() > 3 {
        format!(" and {} more", old.len() - 3)
    } else {
        String::new()
    };
    Some(crate::diagnostic::Warning {
        code: crate::codes::RUN_DATED_LONG_BEFORE,
        message: format!(
            "{} dated more than 92 days before this check ({}{more}): {} counted in the periods {} log dates, not in the current one; if the log's clock is wrong, that is where its emissions are judged",
            if old.len() == 1 {
                "1 run is".to_owned()
            } else {
                format!("{} runs are", old.len())
            },
            named.join(", "),
            if old.len() == 1 { "it is" } else { "they are" },
            if old.len() == 1 { "its" } else { "their" },
        ),
        location: None,
    })
}

/// `record --ledger DATABASE`: store the counted runs (no period is judged: `record` gates
/// nothing); how many were new.
pub(crate) fn record_runs(
    target: &Target,
    policy: &crate::policy::Policy,
    counted: Vec<Counted>,
) -> Result<(usize, crate::store::Written), Error> {
    if let Target::History(_) = target {
        return Err(Error::Usage(
            "`record --ledger` needs a database (`sqlite:PATH` or `postgres://…`): a history file holds checks' verdicts, not runs".to_owned(),
        ));
    }
    let recording = recording(None);
    let runs = stored_runs(counted, policy, &recording)?;
    let base = event_of("record", &recording, None);
    let ((), written) = off_runtime(|| {
        let mut ledger = crate::store::Ledger::open(target)?;
        ledger.write(&runs, |_| base.clone(), |_| Ok(()))
    })?;
    Ok((runs.len(), written))
}

/// `check` without a database: the periods and trajectory cannot be judged. Each is told
/// (`no-ledger`); one marked `required: true` fails closed.
pub(crate) fn without_ledger(
    policy: &crate::policy::Policy,
    report: &mut crate::report::CheckReport,
) {
    for (name, required, at) in crate::policy::periods::unjudged(policy) {
        let name = crate::error::escape_text(&name);
        let message = format!(
            "`{name}` is a budget over time: it is judged on the organisation's ledger, and no --ledger (or $CARBON_GATE_LEDGER) names a database{}",
            if required {
                "; it is required, so the check fails closed"
            } else {
                ""
            }
        );
        report.add_unjudged(required, at, message);
    }
}

/// Run `f` on a thread of its own: the PostgreSQL client blocks on a runtime of its own, which
/// cannot start inside the one `promote` and `record` talk to the registry from.
fn off_runtime<T: Send>(f: impl FnOnce() -> Result<T, Error> + Send) -> Result<T, Error> {
    std::thread::scope(|s| {
        s.spawn(f)
            .join()
            .unwrap_or_else(|_| Err(Error::Service("the ledger's writer stopped".to_owned())))
    })
}
