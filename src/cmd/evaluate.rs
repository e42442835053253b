//! Candidate groups evaluated against a policy: the report every renderer reads, whether `check`,
//! `report` or `promote` reached it.

use crate::error::{Error, display_path};
use crate::report::{self, CheckReport, SCHEMA_VERSION, Verdict};
use crate::{codes, diagnostic, ingest, mitigation, policy, reference, tradeoff};

/// What the report says about where its figures came from, besides the groups.
pub(crate) struct Evidence {
    /// Files read.
    pub inputs: Vec<ingest::InputFile>,
    /// Warnings so far (reading, policy).
    pub warnings: Vec<diagnostic::Warning>,
    /// `--policy-ref`, when the policy was read at a git ref.
    pub policy_ref: Option<String>,
    /// What the change does to the policy.
    pub policy_changes: Vec<String>,
    /// Compute the what-if for every candidate (not only those that did not pass).
    pub whatif: bool,
}

/// Evaluate candidate groups against a policy: the report every renderer reads. `check` and
/// `promote` both come here, so a verdict means the same wherever it was reached.
pub(crate) fn evaluate(
    loaded: &policy::Loaded,
    groups: &[policy::eval::GroupInput],
    evidence: Evidence,
    today: time::Date,
) -> Result<CheckReport, Error> {
    let Evidence {
        inputs,
        mut warnings,
        policy_ref,
        policy_changes,
        whatif: whatif_always,
    } = evidence;
    warnings.extend(loaded.warnings.clone());
    if !policy_changes.is_empty() {
        warnings.push(diagnostic::Warning::general(
            codes::POLICY_CHANGED,
            format!(
                "this change edits the carbon policy; the verdict used the policy at {}: {}",
                policy_ref.as_deref().unwrap_or_default(),
                policy_changes.join("; ")
            ),
        ));
    }
    let ctx = policy::eval::Context {
        policy: &loaded.policy,
        reference: reference::Reference::embedded()?,
        today,
    };
    let (models, exception_warnings) = policy::eval::evaluate_groups(&ctx, groups);
    warnings.extend(exception_warnings);
    let tradeoffs = group_tradeoffs(&models, &loaded.policy);
    let (verdict, summary) = report::summarize(&models);
    let mut whatif = Vec::new();
    for m in models.iter().filter(|m| m.role == report::Role::Candidate) {
        if !(whatif_always || m.verdict != Verdict::Pass) {
            continue;
        }
        let preferred = loaded
            .policy
            .budget_of(m)
            .and_then(|b| b.preferred_regions.as_ref())
            .map(|(list, _)| list.clone())
            .unwrap_or_default();
        whatif.extend(mitigation::what_if(m, ctx.reference, &preferred, 3));
    }
    Ok(CheckReport {
        schema_version: SCHEMA_VERSION,
        verdict,
        summary,
        policy_files: loaded
            .policy
            .files
            .iter()
            .map(|p| display_path(p))
            .collect(),
        policy_ref,
        policy_changes,
        evidence_changes: Vec::new(),
        equivalence: report::car_equivalence(&models, ctx.reference),
        models,
        tradeoffs,
        whatif,
        predictions: Vec::new(),
        periods: Vec::new(),
        ledger: None,
        warnings,
        inputs,
    })
}

/// The trade-off of each group that has more than its candidate, or metrics to compare.
fn group_tradeoffs(
    models: &[report::ModelReport],
    policy: &policy::Policy,
) -> Vec<tradeoff::TradeOff> {
    // The groups in order of first appearance, each with its members (a check may hold
    // thousands of models, each its own group: no search per model).
    let mut groups: Vec<Vec<&report::ModelReport>> = Vec::new();
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for m in models {
        let at = *index.entry(m.group.as_str()).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[at].push(m);
    }
    groups
        .into_iter()
        .filter_map(|members| {
            let candidate = members.iter().find(|m| m.role == report::Role::Candidate)?;
            if members.len() < 2 && candidate.metrics.is_empty() {
                return None;
            }
            let rule = policy
                .budget_of(candidate)
                .and_then(|b| b.rules.accuracy.as_ref());
            tradeoff::build(&members, rule)
        })
        .collect()
}
