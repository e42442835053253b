//! [`Markup`] as GitHub-flavoured Markdown: blocks separated by a blank line, tables with a
//! rule row, outside text escaped by [`crate::render::escape`].

use super::{Align, Cell, Head, Inline, Markup};
use crate::render::escape;

/// A Markdown document.
#[derive(Debug, Default)]
pub struct Markdown {
    out: String,
}

impl Markdown {
    /// A blank line before every block but the first.
    fn block(&mut self) {
        if !self.out.is_empty() {
            self.out.push('\n');
        }
    }

    /// Inline pieces; in a table cell, a code span's `|` is escaped.
    fn inline(pieces: &[Inline<'_>], in_table: bool) -> String {
        pieces
            .iter()
            .map(|piece| match piece {
                Inline::Text(t) => escape::markdown(t),
                Inline::Strong(t) => format!("**{}**", escape::markdown(t)),
                Inline::Code(t) if in_table => escape::code_cell(t),
                Inline::Code(t) => escape::code_span(t),
                Inline::Link(url) => escape::markdown_link(url),
                Inline::Null => "*not provided*".to_owned(),
            })
            .collect()
    }
}

impl Markup for Markdown {
    fn begin(&mut self, head: &Head<'_>) {
        self.heading(1, head.title);
    }

    fn end(&mut self) {}

    fn heading(&mut self, level: u8, text: &str) {
        self.block();
        self.out.push_str(&"#".repeat(usize::from(level)));
        self.out.push(' ');
        self.out.push_str(&escape::markdown(text));
        self.out.push('\n');
    }

    fn paragraph(&mut self, text: &[Inline<'_>]) {
        self.block();
        self.out.push_str(&Self::inline(text, false));
        self.out.push('\n');
    }

    fn notice(&mut self, text: &[Inline<'_>]) {
        self.block();
        self.out.push_str("> ");
        self.out.push_str(&Self::inline(text, false));
        self.out.push('\n');
    }

    fn table(&mut self, columns: &[(&str, Align)], rows: &[Vec<Cell<'_>>]) {
        self.block();
        // An empty header cell is `| |`, a cell of text `| text |`.
        self.out.push('|');
        for (header, _) in columns {
            if header.is_empty() {
                self.out.push_str(" |");
            } else {
                self.out
                    .push_str(&format!(" {} |", escape::markdown(header)));
            }
        }
        self.out.push_str("\n|");
        for (_, align) in columns {
            self.out.push_str(match align {
                Align::Left => "---|",
                Align::Right => "--:|",
            });
        }
        self.out.push('\n');
        for row in rows {
            self.out.push('|');
            for cell in row {
                self.out
                    .push_str(&format!(" {} |", Self::inline(cell, true)));
            }
            self.out.push('\n');
        }
    }

    fn into_string(self) -> String {
        self.out
    }
}
