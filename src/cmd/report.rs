//! `carbon-gate report`: the Environmental Impact Disclosure, or a model card's CO2 block.

use crate::error::{self, Error};
use crate::exit::Exit;
use crate::{cli, config, disclosure, policy, render, report, units};

use super::check::{evaluate_args, policy_paths};
use super::groups::is_check_report;
use super::output::deliver;
use super::{Outcome, today};

/// The command line as a user would retype it (program name without its path, arguments quoted
/// where a shell needs it).
fn command_line() -> String {
    let mut words = vec!["carbon-gate".to_owned()];
    // `args_os`: an argument that is not UTF-8 (a file name) is shown lossily, not a panic.
    for a in std::env::args_os().skip(1) {
        let a = a.to_string_lossy().into_owned();
        let plain = !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
        words.push(if plain {
            a
        } else {
            format!("'{}'", a.replace('\'', "'\\''"))
        });
    }
    words.join(" ")
}

/// Files besides logs and policies that a check reads: metrics and baseline reports.
fn other_inputs(
    eval: &cli::EvalArgs,
    cfg: Option<&config::Config>,
) -> Vec<(std::path::PathBuf, &'static str)> {
    let mut out = Vec::new();
    for p in eval.metrics.iter().chain(&eval.baseline_metrics) {
        out.push((p.clone(), "metrics"));
    }
    for p in eval.baseline.iter().filter(|p| is_check_report(p)) {
        out.push((p.clone(), "baseline report"));
    }
    if let Some(c) = cfg {
        for g in &c.groups {
            let mut sources = vec![&g.candidate];
            sources.extend(g.alternatives.iter());
            match &g.baseline {
                Some(config::Baseline::Logs(s)) => sources.push(s),
                Some(config::Baseline::Report { path, .. }) => {
                    out.push((path.clone(), "baseline report"));
                }
                None => {}
            }
            for s in sources {
                if let Some(m) = &s.metrics {
                    out.push((m.clone(), "metrics"));
                }
            }
        }
    }
    out
}

/// `carbon-gate report`: the Environmental Impact Disclosure, or a model card's CO2 block.
pub(crate) fn report_command(args: &cli::ReportArgs) -> Result<Outcome, Error> {
    let (config_path, notes) = super::discover::for_eval(&args.eval, &|_| false);
    let cfg = config_path.as_deref().map(config::load).transpose()?;
    let paths = policy_paths(&args.eval, cfg.as_ref());
    let loaded = policy::load(&paths)?;
    let facts = args
        .facts
        .as_deref()
        .map(disclosure::facts::load)
        .transpose()?
        .unwrap_or_default();
    let report = evaluate_args(&args.eval, cfg.as_ref(), &loaded, None, Vec::new())?;
    let mut stderr = notes;
    stderr.extend(crate::diagnostic::warning_lines(&report.warnings));
    if args.format == cli::ReportFormat::HfCard {
        let candidates: Vec<&report::ModelReport> = report
            .models
            .iter()
            .filter(|m| m.role == report::Role::Candidate)
            .collect();
        let [m] = candidates.as_slice() else {
            return Err(Error::Usage(format!(
                "a model card holds one model, the inputs hold {} candidates ({}): give the logs of one model, or --model NAME",
                candidates.len(),
                candidates
                    .iter()
                    .map(|m| m.label())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        let block = disclosure::hf_card::block(m);
        let text = match &args.card {
            Some(card) => {
                let old = disclosure::hf_card::read_card(card)?;
                let new = disclosure::hf_card::update(&old, &block).map_err(|r| {
                    let at = match r.line {
                        Some(line) => error::Location::line(card, line),
                        None => error::Location::file(card),
                    };
                    Error::input(error::Problem::new(at, r.message).with_help(r.help))
                })?;
                stderr.push(format!(
                    "carbon-gate: co2_eq_emissions of {} = {} g CO2e{}",
                    m.label(),
                    units::format_significant(block.emissions_g, 6),
                    if new == old { " (card unchanged)" } else { "" }
                ));
                new
            }
            None => disclosure::hf_card::lines(&block)
                .into_iter()
                .map(|l| l + "\n")
                .collect(),
        };
        let target = args.out.output.as_deref().or(args.card.as_deref());
        let stdout = deliver(text.into_bytes(), target)?;
        return Ok(Outcome {
            stdout,
            stderr,
            exit: Exit::Pass,
        });
    }
    let d = disclosure::build(
        &report,
        &facts,
        &disclosure::Sources {
            config: config_path.as_deref(),
            facts_file: args.facts.as_deref(),
            policy_files: &loaded.policy.files,
            other_files: other_inputs(&args.eval, cfg.as_ref()),
            command: command_line(),
            date: args.eval.today.unwrap_or_else(today),
            ci: disclosure::ci_provenance(|name| std::env::var(name).ok()),
        },
    )?;
    let renderer: Box<dyn render::Render<disclosure::Disclosure>> = match args.format {
        cli::ReportFormat::Json => Box::new(render::Json),
        cli::ReportFormat::Html => Box::new(render::Html),
        _ => Box::new(render::Markdown::default()),
    };
    let text = super::output::render(renderer.as_ref(), &d)?;
    let nulls = d
        .models
        .iter()
        .flat_map(|m| m.sections.iter())
        .flat_map(|s| s.fields.iter())
        .filter(|f| f.status == disclosure::Status::Null)
        .count();
    stderr.push(format!(
        "carbon-gate: disclosure {} of {} model version(s); gate verdict {}; {nulls} field(s) null with a reason; {} open item(s) for the preparer",
        d.header.id,
        d.models.len(),
        report.verdict.word(),
        d.open_items.len()
    ));
    // The preparer's to-do list goes to stderr as well as to the document's appendix.
    for item in &d.open_items {
        let line = format!(
            "open item {}: {}{}: {}",
            item.number,
            item.model
                .as_deref()
                .map(|m| format!("{m}: "))
                .unwrap_or_default(),
            item.label,
            item.action
        );
        stderr.push(format!("carbon-gate: {}", error::escape_text(&line)));
    }
    let stdout = deliver(text, args.out.output.as_deref())?;
    Ok(Outcome {
        stdout,
        stderr,
        exit: Exit::Pass,
    })
}
