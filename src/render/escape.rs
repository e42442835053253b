//! One escaper per output language, for every renderer (the check report's Markdown, the
//! disclosure's Markdown and HTML): outside text (model names, paths, messages, facts) can never
//! start raw HTML, a mention, a link, a workflow command or break a table.
//!
//! - [`visible`]: nothing hidden — line breaks, control and invisible characters shown;
//! - [`markdown`]: inline Markdown text or a table cell, with characters of meaning as numeric
//!   character references (which also hold inside raw HTML, where a backslash would not);
//! - [`code_span`] / [`code_cell`]: text shown whole as a Markdown code span;
//! - [`markdown_link`]: an address the tool's own data declares;
//! - [`html`]: HTML text or attribute values;
//! - [`csv_cell`]: a CSV field a spreadsheet must not read as a formula.

use std::borrow::Cow;

use crate::error::is_unsafe_char;

/// Outside text with nothing hidden: a line break (`\r\n`, `\n`, `\r`) becomes a visible `⏎`,
/// a tab a space, and every other control or invisible character ([`is_unsafe_char`]: bidi
/// overrides such as U+202E, zero-width spaces and joiners) its `\u{…}` form. Echoed text
/// (arguments, file names, facts) goes through this before any Markdown or HTML escaping.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push('⏎');
            }
            '\n' => out.push('⏎'),
            '\t' => out.push(' '),
            c if is_unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Whether the `:` or `.` at byte `at` of `text` would let GitHub turn what is around it into a
/// link: `scheme://` (GFM autolinks `http://`, `https://`, `ftp://`; every `://` is treated the
/// same) or `www.` at the start of a word.
fn autolink_at(text: &str, at: usize) -> bool {
    let rest = &text[at..];
    if rest.starts_with("://") {
        return true;
    }
    if rest.starts_with('.') {
        let before = &text[..at];
        if before.len() >= 3 && before.is_char_boundary(before.len() - 3) {
            let start = before.len() - 3;
            return before[start..].eq_ignore_ascii_case("www")
                && before[..start]
                    .chars()
                    .last()
                    .is_none_or(|p| !p.is_alphanumeric());
        }
    }
    false
}

/// Escape outside text for Markdown inline text or a table cell: characters that could start
/// markup, HTML, a mention or an issue link become numeric character references, and so do the
/// `:` of `https://` and the `.` of `www.`, which GitHub would otherwise turn into a link (a URL
/// from input is shown as text). Line breaks become spaces; control and invisible characters are
/// shown as `\u{…}` ([`visible`]).
pub fn markdown(text: &str) -> String {
    let text = visible(text).replace('⏎', " ");
    let mut out = String::with_capacity(text.len());
    for (at, c) in text.char_indices() {
        match c {
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '@' | '&' | '~' | '!'
            | '$' | '{' | '}' | '"' | '\'' => out.push_str(&format!("&#{};", u32::from(c))),
            ':' | '.' if autolink_at(&text, at) => out.push_str(&format!("&#{};", u32::from(c))),
            _ => out.push(c),
        }
    }
    out
}

/// A link the tool's own data declares (the regulation table's `verify_at`): left for GitHub to
/// link when it is a plain `https://` address, else escaped like any text ([`markdown`]).
pub fn markdown_link(url: &str) -> String {
    let plain = url.strip_prefix("https://").is_some_and(|rest| {
        !rest.is_empty()
            && rest.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '/' | ':' | '%' | '?' | '=')
            })
    });
    if plain { url.to_owned() } else { markdown(url) }
}

/// Outside text as a Markdown code span that holds it whole: the text made [`visible`] (a blank
/// line would end the span and let what follows render as live HTML), fenced by a run of
/// backticks longer than any inside it, with a space inside each end when the text starts or
/// ends with a backtick or a space (CommonMark strips one). Not for table cells ([`code_cell`]).
pub fn code_span(text: &str) -> String {
    let text = visible(text);
    if text.is_empty() {
        // A span of one space: CommonMark keeps a content of spaces only as it is.
        return "` `".to_owned();
    }
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    let pad = text.starts_with('`')
        || text.ends_with('`')
        || (text.starts_with(' ') && text.ends_with(' '));
    let pad = if pad { " " } else { "" };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// Outside text as a code span inside a table cell: [`code_span`], with `|` escaped (GFM removes
/// the backslash inside a table cell, even in a code span).
pub fn code_cell(text: &str) -> String {
    code_span(text).replace('|', "\\|")
}

/// Escape text for HTML text or a quoted attribute value; control and invisible characters (a
/// bidi override) are shown as `\u{…}`, line breaks kept.
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push('\n'),
            c if is_unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// Outside text for a CSV field that a spreadsheet opens (CSV or formula injection, OWASP): a
/// field starting with `=`, `+`, `-`, `@`, a tab or a carriage return would be read as a formula
/// (`=HYPERLINK(…)`), so it is written with a leading `'`, which spreadsheets show as text. The
/// csv writer does the quoting; numbers are written by the caller, not through this.
pub fn csv_cell(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_escapes_table_breakers_mentions_and_html() {
        assert_eq!(markdown("a|b*c"), "a&#124;b&#42;c");
        assert_eq!(markdown("@org/team"), "&#64;org/team");
        assert_eq!(markdown("<img src=x>"), "&#60;img src=x&#62;");
        assert_eq!(markdown("`x`"), "&#96;x&#96;");
        assert_eq!(markdown("a\nb"), "a b");
        assert_eq!(code_cell("x`y|z"), "``x`y\\|z``");
    }

    /// The disclosure's Markdown used to escape with backslashes (`\|`, `\<`, `https\://`) and
    /// left `$`, `"` and `'` as they are; it now uses this one escaper, whose numeric references
    /// also hold inside raw HTML (where a backslash is shown, not obeyed).
    #[test]
    fn one_rule_for_the_check_report_and_the_disclosure() {
        assert_eq!(
            markdown("a|b <x> *y* $z$ \"q\" it's"),
            "a&#124;b &#60;x&#62; &#42;y&#42; &#36;z&#36; &#34;q&#34; it&#39;s"
        );
        assert_eq!(
            markdown_link("https://x.example/<b>"),
            "https&#58;//x.example/&#60;b&#62;"
        );
        assert_eq!(
            markdown_link("https://eur-lex.europa.eu/x"),
            "https://eur-lex.europa.eu/x"
        );
    }

    #[test]
    fn code_spans_hold_any_text() {
        assert_eq!(code_span("a b"), "`a b`");
        assert_eq!(code_span("a ``b`` c"), "```a ``b`` c```");
        assert_eq!(code_span("`x"), "`` `x ``");
        assert_eq!(code_span(" x "), "`  x  `");
        assert_eq!(code_span(""), "` `");
        assert_eq!(
            code_span("x\n\n<img src=x onerror=alert(1)>\r\n"),
            "`x⏎⏎<img src=x onerror=alert(1)>⏎`"
        );
        assert_eq!(code_span("a\u{202e}b\u{200b}"), "`a\\u{202e}b\\u{200b}`");
    }

    #[test]
    fn urls_and_invisible_characters_are_shown_as_text() {
        assert_eq!(
            markdown("see https://evil.example and www.evil.example"),
            "see https&#58;//evil.example and www&#46;evil.example"
        );
        // Not a link: a word that ends in "www", a dotted name.
        assert_eq!(markdown("awww.x v1.2"), "awww.x v1.2");
        assert_eq!(markdown("a\u{202e}b"), "a&#92;u&#123;202e&#125;b");
    }

    #[test]
    fn html_escapes_markup_and_shows_invisible_characters() {
        assert_eq!(html("<script>&'\""), "&lt;script&gt;&amp;&#39;&quot;");
        assert_eq!(html("a\u{202e}b\u{1b}\n"), "a\\u{202e}b\\u{1b}\n");
    }

    #[test]
    fn csv_cells_never_start_a_formula() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-2"), "'-2");
        assert_eq!(csv_cell("@org/team"), "'@org/team");
        assert_eq!(csv_cell("\tx"), "'\tx");
        assert_eq!(csv_cell("text-gen"), "text-gen");
        assert_eq!(csv_cell(""), "");
    }
}
