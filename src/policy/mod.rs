//! Carbon-budget policies: the YAML files under `policies/`, parsed strictly and validated.
//!
//! [`model`] holds the raw serde types, [`validate`] turns them into a checked [`Policy`] (with
//! every problem located), [`eval`] applies a policy to the ledger's totals, [`periods`] judges
//! the budgets over time (periods, trajectory) on the organisation's ledger.

pub mod at_ref;
pub mod eval;
pub mod findings;
pub mod grid;
pub mod model;
pub mod pattern;
pub mod periods;
pub mod rules;
pub mod validate;

pub use validate::{
    Budget, Limits, Loaded, ModelPattern, PeriodBudget, Policy, Team, Thresholds, Trajectory,
    from_texts, load, schema_json,
};
