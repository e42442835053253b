//! `carbon-gate schedule`: the arguments as the scheduler's options, its plan as text or JSON.

use super::Outcome;
use super::output::render;
use crate::cli::{ScheduleArgs, ScheduleFormat};
use crate::error::Error;
use crate::exit::Exit;
use crate::{render, schedule};

/// `carbon-gate schedule`.
pub(crate) fn schedule_command(
    args: &ScheduleArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Outcome, Error> {
    let options = schedule::Options {
        locations: args.locations.clone(),
        energy: args.energy,
        power: args.power,
        duration: args.duration,
        deadline: args.deadline.clone(),
        now: args.now.clone(),
        source: args.source.into(),
        api_url: args.api_url.clone(),
        signal_type: args.signal_type.clone(),
        cache: args.cache.clone(),
        cache_minutes: args.cache_minutes,
    };
    let recommendation = schedule::recommend(&options, env)?;
    let stdout = match args.format {
        ScheduleFormat::Json => render(&render::Json, &recommendation)?,
        ScheduleFormat::Table => render(&render::Table::default(), &recommendation)?,
    };
    Ok(Outcome {
        stdout,
        stderr: Vec::new(),
        exit: Exit::Pass,
    })
}
