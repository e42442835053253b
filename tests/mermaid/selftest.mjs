#!/usr/bin/env node
// Self-test of validate.mjs: exit codes on valid, invalid, empty and bad input.
// Usage: node selftest.mjs   (after `npm ci`); prints "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const fx = (...p) => join(here, 'fixtures', ...p);
const run = (...args) => spawnSync(process.execPath, [join(here, 'validate.mjs'), ...args], { encoding: 'utf8' });

const cases = [
  ['all valid fixtures pass', [...readdirSync(fx('valid')).map((f) => fx('valid', f))], 0, /mermaid: \d+ passed, 0 failed/],
  ...readdirSync(fx('invalid')).map((f) => [`invalid/${f} fails`, [fx('invalid', f)], 1, /FAIL: /]),
  ['file without mermaid block fails', [fx('no-mermaid.md')], 1, /no ```mermaid block/],
  ['--allow-none accepts it', ['--allow-none', fx('no-mermaid.md')], 0, /none: /],
  ['one bad file among good ones fails', [fx('valid', 'question-a.md'), fx('invalid', 'coord-1.0.md')], 1, /ok: .*FAIL: /s],
  ['no FILE is a usage error', [], 2, null],
  ['unknown option is a usage error', ['--nope', fx('no-mermaid.md')], 2, null],
  ['missing file is a usage error', [fx('does-not-exist.md')], 2, null],
];

let passed = 0;
let failed = 0;
for (const [name, args, code, re] of cases) {
  const r = run(...args);
  const good = r.status === code && (!re || re.test(r.stdout));
  if (good) passed++;
  else failed++;
  console.log(`${good ? 'ok' : 'FAIL'}: ${name} (exit ${r.status}, want ${code})`);
  if (!good) console.log(r.stdout + r.stderr);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
