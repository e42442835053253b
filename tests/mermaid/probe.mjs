#!/usr/bin/env node
// Probe which characters/values Mermaid's quadrantChart accepts, per installed
// Mermaid version, and check the sanitizing rule proposed in README.md.
// Usage: node probe.mjs            (prints Markdown tables; exit 1 if a
//                                   sanitized case fails in any version)
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JSDOM } from 'jsdom';
import { sanitizeText, sanitizeLabel, sanitizeLabelLenient, formatCoord } from './sanitize.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { window } = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = window;
globalThis.document = window.document;

const pkg = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
const mermaids = [];
for (const alias of Object.keys(pkg.dependencies).filter((n) => /^mermaid\d+$/.test(n)).sort()) {
  const version = JSON.parse(readFileSync(require.resolve(`${alias}/package.json`), 'utf8')).version;
  const mermaid = (await import(alias)).default;
  mermaid.initialize({ startOnLoad: false });
  mermaids.push({ version, mermaid });
}
mermaids.sort((a, b) => parseInt(a.version) - parseInt(b.version));

async function check(text) {
  const res = [];
  for (const { mermaid } of mermaids) {
    try {
      await mermaid.parse(text);
      res.push('ok');
    } catch (e) {
      res.push('FAIL: ' + String(e.message).split('\n')[0].slice(0, 60));
    }
  }
  return res;
}

const chart = ({ title = 'T', x = 'Lower CO2e --> Higher CO2e', q1 = 'Q one', points = ['a: [0.5, 0.5]'] } = {}) =>
  ['quadrantChart', `    title ${title}`, `    x-axis ${x}`, '    y-axis Lower f1 --> Higher f1',
    `    quadrant-1 ${q1}`, '    quadrant-2 Q two', '    quadrant-3 Q three', '    quadrant-4 Q four',
    ...points.map((p) => `    ${p}`)].join('\n') + '\n';

const samples = {
  'letters+space': 'text gen',
  'dot': 'text.gen',
  'hyphen': 'text-gen',
  'underscore': 'text_gen',
  'digit start': '2x model',
  'all digits': '123',
  'version-like': 'text-gen 2.1.0',
  'parentheses': 'gen (v2)',
  'colon': 'org:model',
  'comma': 'a,b',
  'slash': 'org/model',
  'at': 'model@v2',
  'hash': 'model#2',
  'lt/gt': 'a<b>c',
  'pipe': 'a|b',
  'backtick': 'a`b',
  'double quote': 'a"b',
  'single quote': "a'b",
  'percent': 'a%b',
  'double percent': 'a %% b',
  'brackets': 'a[b]',
  'braces': 'a{b}',
  'semicolon': 'a;b',
  'equals/plus/star': 'a=b+c*d',
  'ampersand': 'a&b',
  'caret/tilde': 'a^b~c',
  'dollar/!/?': 'a$b!c?',
  'backslash': 'a\\b',
  'arrow -->': 'a --> b',
  'triple colon': 'a:::b',
  'accented (é, ü)': 'modèle über',
  'CJK': '模型 言語',
  'emoji': 'model 🚀',
  'keyword title': 'title',
  'keyword x-axis': 'x-axis',
  'keyword quadrant-1': 'quadrant-1 x',
  'keyword classDef': 'classDef x',
  'leading space': '  lead',
  'long 200 chars': 'm'.repeat(60) + ' ' + 'abc.def-ghi_jkl '.repeat(8) + 'x'.repeat(11),
  'tab': 'a\tb',
  'newline': 'a\nb',
  'keyword word inside': 'my title x-axis quadrant-2 classDef gen',
  'init directive': "%%{init: {'theme':'dark'}}%%",
  'html': '<script>alert(1)</script><br/>',
  'entity': 'a #35; b &amp; c',
  'leading backtick': '`md` name',
  'leading hyphens': '--model',
};

const out = [];
const vhead = mermaids.map((m) => `mermaid ${m.version}`);
out.push(`| sample | text | where | ${vhead.join(' | ')} |`);
out.push(`|---|---|---|${vhead.map(() => '---').join('|')}|`);
const md = (s) => '`` ' + s.replace(/\|/g, '\\|').replace(/\t/g, '\\t').replace(/\n/g, '\\n').slice(0, 40) + (s.length > 40 ? '…' : '') + ' ``';
for (const [label, s] of Object.entries(samples)) {
  const where = {
    'point': chart({ points: [`${s}: [0.5, 0.5]`] }),
    'point "quoted"': chart({ points: [`"${s}": [0.5, 0.5]`] }),
    'title': chart({ title: s }),
    'x-axis (both ends)': chart({ x: `${s} --> ${s}` }),
    'quadrant-1': chart({ q1: s }),
    'quadrant-1 "quoted"': chart({ q1: `"${s}"` }),
  };
  for (const [w, text] of Object.entries(where)) {
    out.push(`| ${label} | ${md(s)} | ${w} | ${(await check(text)).join(' | ')} |`);
  }
}

out.push('', '### Values and point counts', '');
out.push(`| case | ${vhead.join(' | ')} |`);
out.push(`|---|${vhead.map(() => '---').join('|')}|`);
const valueCases = {
  '[0, 0]': ['a: [0, 0]'],
  '[1, 1]': ['a: [1, 1]'],
  '[0.0, 0.0]': ['a: [0.0, 0.0]'],
  '[1.0, 1.0]': ['a: [1.0, 1.0]'],
  '[1.00, 0.5]': ['a: [1.00, 0.5]'],
  '[0.5, 1.0]': ['a: [0.5, 1.0]'],
  '[.5, .5]': ['a: [.5, .5]'],
  '[0.123456789, 0.5]': ['a: [0.123456789, 0.5]'],
  '[0.50, 0.5] (trailing zero)': ['a: [0.50, 0.5]'],
  '[-0.1, 0.5]': ['a: [-0.1, 0.5]'],
  '[1.5, 0.5]': ['a: [1.5, 0.5]'],
  '[1e-3, 0.5]': ['a: [1e-3, 0.5]'],
  '[0.5,0.5] (no spaces)': ['a:[0.5,0.5]'],
  'duplicate name x2': ['same: [0.2, 0.3]', 'same: [0.7, 0.8]'],
  'duplicate name+coords x2': ['same: [0.2, 0.3]', 'same: [0.2, 0.3]'],
  '12 points': Array.from({ length: 12 }, (_, i) => `p${i}: [0.${i + 10}, 0.${50 + i}]`),
  '100 points': Array.from({ length: 100 }, (_, i) => `model ${i}: [${formatCoord(i / 99)}, ${formatCoord(1 - i / 99)}]`),
  'no points': [],
};
for (const [label, points] of Object.entries(valueCases)) {
  out.push(`| ${label.replace(/\|/g, '\\|')} | ${(await check(chart({ points }))).join(' | ')} |`);
}

// ---- the sanitizing rules, applied to every hostile sample ----
let sanitizedFailures = 0;
const hostile = { ...samples, 'empty': '', 'only symbols': '()<>|`"%', 'only emoji': '🚀🔥', 'only spaces': '   ',
  'very long 300': 'x'.repeat(300) };
for (const [ruleName, rule] of [['sanitizeLabel (strict, quoted)', sanitizeLabel], ['sanitizeLabelLenient (quoted)', sanitizeLabelLenient]]) {
  out.push('', `### ${ruleName} on every hostile sample`, '');
  out.push(`| sample | sanitized | where | ${vhead.join(' | ')} |`);
  out.push(`|---|---|---|${vhead.map(() => '---').join('|')}|`);
  for (const [label, s] of Object.entries(hostile)) {
    const clean = rule(s);
    for (const [w, text] of Object.entries({
      'point': chart({ points: [`${clean}: [0.5, 0.5]`] }),
      'title (sanitizeText, unquoted)': chart({ title: `Accuracy vs CO2e (${sanitizeText(s)}): f1` }),
      'x-axis': chart({ x: `${clean} --> ${clean}` }),
      'quadrant-1': chart({ q1: clean }),
    })) {
      const r = await check(text);
      if (r.some((x) => x !== 'ok')) sanitizedFailures++;
      out.push(`| ${label} | ${md(clean)} | ${w} | ${r.join(' | ')} |`);
    }
  }
  // all hostile names as points of one chart, coordinates via formatCoord incl. 0/1 and rounding edges
  const coords = [0, 1, 0.99996, 0.00004, 0.5, -3, 7, NaN, 0.995, 0.12345];
  const all = Object.values(hostile).map((s, i) => `${rule(s)}: [${formatCoord(coords[i % coords.length])}, ${formatCoord(coords[(i + 3) % coords.length])}]`);
  const r = await check(chart({ points: all }));
  if (r.some((x) => x !== 'ok')) sanitizedFailures++;
  out.push(`| all ${all.length} sanitized names in one chart (formatCoord edge values) | | point | ${r.join(' | ')} |`);
}

console.log(out.join('\n'));
console.log(`\nsanitized cases: ${sanitizedFailures} failed`);
process.exit(sanitizedFailures ? 1 : 0);
