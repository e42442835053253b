#!/usr/bin/env node
// Render a PR comment (Markdown, as `carbon-gate check --format markdown` writes it) to a
// self-contained HTML page close to what GitHub shows: Markdown by `marked`, each ```mermaid
// block drawn by Mermaid 11 in the browser. Used by tests/comment/check.sh, which opens the page
// in headless Chromium, checks the drawing and takes a screenshot.
// Usage: node render-comment.mjs COMMENT.md OUT.html
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { marked } from 'marked';

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node render-comment.mjs COMMENT.md OUT.html');
  process.exit(2);
}
const require = createRequire(import.meta.url);
const mermaidJs = pathToFileURL(require.resolve('mermaid11/dist/mermaid.min.js')).href;
const escape = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const renderer = new marked.Renderer();
const code = renderer.code.bind(renderer);
renderer.code = (token) =>
  token.lang === 'mermaid' ? `<pre class="mermaid">${escape(token.text)}</pre>\n` : code(token);
const body = marked.parse(readFileSync(input, 'utf8'), { renderer, gfm: true });
writeFileSync(
  output,
  `<!doctype html>
<html><head><meta charset="utf-8"><title>PR comment</title>
<style>
body { font: 14px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328;
  max-width: 880px; margin: 16px auto; padding: 16px; border: 1px solid #d0d7de; border-radius: 6px; }
table { border-collapse: collapse; } th, td { border: 1px solid #d0d7de; padding: 4px 10px; }
code { background: #eff1f3; padding: 1px 4px; border-radius: 4px; font-size: 85%; }
pre { background: #f6f8fa; padding: 12px; overflow: auto; } pre.mermaid { background: none; }
</style></head>
<body>
${body}
<script src="${mermaidJs}"></script>
<script>mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });
mermaid.run().then(() => document.body.setAttribute('data-drawn', 'yes'),
  (e) => document.body.setAttribute('data-drawn', 'error: ' + e));</script>
</body></html>
`,
);
