//! The normalized run record every input format is read into.
//!
//! One record is one row (or one block) of an emissions log: a whole tracked run, or one task of a
//! run. It keeps the quantities in typed units and the place it was read from, so every total the
//! tool prints can be traced back to the rows that made it.

use serde::Serialize;

use crate::error::Location;
use crate::units::{Duration, Energy, Mass};

/// The input formats the tool reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// CodeCarbon `emissions.csv` (every released layout) and its per-task files.
    Codecarbon,
}

impl Format {
    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Format::Codecarbon => "codecarbon",
        }
    }

    /// Where the energy and CO2e figures of a record come from, and their units as written.
    pub fn provenance(self) -> &'static str {
        match self {
            Format::Codecarbon => {
                "CodeCarbon `energy_consumed` (kWh, CodeCarbon's PUE applied) and `emissions` (kg CO2e = energy × the grid intensity CodeCarbon used)"
            }
        }
    }
}

/// Energy split by component, where the tool measured it (kWh each).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Components {
    /// CPU energy.
    pub cpu_kwh: Energy,
    /// GPU energy.
    pub gpu_kwh: Energy,
    /// RAM energy.
    pub ram_kwh: Energy,
}

/// Where the run took place, as the tool recorded it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Place {
    /// Country name as written.
    pub country: Option<String>,
    /// ISO 3166 code as written (alpha-3 for CodeCarbon).
    pub country_iso: Option<String>,
    /// Sub-national region as written.
    pub region: Option<String>,
    /// Cloud provider, when on a cloud.
    pub cloud_provider: Option<String>,
    /// Cloud region, when on a cloud.
    pub cloud_region: Option<String>,
}

/// One run (or one task of a run) as read from a log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    /// File and line it was read from.
    pub source: Location,
    /// The input format.
    pub format: Format,
    /// The layout of the file, e.g. `codecarbon 2.7–3.0.7 (32 columns)`.
    pub layout: String,
    /// The version of the tool that wrote the row, when the row says.
    pub tool_version: Option<String>,
    /// The tool's run id: the key under which rows of the same run are reconciled.
    pub run_id: String,
    /// Set for a per-task row: the task name.
    pub task: Option<String>,
    /// The project name the tool recorded (CodeCarbon `project_name`).
    pub project: Option<String>,
    /// When the row was written, as the tool wrote it (CodeCarbon: local time, no zone).
    pub timestamp: Option<String>,
    /// Tracked duration.
    #[serde(rename = "duration_s")]
    pub duration: Duration,
    /// Energy consumed, with the tool's PUE applied where it applies one.
    #[serde(rename = "energy_kwh")]
    pub energy: Energy,
    /// Emissions, kg CO2e.
    #[serde(rename = "co2e_kg")]
    pub emissions: Mass,
    /// Energy by component, when present and read.
    pub components: Option<Components>,
    /// Where the run took place.
    pub place: Place,
    /// PUE the tool applied, when it says.
    pub pue: Option<f64>,
}
