//! The rules a budget adds beyond absolute limits — regression vs the baseline, efficiency, the
//! accuracy floor — and the policy's exceptions, validated into checked types with their places.

use std::path::Path;

use semver::VersionReq;

use super::model::{
    Direction, Mode, RawBudget, RawEfficiencyLimit, RawException, RawQuantity, RawRegressionLimit,
};
use super::pattern::ModelPattern;
use crate::error::{Location, Problem};
use crate::units::{Dimension, Energy, Mass, Quantity, Ratio, parse_quantity};
use crate::yaml::Spans;

/// A regression limit: relative increases, and an absolute floor below which a change is noise.
#[derive(Debug, Clone, PartialEq)]
pub struct Regression<T> {
    /// Increase that warns.
    pub warn: Option<Ratio>,
    /// Increase that fails.
    pub fail: Option<Ratio>,
    /// Absolute noise floor.
    pub floor: Option<T>,
    /// Report only?
    pub mode: Mode,
    /// Where it is written.
    pub origin: Location,
}

/// An efficiency limit, in kg CO2e per unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Efficiency {
    /// Metric counting the units (`None`: the default for the kind).
    pub metric: Option<String>,
    /// Warn above.
    pub warn: Option<Mass>,
    /// Fail above.
    pub fail: Option<Mass>,
    /// Report only?
    pub mode: Mode,
    /// Where it is written.
    pub origin: Location,
}

/// The accuracy rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Accuracy {
    /// Metric name.
    pub metric: String,
    /// Which way it improves.
    pub direction: Direction,
    /// Floor (ceiling for lower-is-better).
    pub min: Option<f64>,
    /// Largest drop from the best row that the recommendation accepts.
    pub max_drop: Option<f64>,
    /// Report only?
    pub mode: Mode,
    /// Where it is written.
    pub origin: Location,
}

/// A budget's rules beyond absolute limits.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rules {
    /// CO2e regression.
    pub regression_co2e: Option<Regression<Mass>>,
    /// Energy regression.
    pub regression_energy: Option<Regression<Energy>>,
    /// CO2e per accuracy point.
    pub per_point: Option<Efficiency>,
    /// CO2e per 1,000 inferences.
    pub per_1k_inferences: Option<Efficiency>,
    /// Accuracy.
    pub accuracy: Option<Accuracy>,
}

/// An approved exception.
#[derive(Debug, Clone)]
pub struct Exception {
    /// Models covered.
    pub model: ModelPattern,
    /// Versions covered.
    pub versions: Option<VersionReq>,
    /// Finding code waived.
    pub code: String,
    /// Metric, when the rule names one (`budget-exceeded:co2e`).
    pub metric: Option<String>,
    /// Why.
    pub reason: String,
    /// Last day it applies.
    pub expires: time::Date,
    /// Who approved it.
    pub approved_by: String,
    /// Where it is written.
    pub origin: Location,
}

impl Exception {
    /// The rule as written: `budget-exceeded` or `budget-exceeded:co2e`.
    pub fn rule(&self) -> String {
        match &self.metric {
            Some(m) => format!("{}:{m}", self.code),
            None => self.code.clone(),
        }
    }
}

struct Ctx<'a> {
    file: &'a Path,
    spans: &'a Spans,
    problems: &'a mut Vec<Problem>,
}

impl Ctx<'_> {
    fn at(&self, path: &str) -> Location {
        self.spans.locate(self.file, path)
    }

    fn quantity(
        &mut self,
        raw: &Option<RawQuantity>,
        dim: Dimension,
        path: &str,
    ) -> Option<Quantity> {
        let RawQuantity(text) = raw.as_ref()?;
        match parse_quantity(text, dim) {
            Ok(q) => Some(q),
            Err(err) => {
                let key = path.rsplit('.').next().unwrap_or(path);
                self.problems
                    .push(Problem::new(self.at(path), format!("`{key}`: {err}")));
                None
            }
        }
    }

    fn percent(&mut self, raw: &Option<RawQuantity>, path: &str) -> Option<Ratio> {
        match self.quantity(raw, Dimension::Percent, path)? {
            Quantity::Percent(r) => Some(r),
            _ => None,
        }
    }

    fn mass(&mut self, raw: &Option<RawQuantity>, path: &str) -> Option<Mass> {
        match self.quantity(raw, Dimension::Mass, path)? {
            Quantity::Mass(m) => Some(m),
            _ => None,
        }
    }

    fn regression<T>(
        &mut self,
        raw: &RawRegressionLimit,
        path: &str,
        floor: impl Fn(&mut Self, &Option<RawQuantity>, &str) -> Option<T>,
    ) -> Option<Regression<T>> {
        let warn = self.percent(&raw.warn, &format!("{path}.warn"));
        let fail = self.percent(&raw.fail, &format!("{path}.fail"));
        let floor = floor(self, &raw.floor, &format!("{path}.floor"));
        if raw.warn.is_none() && raw.fail.is_none() {
            self.problems.push(
                Problem::new(
                    self.at(path),
                    "regression limit has neither `warn` nor `fail`",
                )
                .with_help("e.g. `{ warn: \"5%\", fail: \"10%\" }`"),
            );
            return None;
        }
        if let (Some(w), Some(f)) = (warn, fail)
            && w > f
        {
            self.problems.push(Problem::new(
                self.at(&format!("{path}.warn")),
                format!("warn {w} is above fail {f}: the warning could never show"),
            ));
            return None;
        }
        Some(Regression {
            warn,
            fail,
            floor,
            mode: raw.mode,
            origin: self.at(path),
        })
    }

    fn efficiency(&mut self, raw: &RawEfficiencyLimit, path: &str) -> Option<Efficiency> {
        let warn = self.mass(&raw.warn, &format!("{path}.warn"));
        let fail = self.mass(&raw.fail, &format!("{path}.fail"));
        if raw.warn.is_none() && raw.fail.is_none() {
            self.problems.push(Problem::new(
                self.at(path),
                "efficiency limit has neither `warn` nor `fail`",
            ));
            return None;
        }
        if let (Some(w), Some(f)) = (warn, fail)
            && w > f
        {
            self.problems.push(Problem::new(
                self.at(&format!("{path}.warn")),
                format!("warn {w} is above fail {f}: the warning could never show"),
            ));
            return None;
        }
        Some(Efficiency {
            metric: raw.metric.clone(),
            warn,
            fail,
            mode: raw.mode,
            origin: self.at(path),
        })
    }
}

/// Validate a budget's regression, efficiency and accuracy rules.
pub fn validate(
    file: &Path,
    spans: &Spans,
    at: &str,
    raw: &RawBudget,
    problems: &mut Vec<Problem>,
) -> Rules {
    let mut ctx = Ctx {
        file,
        spans,
        problems,
    };
    let mut rules = Rules::default();
    if let Some(reg) = &raw.limits.regression {
        if let Some(r) = &reg.co2e {
            rules.regression_co2e =
                ctx.regression(r, &format!("{at}.limits.regression.co2e"), |c, q, p| {
                    c.mass(q, p)
                });
        }
        if let Some(r) = &reg.energy {
            rules.regression_energy = ctx.regression(
                r,
                &format!("{at}.limits.regression.energy"),
                |c, q, p| match c.quantity(q, Dimension::Energy, p)? {
                    Quantity::Energy(e) => Some(e),
                    _ => None,
                },
            );
        }
        if reg.co2e.is_none() && reg.energy.is_none() {
            ctx.problems.push(Problem::new(
                ctx.at(&format!("{at}.limits.regression")),
                "`regression` has neither `co2e` nor `energy`",
            ));
        }
    }
    if let Some(eff) = &raw.limits.efficiency {
        if let Some(e) = &eff.co2e_per_point {
            rules.per_point = ctx.efficiency(e, &format!("{at}.limits.efficiency.co2e-per-point"));
        }
        if let Some(e) = &eff.co2e_per_1k_inferences {
            rules.per_1k_inferences =
                ctx.efficiency(e, &format!("{at}.limits.efficiency.co2e-per-1k-inferences"));
        }
        if rules.per_point.is_some()
            && raw.accuracy.is_none()
            && eff
                .co2e_per_point
                .as_ref()
                .is_some_and(|e| e.metric.is_none())
        {
            ctx.problems.push(
                Problem::new(
                    ctx.at(&format!("{at}.limits.efficiency.co2e-per-point")),
                    "`co2e-per-point` needs a metric: set `metric:` here or an `accuracy:` rule",
                )
                .with_help("e.g. `accuracy: { metric: f1, min: 0.88 }`"),
            );
        }
    }
    if let Some(a) = &raw.accuracy {
        let path = format!("{at}.accuracy");
        if a.metric.trim().is_empty() {
            ctx.problems.push(Problem::new(
                ctx.at(&format!("{path}.metric")),
                "`metric` is empty: name the metric in the metrics file (`accuracy`, `f1`…)",
            ));
        }
        for (key, value) in [("min", a.min), ("max-drop", a.max_drop)] {
            if let Some(v) = value
                && !v.is_finite()
            {
                ctx.problems.push(Problem::new(
                    ctx.at(&format!("{path}.{key}")),
                    format!("`{key}` must be a finite number"),
                ));
            }
        }
        if a.max_drop.is_some_and(|d| d < 0.0) {
            ctx.problems.push(Problem::new(
                ctx.at(&format!("{path}.max-drop")),
                "`max-drop` must be zero or more",
            ));
        }
        rules.accuracy = Some(Accuracy {
            metric: a.metric.clone(),
            direction: a.direction,
            min: a.min,
            max_drop: a.max_drop,
            mode: a.mode,
            origin: ctx.at(&path),
        });
    }
    rules
}

/// The finding codes an exception may name.
pub const WAIVABLE: &[&str] = &[
    crate::codes::BUDGET_EXCEEDED,
    crate::codes::REGRESSION_EXCEEDED,
    crate::codes::ACCURACY_BELOW_FLOOR,
    crate::codes::EFFICIENCY_EXCEEDED,
    crate::codes::NO_DATA_FOR_BUDGET,
    crate::codes::NO_ENERGY_DATA,
    crate::codes::MISSING_EMBODIED,
    crate::codes::METRIC_MISSING,
    crate::codes::INTENSITY_EXCEEDED,
];

/// Validate the exceptions of a file.
pub fn exceptions(
    file: &Path,
    spans: &Spans,
    raw: &[RawException],
    problems: &mut Vec<Problem>,
) -> Vec<Exception> {
    let mut out = Vec::new();
    for (i, e) in raw.iter().enumerate() {
        let at = format!("exceptions[{i}]");
        let locate = |k: &str| spans.locate(file, &format!("{at}.{k}"));
        let before = problems.len();
        let model = match ModelPattern::parse(&e.model) {
            Ok(p) => Some(p),
            Err(message) => {
                problems.push(Problem::new(locate("model"), message));
                None
            }
        };
        let versions = e
            .versions
            .as_ref()
            .and_then(|v| match VersionReq::parse(v) {
                Ok(r) => Some(r),
                Err(err) => {
                    problems.push(Problem::new(
                        locate("versions"),
                        format!("`versions: {v}` is not a semver requirement: {err}"),
                    ));
                    None
                }
            });
        let (code, metric) = match e.rule.split_once(':') {
            Some((c, m)) => (c.trim().to_owned(), Some(m.trim().to_owned())),
            None => (e.rule.trim().to_owned(), None),
        };
        if !WAIVABLE.contains(&code.as_str()) {
            problems.push(
                Problem::new(
                    locate("rule"),
                    format!("`rule: {}` is not a finding that can be waived", e.rule),
                )
                .with_help(format!("use one of: {}", WAIVABLE.join(", "))),
            );
        }
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let expires = match time::Date::parse(e.expires.trim(), &format) {
            Ok(d) => Some(d),
            Err(_) => {
                problems.push(Problem::new(
                    locate("expires"),
                    format!("`expires: {}` is not a date: write YYYY-MM-DD", e.expires),
                ));
                None
            }
        };
        for (key, value) in [("reason", &e.reason), ("approved-by", &e.approved_by)] {
            if value.trim().is_empty() {
                problems.push(Problem::new(
                    locate(key),
                    format!("`{key}` is empty: an exception needs a reason and an approver"),
                ));
            }
        }
        if problems.len() == before
            && let (Some(model), Some(expires)) = (model, expires)
        {
            out.push(Exception {
                model,
                versions,
                code,
                metric,
                reason: e.reason.clone(),
                expires,
                approved_by: e.approved_by.clone(),
                origin: spans.locate(file, &at),
            });
        }
    }
    out
}
