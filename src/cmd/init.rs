//! `carbon-gate init`: scaffold a working setup in the current directory from the emissions logs —
//! `policies/carbon-budgets.yaml` (one budget per model, set from its measured totals) with its
//! schema, `carbon-gate.yaml` when one candidate can be named, and with `--workflow` the GitHub
//! workflow. Every file is planned and checked before the first is written: an existing file
//! is replaced only with `--force`, a symbolic link (at a file or a directory on the way) never.

mod scaffold;

use std::path::{Path, PathBuf};

use crate::cli::InitArgs;
use crate::error::{Error, display_path, path_text};
use crate::exit::Exit;
use crate::ledger::{self, Attribution};
use crate::outfile;

use super::Outcome;
use super::discover::CONFIG_NAME;
use super::groups::DEFAULT_LOG;
use scaffold::Measured;

/// The policy file written.
const POLICY_FILE: &str = "policies/carbon-budgets.yaml";
/// Its schema, next to it (the policy's `$schema` line names it).
const SCHEMA_FILE: &str = "policies/policy.schema.json";
/// The workflow written with `--workflow`.
const WORKFLOW_FILE: &str = ".github/workflows/carbon-gate.yml";

/// `carbon-gate init`.
pub(crate) fn init_command(args: &InitArgs) -> Result<Outcome, Error> {
    let mut stderr = Vec::new();
    let logs = logs_to_read(args, &mut stderr)?;
    let attribution = Attribution {
        model: None,
        version: args.model_version.clone(),
        phase: args.input.phase,
        rules: ledger::Rules::default(),
        keep_runs: false,
    };
    let read = super::read::read_entries(&logs, &args.input, &attribution, false)?;
    stderr.extend(crate::diagnostic::warning_lines(&read.warnings));
    let measured = measure(&read.entries);
    let names: Vec<String> = logs.iter().map(|p| path_text(&relative(p))).collect();
    let plain_names = logs.iter().all(|p| p.to_str().is_some());
    let policy = scaffold::policy_text(&measured, &names);
    self_check(&policy, &measured)?;
    for m in measured.iter().filter(|m| !m.has_limits()) {
        stderr.push(format!(
            "carbon-gate: note: no budget for `{}`: its logs show neither CO2e nor energy above zero",
            crate::error::escape_text(&m.model)
        ));
    }
    let mut files = vec![
        (PathBuf::from(POLICY_FILE), policy.into_bytes()),
        (
            PathBuf::from(SCHEMA_FILE),
            crate::policy::schema_json().into_bytes(),
        ),
    ];
    let config = config_text(args, &read.entries, &names, plain_names, &mut stderr);
    let has_config = config.is_some();
    if let Some(text) = config {
        files.push((PathBuf::from(CONFIG_NAME), text.into_bytes()));
    }
    if args.workflow {
        let text = if has_config {
            scaffold::workflow_text(None)
        } else {
            scaffold::workflow_text(Some(&action_logs(&names)?))
        };
        files.push((PathBuf::from(WORKFLOW_FILE), text.into_bytes()));
    }
    preflight(&files, args.force)?;
    let mut stdout = String::new();
    for (path, bytes) in &files {
        write(path, bytes)?;
        stdout.push_str(&format!("wrote {}\n", display_path(path)));
    }
    let budgets = measured.iter().filter(|m| m.has_limits()).count();
    stdout.push_str(&format!(
        "{budgets} budget{} from the measured totals: warn at {}x, fail at {}x (see the comments in {POLICY_FILE})\n",
        if budgets == 1 { "" } else { "s" },
        scaffold::WARN_FACTOR,
        scaffold::FAIL_FACTOR,
    ));
    let next = if has_config {
        "carbon-gate check".to_owned()
    } else {
        let quoted: Vec<String> = names.iter().map(|n| shell_word(n)).collect();
        format!("carbon-gate check {}", quoted.join(" "))
    };
    stdout.push_str(&format!("next: {next}\n"));
    Ok(Outcome {
        stdout: crate::error::defuse_commands(&stdout)
            .into_owned()
            .into_bytes(),
        stderr,
        exit: Exit::Pass,
    })
}

/// The logs named, else `emissions.csv` when it is here, else an error saying what to pass.
fn logs_to_read(args: &InitArgs, stderr: &mut Vec<String>) -> Result<Vec<PathBuf>, Error> {
    if !args.input.logs.is_empty() {
        return Ok(args.input.logs.clone());
    }
    if std::fs::symlink_metadata(DEFAULT_LOG).is_ok() {
        stderr.push(format!(
            "carbon-gate: no logs named: reading {DEFAULT_LOG} (where CodeCarbon writes by default)"
        ));
        return Ok(vec![PathBuf::from(DEFAULT_LOG)]);
    }
    Err(Error::Usage(format!(
        "no logs named and no {DEFAULT_LOG} here: give the emissions logs to set the budgets from, e.g. `carbon-gate init runs/emissions.csv` or `carbon-gate init runs/` (CodeCarbon writes emissions.csv in the directory the training ran in)"
    )))
}

/// `path` as the written files name it: relative to the current directory when it is under it
/// (an absolute path of this machine means nothing to a CI runner), else as given.
fn relative(path: &Path) -> PathBuf {
    if path.is_absolute()
        && let Ok(cwd) = std::env::current_dir()
        && let Ok(rest) = path.strip_prefix(&cwd)
        && !rest.as_os_str().is_empty()
    {
        return rest.to_owned();
    }
    path.to_owned()
}

/// One [`Measured`] per model: the largest total among its versions.
fn measure(entries: &[ledger::Entry]) -> Vec<Measured> {
    let mut out: Vec<Measured> = Vec::new();
    for e in entries.iter().filter(|e| e.runs() > 0) {
        let energy = (e.totals.runs_without_energy == 0).then_some(e.totals.energy);
        match out.iter_mut().find(|m| m.model == e.model) {
            Some(m) => {
                if e.totals.emissions > m.co2e {
                    m.co2e = e.totals.emissions;
                }
                m.energy = m.energy.zip(energy).map(|(a, b)| if b > a { b } else { a });
                m.runs += e.runs();
                m.versions += 1;
            }
            None => out.push(Measured {
                model: e.model.clone(),
                co2e: e.totals.emissions,
                energy,
                runs: e.runs(),
                versions: 1,
            }),
        }
    }
    out
}

/// The policy reads back, and each model's budget is the one that applies to it: what `check`
/// will find (it fails here, before anything is written, when a name cannot be budgeted).
fn self_check(policy: &str, measured: &[Measured]) -> Result<(), Error> {
    let loaded = crate::policy::from_texts(
        vec![(PathBuf::from(POLICY_FILE), policy.to_owned())],
        vec![],
    )?;
    for m in measured.iter().filter(|m| m.has_limits()) {
        let covered = loaded
            .policy
            .budgets
            .iter()
            .find(|b| b.model.matches(&m.model));
        let own = covered.is_some_and(|b| b.limits.co2e.is_some() || b.limits.energy.is_some());
        if !own {
            return Err(Error::Usage(format!(
                "cannot write a budget for model `{}`: its name does not read back as a policy `model` that covers it; write {POLICY_FILE} by hand (docs/policy.md)",
                m.model
            )));
        }
    }
    Ok(())
}

/// `carbon-gate.yaml` when the logs hold one model with a version (from the logs or
/// `--model-version`); otherwise a note saying why there is none.
fn config_text(
    args: &InitArgs,
    entries: &[ledger::Entry],
    names: &[String],
    plain_names: bool,
    stderr: &mut Vec<String>,
) -> Option<String> {
    if args.no_config {
        return None;
    }
    let counted: Vec<&ledger::Entry> = entries.iter().filter(|e| e.runs() > 0).collect();
    let why_not = match counted.as_slice() {
        [one] => match &one.version {
            _ if !plain_names || names.iter().any(|n| n.contains(['*', '?', '['])) => {
                "a log's name is not UTF-8 or holds a glob character (* ? [), which the configuration would read as a pattern".to_owned()
            }
            Some(v) => return Some(scaffold::config_text(&one.model, v, names)),
            None => format!(
                "the logs name no version of `{}`: pass --model-version X.Y.Z to write one",
                crate::error::escape_text(&one.model)
            ),
        },
        many => {
            let mut models: Vec<&str> = many.iter().map(|e| e.model.as_str()).collect();
            models.dedup();
            let what = if models.len() > 1 {
                format!("{} models", models.len())
            } else {
                format!("{} versions of one model", many.len())
            };
            format!(
                "the logs hold {what}, and a configuration's candidate counts all of its logs as one model version"
            )
        }
    };
    stderr.push(format!(
        "carbon-gate: note: {CONFIG_NAME} not written: {why_not}; `check` takes the logs instead"
    ));
    None
}

/// The logs as the action's `logs` input, which splits on white space and commas.
fn action_logs(names: &[String]) -> Result<Vec<String>, Error> {
    if let Some(bad) = names
        .iter()
        .find(|n| n.contains(|c: char| c.is_whitespace() || c == ','))
    {
        return Err(Error::Usage(format!(
            "cannot name the log `{}` in the action's `logs` input, which splits on spaces and commas: rename it, or write {WORKFLOW_FILE} yourself (docs/github-action.md)",
            crate::error::escape_text(bad)
        )));
    }
    Ok(names.to_vec())
}

/// Refuse, before anything is written: a link at a target or at a directory on its way (even
/// with `--force`), something other than a regular file at a target, and an existing file
/// without `--force` (all of them named at once).
fn preflight(files: &[(PathBuf, Vec<u8>)], force: bool) -> Result<(), Error> {
    let mut existing = Vec::new();
    for (path, _) in files {
        let mut dir = PathBuf::new();
        for part in path.parent().into_iter().flat_map(Path::components) {
            dir.push(part);
            match std::fs::symlink_metadata(&dir) {
                Ok(meta) if meta.file_type().is_symlink() => return Err(link(&dir)),
                Ok(meta) if !meta.is_dir() => {
                    return Err(Error::Usage(format!(
                        "{} is not a directory: carbon-gate init cannot write {} under it",
                        display_path(&dir),
                        display_path(path)
                    )));
                }
                _ => {}
            }
        }
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_symlink() => return Err(link(path)),
            Ok(meta) if !meta.is_file() => {
                return Err(Error::Usage(format!(
                    "{} exists and is not a regular file: carbon-gate init does not replace it; remove it first",
                    display_path(path)
                )));
            }
            Ok(_) => existing.push(display_path(path)),
            Err(_) => {}
        }
    }
    if !existing.is_empty() && !force {
        return Err(Error::Usage(format!(
            "{} already exist{}: carbon-gate init does not overwrite; nothing was written. Pass --force to replace {}, or move {} aside",
            existing.join(", "),
            if existing.len() == 1 { "s" } else { "" },
            if existing.len() == 1 { "it" } else { "them" },
            if existing.len() == 1 { "it" } else { "them" },
        )));
    }
    Ok(())
}

fn link(path: &Path) -> Error {
    Error::Usage(format!(
        "{} is a symbolic link: carbon-gate init neither writes through a link nor replaces one (even with --force); remove it, or write the files yourself",
        display_path(path)
    ))
}

/// Create the missing directories one level at a time (a link appearing on the way is refused
/// by the next level's check in [`preflight`]; `create_dir` never follows one), then write the
/// file atomically.
fn write(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let output = |source| Error::Output {
        path: path.to_owned(),
        source,
    };
    let mut dir = PathBuf::new();
    for part in path.parent().into_iter().flat_map(Path::components) {
        dir.push(part);
        match std::fs::symlink_metadata(&dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err(link(&dir)),
            Err(_) => std::fs::create_dir(&dir).map_err(output)?,
        }
        // `symlink_metadata` never reports a link as a directory: what passed is a real one.
    }
    outfile::replace(path, bytes).map_err(output)
}

/// `text` as one shell word (quoted when a shell would split or expand it).
fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        text.to_owned()
    } else {
        let text = crate::error::escape_text(text);
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}
