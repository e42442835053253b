//! How the domain's closed sets (input formats, phases, comment behaviours) are spelled on the
//! command line. The domain types stay free of clap; each one gets its `ValueEnum` here, with the
//! help line `--help` shows for each value.

use clap::ValueEnum;
use clap::builder::PossibleValue;

use crate::publish::{Behavior, CommentOn};
use crate::record::{Format, Phase};

impl ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            Format::Codecarbon,
            Format::ImpactFramework,
            Format::Eco2ai,
            Format::Carbontracker,
            Format::HfCard,
            Format::Native,
        ]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self {
            Format::Codecarbon => {
                "CodeCarbon `emissions.csv` (every released layout) and its per-task files"
            }
            Format::ImpactFramework => {
                "Green Software Foundation Impact Framework output manifests (`if-run` 1.x)"
            }
            Format::Eco2ai => "eco2AI CSV (0.1.x – 0.3.x)",
            Format::Carbontracker => "carbontracker logs (the output log of each run)",
            Format::HfCard => "Hugging Face model card metadata (`co2_eq_emissions`)",
            Format::Native => "carbon-gate's own JSON / NDJSON records",
        };
        Some(PossibleValue::new(self.name()).help(help))
    }
}

impl ValueEnum for Phase {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            Phase::Training,
            Phase::FineTuning,
            Phase::Inference,
            Phase::Evaluation,
        ]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let (name, help) = match self {
            Phase::Training => ("training", "Training from scratch (pre-training)"),
            Phase::FineTuning => ("fine-tuning", "Fine-tuning an existing model"),
            Phase::Inference => ("inference", "Batch or online inference"),
            Phase::Evaluation => ("evaluation", "Evaluation runs"),
        };
        Some(PossibleValue::new(name).help(help))
    }
}

impl ValueEnum for Behavior {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            Behavior::Update,
            Behavior::New,
            Behavior::DeleteAndNew,
            Behavior::HideAndNew,
            Behavior::Off,
        ]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let (name, help) = match self {
            Behavior::Update => (
                "update",
                "Edit the existing comment in place (quietest: followers are notified once)",
            ),
            Behavior::New => ("new", "Always post a new comment"),
            Behavior::DeleteAndNew => (
                "delete-and-new",
                "Delete the previous comments, then post a new one",
            ),
            Behavior::HideAndNew => (
                "hide-and-new",
                "Minimize (hide as outdated) the previous comments, then post a new one (GitHub only)",
            ),
            Behavior::Off => (
                "off",
                "Do not comment (job summary, outputs and annotations are still written)",
            ),
        };
        Some(PossibleValue::new(name).help(help))
    }
}

impl ValueEnum for CommentOn {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            CommentOn::Always,
            CommentOn::Change,
            CommentOn::Warn,
            CommentOn::Fail,
        ]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let (name, help) = match self {
            CommentOn::Always => ("always", "Every run"),
            CommentOn::Change => (
                "change",
                "Only when the comment would change (or, with none yet, when the verdict is not pass)",
            ),
            CommentOn::Warn => (
                "warn",
                "Only when the verdict is warn or fail (an existing comment is still kept up to date)",
            ),
            CommentOn::Fail => (
                "fail",
                "Only when the verdict is fail (an existing comment is still kept up to date)",
            ),
        };
        Some(PossibleValue::new(name).help(help))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The command-line names are the names the rest of the tool (JSON, YAML) uses.
    #[test]
    fn names_match_serde_names() {
        for f in Format::value_variants() {
            let cli = f.to_possible_value().map(|v| v.get_name().to_string());
            let json = serde_json::to_value(f)
                .ok()
                .and_then(|v| v.as_str().map(String::from));
            assert_eq!(cli, json);
        }
        for p in Phase::value_variants() {
            let cli = p.to_possible_value().map(|v| v.get_name().to_string());
            let json = serde_json::to_value(p)
                .ok()
                .and_then(|v| v.as_str().map(String::from));
            assert_eq!(cli, json);
        }
    }
}
