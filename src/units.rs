//! Typed physical quantities: mass of CO2e, energy, carbon intensity, duration and ratios.
//!
//! Every figure the tool handles carries its unit in its type. Values are stored raw in one base
//! unit per type (kilograms CO2e, kilowatt-hours, grams per kilowatt-hour, seconds) and are
//! rounded only when rendered. Policy strings such as `"120 kg"` or `"0.4 MWh"` are parsed here,
//! once, at the edge; a bare number is refused with a message that names the units to add.
//!
//! Conversions used (exact by definition):
//! - 1 t = 1000 kg, 1 kg = 1000 g, 1 g = 1000 mg
//! - 1 MWh = 1000 kWh, 1 kWh = 1000 Wh, 1 Wh = 1000 mWh
//! - energy (kWh) × intensity (g/kWh) = mass (g) = mass (kg) × 1000

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Mul, Sub};

use serde::{Deserialize, Serialize};

/// A mass of CO2-equivalent, stored in kilograms.
#[derive(
    Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(transparent)]
pub struct Mass(f64);

/// An amount of energy, stored in kilowatt-hours.
#[derive(
    Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(transparent)]
pub struct Energy(f64);

/// A carbon intensity of electricity, stored in grams CO2e per kilowatt-hour.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct Intensity(f64);

/// A length of time, stored in seconds.
#[derive(
    Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(transparent)]
pub struct Duration(f64);

/// A power, stored in watts.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct Power(f64);

/// A dimensionless ratio, stored as a fraction (`"10%"` is 0.1).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct Ratio(f64);

macro_rules! quantity {
    ($t:ident, $base:ident, $base_name:literal) => {
        impl $t {
            #[doc = concat!("Build from a value in ", $base_name, ".")]
            pub const fn $base(value: f64) -> Self {
                Self(value)
            }
            #[doc = concat!("The raw value in ", $base_name, ".")]
            pub const fn value(self) -> f64 {
                self.0
            }
            /// Zero of this quantity.
            pub const ZERO: Self = Self(0.0);
        }
        impl Add for $t {
            type Output = Self;
            fn add(self, rhs: Self) -> Self {
                Self(self.0 + rhs.0)
            }
        }
        impl AddAssign for $t {
            fn add_assign(&mut self, rhs: Self) {
                self.0 += rhs.0;
            }
        }
        impl Sub for $t {
            type Output = Self;
            fn sub(self, rhs: Self) -> Self {
                Self(self.0 - rhs.0)
            }
        }
        impl Sum for $t {
            /// Exactly rounded (see [`exact_sum`]): a total does not depend on the order in
            /// which logs were read.
            fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
                Self(exact_sum(iter.map(|q| q.0)))
            }
        }
    };
}

quantity!(Mass, kg, "kilograms CO2e");
quantity!(Energy, kwh, "kilowatt-hours");
quantity!(Intensity, g_per_kwh, "grams CO2e per kilowatt-hour");
quantity!(Duration, seconds, "seconds");
quantity!(Ratio, fraction, "a fraction (1.0 = 100%)");
quantity!(Power, watts, "watts");

impl Mul<Duration> for Power {
    type Output = Energy;
    /// W × s = J; ÷ 3.6e6 = kWh.
    fn mul(self, rhs: Duration) -> Energy {
        Energy::kwh(self.0 * rhs.0 / 3.6e6)
    }
}

impl Mul<f64> for Power {
    type Output = Power;
    fn mul(self, rhs: f64) -> Power {
        Power(self.0 * rhs)
    }
}

impl Mul<f64> for Energy {
    type Output = Energy;
    fn mul(self, rhs: f64) -> Energy {
        Energy(self.0 * rhs)
    }
}

impl Mul<f64> for Mass {
    type Output = Mass;
    fn mul(self, rhs: f64) -> Mass {
        Mass(self.0 * rhs)
    }
}

impl Mass {
    /// Build from grams.
    pub fn grams(g: f64) -> Self {
        Self(g / 1000.0)
    }
    /// The value in grams.
    pub fn in_grams(self) -> f64 {
        self.0 * 1000.0
    }
}

impl Energy {
    /// The value in megawatt-hours.
    pub fn in_mwh(self) -> f64 {
        self.0 / 1000.0
    }
}

impl Duration {
    /// The value in hours.
    pub fn in_hours(self) -> f64 {
        self.0 / 3600.0
    }
}

impl Ratio {
    /// The value in percent.
    pub fn in_percent(self) -> f64 {
        self.0 * 100.0
    }
}

impl Mul<Intensity> for Energy {
    type Output = Mass;
    /// kWh × g/kWh = g, returned as kg.
    fn mul(self, rhs: Intensity) -> Mass {
        Mass::grams(self.0 * rhs.0)
    }
}

impl Mass {
    /// The intensity that produced this mass from `energy` (g/kWh), if energy is non-zero.
    pub fn per(self, energy: Energy) -> Option<Intensity> {
        (energy.0 > 0.0).then(|| Intensity(self.in_grams() / energy.0))
    }
}

/// The correctly rounded sum of `values` (Shewchuk's algorithm, as Python's `math.fsum`): the
/// result is the float nearest the exact mathematical sum, whatever the order of the values.
/// Totals use it so that reading the same logs in another order gives the same bits, and so
/// that fixtures' expected totals can be computed independently with `math.fsum`.
///
/// ```
/// use carbon_gate::units::exact_sum;
/// assert_eq!(exact_sum([0.1; 10]), 1.0); // plain addition gives 0.9999999999999999
/// ```
pub fn exact_sum(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut sum = ExactSum::default();
    for x in values {
        sum.add(x);
    }
    sum.value()
}

/// A running exact sum: values are added one at a time (or whole sums merged) and
/// [`ExactSum::value`] is the float nearest the exact total, as [`exact_sum`] over all of them.
#[derive(Debug, Clone, Default)]
pub struct ExactSum {
    /// Non-overlapping partial sums, smallest magnitude first; their exact sum is the total.
    partials: Vec<f64>,
}

impl ExactSum {
    /// Add one value.
    pub fn add(&mut self, mut x: f64) {
        let partials = &mut self.partials;
        let mut i = 0;
        for j in 0..partials.len() {
            let mut y = partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                partials[i] = lo;
                i += 1;
            }
            x = hi;
        }
        partials.truncate(i);
        partials.push(x);
    }

    /// Add every value another sum holds (exactly: its partials add up to its total).
    pub fn merge(&mut self, other: &ExactSum) {
        for &p in &other.partials {
            self.add(p);
        }
    }

    /// The correctly rounded total.
    pub fn value(&self) -> f64 {
        let mut partials = self.partials.clone();
        // Add the partials from the top, with the half-way correction of `math.fsum`.
        let Some(mut hi) = partials.pop() else {
            return 0.0;
        };
        let mut lo = 0.0;
        while let Some(y) = partials.pop() {
            let x = hi;
            hi = x + y;
            let yr = hi - x;
            lo = y - yr;
            if lo != 0.0 {
                break;
            }
        }
        if let Some(&next) = partials.last()
            && ((lo < 0.0 && next < 0.0) || (lo > 0.0 && next > 0.0))
        {
            let y = lo * 2.0;
            let x = hi + y;
            if y == x - hi {
                hi = x;
            }
        }
        hi
    }
}

/// What kind of quantity a policy string is expected to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    /// CO2e mass: mg, g, kg, t (optionally followed by `CO2e`).
    Mass,
    /// Energy: mWh, Wh, kWh, MWh, GWh.
    Energy,
    /// Carbon intensity: g/kWh, kg/MWh…
    Intensity,
    /// A percentage: `10%`.
    Percent,
    /// Power: W, kW, MW.
    Power,
    /// Duration: s, min, h, d, years.
    Duration,
}

impl Dimension {
    /// The units accepted for this dimension, for error messages.
    pub fn accepted_units(self) -> &'static str {
        match self {
            Dimension::Mass => "mg, g, kg or t (CO2e), e.g. \"120 kg\"",
            Dimension::Energy => "Wh, kWh, MWh or GWh, e.g. \"400 kWh\"",
            Dimension::Intensity => "g/kWh or kg/MWh, e.g. \"200 g/kWh\"",
            Dimension::Percent => "%, e.g. \"10%\"",
            Dimension::Power => "W, kW or MW, e.g. \"330 W\"",
            Dimension::Duration => "s, min, h, d or years, e.g. \"72 h\"",
        }
    }
}

/// A parsed policy quantity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Quantity {
    /// A CO2e mass.
    Mass(Mass),
    /// An energy.
    Energy(Energy),
    /// A carbon intensity.
    Intensity(Intensity),
    /// A percentage, as a ratio.
    Percent(Ratio),
    /// A power.
    Power(Power),
    /// A duration.
    Duration(Duration),
}

/// Why a quantity string could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QuantityError {
    /// A number with no unit.
    #[error("\"{text}\" has no unit: add one of {}", .expected.accepted_units())]
    MissingUnit {
        /// The offending text.
        text: String,
        /// The dimension that was expected.
        expected: Dimension,
    },
    /// A unit of the wrong dimension or unknown.
    #[error("\"{text}\": unit \"{unit}\" is not accepted here; use {}", .expected.accepted_units())]
    WrongUnit {
        /// The offending text.
        text: String,
        /// The unit as written.
        unit: String,
        /// The dimension that was expected.
        expected: Dimension,
    },
    /// Not a number followed by a unit.
    #[error("\"{text}\" is not a quantity: write a number followed by a unit, {}", .expected.accepted_units())]
    NotANumber {
        /// The offending text.
        text: String,
        /// The dimension that was expected.
        expected: Dimension,
    },
    /// Negative, NaN or infinite.
    #[error("\"{text}\" must be a finite number that is zero or more")]
    OutOfRange {
        /// The offending text.
        text: String,
    },
}

/// A quantity type that a written quantity can be read as: its dimension, and the way out of
/// [`Quantity`]. [`parse_as`] reads text straight into it.
pub trait Typed: Sized {
    /// The dimension whose units it accepts.
    const DIMENSION: Dimension;
    /// The value, when `q` is of this type.
    fn from_quantity(q: Quantity) -> Option<Self>;
}

macro_rules! typed {
    ($($ty:ident => $variant:ident),* $(,)?) => {$(
        impl Typed for $ty {
            const DIMENSION: Dimension = Dimension::$variant;
            fn from_quantity(q: Quantity) -> Option<Self> {
                match q {
                    Quantity::$variant(v) => Some(v),
                    _ => None,
                }
            }
        }
    )*};
}

typed!(
    Mass => Mass,
    Energy => Energy,
    Intensity => Intensity,
    Ratio => Percent,
    Power => Power,
    Duration => Duration,
);

/// Parse a quantity string into the type asked for (`parse_as::<Energy>("0.4 MWh")`).
pub fn parse_as<T: Typed>(text: &str) -> Result<T, QuantityError> {
    let q = parse_quantity(text, T::DIMENSION)?;
    // `parse_quantity` returns only quantities of the dimension asked for.
    T::from_quantity(q).ok_or_else(|| QuantityError::NotANumber {
        text: text.to_owned(),
        expected: T::DIMENSION,
    })
}

/// Parse a quantity string such as `"120 kg"`, `"0.4 MWh"`, `"10%"` or `"200 g/kWh"`, requiring
/// the given dimension.
///
/// ```
/// use carbon_gate::units::{parse_quantity, Dimension, Energy, Quantity};
/// assert_eq!(
///     parse_quantity("0.4 MWh", Dimension::Energy),
///     Ok(Quantity::Energy(Energy::kwh(400.0)))
/// );
/// let err = parse_quantity("120", Dimension::Mass).unwrap_err();
/// assert!(err.to_string().contains("add one of mg, g, kg or t"));
/// ```
pub fn parse_quantity(text: &str, expected: Dimension) -> Result<Quantity, QuantityError> {
    let trimmed = text.trim();
    let split = trimmed
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E' | '_')))
        .map(|(i, _)| i)
        .unwrap_or(trimmed.len());
    // An exponent marker directly followed by letters (e.g. "5 e") is caught by the number parse.
    let (number, unit) = trimmed.split_at(split);
    let number = number.trim().replace('_', "");
    let unit = unit.trim();
    let value: f64 = number.parse().map_err(|_| QuantityError::NotANumber {
        text: text.to_owned(),
        expected,
    })?;
    if !value.is_finite() || value < 0.0 {
        return Err(QuantityError::OutOfRange {
            text: text.to_owned(),
        });
    }
    if unit.is_empty() {
        return Err(QuantityError::MissingUnit {
            text: text.to_owned(),
            expected,
        });
    }
    let wrong = || QuantityError::WrongUnit {
        text: text.to_owned(),
        unit: unit.to_owned(),
        expected,
    };
    let normalized = unit
        .to_ascii_lowercase()
        .replace(' ', "")
        .replace("co2eq", "")
        .replace("co2e", "");
    let quantity = match expected {
        // Smaller units divide by an exact power of ten (one rounding, so "50 mg" is exactly
        // the float nearest 5e-5 kg); larger ones multiply.
        Dimension::Mass => Quantity::Mass(Mass::kg(match normalized.as_str() {
            "mg" => value / 1e6,
            "g" => value / 1e3,
            "kg" => value,
            "t" | "tonne" | "tonnes" => value * 1e3,
            _ => return Err(wrong()),
        })),
        Dimension::Energy => Quantity::Energy(Energy::kwh(match unit {
            "mWh" => value / 1e6,
            "MWh" => value * 1e3,
            // Case matters only between milli and mega; the others are unambiguous.
            _ => match normalized.as_str() {
                "wh" => value / 1e3,
                "kwh" => value,
                "gwh" => value * 1e6,
                _ => return Err(wrong()),
            },
        })),
        Dimension::Intensity => Quantity::Intensity(Intensity::g_per_kwh(
            value
                * match normalized.as_str() {
                    "g/kwh" => 1.0,
                    "kg/mwh" => 1.0,
                    "kg/kwh" | "t/mwh" => 1000.0,
                    _ => return Err(wrong()),
                },
        )),
        Dimension::Percent => match unit {
            "%" => Quantity::Percent(Ratio::fraction(value / 100.0)),
            _ => return Err(wrong()),
        },
        Dimension::Power => Quantity::Power(Power::watts(match normalized.as_str() {
            "w" => value,
            "kw" => value * 1e3,
            "mw" if unit == "MW" => value * 1e6,
            _ => return Err(wrong()),
        })),
        // A year is 365 days (8,760 h), as lifetimes are counted in the SCI specification.
        Dimension::Duration => Quantity::Duration(Duration::seconds(match normalized.as_str() {
            "s" | "sec" | "second" | "seconds" => value,
            "min" | "minute" | "minutes" => value * 60.0,
            "h" | "hour" | "hours" => value * 3600.0,
            "d" | "day" | "days" => value * 86_400.0,
            "y" | "year" | "years" => value * 31_536_000.0,
            _ => return Err(wrong()),
        })),
    };
    // A finite number can still overflow when scaled to the base unit ("1e308 t").
    let base = match quantity {
        Quantity::Mass(m) => m.value(),
        Quantity::Energy(e) => e.value(),
        Quantity::Intensity(i) => i.value(),
        Quantity::Percent(r) => r.value(),
        Quantity::Power(p) => p.value(),
        Quantity::Duration(d) => d.value(),
    };
    if !base.is_finite() {
        return Err(QuantityError::OutOfRange {
            text: text.to_owned(),
        });
    }
    Ok(quantity)
}

/// Format a number with `sig` significant digits, without exponent notation for the ranges
/// rendered here, and without trailing zeros after the decimal point.
pub fn format_significant(value: f64, sig: usize) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value}");
    }
    let magnitude = value.abs().log10().floor() as i32;
    if magnitude >= 15 {
        // Beyond any real figure; keep it readable rather than print 300 digits.
        let p = sig.saturating_sub(1);
        return format!("{value:.p$e}");
    }
    let decimals = (sig as i32 - 1 - magnitude).max(0) as usize;
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

impl Mass {
    /// Human rendering with an adapted unit and `sig` significant digits (`Display` uses 4):
    /// `Mass::kg(2.4954).rounded(2)` is `2.5 kg`.
    pub fn rounded(self, sig: usize) -> String {
        let kg = self.0.abs();
        let (value, unit) = if kg >= 1000.0 {
            (self.0 / 1000.0, "t")
        } else if kg >= 1.0 || kg == 0.0 {
            (self.0, "kg")
        } else if kg >= 1e-3 {
            (self.0 * 1e3, "g")
        } else if kg >= 1e-6 {
            (self.0 * 1e6, "mg")
        } else {
            (self.0 * 1e9, "µg")
        };
        format!("{} {unit}", format_significant(value, sig))
    }
}

impl fmt::Display for Mass {
    /// Human rendering with an adapted unit and 4 significant digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rounded(4))
    }
}

impl fmt::Display for Energy {
    /// Human rendering with an adapted unit and 4 significant digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kwh = self.0.abs();
        let (value, unit) = if kwh >= 1000.0 {
            (self.0 / 1000.0, "MWh")
        } else if kwh >= 1.0 || kwh == 0.0 {
            (self.0, "kWh")
        } else if kwh >= 1e-3 {
            (self.0 * 1e3, "Wh")
        } else if kwh >= 1e-6 {
            (self.0 * 1e6, "mWh")
        } else {
            (self.0 * 1e9, "µWh")
        };
        write!(f, "{} {unit}", format_significant(value, 4))
    }
}

impl fmt::Display for Intensity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} g/kWh", format_significant(self.0, 4))
    }
}

impl fmt::Display for Duration {
    /// `1h 02m 03s`, `4m 05s` or `6.2 s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        if s < 60.0 {
            return write!(f, "{} s", format_significant(s, 3));
        }
        let total = s.round() as u64;
        let (h, m, sec) = (total / 3600, (total % 3600) / 60, total % 60);
        if h > 0 {
            write!(f, "{h}h {m:02}m {sec:02}s")
        } else {
            write!(f, "{m}m {sec:02}s")
        }
    }
}

impl fmt::Display for Power {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.abs() >= 1e6 {
            write!(f, "{} MW", format_significant(self.0 / 1e6, 4))
        } else if self.0.abs() >= 1e3 {
            write!(f, "{} kW", format_significant(self.0 / 1e3, 4))
        } else {
            write!(f, "{} W", format_significant(self.0, 4))
        }
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", format_significant(self.in_percent(), 3))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_text_as_the_type_asked_for() {
        assert_eq!(parse_as::<Energy>("0.4 MWh"), Ok(Energy::kwh(400.0)));
        assert_eq!(parse_as::<Mass>("30 kg"), Ok(Mass::kg(30.0)));
        assert!(matches!(
            parse_as::<Power>("30 kg"),
            Err(QuantityError::WrongUnit {
                expected: Dimension::Power,
                ..
            })
        ));
        assert!(matches!(
            parse_as::<Duration>("2"),
            Err(QuantityError::MissingUnit { .. })
        ));
    }

    fn mass(text: &str) -> Mass {
        match parse_quantity(text, Dimension::Mass) {
            Ok(Quantity::Mass(m)) => m,
            other => panic!("{text}: {other:?}"),
        }
    }

    fn energy(text: &str) -> Energy {
        match parse_quantity(text, Dimension::Energy) {
            Ok(Quantity::Energy(e)) => e,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn parses_masses_in_every_unit() {
        assert_eq!(mass("120 kg"), Mass::kg(120.0));
        assert_eq!(mass("120kg"), Mass::kg(120.0));
        assert_eq!(mass("1.5 t"), Mass::kg(1500.0));
        assert_eq!(mass("250 g"), Mass::kg(0.25));
        assert_eq!(mass("500 mg"), Mass::kg(0.0005));
        assert_eq!(mass("2 kgCO2e"), Mass::kg(2.0));
        assert_eq!(mass("2 kg CO2e"), Mass::kg(2.0));
        assert_eq!(mass("3 tCO2eq"), Mass::kg(3000.0));
        assert_eq!(mass("1_000 kg"), Mass::kg(1000.0));
    }

    #[test]
    fn parses_energies_in_every_unit() {
        assert_eq!(energy("400 kWh"), Energy::kwh(400.0));
        assert_eq!(energy("0.4 MWh"), Energy::kwh(400.0));
        assert_eq!(energy("500 Wh"), Energy::kwh(0.5));
        assert_eq!(energy("2 GWh"), Energy::kwh(2e6));
        assert_eq!(energy("50 mWh"), Energy::kwh(5e-5));
        assert_eq!(mass("1 mg"), Mass::kg(1e-6));
    }

    #[test]
    fn bare_number_names_the_units_to_add() {
        let err = parse_quantity("120", Dimension::Mass).unwrap_err();
        assert_eq!(
            err.to_string(),
            "\"120\" has no unit: add one of mg, g, kg or t (CO2e), e.g. \"120 kg\""
        );
        let err = parse_quantity("7", Dimension::Energy).unwrap_err();
        assert!(err.to_string().contains("kWh"), "{err}");
    }

    #[test]
    fn refuses_wrong_dimension_and_bad_numbers() {
        assert!(matches!(
            parse_quantity("120 kWh", Dimension::Mass),
            Err(QuantityError::WrongUnit { .. })
        ));
        assert_eq!(energy("120 kwh"), Energy::kwh(120.0));
        // "mwh" could be milli or mega: refused.
        assert!(matches!(
            parse_quantity("120 mwh", Dimension::Energy),
            Err(QuantityError::WrongUnit { .. })
        ));
        assert!(matches!(
            parse_quantity("kg", Dimension::Mass),
            Err(QuantityError::NotANumber { .. })
        ));
        assert!(matches!(
            parse_quantity("-3 kg", Dimension::Mass),
            Err(QuantityError::OutOfRange { .. })
        ));
        assert!(matches!(
            parse_quantity("inf kg", Dimension::Mass),
            Err(QuantityError::NotANumber { .. })
        ));
    }

    #[test]
    fn percent_and_intensity() {
        assert_eq!(
            parse_quantity("10%", Dimension::Percent),
            Ok(Quantity::Percent(Ratio::fraction(0.1)))
        );
        assert_eq!(
            parse_quantity("200 g/kWh", Dimension::Intensity),
            Ok(Quantity::Intensity(Intensity::g_per_kwh(200.0)))
        );
        assert_eq!(
            parse_quantity("0.2 kg/kWh", Dimension::Intensity),
            Ok(Quantity::Intensity(Intensity::g_per_kwh(200.0)))
        );
    }

    #[test]
    fn power_and_duration() {
        assert_eq!(
            parse_quantity("330 W", Dimension::Power),
            Ok(Quantity::Power(Power::watts(330.0)))
        );
        assert_eq!(
            parse_quantity("72 h", Dimension::Duration),
            Ok(Quantity::Duration(Duration::seconds(259_200.0)))
        );
        assert_eq!(
            parse_quantity("4 years", Dimension::Duration),
            Ok(Quantity::Duration(Duration::seconds(126_144_000.0)))
        );
        // 400 W for 1 h = 0.4 kWh.
        assert_eq!(
            Power::watts(400.0) * Duration::seconds(3600.0),
            Energy::kwh(0.4)
        );
    }

    #[test]
    fn energy_times_intensity_is_mass() {
        // 6.531107192520833e-05 kWh at 56.039 g/kWh: CodeCarbon 3.3.2 wrote 3.6599671596167498e-06 kg.
        let m = Energy::kwh(6.531107192520833e-05) * Intensity::g_per_kwh(56.039);
        assert!((m.value() - 3.6599671596167498e-06).abs() < 1e-12);
        assert_eq!(
            Mass::kg(2.0).per(Energy::kwh(10.0)),
            Some(Intensity::g_per_kwh(200.0))
        );
        assert_eq!(Mass::kg(2.0).per(Energy::ZERO), None);
    }

    #[test]
    fn exact_sum_is_order_independent_and_correctly_rounded() {
        assert_eq!(exact_sum([0.1; 10]), 1.0);
        assert_eq!(exact_sum([1e100, 1.0, -1e100, 1e-3]), 1.001);
        let v = [
            3.3903284006730314e-07,
            1.018908760563801e-06,
            7.390283918626069e-07,
            1e-9,
        ];
        let mut r = v;
        r.reverse();
        assert_eq!(exact_sum(v), exact_sum(r));
        assert_eq!(exact_sum([]), 0.0);
        // Half-way case from CPython's test suite: 1 + 2**-53 - 2**-106 rounds down... and up.
        assert_eq!(
            exact_sum([1.0, 2f64.powi(-53), 2f64.powi(-106)]),
            1.0 + 2f64.powi(-52)
        );
    }

    #[test]
    fn renders_with_adapted_units() {
        assert_eq!(Mass::kg(130.26).to_string(), "130.3 kg");
        assert_eq!(Mass::kg(1234.6).to_string(), "1.235 t");
        assert_eq!(Mass::kg(0.0123).to_string(), "12.3 g");
        assert_eq!(Mass::kg(3.6599e-6).to_string(), "3.66 mg");
        assert_eq!(Energy::kwh(400.0).to_string(), "400 kWh");
        assert_eq!(Energy::kwh(0.25).to_string(), "250 Wh");
        assert_eq!(Energy::kwh(6.531e-5).to_string(), "65.31 mWh");
        assert_eq!(Energy::kwh(4.649e-8).to_string(), "46.49 µWh");
        assert_eq!(Mass::kg(3.14e-9).to_string(), "3.14 µg");
        assert_eq!(Duration::seconds(7.006).to_string(), "7.01 s");
        assert_eq!(Duration::seconds(3723.0).to_string(), "1h 02m 03s");
        assert_eq!(Ratio::fraction(0.1).to_string(), "10%");
    }
}
