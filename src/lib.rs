//! carbon-gate: carbon budgets for ML models, enforced in CI.
//!
//! The pipeline runs in one direction: [`ingest`] reads logs into records, [`ledger`] decides
//! which count and totals them per model and version, [`policy`] parses and validates the budgets
//! and evaluates them, [`report`] is the model every [`render`]er reads, and [`exit`] maps the
//! verdict to the process status. [`run`] wires them for the command line; it never prints, it
//! returns what to print.

pub mod cli;
pub mod codes;
pub mod diagnostic;
pub mod embodied;
pub mod error;
pub mod estimate;
pub mod exit;
pub mod ingest;
pub mod ledger;
pub mod policy;
pub mod record;
pub mod reference;
pub mod render;
pub mod report;
pub mod units;
pub mod yaml;

use std::io::{IsTerminal, Write};
use std::path::Path;

use cli::{
    CheckArgs, CheckFormat, Cli, ColorChoice, Command, IngestArgs, IngestFormat, PolicyCommand,
};
use error::{Error, display_path};
use exit::Exit;
use ledger::{Attribution, Reconciled};
use render::Render;
use report::{CheckReport, IngestReport, IngestRow, SCHEMA_VERSION, Verdict};

/// What a command produced: what goes to standard output, the lines for standard error, and the
/// exit status.
#[derive(Debug)]
pub struct Outcome {
    /// Bytes for standard output (empty when the report went to `--output`).
    pub stdout: Vec<u8>,
    /// Lines for standard error: warnings and the one-line verdict.
    pub stderr: Vec<String>,
    /// The exit status.
    pub exit: Exit,
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> Result<Outcome, Error> {
    match cli.command {
        Command::Check(args) => check(&args),
        Command::Ingest(args) => ingest_command(&args),
        Command::Policy(PolicyCommand::Validate { paths }) => policy_validate(&paths),
        Command::Policy(PolicyCommand::Schema)
        | Command::Schema {
            which: cli::SchemaKind::Policy,
        } => Ok(Outcome {
            stdout: policy::schema_json().into_bytes(),
            stderr: Vec::new(),
            exit: Exit::Pass,
        }),
        Command::Estimate(args) => estimate_command(&args),
        Command::Reference(cmd) => reference_command(&cmd),
        Command::Schema {
            which: cli::SchemaKind::Record,
        } => Ok(Outcome {
            stdout: ingest::native::schema_json().into_bytes(),
            stderr: Vec::new(),
            exit: Exit::Pass,
        }),
    }
}

fn use_color(choice: ColorChoice, to_file: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            !to_file
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// Read and reconcile logs.
fn read_logs(
    input: &cli::InputArgs,
) -> Result<(Reconciled, Vec<ingest::InputFile>, Vec<diagnostic::Warning>), Error> {
    let options = ingest::Options {
        format: input.input_format,
        hf_units: input.hf_units,
    };
    let ingested = ingest::ingest(&input.logs, &options)?;
    let mut warnings = ingested.warnings;
    let reconciled = ledger::reconcile(ingested.records);
    warnings.extend(reconciled.warnings.iter().cloned());
    Ok((reconciled, ingested.files, warnings))
}

fn check(args: &CheckArgs) -> Result<Outcome, Error> {
    let loaded = policy::load(&args.policy)?;
    let (mut reconciled, inputs, mut warnings) = read_logs(&args.input)?;
    warnings.extend(loaded.warnings);
    let attribution = Attribution {
        model: args.model.clone(),
        version: args.model_version.clone(),
        phase: args.input.phase,
    };
    let (entries, attribution_warnings) = ledger::aggregate(&mut reconciled, &attribution);
    warnings.extend(attribution_warnings);
    let models =
        policy::eval::evaluate(&loaded.policy, &entries, reference::Reference::embedded()?);
    let (verdict, summary) = report::summarize(&models);
    let report = CheckReport {
        schema_version: SCHEMA_VERSION,
        verdict,
        summary,
        policy_files: loaded
            .policy
            .files
            .iter()
            .map(|p| display_path(p))
            .collect(),
        models,
        warnings,
        inputs,
    };
    let to_file = args.out.output.is_some();
    let mut buffer = Vec::new();
    let renderer: Box<dyn Render> = match args.format {
        CheckFormat::Table => Box::new(render::Table {
            color: use_color(args.out.color, to_file),
            explain: args.explain,
        }),
        CheckFormat::Json => Box::new(render::Json),
        CheckFormat::Markdown => Box::new(render::Markdown),
    };
    renderer
        .check(&report, &mut buffer)
        .map_err(|source| Error::Output {
            path: "<report>".into(),
            source,
        })?;
    let mut stderr = Vec::new();
    if args.format != CheckFormat::Table || to_file {
        stderr.extend(report.warnings.iter().map(|w| format!("warning: {w}")));
    }
    stderr.push(format!("carbon-gate: {}", report.summary));
    let stdout = deliver(buffer, args.out.output.as_deref())?;
    Ok(Outcome {
        stdout,
        stderr,
        exit: if report.verdict == Verdict::Fail {
            Exit::BudgetExceeded
        } else {
            Exit::Pass
        },
    })
}

fn ingest_command(args: &IngestArgs) -> Result<Outcome, Error> {
    let (mut reconciled, inputs, warnings) = read_logs(&args.input)?;
    if let Some(phase) = args.input.phase {
        for r in reconciled.records.iter_mut().filter(|r| r.phase.is_none()) {
            r.phase = Some(phase);
        }
    }
    let totals = ledger::totals(&reconciled, 0..reconciled.records.len());
    let mut formats: Vec<record::Format> = reconciled.records.iter().map(|r| r.format).collect();
    formats.sort();
    formats.dedup();
    let by_format = formats
        .into_iter()
        .map(|format| report::FormatTotals {
            format,
            totals: ledger::totals(
                &reconciled,
                (0..reconciled.records.len()).filter(|&i| reconciled.records[i].format == format),
            ),
        })
        .collect();
    let report = IngestReport {
        schema_version: SCHEMA_VERSION,
        records: reconciled
            .records
            .into_iter()
            .zip(reconciled.statuses)
            .map(|(record, counted)| IngestRow { record, counted })
            .collect(),
        totals,
        by_format,
        warnings,
        inputs,
    };
    let to_file = args.out.output.is_some();
    let renderer: Box<dyn Render> = match args.format {
        IngestFormat::Table => Box::new(render::Table {
            color: use_color(args.out.color, to_file),
            explain: false,
        }),
        IngestFormat::Json => Box::new(render::Json),
        IngestFormat::Markdown => Box::new(render::Markdown),
    };
    let mut buffer = Vec::new();
    renderer
        .ingest(&report, &mut buffer)
        .map_err(|source| Error::Output {
            path: "<report>".into(),
            source,
        })?;
    let mut stderr = Vec::new();
    if args.format != IngestFormat::Table || to_file {
        stderr.extend(report.warnings.iter().map(|w| format!("warning: {w}")));
    }
    Ok(Outcome {
        stdout: deliver(buffer, args.out.output.as_deref())?,
        stderr,
        exit: Exit::Pass,
    })
}

fn policy_validate(paths: &[std::path::PathBuf]) -> Result<Outcome, Error> {
    let loaded = policy::load(paths)?;
    let mut stderr: Vec<String> = loaded
        .warnings
        .iter()
        .map(|w| format!("warning: {w}"))
        .collect();
    let n = loaded.policy.budgets.len();
    stderr.push(format!(
        "carbon-gate: policy OK: {n} budget{} in {} file{}",
        if n == 1 { "" } else { "s" },
        loaded.policy.files.len(),
        if loaded.policy.files.len() == 1 {
            ""
        } else {
            "s"
        }
    ));
    Ok(Outcome {
        stdout: Vec::new(),
        stderr,
        exit: Exit::Pass,
    })
}

fn estimate_command(args: &cli::EstimateArgs) -> Result<Outcome, Error> {
    let reference = reference::Reference::embedded()?;
    let input = estimate::Input {
        accelerator: args.accelerator.clone(),
        power: args.power,
        count: args.count,
        hours: args.hours.map(|h| units::Duration::seconds(h * 3600.0)),
        device_hours: args.device_hours,
        flops: args.flops,
        mfu: args.mfu,
        peak_tflops: args.peak_tflops,
        utilization: args.utilization,
        region: args.region.clone(),
        country: args.country.clone(),
        intensity: args.intensity,
        market_factor: args.market_factor,
        pue: args.pue,
        lifetime: args.lifetime,
        devices_per_server: args.devices_per_server,
        accelerator_embodied: args.accelerator_embodied,
        server_embodied: args.server_embodied,
        model: args.model.clone(),
        version: args.model_version.as_ref().map(ToString::to_string),
        phase: args.phase,
        run_id: args.run_id.clone(),
        overrides: if args.policy.is_empty() {
            embodied::Overrides::default()
        } else {
            policy::load(&args.policy)?.policy.overrides
        },
    };
    let estimate = estimate::estimate(&input, reference)?;
    let mut buffer = Vec::new();
    let written = match args.format {
        cli::EstimateFormat::Record => render::estimate::record(&estimate, &mut buffer),
        cli::EstimateFormat::Json => render::estimate::json(&estimate, &mut buffer),
        cli::EstimateFormat::Table => render::estimate::text(&estimate, args.explain, &mut buffer),
    };
    written.map_err(|source| Error::Output {
        path: "<report>".into(),
        source,
    })?;
    let t = render::estimate::totals(&estimate);
    Ok(Outcome {
        stdout: deliver(buffer, args.out.output.as_deref())?,
        stderr: vec![format!(
            "carbon-gate: estimate: {} energy, {} CO2e ({} operational + {} embodied); range {}–{}",
            t.energy, t.emissions, t.operational, t.embodied, t.emissions_low, t.emissions_high
        )],
        exit: Exit::Pass,
    })
}

fn reference_command(cmd: &cli::ReferenceCommand) -> Result<Outcome, Error> {
    use cli::{ReferenceCommand, ReferenceFormat, ReferenceTable};
    let reference = reference::Reference::embedded()?;
    let mut out = Vec::new();
    let json = |value: serde_json::Value, out: &mut Vec<u8>| {
        let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
        text.push('\n');
        out.extend_from_slice(text.as_bytes());
    };
    match cmd {
        ReferenceCommand::List { table, format } => {
            let names: Vec<&str> = match table {
                None => reference::TABLES.iter().map(|t| t.0).collect(),
                Some(t) => vec![match t {
                    ReferenceTable::Accelerators => "accelerators",
                    ReferenceTable::Cpus => "cpus",
                    ReferenceTable::Countries => "countries",
                    ReferenceTable::Subdivisions => "subdivisions",
                    ReferenceTable::Regions => "regions",
                    ReferenceTable::Pue => "pue",
                    ReferenceTable::Defaults => "defaults",
                }],
            };
            match format {
                ReferenceFormat::Json => {
                    let mut doc = serde_json::Map::new();
                    for name in names {
                        let value = match name {
                            "accelerators" => serde_json::to_value(&reference.accelerators),
                            "cpus" => serde_json::to_value(&reference.cpus),
                            "countries" => serde_json::to_value(&reference.countries),
                            "subdivisions" => serde_json::to_value(&reference.subdivisions),
                            "regions" => serde_json::to_value(&reference.regions),
                            "pue" => serde_json::to_value(&reference.pue),
                            _ => serde_json::to_value(&reference.defaults),
                        }
                        .unwrap_or_default();
                        doc.insert(name.to_owned(), value);
                    }
                    json(serde_json::Value::Object(doc), &mut out);
                }
                ReferenceFormat::Table => {
                    for (name, file, text) in
                        reference::TABLES.iter().filter(|t| names.contains(&t.0))
                    {
                        let (header, rows) = reference::raw_rows(text);
                        let mut t = comfy_table::Table::new();
                        t.load_style(comfy_table::presets::ASCII_MARKDOWN);
                        t.force_no_tty();
                        t.set_header(header);
                        for row in rows {
                            t.add_row(row);
                        }
                        out.extend_from_slice(
                            format!("{name} (src/reference/{file})\n{t}\n\n").as_bytes(),
                        );
                    }
                }
            }
        }
        ReferenceCommand::Show { name, format } => {
            let rows = reference::find_rows(name);
            if rows.is_empty() {
                let known = reference::known_names();
                let suggestions = reference::closest(name, known.iter().map(String::as_str));
                return Err(Error::input(
                    error::Problem::new(
                        error::Location::file("<command line>"),
                        format!("no reference row named \"{name}\""),
                    )
                    .with_help(format!("closest known: {}", suggestions.join(", "))),
                ));
            }
            match format {
                ReferenceFormat::Json => {
                    let values: Vec<serde_json::Value> = rows
                        .iter()
                        .map(|(table, header, row)| {
                            let mut m = serde_json::Map::new();
                            m.insert("table".into(), (*table).into());
                            for (k, v) in header.iter().zip(row) {
                                m.insert(k.clone(), v.clone().into());
                            }
                            serde_json::Value::Object(m)
                        })
                        .collect();
                    json(serde_json::Value::Array(values), &mut out);
                }
                ReferenceFormat::Table => {
                    for (table, header, row) in rows {
                        out.extend_from_slice(format!("[{table}]\n").as_bytes());
                        for (k, v) in header.iter().zip(&row) {
                            out.extend_from_slice(format!("  {k}: {v}\n").as_bytes());
                        }
                    }
                }
            }
        }
    }
    Ok(Outcome {
        stdout: out,
        stderr: Vec::new(),
        exit: Exit::Pass,
    })
}

/// Return the report for standard output, or write it whole to `path` (through a temporary file
/// in the same directory, renamed into place) and return nothing.
fn deliver(buffer: Vec<u8>, path: Option<&Path>) -> Result<Vec<u8>, Error> {
    let Some(path) = path else {
        return Ok(buffer);
    };
    let fail = |source| Error::Output {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".to_owned());
    let tmp = dir.join(format!(".{name}.carbon-gate.tmp"));
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(&buffer).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(err) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(err));
    }
    Ok(Vec::new())
}
