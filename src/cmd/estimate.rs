//! `carbon-gate estimate`: a run nothing measured, estimated from its hardware and duration.

use crate::error::Error;
use crate::exit::Exit;
use crate::{cli, embodied, estimate, policy, reference, render, units};

use super::Outcome;
use super::output::deliver;

pub(crate) fn estimate_command(args: &cli::EstimateArgs) -> Result<Outcome, Error> {
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
    let report = crate::report::EstimateReport::new(estimate::estimate(&input, reference)?);
    let renderer: Box<dyn render::Render<crate::report::EstimateReport>> = match args.format {
        cli::EstimateFormat::Record => Box::new(render::Record),
        cli::EstimateFormat::Json => Box::new(render::Json),
        cli::EstimateFormat::Table => Box::new(render::Table {
            color: false,
            explain: args.explain,
        }),
    };
    let buffer = super::output::render(renderer.as_ref(), &report)?;
    let t = &report.totals;
    Ok(Outcome {
        stdout: deliver(buffer, args.out.output.as_deref())?,
        stderr: vec![format!(
            "carbon-gate: estimate: {} energy, {} CO2e ({} operational + {} embodied); range {}–{}",
            t.energy, t.emissions, t.operational, t.embodied, t.emissions_low, t.emissions_high
        )],
        exit: Exit::Pass,
    })
}
