//! Hugging Face model card export: the `co2_eq_emissions` block of the card's YAML front matter,
//! written from the same totals as the disclosure. An existing card is edited in place: only the
//! lines of that block change (or are added before the closing `---`); every other byte of the
//! file — other metadata, comments, the card's text, line endings — stays as it was.

use crate::record::Phase;
use crate::report::ModelReport;
use crate::units::format_significant;

/// The block's values, per the Hub's model-card metadata spec (`emissions` in grams).
#[derive(Debug, Clone, PartialEq)]
pub struct Co2Block {
    /// Grams CO2e.
    pub emissions_g: f64,
    /// Where the figure comes from.
    pub source: String,
    /// `pre-training` or `fine-tuning`, when the evidence says.
    pub training_type: Option<String>,
    /// Where the runs ran.
    pub geographical_location: Option<String>,
    /// The hardware.
    pub hardware_used: Option<String>,
}

fn distinct(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for i in items {
        if !i.trim().is_empty() && !v.contains(&i) {
            v.push(i);
        }
    }
    v
}

/// The block for one evaluated model.
pub fn block(m: &ModelReport) -> Co2Block {
    let tools = distinct(m.contributions.iter().map(|c| {
        let name = match c.format {
            crate::record::Format::Codecarbon => "CodeCarbon",
            crate::record::Format::Eco2ai => "eco2AI",
            crate::record::Format::Carbontracker => "carbontracker",
            crate::record::Format::ImpactFramework => "Impact Framework",
            crate::record::Format::HfCard => "model card",
            crate::record::Format::Native => {
                if c.method.is_estimate() {
                    "carbon-gate estimate"
                } else {
                    "carbon-gate record"
                }
            }
        };
        match c
            .tool_version
            .as_deref()
            .filter(|v| !v.is_empty() && !v.contains(' '))
        {
            Some(v) => format!("{name} {v}"),
            None => name.to_owned(),
        }
    }));
    let phases = distinct(m.contributions.iter().filter_map(|c| match c.phase {
        Some(Phase::Training) => Some("pre-training".to_owned()),
        Some(Phase::FineTuning) => Some("fine-tuning".to_owned()),
        _ => None,
    }));
    let places = distinct(m.contributions.iter().map(|c| {
        let p = &c.place;
        match (&p.cloud_provider, &p.cloud_region) {
            (Some(prov), Some(reg)) if !prov.is_empty() && !reg.is_empty() => {
                format!("{prov} {reg}")
            }
            _ => p
                .country
                .clone()
                .or_else(|| p.country_iso.clone())
                .unwrap_or_default(),
        }
    }));
    let hardware = distinct(m.contributions.iter().map(|c| {
        let h = &c.hardware;
        match (&h.gpu, h.gpu_count, &h.cpu) {
            (Some(g), Some(n), _) if !g.is_empty() => {
                format!("{} x {g}", format_significant(n, 3))
            }
            (Some(g), None, _) if !g.is_empty() => g.clone(),
            (_, _, Some(cpu)) => cpu.clone(),
            _ => String::new(),
        }
    }));
    Co2Block {
        emissions_g: m.totals.emissions.in_grams(),
        source: format!(
            "{} (totalled by carbon-gate {})",
            if tools.is_empty() {
                "no log".to_owned()
            } else {
                tools.join(", ")
            },
            env!("CARGO_PKG_VERSION")
        ),
        training_type: (phases.len() == 1).then(|| phases[0].clone()),
        geographical_location: (!places.is_empty()).then(|| places.join(", ")),
        hardware_used: (!hardware.is_empty()).then(|| hardware.join(", ")),
    }
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The block's YAML lines (without line endings).
pub fn lines(b: &Co2Block) -> Vec<String> {
    let mut v = vec![
        "co2_eq_emissions:".to_owned(),
        format!("  emissions: {}", format_significant(b.emissions_g, 6)),
        format!("  source: {}", quote(&b.source)),
    ];
    if let Some(t) = &b.training_type {
        v.push(format!("  training_type: {}", quote(t)));
    }
    if let Some(g) = &b.geographical_location {
        v.push(format!("  geographical_location: {}", quote(g)));
    }
    if let Some(h) = &b.hardware_used {
        v.push(format!("  hardware_used: {}", quote(h)));
    }
    v
}

/// Put the block into a card's text: replace an existing `co2_eq_emissions` (in whatever form),
/// else add it at the end of the front matter, else give the card a front matter.
pub fn update(card: &str, b: &Co2Block) -> String {
    let eol = if card.contains("\r\n") { "\r\n" } else { "\n" };
    let block: String = lines(b).iter().map(|l| format!("{l}{eol}")).collect();
    // Split into lines keeping their endings.
    let parts: Vec<&str> = card.split_inclusive('\n').collect();
    let bare = |l: &str| l.trim_end_matches(['\r', '\n']).to_owned();
    let has_front = parts.first().is_some_and(|l| bare(l).trim_end() == "---");
    let close = has_front
        .then(|| {
            parts
                .iter()
                .enumerate()
                .skip(1)
                .find(|(_, l)| matches!(bare(l).trim_end(), "---" | "..."))
                .map(|(i, _)| i)
        })
        .flatten();
    let Some(close) = close else {
        // No front matter (or an unclosed one, which is then body text): add one.
        let bom = card.starts_with('\u{feff}');
        let rest = card.trim_start_matches('\u{feff}');
        return format!(
            "{}---{eol}{block}---{eol}{rest}",
            if bom { "\u{feff}" } else { "" }
        );
    };
    let start = (1..close).find(|&i| {
        let l = bare(parts[i]);
        l.starts_with("co2_eq_emissions:") || l.starts_with("\"co2_eq_emissions\":")
    });
    let mut out = String::with_capacity(card.len() + block.len());
    match start {
        Some(s) => {
            // The block: its key line, then indented or blank lines up to the next top-level
            // line (trailing blank lines are left to the rest of the file).
            let mut end = s + 1;
            let mut last_content = s + 1;
            while end < close {
                let l = bare(parts[end]);
                if l.trim().is_empty() {
                    end += 1;
                    continue;
                }
                if l.starts_with(' ') || l.starts_with('\t') {
                    end += 1;
                    last_content = end;
                    continue;
                }
                break;
            }
            for p in &parts[..s] {
                out.push_str(p);
            }
            out.push_str(&block);
            for p in &parts[last_content..] {
                out.push_str(p);
            }
        }
        None => {
            for p in &parts[..close] {
                out.push_str(p);
            }
            // A front matter whose last line has no line ending cannot happen before `---`.
            out.push_str(&block);
            for p in &parts[close..] {
                out.push_str(p);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b() -> Co2Block {
        Co2Block {
            emissions_g: 24945.370184474886,
            source: "carbon-gate estimate (totalled by carbon-gate 0.1.0)".into(),
            training_type: Some("fine-tuning".into()),
            geographical_location: Some("aws eu-west-3".into()),
            hardware_used: Some("8 x A100-SXM4-80GB".into()),
        }
    }

    #[test]
    fn replaces_only_the_block() {
        let card = "---\nlicense: apache-2.0\nco2_eq_emissions:\n  emissions: 10\n  source: \"x\"\n\ntags:\n- a\n---\n# Card\n\ntext\n";
        let out = update(card, &b());
        assert_eq!(
            out,
            "---\nlicense: apache-2.0\nco2_eq_emissions:\n  emissions: 24945.4\n  source: \"carbon-gate estimate (totalled by carbon-gate 0.1.0)\"\n  training_type: \"fine-tuning\"\n  geographical_location: \"aws eu-west-3\"\n  hardware_used: \"8 x A100-SXM4-80GB\"\n\ntags:\n- a\n---\n# Card\n\ntext\n"
        );
        // Idempotent.
        assert_eq!(update(&out, &b()), out);
    }

    #[test]
    fn scalar_form_and_missing_block_and_no_front_matter() {
        let card = "---\r\nco2_eq_emissions: 12\r\nlicense: mit\r\n---\r\nbody\r\n";
        let out = update(card, &b());
        assert!(out.starts_with("---\r\nco2_eq_emissions:\r\n  emissions: 24945.4\r\n"));
        assert!(out.ends_with("license: mit\r\n---\r\nbody\r\n"));
        let card = "---\nlicense: mit\n---\nbody\n";
        let out = update(card, &b());
        assert!(out.starts_with("---\nlicense: mit\nco2_eq_emissions:\n"));
        assert!(out.ends_with("hardware_used: \"8 x A100-SXM4-80GB\"\n---\nbody\n"));
        let out = update("# Just text\n", &b());
        assert!(out.starts_with("---\nco2_eq_emissions:\n"));
        assert!(out.ends_with("---\n# Just text\n"));
    }
}
