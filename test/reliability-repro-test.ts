// Reproducibility: the same inputs give byte-identical outputs, whatever the
// time zone, the locale, the clone's path, the worker pool or the chart cache.
// Here one comparison varies all of them at once; `npm run test:e2e` varies
// each alone, to say which one broke if this fails.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkOutput, cloneProject, removeTemps, ROOT, runReport, snapshot } from './fixtures/reliability/build.ts';
import { FUZZ } from './fixtures/depth.ts';

/** The environment every build here shares, minus anything that would pin the PDF date. */
const BASE = { SOURCE_DATE_EPOCH: undefined, TZ: 'UTC', LANG: 'C', LC_ALL: 'C' };

interface Built {
  clone: string;
  files: Record<string, string>;
  manifest: Record<string, unknown>;
}

async function build(clone: string, args: string[], env: Record<string, string | undefined>): Promise<Built> {
  const out = join(clone, 'out');
  const result = await runReport(['--out', out, '--quiet', ...args], { cwd: clone, env: { ...BASE, ...env } });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(checkOutput(out).problems).toEqual([]);
  const files = snapshot(out);
  delete files['manifest.json'];
  const { duration_ms: _, ...manifest } = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  return { clone, files, manifest };
}

let first: Built;
let second: Built;
let elsewhere: Built;

beforeAll(async () => {
  // Two fresh copies of the project (no chart cache; test:fuzz also without dist/, so each compiles its own bundle), at unlike paths.
  const one = cloneProject('reliability-clone-', true, !FUZZ);
  const two = cloneProject('reliability clone ü二 ', true, !FUZZ);
  // Cold cache, worker pool.
  first = await build(one, ['--jobs', '2'], {});
  // Warm cache, in process.
  second = await build(one, ['--jobs', '1'], {});
  // Another path, time zone and locale, cold cache.
  elsewhere = await build(two, ['--jobs', '2'], { TZ: 'Asia/Shanghai', LANG: 'de_DE.UTF-8', LC_ALL: 'de_DE.UTF-8' });
}, 300_000);

afterAll(removeTemps);

describe('reproducibility', () => {
  it('writes every report, so the comparisons cover PDF, HTML and SVG', () => {
    const kinds = new Set(Object.keys(first.files).map((path) => path.split('.').at(-1)));
    expect([...kinds].sort()).toEqual(['html', 'pdf', 'svg']);
  });

  it('gives byte-identical files across two builds (worker pool then in process, cold then warm cache)', () => {
    expect(second.files).toEqual(first.files);
    expect(second.manifest).toEqual(first.manifest);
  });

  it('gives byte-identical files from another clone path, in TZ=Asia/Shanghai and LANG=LC_ALL=de_DE.UTF-8', () => {
    expect(elsewhere.files).toEqual(first.files);
    expect(elsewhere.manifest).toEqual(first.manifest);
  });

  it('varies what it claims to: under that environment Node formats numbers and dates differently', () => {
    const probe = (env: Record<string, string | undefined>) =>
      execFileSync(process.execPath, ['-e', 'process.stdout.write(JSON.stringify([(1234.5).toLocaleString(), new Date(0).getHours()]))'], { env: { ...process.env, ...BASE, ...env }, encoding: 'utf8' });
    expect(JSON.parse(probe({}))).toEqual(['1,234.5', 0]);
    expect(JSON.parse(probe({ TZ: 'Asia/Shanghai', LANG: 'de_DE.UTF-8', LC_ALL: 'de_DE.UTF-8' }))).toEqual(['1.234,5', 8]);
  });

  it('embeds no trace of the clone path, or of the checkout, in any output', () => {
    for (const built of [first, elsewhere]) {
      for (const path of Object.keys(built.files)) {
        const bytes = readFileSync(join(built.clone, 'out', path));
        expect(bytes.includes(built.clone), `${path} contains ${built.clone}`).toBe(false);
        expect(bytes.includes('/tmp/'), `${path} contains a temp path`).toBe(false);
        // Nor of the checkout whose bundle npm test's clones run.
        expect(bytes.includes(ROOT), `${path} contains ${ROOT}`).toBe(false);
      }
    }
  });
});
