//! `carbon-gate ingest`: the records read from the logs and how the ledger counted them.

use crate::cli::{IngestArgs, IngestFormat};
use crate::error::Error;
use crate::exit::Exit;
use crate::render::{self, Render};
use crate::report::{self, IngestReport, IngestRow, SCHEMA_VERSION};
use crate::{ledger, record};

use super::Outcome;
use super::output::{deliver, use_color};
use super::read::read_logs;

pub(crate) fn ingest_command(args: &IngestArgs) -> Result<Outcome, Error> {
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
    if args.format == IngestFormat::Json {
        // Every row of the logs: written as it is serialized, never held whole in memory.
        super::output::deliver_json(args.out.output.as_deref(), &mut |out| {
            render::Json.render(&report, out)
        })?;
        return Ok(Outcome {
            stdout: Vec::new(),
            stderr: crate::diagnostic::warning_lines(&report.warnings),
            exit: Exit::Pass,
        });
    }
    let renderer: Box<dyn Render<crate::report::IngestReport>> = match args.format {
        IngestFormat::Table => Box::new(render::Table {
            color: use_color(args.out.color, to_file),
            explain: false,
        }),
        IngestFormat::Json => Box::new(render::Json),
        IngestFormat::Markdown => Box::new(render::Markdown::default()),
    };
    let buffer = super::output::render(renderer.as_ref(), &report)?;
    let mut stderr = Vec::new();
    if args.format != IngestFormat::Table || to_file {
        stderr.extend(crate::diagnostic::warning_lines(&report.warnings));
    }
    Ok(Outcome {
        stdout: deliver(buffer, args.out.output.as_deref())?,
        stderr,
        exit: Exit::Pass,
    })
}
