//! When two rows of one run may both be true: the rules that decide whether rows sharing a run
//! id are snapshots of one run (and which is the later), or conflicting evidence.
//!
//! A tracker that writes a run several times (CodeCarbon's `flush()`, a rewrite, a run present in
//! a rotated backup and in the new file) writes **cumulative** snapshots: a later snapshot has
//! every cumulative figure — energy, CO2e, duration, per-component energies — at least as large
//! as an earlier one, and it says the same about what does not change during a run: the model
//! and version it is attributed to, the hardware, the place and when the run started.
//!
//! Rows that break this are not snapshots of one run. Before, the row with the most energy was
//! kept, so a forged row with a little more energy and almost no CO2e replaced the real one, and
//! a row under a decoy model took the run away from its model. Now:
//! - rows that disagree on what does not change ([`Mismatch`]) are always refused: one run
//!   cannot belong to two models, nor start twice;
//! - rows whose figures are not ordered ([`Unordered`]) are refused by default
//!   ([`ConflictRule::Refuse`]) or, where the policy says `conflicting-evidence: count-larger`,
//!   counted at the larger value of each figure — never the smaller.
//!
//! Figures are compared with a relative tolerance of [`RELATIVE_TOLERANCE`] (releases that
//! rewrite the file re-serialize older rows and can change a float's last digit), starts with
//! [`start_tolerance`] (timestamps are written to the second; the run's clock and the wall
//! clock drift apart slowly).

use serde::{Deserialize, Serialize};

use crate::record::{Format, RunRecord};

/// What the ledger does with rows of one run whose figures are not ordered.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum ConflictRule {
    /// Refuse them: exit 2 naming both rows (the default).
    #[default]
    Refuse,
    /// Count the larger value of each figure, with a `conflicting-evidence` warning.
    CountLarger,
}

impl ConflictRule {
    /// The stricter of two rules (several policy files: refusing wins).
    pub fn strictest(self, other: ConflictRule) -> ConflictRule {
        if self == ConflictRule::Refuse || other == ConflictRule::Refuse {
            ConflictRule::Refuse
        } else {
            ConflictRule::CountLarger
        }
    }
}

/// Relative difference below which two figures are the same figure.
pub const RELATIVE_TOLERANCE: f64 = 1e-9;

/// How far apart the starts of two snapshots of a run of `duration` seconds may be: 5 s (a
/// timestamp written to the second, on either side) or 0.1 % of the run (clock drift), whichever
/// is larger.
pub fn start_tolerance(duration: f64) -> f64 {
    (duration.abs() * 1e-3).max(5.0)
}

/// The cumulative figures of a row, as compared.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Figures {
    /// Energy, kWh.
    pub energy: Option<f64>,
    /// CO2e, kg.
    pub emissions: f64,
    /// Duration, s.
    pub duration: Option<f64>,
    /// CPU, GPU and RAM energy, kWh.
    pub components: Option<[f64; 3]>,
}

impl Figures {
    /// The figures of a record.
    pub fn of(r: &RunRecord) -> Figures {
        Figures {
            energy: r.energy.map(|e| e.value()),
            emissions: r.emissions.value(),
            duration: r.duration.map(|d| d.value()),
            components: r
                .components
                .map(|c| [c.cpu_kwh.value(), c.gpu_kwh.value(), c.ram_kwh.value()]),
        }
    }

    /// The named figures, both rows' values, where both have one.
    fn pairs(&self, other: &Figures) -> Vec<(&'static str, f64, f64)> {
        let mut out = Vec::with_capacity(6);
        if let (Some(a), Some(b)) = (self.energy, other.energy) {
            out.push(("energy", a, b));
        }
        out.push(("CO2e", self.emissions, other.emissions));
        if let (Some(a), Some(b)) = (self.duration, other.duration) {
            out.push(("duration", a, b));
        }
        if let (Some(a), Some(b)) = (self.components, other.components) {
            for (name, (x, y)) in ["CPU energy", "GPU energy", "RAM energy"]
                .into_iter()
                .zip(a.into_iter().zip(b))
            {
                out.push((name, x, y));
            }
        }
        out
    }

    /// The larger value of each figure.
    pub fn max(&self, other: &Figures) -> Figures {
        let opt = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        Figures {
            energy: opt(self.energy, other.energy),
            emissions: self.emissions.max(other.emissions),
            duration: opt(self.duration, other.duration),
            components: match (self.components, other.components) {
                (Some(a), Some(b)) => Some([a[0].max(b[0]), a[1].max(b[1]), a[2].max(b[2])]),
                (a, b) => a.or(b),
            },
        }
    }

    /// Write the figures into a record.
    pub fn apply(&self, r: &mut RunRecord) {
        use crate::units::{Duration, Energy, Mass};
        r.energy = self.energy.map(Energy::kwh);
        r.emissions = Mass::kg(self.emissions);
        r.duration = self.duration.map(Duration::seconds);
        if let (Some(c), Some([cpu, gpu, ram])) = (r.components.as_mut(), self.components) {
            c.cpu_kwh = Energy::kwh(cpu);
            c.gpu_kwh = Energy::kwh(gpu);
            c.ram_kwh = Energy::kwh(ram);
        }
    }
}

/// `a` is below `b` beyond the tolerance.
fn below(a: f64, b: f64) -> bool {
    a < b && (b - a) > RELATIVE_TOLERANCE * a.abs().max(b.abs())
}

/// Two rows' figures that are not ordered: one figure rises from the first row to the second
/// while another falls.
#[derive(Debug, Clone, PartialEq)]
pub struct Unordered {
    /// A figure larger in the second row: its name and both values.
    pub rises: (&'static str, f64, f64),
    /// A figure smaller in the second row.
    pub falls: (&'static str, f64, f64),
}

impl std::fmt::Display for Unordered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (r, r1, r2) = self.rises;
        let (l, l1, l2) = self.falls;
        write!(
            f,
            "{r} rises ({} → {}) while {l} falls ({} → {})",
            show(r, r1),
            show(r, r2),
            show(l, l1),
            show(l, l2)
        )
    }
}

/// The first figure of `value` below its `bound` (beyond the tolerance): its name, the value and
/// the bound.
pub fn shortfall(bound: &Figures, value: &Figures) -> Option<(&'static str, f64, f64)> {
    bound
        .pairs(value)
        .into_iter()
        .find(|&(_, b, v)| below(v, b))
        .map(|(name, b, v)| (name, v, b))
}

/// A figure's value with its unit, for a message.
pub fn show(figure: &str, v: f64) -> String {
    let unit = match figure {
        "CO2e" => "kg",
        "duration" => "s",
        _ => "kWh",
    };
    format!("{v} {unit}")
}

/// How the second of two rows of one run stands to the first.
#[derive(Debug, Clone, PartialEq)]
pub enum Order {
    /// A later snapshot (or the same one): every figure at least as large.
    Later,
    /// An earlier snapshot: every figure at most as large, and one smaller.
    Earlier,
    /// Neither.
    Unordered(Unordered),
}

/// How `b`'s figures stand to `a`'s.
pub fn order(a: &Figures, b: &Figures) -> Order {
    let mut rises = None;
    let mut falls = None;
    for (name, x, y) in a.pairs(b) {
        if below(x, y) && rises.is_none() {
            rises = Some((name, x, y));
        }
        if below(y, x) && falls.is_none() {
            falls = Some((name, x, y));
        }
    }
    match (rises, falls) {
        (Some(rises), Some(falls)) => Order::Unordered(Unordered { rises, falls }),
        (None, Some(_)) => Order::Earlier,
        _ => Order::Later,
    }
}

/// The rows of one run seen so far, as snapshots: the largest value of each figure, whether one
/// row has them all, and the first two rows found not to be ordered.
///
/// The verdict does not depend on the order the rows come in: the rows conflict when, at the
/// end, no row has the largest value of every figure (no row is the latest snapshot of all the
/// others). Which pair is named depends on the order (the first found), not whether one is.
#[derive(Debug, Clone)]
pub struct Tracker<P> {
    /// The largest value of each figure so far.
    pub largest: Figures,
    /// The row that has them, or (when none has) the last row that raised one.
    pub at: P,
    /// Whether a row has every largest figure.
    pub attained: bool,
    /// The first pair of rows found not ordered, and how.
    pub first_pair: Option<(P, P, Unordered)>,
}

impl<P: Copy> Tracker<P> {
    /// The rows of a run, starting with its first.
    pub fn new(figures: Figures, at: P) -> Self {
        Tracker {
            largest: figures,
            at,
            attained: true,
            first_pair: None,
        }
    }

    /// Take one more row.
    pub fn add(&mut self, figures: Figures, at: P) {
        match order(&self.largest, &figures) {
            Order::Later => {
                self.largest = figures;
                self.at = at;
                self.attained = true;
            }
            Order::Earlier => {}
            Order::Unordered(u) => {
                if self.first_pair.is_none() {
                    self.first_pair = Some((self.at, at, u));
                }
                self.largest = self.largest.max(&figures);
                self.at = at;
                self.attained = false;
            }
        }
    }

    /// The rows conflict: the first pair found not ordered.
    pub fn conflict(&self) -> Option<(P, P, &Unordered)> {
        if self.attained {
            return None;
        }
        self.first_pair.as_ref().map(|(a, b, u)| (*a, *b, u))
    }
}

/// Two rows of one run that disagree on what does not change during a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// What differs (`model`, `version`, `CPU`, `country`, `start` …).
    pub field: &'static str,
    /// The first row's value.
    pub first: String,
    /// The second row's.
    pub second: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} `{}` vs `{}`",
            self.field,
            crate::error::escape_text(&self.first),
            crate::error::escape_text(&self.second)
        )
    }
}

/// The texts that do not change during a run, by name: model and version (which must agree,
/// present or not), then the hardware and the place (which must agree where both rows say).
pub fn identity(r: &RunRecord) -> [(&'static str, Option<&str>); 9] {
    [
        ("model", r.model.as_deref()),
        ("version", r.version.as_deref()),
        ("CPU", r.hardware.cpu.as_deref()),
        ("GPU", r.hardware.gpu.as_deref()),
        ("country", r.place.country.as_deref()),
        ("country code", r.place.country_iso.as_deref()),
        ("region", r.place.region.as_deref()),
        ("cloud provider", r.place.cloud_provider.as_deref()),
        ("cloud region", r.place.cloud_region.as_deref()),
    ]
}

/// How many leading entries of [`identity`] must agree even when one row does not say.
const ATTRIBUTION: usize = 2;

/// The first difference between two rows' identities (texts compared as names: trimmed,
/// Unicode NFC).
pub fn mismatch(
    a: &[(&'static str, Option<&str>)],
    b: &[(&'static str, Option<&str>)],
) -> Option<Mismatch> {
    for (i, ((field, x), (_, y))) in a.iter().zip(b).enumerate() {
        let differs = match (x, y) {
            (Some(x), Some(y)) => !crate::names::same(x, y),
            (None, None) => false,
            _ => i < ATTRIBUTION,
        };
        if differs {
            return Some(Mismatch {
                field,
                first: x.unwrap_or("(none)").to_owned(),
                second: y.unwrap_or("(none)").to_owned(),
            });
        }
    }
    None
}

/// When the run started, in seconds on the tool's clock, where the format says: CodeCarbon
/// writes the time of the write (so the start is that minus the duration), eco2AI the start.
pub fn start(r: &RunRecord) -> Option<f64> {
    let at = crate::timestamp::seconds(r.timestamp.as_deref()?)?;
    match r.format {
        Format::Codecarbon => Some(at - r.duration?.value()),
        Format::Eco2ai => Some(at),
        _ => None,
    }
}

/// A timestamp from which [`start`] reads `start` back (to the millisecond) for a record of
/// `format` lasting `duration` s: the inverse of [`start`], for a record rebuilt from a slot.
pub fn timestamp_of_start(format: Format, start: f64, duration: f64) -> Option<String> {
    if start.is_nan() {
        return None;
    }
    match format {
        Format::Codecarbon => Some(crate::timestamp::show(start + duration)),
        Format::Eco2ai => Some(crate::timestamp::show(start)),
        _ => None,
    }
}

/// A difference of starts beyond [`start_tolerance`].
pub fn start_mismatch(a: Option<f64>, b: Option<f64>, duration: f64) -> Option<Mismatch> {
    let (a, b) = (a?, b?);
    ((a - b).abs() > start_tolerance(duration)).then(|| Mismatch {
        field: "start",
        first: crate::timestamp::show(a),
        second: crate::timestamp::show(b),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(energy: f64, emissions: f64, duration: f64) -> Figures {
        Figures {
            energy: Some(energy),
            emissions,
            duration: Some(duration),
            components: None,
        }
    }

    #[test]
    fn snapshots_are_ordered() {
        assert_eq!(order(&f(1.0, 1.0, 1.0), &f(2.0, 2.0, 2.0)), Order::Later);
        assert_eq!(order(&f(2.0, 2.0, 2.0), &f(1.0, 2.0, 2.0)), Order::Earlier);
        assert_eq!(order(&f(1.0, 1.0, 1.0), &f(1.0, 1.0, 1.0)), Order::Later);
    }

    #[test]
    fn more_energy_with_less_co2e_is_not_a_snapshot() {
        let Order::Unordered(u) = order(&f(1.0, 0.5, 10.0), &f(1.1, 0.000_1, 10.0)) else {
            panic!("ordered");
        };
        assert_eq!(u.rises.0, "energy");
        assert_eq!(u.falls.0, "CO2e");
        assert!(
            u.to_string().contains("CO2e falls (0.5 kg → 0.0001 kg)"),
            "{u}"
        );
    }

    #[test]
    fn a_last_digit_rewritten_is_the_same_figure() {
        let a = f(1.8669933784923187e-07, 1.0, 1.0);
        let b = f(1.866993378492319e-07, 1.0, 1.0);
        assert_eq!(order(&a, &b), Order::Later);
        assert_eq!(order(&b, &a), Order::Later);
    }

    #[test]
    fn rows_conflict_only_when_no_row_is_the_latest_of_all() {
        // (1, 5) and (5, 1) are not ordered, but (10, 10) is the latest of both: in any order.
        let rows = [f(1.0, 5.0, 1.0), f(5.0, 1.0, 1.0), f(10.0, 10.0, 2.0)];
        for order in [[0, 1, 2], [2, 0, 1], [1, 2, 0], [0, 2, 1]] {
            let mut t = Tracker::new(rows[order[0]], order[0]);
            for &i in &order[1..] {
                t.add(rows[i], i);
            }
            assert!(t.conflict().is_none(), "{order:?}");
            assert_eq!(t.at, 2);
        }
        let mut t = Tracker::new(rows[0], 0);
        t.add(rows[1], 1);
        let (a, b, u) = t.conflict().expect("conflict");
        assert_eq!((a, b, u.rises.0), (0, 1, "energy"));
        assert_eq!(t.largest, f(5.0, 5.0, 1.0));
    }

    #[test]
    fn the_larger_of_each_figure() {
        let m = f(1.0, 5.0, 3.0).max(&f(2.0, 1.0, 3.0));
        assert_eq!(m, f(2.0, 5.0, 3.0));
    }

    #[test]
    fn attribution_must_agree_even_when_one_row_is_silent() {
        let a = [("model", Some("m")), ("version", None), ("CPU", None)];
        let b = [("model", None), ("version", None), ("CPU", Some("x"))];
        assert_eq!(mismatch(&a, &b).map(|m| m.field), Some("model"));
        let c = [("model", Some("m")), ("version", None), ("CPU", Some("y"))];
        assert_eq!(mismatch(&a, &c), None);
        assert_eq!(mismatch(&c, &b[..]).map(|m| m.field), Some("model"));
        let d = [("model", Some("m")), ("version", None), ("CPU", Some("x"))];
        assert_eq!(mismatch(&d, &c).map(|m| m.field), Some("CPU"));
    }

    #[test]
    fn starts_within_the_tolerance_agree() {
        assert!(start_mismatch(Some(100.0), Some(104.0), 3.0).is_none());
        assert!(start_mismatch(Some(100.0), Some(106.0), 3.0).is_some());
        assert!(start_mismatch(Some(100.0), Some(150.0), 72.0 * 3600.0).is_none());
        assert!(start_mismatch(None, Some(150.0), 1.0).is_none());
    }
}
