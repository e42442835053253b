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
    let places = distinct(m.contributions.iter().map(|c| match c.place.site() {
        Some(crate::record::Site::Cloud { provider, region }) => format!("{provider} {region}"),
        Some(crate::record::Site::Country(country)) => country.to_owned(),
        None => String::new(),
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
            // Bidi overrides, zero-width characters: YAML escapes, visible in the file.
            c if crate::error::is_unsafe_char(c) => {
                let n = u32::from(c);
                if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04X}"));
                } else {
                    out.push_str(&format!("\\U{n:08X}"));
                }
            }
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

/// Read the card named by `--card`. A symbolic link is refused, not followed: the card is
/// rewritten in place (a new file renamed over it, with the old file's permissions), and writing
/// through a link a checkout planted would edit a file elsewhere, while replacing the link
/// would leave the real card unchanged. A FIFO, device or directory is refused too.
pub fn read_card(path: &std::path::Path) -> Result<String, crate::error::Error> {
    use crate::error::{Error, Location, Problem};
    let problem = |message: String, help: &str| {
        Error::input(Problem::new(Location::file(path), message).with_help(help))
    };
    let meta = std::fs::symlink_metadata(path).map_err(|e| {
        problem(
            format!("cannot read the model card: {e}"),
            "check the path given to --card",
        )
    })?;
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(path)
            .map(|t| crate::error::display_path(&t))
            .unwrap_or_else(|_| "?".to_owned());
        return Err(problem(
            format!(
                "the model card is a symbolic link (to {target}): carbon-gate does not edit a card through a link"
            ),
            "pass the file itself to --card, or replace the link by the file",
        ));
    }
    if !meta.is_file() {
        return Err(problem(
            "the model card is not a regular file".to_owned(),
            "pass the card's README.md to --card",
        ));
    }
    crate::ingest::bounded::read_regular_text(path, crate::ingest::bounded::MAX_SMALL_DOCUMENT)
        .map_err(|e| {
            problem(
                format!("cannot read the model card: {e}"),
                "pass the card's README.md (UTF-8 text) to --card",
            )
        })
}

/// Why a card was not edited: where (1-based line of the card, when there is one), what is
/// wrong and what to do. Nothing is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The card's line.
    pub line: Option<u64>,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub help: String,
}

const KEY: &str = "co2_eq_emissions";

const HELP_REWRITE: &str = "write co2_eq_emissions as a plain block (`co2_eq_emissions:` then indented `key: value` lines), or leave out --card to print the block and paste it yourself";

fn refusal(line: Option<u64>, message: impl Into<String>, help: &str) -> Refusal {
    Refusal {
        line,
        message: message.into(),
        help: help.to_owned(),
    }
}

/// The line without its line ending.
fn bare(l: &str) -> &str {
    l.trim_end_matches(['\r', '\n'])
}

/// Where the value starts (the byte after the `:`) when `line` is the top-level key
/// `co2_eq_emissions`: plain, `"…"` or `'…'`, spaces or tabs allowed before the colon.
fn key_line(line: &str) -> Option<usize> {
    let line = bare(line);
    let after = [KEY.to_owned(), format!("\"{KEY}\""), format!("'{KEY}'")]
        .iter()
        .find_map(|k| line.strip_prefix(k.as_str()).map(|_| k.len()))?;
    let rest = &line[after..];
    let spaces = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    let rest = &rest[spaces..];
    let colon = rest.strip_prefix(':')?;
    (colon.is_empty() || colon.starts_with([' ', '\t'])).then_some(after + spaces + 1)
}

/// What [`scan`] found in the block's lines.
#[derive(Default)]
struct Scan {
    /// Comments to keep: whole comment lines as they are, or the `# …` part of a line.
    comments: Vec<(usize, Option<String>)>,
}

/// Read the block's lines (`parts[s..end]`, `value_at` the key line's value start) as YAML
/// tokens closely enough to find its comments, and refuse an anchor (another key may refer to
/// it): quotes, flow brackets and block scalars are followed so that a `#` inside a value is not
/// taken for a comment.
fn scan(parts: &[&str], s: usize, end: usize, value_at: usize) -> Result<Scan, Refusal> {
    let mut out = Scan::default();
    let mut quote: Option<char> = None;
    let mut flow = 0usize;
    // A block scalar (`|`, `>`) runs over the lines indented more than the line it starts on.
    let mut block_scalar: Option<usize> = None;
    for (i, part) in parts.iter().enumerate().take(end).skip(s) {
        let line = bare(part);
        let trimmed = line.trim_start_matches([' ', '\t']);
        let indent = line.len() - trimmed.len();
        if let Some(parent) = block_scalar {
            if trimmed.is_empty() || indent > parent {
                continue;
            }
            block_scalar = None;
        }
        if quote.is_none() && flow == 0 && trimmed.starts_with('#') {
            out.comments.push((i, None));
            continue;
        }
        let from = if i == s { value_at } else { 0 };
        let chars: Vec<(usize, char)> = line[from..]
            .char_indices()
            .map(|(b, c)| (b + from, c))
            .collect();
        let mut k = 0;
        while k < chars.len() {
            let (at, c) = chars[k];
            let prev = line[..at].chars().last();
            // Where a node may start: quotes, anchors, flow brackets and block scalar
            // indicators mean something only there (`R&D`, `it's`, `a > b` are plain text).
            let before = line[..at].trim_end_matches([' ', '\t']);
            let node_start = before.is_empty()
                || (flow > 0 && before.ends_with(['[', '{', ',']))
                || (before.len() < at && before.ends_with([':', '-', '?']));
            match quote {
                Some('"') => match c {
                    '\\' => k += 1,
                    '"' => quote = None,
                    _ => {}
                },
                Some(_) => {
                    if c == '\'' {
                        if chars.get(k + 1).is_some_and(|n| n.1 == '\'') {
                            k += 1;
                        } else {
                            quote = None;
                        }
                    }
                }
                None => match c {
                    '#' if prev.is_none_or(|p| p == ' ' || p == '\t') => {
                        out.comments.push((i, Some(line[at..].to_owned())));
                        break;
                    }
                    '"' | '\'' if node_start => quote = Some(c),
                    '[' | '{' if node_start || flow > 0 => flow += 1,
                    ']' | '}' if flow > 0 => flow -= 1,
                    '&' if node_start => {
                        return Err(refusal(
                            Some(i as u64 + 1),
                            format!(
                                "{KEY} holds a YAML anchor (`{}`): another key may refer to it, and replacing the block would break that reference",
                                crate::error::escape_text(
                                    line[at..]
                                        .split([' ', '\t', ',', ']', '}'])
                                        .next()
                                        .unwrap_or("&")
                                )
                            ),
                            "remove the anchor (copy the values where they are used), or leave out --card to print the block and paste it yourself",
                        ));
                    }
                    '|' | '>' if node_start && flow == 0 => {
                        block_scalar = Some(indent);
                        // The rest of this line may hold only indicators and a comment.
                        if let Some(h) = line[at..].find([' ', '\t']) {
                            let rest = line[at + h..].trim_start_matches([' ', '\t']);
                            if rest.starts_with('#') {
                                out.comments.push((i, Some(rest.to_owned())));
                            }
                        }
                        break;
                    }
                    _ => {}
                },
            }
            k += 1;
        }
    }
    Ok(out)
}

/// Put the block into a card's text, changing nothing else: replace the top-level
/// `co2_eq_emissions` (in whatever form), else add it at the end of the front matter, else give
/// the card a front matter. A byte-order mark is kept and looked past. Comments inside the old
/// block are kept, moved above it. The result is checked by reading the front matter again: the
/// block must be exactly the new one and every other key what it was; a card that cannot be
/// edited that way (not valid YAML, an unclosed front matter, an anchor in the block, an odd
/// key) is refused with the line, and the card is left alone.
pub fn update(card: &str, b: &Co2Block) -> Result<String, Refusal> {
    let (bom, body) = match card.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", card),
    };
    let parts: Vec<&str> = body.split_inclusive('\n').collect();
    let opens = parts.first().is_some_and(|l| bare(l).trim_end() == "---");
    if !opens {
        let eol = if body.contains("\r\n") { "\r\n" } else { "\n" };
        let block: String = lines(b).iter().map(|l| format!("{l}{eol}")).collect();
        return Ok(format!("{bom}---{eol}{block}---{eol}{body}"));
    }
    let eol = if parts[0].ends_with("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let block: String = lines(b).iter().map(|l| format!("{l}{eol}")).collect();
    let Some(close) = parts
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, l)| matches!(bare(l).trim_end(), "---" | "..."))
        .map(|(i, _)| i)
    else {
        return Err(refusal(
            Some(1),
            "the front matter that opens here is never closed (no `---` line after it)",
            "close the front matter with a `---` line, or remove the opening `---`",
        ));
    };
    let old_front: String = parts[1..close].concat();
    let starts: Vec<usize> = (1..close)
        .filter(|&i| key_line(parts[i]).is_some())
        .collect();
    if let [first, second, ..] = starts.as_slice() {
        return Err(refusal(
            Some(*second as u64 + 1),
            format!(
                "{KEY} is given twice (lines {} and {}): YAML readers disagree on which one counts",
                first + 1,
                second + 1
            ),
            "keep one co2_eq_emissions block",
        ));
    }
    let old = front_map(&old_front)?;
    let mut inner = String::with_capacity(old_front.len() + block.len());
    let key_at = match starts.first().copied() {
        None => {
            if old.contains_key(KEY) {
                let line = (1..close).find(|&i| parts[i].contains(KEY)).unwrap_or(0);
                return Err(refusal(
                    Some(line as u64 + 1),
                    format!(
                        "{KEY} is written in a form carbon-gate does not edit (a complex `?` key, an escaped or flow-style key)"
                    ),
                    HELP_REWRITE,
                ));
            }
            inner.push_str(&old_front);
            inner.push_str(&block);
            None
        }
        Some(s) => {
            let value_at = key_line(parts[s]).unwrap_or(0);
            // The block: the key line, then indented lines (and, for a sequence written at
            // column 0, `- ` lines), with blank and comment lines among them; blank and comment
            // lines after its last line belong to what follows.
            let mut end = s + 1;
            let mut last = s + 1;
            while end < close {
                let l = bare(parts[end]);
                let t = l.trim_start_matches([' ', '\t']);
                if t.is_empty() || t.starts_with('#') {
                    end += 1;
                    continue;
                }
                if l.starts_with([' ', '\t'])
                    || l == "-"
                    || l.starts_with("- ")
                    || l.starts_with("-\t")
                {
                    end += 1;
                    last = end;
                    continue;
                }
                break;
            }
            let found = scan(&parts, s, last, value_at)?;
            for p in &parts[1..s] {
                inner.push_str(p);
            }
            for (i, comment) in &found.comments {
                match comment {
                    None => {
                        inner.push_str(bare(parts[*i]));
                        inner.push_str(eol);
                    }
                    Some(c) => {
                        inner.push_str(c.trim_end());
                        inner.push_str(eol);
                    }
                }
            }
            inner.push_str(&block);
            for p in &parts[last..close] {
                inner.push_str(p);
            }
            Some(s)
        }
    };
    // Read the result back: the new block, and every other key as it was.
    let line = Some(key_at.map_or(close as u64 + 1, |s| s as u64 + 1));
    let new = front_map(&inner).map_err(|r| {
        refusal(
            line,
            format!(
                "the front matter would not stay valid YAML after the edit ({}); nothing was written",
                r.message
            ),
            HELP_REWRITE,
        )
    })?;
    let wanted = front_map(&block)?;
    let same_block = new.get(KEY) == wanted.get(KEY);
    let others_kept = new.len() == old.len() + usize::from(!old.contains_key(KEY))
        && old
            .iter()
            .all(|(k, v)| k.as_str() == Some(KEY) || new.get(k) == Some(v));
    if !(same_block && others_kept) {
        return Err(refusal(
            line,
            format!(
                "editing {KEY} here would change other metadata or not give the intended block (an odd YAML shape); nothing was written"
            ),
            HELP_REWRITE,
        ));
    }
    Ok(format!(
        "{bom}{}{inner}{}",
        parts[0],
        parts[close..].concat()
    ))
}

/// The front matter's top-level mapping (empty for an empty front matter), or why not.
fn front_map(front: &str) -> Result<serde_yaml::Mapping, Refusal> {
    if let Err(p) = crate::yaml::guard_depth(std::path::Path::new("front matter"), front) {
        return Err(refusal(
            p.location.line.map(|l| l + 1),
            p.message,
            "the card's metadata is corrupt or hostile; fix it by hand",
        ));
    }
    match serde_yaml::from_str::<serde_yaml::Value>(front) {
        Ok(serde_yaml::Value::Mapping(m)) => Ok(m),
        Ok(serde_yaml::Value::Null) => Ok(serde_yaml::Mapping::new()),
        Ok(_) => Err(refusal(
            Some(2),
            "the front matter is not a mapping of keys to values",
            "the Hub reads the front matter as `key: value` lines; fix it by hand",
        )),
        Err(e) => {
            let message = e.to_string();
            let message = match message.find(" at line ") {
                Some(cut) => message[..cut].to_owned(),
                None => message,
            };
            Err(refusal(
                // The front matter starts on the card's second line.
                e.location().map(|at| at.line() as u64 + 1),
                format!("the front matter is not valid YAML: {message}"),
                "fix the YAML (the Hub cannot read it either), then run again",
            ))
        }
    }
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
        let out = update(card, &b()).unwrap();
        assert_eq!(
            out,
            "---\nlicense: apache-2.0\nco2_eq_emissions:\n  emissions: 24945.4\n  source: \"carbon-gate estimate (totalled by carbon-gate 0.1.0)\"\n  training_type: \"fine-tuning\"\n  geographical_location: \"aws eu-west-3\"\n  hardware_used: \"8 x A100-SXM4-80GB\"\n\ntags:\n- a\n---\n# Card\n\ntext\n"
        );
        // Idempotent.
        assert_eq!(update(&out, &b()).unwrap(), out);
    }

    #[test]
    fn scalar_form_and_missing_block_and_no_front_matter() {
        let card = "---\r\nco2_eq_emissions: 12\r\nlicense: mit\r\n---\r\nbody\r\n";
        let out = update(card, &b()).unwrap();
        assert!(out.starts_with("---\r\nco2_eq_emissions:\r\n  emissions: 24945.4\r\n"));
        assert!(out.ends_with("license: mit\r\n---\r\nbody\r\n"));
        let card = "---\nlicense: mit\n---\nbody\n";
        let out = update(card, &b()).unwrap();
        assert!(out.starts_with("---\nlicense: mit\nco2_eq_emissions:\n"));
        assert!(out.ends_with("hardware_used: \"8 x A100-SXM4-80GB\"\n---\nbody\n"));
        let out = update("# Just text\n", &b()).unwrap();
        assert!(out.starts_with("---\nco2_eq_emissions:\n"));
        assert!(out.ends_with("---\n# Just text\n"));
    }
    fn block_text() -> String {
        lines(&b()).iter().map(|l| format!("{l}\n")).collect()
    }

    #[test]
    fn odd_but_valid_shapes_are_edited_and_stay_put() {
        let blk = block_text();
        for (card, want) in [
            // A byte-order mark: the front matter is still the front matter.
            (
                "\u{feff}---\nlicense: mit\ntags:\n- a\n---\nbody\n".to_owned(),
                format!("\u{feff}---\nlicense: mit\ntags:\n- a\n{blk}---\nbody\n"),
            ),
            // Quoted key, space before the colon.
            (
                "---\n\"co2_eq_emissions\": 5\nlicense: mit\n---\n".to_owned(),
                format!("---\n{blk}license: mit\n---\n"),
            ),
            (
                "---\nco2_eq_emissions :\n  emissions: 5\nlicense: mit\n---\n".to_owned(),
                format!("---\n{blk}license: mit\n---\n"),
            ),
            // A sequence at column 0, and a flow mapping over two lines.
            (
                "---\nco2_eq_emissions:\n- 5\n- 6\nlicense: mit\n---\n".to_owned(),
                format!("---\n{blk}license: mit\n---\n"),
            ),
            (
                "---\nco2_eq_emissions: {emissions: 5,\n  source: \"a # b\"}\nlicense: mit\n---\n"
                    .to_owned(),
                format!("---\n{blk}license: mit\n---\n"),
            ),
            // Comments inside the block are kept, above it; those after it stay after it.
            (
                "---\nco2_eq_emissions: # measured\n# about emissions\n  emissions: 5 # grams\n  # by hand\n  source: 'it''s # not'\n\n# about the license\nlicense: mit\n---\n"
                    .to_owned(),
                format!(
                    "---\n# measured\n# about emissions\n# grams\n  # by hand\n{blk}\n# about the license\nlicense: mit\n---\n"
                ),
            ),
            // A block scalar's `#` lines are text, not comments.
            (
                "---\nco2_eq_emissions:\n  source: >-\n    # not a comment\n    more\n  emissions: 5\n---\n"
                    .to_owned(),
                format!("---\n{blk}---\n"),
            ),
            // An alias in the block is replaced; the anchor elsewhere stays.
            (
                "---\nx: &e 5\nco2_eq_emissions:\n  emissions: *e\n---\n".to_owned(),
                format!("---\nx: &e 5\n{blk}---\n"),
            ),
            // An empty front matter.
            ("---\n---\nbody\n".to_owned(), format!("---\n{blk}---\nbody\n")),
        ] {
            let out = update(&card, &b()).unwrap_or_else(|r| panic!("{card:?}: {r:?}"));
            assert_eq!(out, want, "{card:?}");
            assert_eq!(update(&out, &b()).unwrap(), out, "not idempotent: {card:?}");
        }
    }

    #[test]
    fn shapes_that_cannot_be_edited_safely_are_refused_with_the_line() {
        for (card, line, says) in [
            ("---\nlicense: mit\nbody\n", 1, "never closed"),
            (
                "---\nco2_eq_emissions: &c\n  emissions: 5\nother: *c\n---\n",
                2,
                "anchor (`&c`)",
            ),
            (
                "---\nco2_eq_emissions:\n  - &c 5\nother: *c\n---\n",
                3,
                "anchor",
            ),
            (
                "---\nco2_eq_emissions: 1\nlicense: mit\nco2_eq_emissions: 2\n---\n",
                4,
                "given twice (lines 2 and 4)",
            ),
            ("---\n? co2_eq_emissions\n: 1\n---\n", 2, "does not edit"),
            ("---\nlicense: [mit\n---\n", 3, "not valid YAML"),
            ("---\n- a\n- b\n---\n", 2, "not a mapping"),
            (
                "---\n{license: mit, co2_eq_emissions: 1}\n---\n",
                2,
                "does not edit",
            ),
            ("---\n{license: mit}\n---\n", 3, "not stay valid YAML"),
        ] {
            let r = update(card, &b()).expect_err(card);
            assert_eq!(r.line, Some(line), "{card:?}: {r:?}");
            assert!(r.message.contains(says), "{card:?}: {r:?}");
            assert!(!r.help.is_empty());
        }
    }
}
