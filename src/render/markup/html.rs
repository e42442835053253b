//! [`Markup`] as one self-contained HTML file: a head with a strict content security policy and
//! inline styles, outside text escaped by [`crate::render::escape::html`].

use super::{Align, Cell, Head, Inline, Markup};
use crate::render::escape::{html, visible};

/// An HTML document.
#[derive(Debug, Default)]
pub struct Html {
    out: String,
    /// A level-2 heading was written (the first is marked: no page break before it in print).
    after_first_section: bool,
}

impl Html {
    fn inline(pieces: &[Inline<'_>]) -> String {
        pieces
            .iter()
            .map(|piece| match piece {
                Inline::Text(t) | Inline::Link(t) => html(t),
                Inline::Strong(t) => format!("<strong>{}</strong>", html(t)),
                Inline::Code(t) => format!("<code>{}</code>", html(&visible(t))),
                Inline::Null => "not provided".to_owned(),
            })
            .collect()
    }

    /// A data cell; a missing value is marked for its style.
    fn cell(cell: &Cell<'_>) -> String {
        let class = if cell.as_slice() == [Inline::Null] {
            " class=\"null\""
        } else {
            ""
        };
        format!("<td{class}>{}</td>", Self::inline(cell))
    }
}

impl Markup for Html {
    fn begin(&mut self, head: &Head<'_>) {
        self.out.push_str(&format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n<meta name=\"generator\" content=\"{}\">\n<title>{} — {}</title>\n<style>{}</style>\n</head>\n<body>\n",
            html(head.generator),
            html(head.title),
            html(head.subject),
            head.style
        ));
        self.heading(1, head.title);
    }

    fn end(&mut self) {
        self.out.push_str("</body>\n</html>\n");
    }

    fn heading(&mut self, level: u8, text: &str) {
        let class = if level == 2 && !self.after_first_section {
            self.after_first_section = true;
            " class=\"first\""
        } else {
            ""
        };
        self.out
            .push_str(&format!("<h{level}{class}>{}</h{level}>\n", html(text)));
    }

    fn paragraph(&mut self, text: &[Inline<'_>]) {
        self.out
            .push_str(&format!("<p>{}</p>\n", Self::inline(text)));
    }

    fn notice(&mut self, text: &[Inline<'_>]) {
        self.out
            .push_str(&format!("<p class=\"notice\">{}</p>\n", Self::inline(text)));
    }

    fn table(&mut self, columns: &[(&str, Align)], rows: &[Vec<Cell<'_>>]) {
        self.table_of("", columns, rows);
    }

    fn table_of(&mut self, class: &'static str, columns: &[(&str, Align)], rows: &[Vec<Cell<'_>>]) {
        // The class is the caller's constant; anything but letters and `-` is dropped.
        let class: String = class
            .chars()
            .filter(|c| c.is_ascii_alphabetic() || *c == '-')
            .collect();
        if class.is_empty() {
            self.out.push_str("<table><thead><tr>");
        } else {
            self.out
                .push_str(&format!("<table class=\"{class}\"><thead><tr>"));
        }
        for (header, _) in columns {
            self.out.push_str(&format!("<th>{}</th>", html(header)));
        }
        self.out.push_str("</tr></thead><tbody>\n");
        for row in rows {
            self.out.push_str("<tr>");
            for cell in row {
                self.out.push_str(&Self::cell(cell));
            }
            self.out.push_str("</tr>\n");
        }
        self.out.push_str("</tbody></table>\n");
    }

    fn key_values(&mut self, rows: &[(&str, Cell<'_>)]) {
        self.out.push_str("<table><tbody>\n");
        for (name, value) in rows {
            self.out.push_str(&format!(
                "<tr><th>{}</th><td>{}</td></tr>\n",
                html(name),
                Self::inline(value)
            ));
        }
        self.out.push_str("</tbody></table>\n");
    }

    fn draws_figures(&self) -> bool {
        true
    }

    fn figure(&mut self, svg: &str) {
        self.out.push_str(svg);
        self.out.push('\n');
    }

    fn page_break(&mut self) {
        self.out.push_str("<div class=\"page-break\"></div>\n");
    }

    fn head_names_subject(&self) -> bool {
        true
    }

    fn into_string(self) -> String {
        self.out
    }
}
