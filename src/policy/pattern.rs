//! Which models a budget or an exception covers: an exact name or a glob, normalized as model
//! names are. Used by the budgets ([`super::validate`]) and the exceptions ([`super::rules`]).

use globset::{Glob, GlobMatcher};

/// Which models a budget covers.
#[derive(Debug, Clone)]
pub enum ModelPattern {
    /// One model by exact name.
    Exact(String),
    /// A glob over model names.
    Glob(String, GlobMatcher),
}

impl ModelPattern {
    /// An exact name, or a glob when the text has `* ? [ {`; normalized as model names are
    /// ([`crate::names`]).
    pub fn parse(text: &str) -> Result<ModelPattern, String> {
        let text = &crate::names::normalize(text).map_err(|bad| {
            format!(
                "`model` cannot be used: {bad}; write it without invisible or control characters"
            )
        })?;
        if text.trim().is_empty() {
            return Err(
                "`model` is empty: give a model name or a glob such as `text-*`".to_owned(),
            );
        }
        if !text.contains(['*', '?', '[', '{']) {
            return Ok(ModelPattern::Exact(text.to_owned()));
        }
        Glob::new(text)
            .map(|g| ModelPattern::Glob(text.to_owned(), g.compile_matcher()))
            .map_err(|err| format!("`model` is not a valid glob: {}", err.kind()))
    }

    /// Whether the pattern covers `model`.
    pub fn matches(&self, model: &str) -> bool {
        match self {
            ModelPattern::Exact(name) => name == model,
            ModelPattern::Glob(_, matcher) => matcher.is_match(model),
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        match self {
            ModelPattern::Exact(s) | ModelPattern::Glob(s, _) => s,
        }
    }
}
