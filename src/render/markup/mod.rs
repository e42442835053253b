//! Markup for a document written in more than one language (the disclosure's Markdown and
//! HTML): one walk over the content calls a [`Markup`] — headings, paragraphs, a notice, tables,
//! figures, inline text, strong text, code and links — and each language implements it, with the
//! escaping of [`super::escape`]. The walk decides what is said; the language only how.

mod html;
mod markdown;

use std::borrow::Cow;

pub use html::Html;
pub use markdown::Markdown;

/// A piece of inline content; every piece is escaped for the output language.
#[derive(Debug, Clone, PartialEq)]
pub enum Inline<'a> {
    /// Text.
    Text(Cow<'a, str>),
    /// Strong (bold) text.
    Strong(Cow<'a, str>),
    /// Text shown whole as code (an identifier, a digest, a command line).
    Code(Cow<'a, str>),
    /// An address the tool's own data declares.
    Link(Cow<'a, str>),
    /// A value the source does not give, shown as "not provided" (and marked in HTML).
    Null,
}

/// [`Inline::Text`].
pub fn text<'a>(text: impl Into<Cow<'a, str>>) -> Inline<'a> {
    Inline::Text(text.into())
}

/// [`Inline::Strong`].
pub fn strong<'a>(text: impl Into<Cow<'a, str>>) -> Inline<'a> {
    Inline::Strong(text.into())
}

/// [`Inline::Code`].
pub fn code<'a>(text: impl Into<Cow<'a, str>>) -> Inline<'a> {
    Inline::Code(text.into())
}

/// The tool's own text in which `code` spans (notes name keys and options that way) become
/// code, so that no backtick is shown raw; an unpaired backtick stays text.
pub fn rich(s: &str) -> Vec<Inline<'_>> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find('`') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('`') else { break };
        if start > 0 {
            out.push(text(&rest[..start]));
        }
        out.push(code(&after[..end]));
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        out.push(text(rest));
    }
    out
}

/// [`Inline::Link`].
pub fn link<'a>(url: impl Into<Cow<'a, str>>) -> Inline<'a> {
    Inline::Link(url.into())
}

/// A table cell or a paragraph: inline pieces in order.
pub type Cell<'a> = Vec<Inline<'a>>;

/// How a column's cells are aligned (numbers to the right, where the language can say so).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// What a document says about itself, for a language with a head.
#[derive(Debug, Clone, Copy)]
pub struct Head<'a> {
    /// The title, also the first heading.
    pub title: &'a str,
    /// What the document is about (added to the title of the head).
    pub subject: &'a str,
    /// The program that wrote it.
    pub generator: &'a str,
    /// A style sheet.
    pub style: &'a str,
}

/// A writer of one markup language. Blocks are written in order; each escapes what it is given.
pub trait Markup {
    /// Start the document: its head (where the language has one) and its title as heading.
    fn begin(&mut self, head: &Head<'_>);
    /// End the document.
    fn end(&mut self);
    /// A heading of `level` (1 is the title).
    fn heading(&mut self, level: u8, text: &str);
    /// A paragraph.
    fn paragraph(&mut self, text: &[Inline<'_>]);
    /// A paragraph set apart (a caveat the reader must see).
    fn notice(&mut self, text: &[Inline<'_>]);
    /// A table with a header row; each row has a cell per column.
    fn table(&mut self, columns: &[(&str, Align)], rows: &[Vec<Cell<'_>>]);
    /// A table as [`Markup::table`], of a kind the style sheet can size (`class`: letters and
    /// `-` only); the same table where the language has no style sheet.
    fn table_of(&mut self, class: &'static str, columns: &[(&str, Align)], rows: &[Vec<Cell<'_>>]) {
        let _ = class;
        self.table(columns, rows);
    }
    /// A table of named values, the names as the first column and no header row of its own.
    fn key_values(&mut self, rows: &[(&str, Cell<'_>)]) {
        let rows: Vec<Vec<Cell<'_>>> = rows
            .iter()
            .map(|(name, value)| vec![vec![text(*name)], value.clone()])
            .collect();
        self.table(&[("", Align::Left), ("", Align::Left)], &rows);
    }
    /// Whether the language draws figures ([`Markup::figure`]); without, a document states what
    /// a figure shows in words.
    fn draws_figures(&self) -> bool {
        false
    }
    /// A figure, as an inline SVG drawing the caller made safe; nothing where the language draws
    /// none.
    fn figure(&mut self, _svg: &str) {}
    /// A page break in print (the summary page ends, the appendices begin); nothing where the
    /// language has no pages.
    fn page_break(&mut self) {}
    /// Whether the document's head names its subject (so the body need not).
    fn head_names_subject(&self) -> bool {
        false
    }
    /// The text written so far.
    fn into_string(self) -> String;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample<M: Markup>(mut m: M) -> String {
        m.heading(2, "A <b>");
        m.paragraph(&[text("x "), strong("y"), text(" "), code("a|b")]);
        m.table(
            &[("Name", Align::Left), ("", Align::Right)],
            &[vec![vec![code("a|b")], vec![Inline::Null]]],
        );
        m.into_string()
    }

    #[test]
    fn one_walk_in_two_languages() {
        assert_eq!(
            sample(Markdown::default()),
            "## A &#60;b&#62;\n\nx **y** `a|b`\n\n| Name | |\n|---|--:|\n| `a\\|b` | *not provided* |\n"
        );
        assert_eq!(
            sample(Html::default()),
            "<h2 class=\"first\">A &lt;b&gt;</h2>\n<p>x <strong>y</strong> <code>a|b</code></p>\n<table><thead><tr><th>Name</th><th></th></tr></thead><tbody>\n<tr><td><code>a|b</code></td><td class=\"null\">not provided</td></tr>\n</tbody></table>\n"
        );
    }
}
