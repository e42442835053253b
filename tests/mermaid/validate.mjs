#!/usr/bin/env node
// Validate every ```mermaid fenced block in Markdown (or insta .snap) files
// with each Mermaid version installed in this folder (package aliases
// mermaid10, mermaid11, ... in package.json).
//
// Usage: node validate.mjs [--allow-none] [--only=10,11] FILE...
//   FILE may be "-" for standard input.
// Exit codes: 0 all blocks parse; 1 a block fails to parse, a fence is left
// open, or a file has no mermaid block (unless --allow-none); 2 usage error
// (bad option, no file, unreadable file, no Mermaid installed).
//
// Runs offline after `npm ci --prefix tests/mermaid`: no browser, jsdom
// provides the `window` that Mermaid's DOMPurify needs at import time.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

const USAGE = `usage: node validate.mjs [--allow-none] [--only=MAJOR[,MAJOR...]] FILE...
  Parses every \`\`\`mermaid fenced block of each FILE ("-" = stdin) with each
  installed Mermaid version. Exit 0 = all ok, 1 = parse failure or a file
  without mermaid block (unless --allow-none), 2 = usage error.`;

function usageError(msg) {
  if (msg) console.error(`error: ${msg}`);
  console.error(USAGE);
  process.exit(2);
}

// ---------- arguments ----------
let allowNone = false;
let only = null;
const files = [];
let endOfOptions = false;
for (const arg of process.argv.slice(2)) {
  if (!endOfOptions && arg === '--') endOfOptions = true;
  else if (!endOfOptions && arg === '--allow-none') allowNone = true;
  else if (!endOfOptions && (arg === '-h' || arg === '--help')) {
    console.log(USAGE);
    process.exit(0);
  } else if (!endOfOptions && arg.startsWith('--only=')) {
    only = arg.slice('--only='.length).split(',').map((s) => s.trim()).filter(Boolean);
    if (only.length === 0 || only.some((s) => !/^\d+$/.test(s))) usageError(`bad ${arg}`);
  } else if (!endOfOptions && arg.startsWith('-') && arg !== '-') usageError(`unknown option ${arg}`);
  else files.push(arg);
}
if (files.length === 0) usageError('no FILE given');

// ---------- block extraction (CommonMark fenced code blocks) ----------
/**
 * Returns [{ line, text, closed }] for each fenced block whose info string's
 * first word is "mermaid". `line` is the 1-based line of the opening fence.
 */
export function extractMermaidBlocks(source) {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const blocks = [];
  let i = 0;
  while (i < lines.length) {
    const open = /^( {0,3})(`{3,}|~{3,})(.*)$/.exec(lines[i]);
    if (!open) { i++; continue; }
    const [, indent, fence, info] = open;
    // A backtick fence's info string may not contain backticks.
    if (fence[0] === '`' && info.includes('`')) { i++; continue; }
    const lang = info.trim().split(/\s+/)[0].toLowerCase();
    const start = i;
    const body = [];
    let closed = false;
    const closeRe = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}[ \\t]*$`);
    for (i = i + 1; i < lines.length; i++) {
      if (closeRe.test(lines[i])) { closed = true; break; }
      // Strip up to the opening fence's indentation, as CommonMark does.
      let l = lines[i];
      let n = 0;
      while (n < indent.length && l[n] === ' ') n++;
      body.push(l.slice(n));
    }
    i++; // skip the closing fence (or run past the end)
    if (lang === 'mermaid') blocks.push({ line: start + 1, text: body.join('\n') + '\n', closed });
  }
  return blocks;
}

// ---------- Mermaid versions ----------
async function loadMermaids() {
  const pkg = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
  const aliases = Object.keys(pkg.dependencies ?? {})
    .filter((name) => /^mermaid\d+$/.test(name))
    .filter((name) => !only || only.includes(name.slice('mermaid'.length)))
    .sort((a, b) => Number(a.slice(7)) - Number(b.slice(7)));
  if (aliases.length === 0) usageError(only ? `no installed Mermaid matches --only=${only.join(',')}` : 'no mermaidN dependency in package.json');

  // DOMPurify (imported by Mermaid) needs a window when it is first loaded.
  let JSDOM;
  try {
    ({ JSDOM } = await import('jsdom'));
  } catch (e) {
    usageError(`cannot load jsdom (run \`npm ci --prefix ${here}\` first): ${e.message}`);
  }
  const { window } = new JSDOM('<!doctype html><html><body></body></html>', { pretendToBeVisual: true });
  globalThis.window = window;
  globalThis.document = window.document;

  const out = [];
  for (const alias of aliases) {
    let version;
    let mermaid;
    try {
      version = JSON.parse(readFileSync(require.resolve(`${alias}/package.json`), 'utf8')).version;
      mermaid = (await import(alias)).default;
    } catch (e) {
      usageError(`cannot load ${alias} (run \`npm ci --prefix ${here}\` first): ${e.message}`);
    }
    mermaid.initialize({ startOnLoad: false });
    out.push({ alias, version, mermaid });
  }
  return out;
}

// ---------- main ----------
const sources = [];
for (const file of files) {
  try {
    sources.push({ file, text: readFileSync(file === '-' ? 0 : file, 'utf8') });
  } catch (e) {
    usageError(`cannot read ${file}: ${e.message}`);
  }
}

const mermaids = await loadMermaids();
let failures = 0;
let okCount = 0;

for (const { file, text } of sources) {
  const blocks = extractMermaidBlocks(text);
  if (blocks.length === 0) {
    if (allowNone) console.log(`none: ${file} has no mermaid block (allowed)`);
    else {
      console.log(`FAIL: ${file}: no \`\`\`mermaid block found (use --allow-none to permit)`);
      failures++;
    }
    continue;
  }
  for (const [idx, block] of blocks.entries()) {
    const n = idx + 1;
    if (!block.closed) {
      console.log(`FAIL: ${file} block ${n} (line ${block.line}): fence is never closed`);
      failures++;
      continue;
    }
    for (const { version, mermaid } of mermaids) {
      try {
        await mermaid.parse(block.text);
        console.log(`ok: ${file} block ${n} (mermaid ${version})`);
        okCount++;
      } catch (e) {
        const msg = String(e?.message ?? e).trim().replace(/\n/g, '\n    ');
        console.log(`FAIL: ${file} block ${n} (line ${block.line}) (mermaid ${version}):\n    ${msg}`);
        failures++;
      }
    }
  }
}

console.log(`mermaid: ${okCount} passed, ${failures} failed`);
process.exit(failures > 0 ? 1 : 0);
