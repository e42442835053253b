// Reference implementation of the sanitizing rule documented in README.md
// (the Rust renderer should implement the same rule). Verified by probe.mjs.

export const MAX_LABEL = 40;

/**
 * Strict rule for any user-supplied text (model name, version, task, metric):
 * keep ASCII letters, digits, space, '.', '-', '_'; every other character
 * (tabs, newlines, punctuation, non-ASCII, emoji) becomes a space; collapse
 * runs of spaces; trim; truncate to `max` chars and trim again; "" -> "unnamed".
 */
export function sanitizeText(s, max = MAX_LABEL) {
  let out = String(s).replace(/[^A-Za-z0-9 ._-]/g, ' ').replace(/ +/g, ' ').trim();
  out = out.slice(0, max).trim();
  return out === '' ? 'unnamed' : out;
}

/**
 * A point / axis / quadrant label: sanitizeText() and then wrap in double
 * quotes. The quotes are required: unquoted, a sanitized word such as
 * "x-axis", "y-axis", "quadrant-1".."quadrant-4", "title" (in axis/quadrant
 * text) or "classDef" (Mermaid >= 11) is read as a keyword and the chart fails.
 * Title lines take the rest of the line verbatim: use sanitizeText() unquoted.
 */
export function sanitizeLabel(s, max = MAX_LABEL) {
  return `"${sanitizeText(s, max)}"`;
}

/**
 * Lenient variant (keeps non-ASCII, parentheses, '@', ':' ...), verified by
 * probe.mjs too: replace control chars and " ` % { } < > with a space,
 * collapse, trim, truncate by code point, "" -> "unnamed", then quote.
 */
export function sanitizeLabelLenient(s, max = MAX_LABEL) {
  let out = String(s).replace(/[\u0000-\u001f\u007f-\u009f"`%{}<>]/g, ' ').replace(/\s+/g, ' ').trim();
  out = Array.from(out).slice(0, max).join('').trim();
  return `"${out === '' ? 'unnamed' : out}"`;
}

/**
 * Format a coordinate the way the quadrantChart lexer accepts, i.e.
 * /1|0(.\d+)?/: clamp to [0, 1]; exactly "0" or "1" at the ends, else
 * "0.dddd". Never "1.0"/"1.00", ".5", "-0.1" or "1e-3" (lexical errors).
 * Rounding happens before the 0/1 decision, so 0.99996 -> "1".
 */
export function formatCoord(v, digits = 4) {
  if (!Number.isFinite(v) || v <= 0) return '0';
  const r = Math.round(Math.min(v, 1) * 10 ** digits) / 10 ** digits;
  if (r >= 1) return '1';
  if (r <= 0) return '0';
  return r.toFixed(digits);
}
