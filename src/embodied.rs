//! Embodied carbon for runs whose log does not carry it: the SCI time-share of the hardware's
//! manufacture, `M = TE × TiR / EL`, from the hardware and duration the run recorded.
//!
//! ```text
//! M (kg) = (Σ accelerators × TE_accelerator + servers × TE_server) × duration (h) ÷ lifetime (h)
//! servers = ⌈accelerators ÷ accelerators per server⌉, or 1 for a run without accelerators
//! ```
//!
//! The whole host server is charged for the run's duration (the log does not say what share of
//! the machine the run reserved), which errs on the high side for a small job on a shared host.
//! TE values come from `src/reference/` (the accelerator's own figure, else the default) unless
//! the policy's `reference:` block overrides them. A run without a duration cannot be allocated.

use std::collections::BTreeMap;

use crate::record::Hardware;
use crate::reference::{Reference, squash};
use crate::units::{Duration, Mass};

/// Overrides of reference values, from the policy's `reference:` block.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Hardware lifetime.
    pub lifetime: Option<Duration>,
    /// Embodied CO2e of a host server.
    pub server: Option<Mass>,
    /// Embodied CO2e of an accelerator without its own figure.
    pub accelerator: Option<Mass>,
    /// Accelerators per server.
    pub devices_per_server: Option<u32>,
    /// Embodied CO2e by accelerator name (squashed).
    pub per_accelerator: BTreeMap<String, Mass>,
    /// TDP by accelerator name (squashed), for estimates.
    pub tdp: BTreeMap<String, crate::units::Power>,
}

/// An embodied share with its band and how it was computed.
#[derive(Debug, Clone, PartialEq)]
pub struct Share {
    /// Central figure.
    pub central: Mass,
    /// Low end (long lifetime, low TE).
    pub low: Mass,
    /// High end (short lifetime, high TE).
    pub high: Mass,
    /// The formula with its numbers and sources.
    pub basis: String,
}

/// Accelerator groups in a tool's GPU description: `4 x NVIDIA A100-SXM4-80GB` → [(4, "A100-SXM4-80GB")].
/// CodeCarbon 2.x concatenates groups without a separator (`4 x NVIDIA A401 x NVIDIA A100 80GB
/// PCIe`); a count glued to a model name is then read as its last digit.
pub fn gpu_groups(text: &str) -> Vec<(f64, String)> {
    let bytes = text.as_bytes();
    let mut marks: Vec<(usize, usize, f64)> = Vec::new(); // (count start, name start, count)
    let mut i = 0;
    while let Some(found) = text[i..].find(" x ") {
        let at = i + found;
        let mut start = at;
        while start > 0 && bytes[start - 1].is_ascii_digit() && at - start < 4 {
            start -= 1;
        }
        if start < at {
            if start > 0 && bytes[start - 1].is_ascii_alphanumeric() {
                start = at - 1;
            }
            let count = text[start..at].parse::<f64>().unwrap_or(1.0);
            marks.push((start, at + 3, count));
        }
        i = at + 3;
    }
    let mut groups = Vec::new();
    for (k, &(_, name_start, count)) in marks.iter().enumerate() {
        let end = marks.get(k + 1).map_or(text.len(), |m| m.0);
        let name = text[name_start..end]
            .trim()
            .trim_start_matches("NVIDIA ")
            .trim()
            .to_owned();
        if !name.is_empty() {
            groups.push((count, name));
        }
    }
    if groups.is_empty() && !text.trim().is_empty() {
        groups.push((1.0, text.trim().trim_start_matches("NVIDIA ").to_owned()));
    }
    groups
}

/// The embodied share of a run, or why it cannot be computed.
pub fn for_run(
    reference: &Reference,
    overrides: &Overrides,
    hardware: &Hardware,
    duration: Option<Duration>,
) -> Result<Share, String> {
    let Some(duration) = duration.filter(|d| d.value() > 0.0) else {
        return Err(
            "the log records no duration to allocate the hardware's manufacture over".to_owned(),
        );
    };
    let hours = duration.in_hours();
    let default = |key: &str| {
        reference
            .default_value(key)
            .ok_or_else(|| format!("embedded reference data lacks `{key}`"))
    };
    let life = default("lifetime")?;
    let (life_c, life_long, life_short) = match overrides.lifetime {
        Some(l) => (l.in_hours(), l.in_hours(), l.in_hours()),
        None => (life.value * 8760.0, life.low * 8760.0, life.high * 8760.0),
    };
    let server = default("server-embodied")?;
    let (server_c, server_low, server_high) = match overrides.server {
        Some(m) => (m.value(), m.value(), m.value()),
        None => (server.value, server.low, server.high),
    };
    let per_server = overrides
        .devices_per_server
        .map(f64::from)
        .unwrap_or(default("gpus-per-server")?.value);
    let groups: Vec<(f64, String)> = match hardware.gpu.as_deref() {
        Some(text) if hardware.gpu_count != Some(0.0) => {
            let mut g = gpu_groups(text);
            if g.len() == 1
                && let Some(n) = hardware.gpu_count
                && !text.contains(" x ")
            {
                g[0].0 = n;
            }
            g
        }
        _ => Vec::new(),
    };
    let acc_default = default("accelerator-embodied")?;
    let mut te_c = 0.0;
    let mut te_low = 0.0;
    let mut te_high = 0.0;
    let mut parts = Vec::new();
    let mut devices = 0.0;
    for (n, name) in &groups {
        devices += n;
        let (c, l, h, why) = if let Some(m) = overrides.per_accelerator.get(&squash(name)) {
            (m.value(), m.value(), m.value(), "policy".to_owned())
        } else if let Some(a) = reference
            .accelerator(name)
            .ok()
            .filter(|a| a.embodied_kg.is_some())
        {
            let kg = a.embodied_kg.unwrap_or_default();
            (kg, kg, kg, a.id.clone())
        } else if let Some(m) = overrides.accelerator {
            (m.value(), m.value(), m.value(), "policy default".to_owned())
        } else {
            (
                acc_default.value,
                acc_default.low,
                acc_default.high,
                "default".to_owned(),
            )
        };
        te_c += n * c;
        te_low += n * l;
        te_high += n * h;
        parts.push(format!("{n} × {c} kg ({name}, {why})"));
    }
    let servers = if devices > 0.0 {
        (devices / per_server).ceil()
    } else {
        1.0
    };
    te_c += servers * server_c;
    te_low += servers * server_low;
    te_high += servers * server_high;
    parts.push(format!("{servers} server × {server_c} kg"));
    let central = te_c * hours / life_c;
    Ok(Share {
        central: Mass::kg(central),
        low: Mass::kg(te_low * hours / life_long),
        high: Mass::kg(te_high * hours / life_short),
        basis: format!(
            "({}) × {} h ÷ {} h = {} (SCI time-share)",
            parts.join(" + "),
            crate::units::format_significant(hours, 6),
            crate::units::format_significant(life_c, 6),
            Mass::kg(central)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpu_descriptions() {
        assert_eq!(
            gpu_groups("1 x NVIDIA A100-SXM4-80GB"),
            vec![(1.0, "A100-SXM4-80GB".to_owned())]
        );
        assert_eq!(
            gpu_groups("4 x NVIDIA A401 x NVIDIA A100 80GB PCIe"),
            vec![(4.0, "A40".to_owned()), (1.0, "A100 80GB PCIe".to_owned())]
        );
        assert_eq!(gpu_groups("8 x H100"), vec![(8.0, "H100".to_owned())]);
        assert_eq!(gpu_groups("Tesla T4"), vec![(1.0, "Tesla T4".to_owned())]);
    }
}
