//! carbon-gate: carbon budgets for ML models, enforced in CI.
//!
//! The pipeline runs in one direction: [`ingest`] reads logs into records, [`ledger`] decides
//! which count and totals them per model and version, [`policy`] parses and validates the budgets
//! and evaluates them, [`report`] is the model every [`render`]er reads, and [`exit`] maps the
//! verdict to the process status. [`run`] wires them for the command line; it never prints, it
//! returns what to print.

pub mod assessment;
pub mod bounded;
pub mod cli;
pub mod cmd;
pub mod codes;
pub mod config;
pub mod diagnostic;
pub mod digest;
pub mod disclosure;
pub mod embodied;
pub mod error;
pub mod estimate;
pub mod exit;
pub mod git;
pub mod http;
pub mod ingest;
pub mod intern;
pub mod ledger;
pub mod metrics;
pub mod mitigation;
pub mod names;
pub mod outfile;
pub mod periods;
pub mod policy;
pub mod predict;
pub mod provenance;
pub mod publish;
pub mod record;
pub mod reference;
pub mod registry;
pub mod render;
pub mod report;
pub mod run_key;
pub mod schedule;
pub mod store;
pub mod timestamp;
pub mod tradeoff;
pub mod units;
pub mod yaml;

pub use cmd::{Outcome, action_command, run};
