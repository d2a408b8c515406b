// Faults: builds killed with SIGKILL at a spread of moments, builds that fail
// at each stage, writes that fail, a missing font and two builds at once.
// After each, the output folder holds a complete set that matches its
// manifest, and a failure says what happened in words, not a stack trace.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messages } from '../src/support/messages.ts';
import { checkOutput, cloneProject, linkModulesWithout, makeTemp, ONE_REPORT, OTHER_REPORT_ID, REPORT_ID, ROOT, removeTemps, runReport, snapshot, STACK_FRAME, type RunResult } from './fixtures/reliability/build.ts';
import { leftovers, runKillSpread, writeDatasets } from './fixtures/reliability/kills.ts';
import { FUZZ, runs } from './fixtures/depth.ts';
import { main } from '../src/cli/report.ts';
import { inProcess } from './fixtures/in-process.ts';

/** Kills (and output folders killed into at once) in the unit suite; `npm run test:fuzz` runs more, `npm run test:e2e` a wider spread. */
const KILLS = runs(10, 3);
const LANES = runs(2, 1);

/** A clear failure: exit 1, no stack trace, not reported as a bug in the pipeline. */
function expectClearFailure(result: RunResult) {
  expect(result.code, result.stderr).toBe(1);
  expect(result.stderr).not.toMatch(STACK_FRAME);
  expect(result.stderr).not.toContain(messages.unexpected('').split(':')[0]);
  expect(result.stderr.trim().length).toBeGreaterThan(0);
}

let work: string;
let out: string;
let datasets: { a: string; b: string };
let before: Record<string, string>;

beforeAll(async () => {
  work = makeTemp('reliability-faults-');
  out = join(work, 'out');
  datasets = writeDatasets(work);
  const first = await runReport(['--data', datasets.a, '--out', out, ...ONE_REPORT]);
  expect(first.stderr).toBe('');
  expect(first.code).toBe(0);
  expect(checkOutput(out).problems).toEqual([]);
  before = snapshot(out);
}, 180_000);

afterAll(removeTemps);

describe('faults: SIGKILL', () => {
  it(`leaves a complete set matching the manifest after ${KILLS} kills at delays from 0 to past the median build`, async () => {
    // beforeAll's build has filled the chart cache: npm test times the first build in the lane (test:fuzz warms up first).
    const stats = await runKillSpread(makeTemp('reliability-kills-'), KILLS, LANES, FUZZ);
    console.log(`[reliability] kills: ${JSON.stringify(stats)}`);
    expect(stats.problems).toEqual([]);
    expect(stats.kills).toBe(KILLS);
    expect(stats.previousKept + stats.newInPlace + stats.finishedFirst).toBe(KILLS);
    // The spread must reach into real builds, not only kill processes before they start.
    expect(stats.previousKept).toBeGreaterThan(0);
  }, 600_000);
});

describe('faults: a build killed between its two renames', () => {
  // A kill in that window (microseconds wide, so the spread above rarely hits it) leaves output/
  // renamed to .output.previous-PID beside a staging folder; here the state is made directly.
  async function killedInWindow(): Promise<{ dir: string; previousSet: Record<string, string> }> {
    const dir = join(makeTemp('reliability-window-'), 'out');
    // The briefing (on the dataset given) and the other shipped report (on its own), so a later --only build shows whether the other report's files were kept.
    const full = await runReport(['--data', datasets.a, '--out', dir, '--only', REPORT_ID, '--jobs', '1', '--quiet']);
    expect(full.code, full.stderr).toBe(0);
    const other = await inProcess((argv) => main(argv), ['--out', dir, '--only', OTHER_REPORT_ID, '--jobs', '1', '--quiet']);
    expect(other.code, other.stderr).toBe(0);
    const previousSet = snapshot(dir);
    const dead = spawnSync('true').pid!;
    renameSync(dir, join(dir, '..', `.out.previous-${dead}`));
    mkdirSync(join(dir, '..', `.out.staging-${dead}`));
    writeFileSync(join(dir, '..', `.out.staging-${dead}`, `${REPORT_ID}.pdf`), '%PDF-1.7\n% truncated');
    return { dir, previousSet };
  }

  it('the next build restores the previous set, keeping the report it does not rebuild', async () => {
    const { dir, previousSet } = await killedInWindow();
    const result = await runReport(['--data', datasets.b, '--out', dir, ...ONE_REPORT]);
    expect(result.code, result.stderr).toBe(0);
    expect(checkOutput(dir).problems).toEqual([]);
    const after = snapshot(dir);
    const other = Object.keys(previousSet).filter((path) => path !== 'manifest.json' && !path.startsWith(REPORT_ID) && !path.startsWith('charts/'));
    expect(other.length).toBeGreaterThan(0);
    for (const path of other) expect(after[path], path).toBe(previousSet[path]);
    expect(leftovers(dir)).toEqual([]);
  });

  it('the next build restores the previous set even when that build fails', async () => {
    const { dir, previousSet } = await killedInWindow();
    const result = await runReport(['--data', datasets.b, '--out', dir, ...ONE_REPORT], { env: { BRIEFING_FAIL_STAGE: 'content' } });
    expect(result.code).toBe(1);
    expect(existsSync(dir), 'output folder still missing after the next (failed) run').toBe(true);
    expect(snapshot(dir)).toEqual(previousSet);
  });
});

describe('faults: failures that lose nothing', () => {
  // The last stage through the process (its exit code), the others through the same main in this process.
  it.each(['validate', 'charts', 'content', 'html', 'pdf'])('a build failing in stage %s exits 1 and leaves the previous set', async (stage) => {
    const args = ['--data', datasets.b, '--out', out, ...ONE_REPORT];
    const env = { BRIEFING_FAIL_STAGE: stage };
    const result = stage === 'pdf' ? await runReport(args, { env }) : await inProcess((argv) => main(argv), args, env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`injected failure in stage ${stage}`);
    expect(result.stderr).not.toMatch(STACK_FRAME);
    expect(snapshot(out)).toEqual(before);
    expect(leftovers(out)).toEqual([]);
  });

  it('a write that fails part-way (file size limit, as on a full disk) gives a clear message and leaves the previous set', async () => {
    // RLIMIT_FSIZE makes any write past 64 KiB fail with EFBIG; the PDF and HTML are larger than that.
    const result = await new Promise<RunResult>((done) => {
      const started = performance.now();
      const child = spawn('sh', ['-c', `ulimit -f 64 && exec "$0" "$@"`, process.execPath, join(ROOT, 'bin/run.js'), 'report', '--data', datasets.b, '--out', out, ...ONE_REPORT], {
        cwd: ROOT,
        env: { ...process.env, NO_COLOR: '1' },
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
      child.on('close', (code, signal) => done({ code, signal, stdout: '', stderr, ms: performance.now() - started }));
    });
    // Nothing lost first, then the wording.
    expect(snapshot(out)).toEqual(before);
    expect(leftovers(out)).toEqual([]);
    expectClearFailure(result);
    expect(result.stderr).toContain(out);
  });

  it('an output folder that cannot be created (its parent is a file) gives a clear message', async () => {
    const file = join(work, 'not-a-folder');
    writeFileSync(file, 'keep me\n');
    const result = await runReport(['--data', datasets.a, '--out', join(file, 'out'), ...ONE_REPORT]);
    expect(readFileSync(file, 'utf8')).toBe('keep me\n');
    expectClearFailure(result);
    expect(result.stderr).toContain(join(file, 'out'));
  });

  it('a missing font file gives a clear message naming it, in report and in chart', async () => {
    const face = 'source-sans-3-latin-700-italic.woff';
    const clone = cloneProject('reliability-fontless-', false, true);
    linkModulesWithout(clone, `@fontsource/source-sans-3/files/${face}`);
    const cloneOut = join(clone, 'out');
    const report = await runReport(['--out', cloneOut, ...ONE_REPORT], { cwd: clone });
    expectClearFailure(report);
    expect(report.stderr).toContain(face);
    expect(leftovers(cloneOut)).toEqual([]);
    const chart = await new Promise<RunResult>((done) => {
      const child = spawn(process.execPath, [join(clone, 'bin/run.js'), 'chart', 'templates/charts/deals.vl.json', '-o', join(clone, 'deals.svg')], { cwd: clone });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
      child.on('close', (code, signal) => done({ code, signal, stdout: '', stderr, ms: 0 }));
    });
    expectClearFailure(chart);
    expect(chart.stderr).toContain(face);
  });
});

describe('faults: two builds at once', () => {
  it('into one output folder both finish and leave one complete set matching its manifest', async () => {
    const shared = join(work, 'shared-out');
    const [one, two] = await Promise.all([
      runReport(['--data', datasets.a, '--out', shared, ...ONE_REPORT]),
      runReport(['--data', datasets.b, '--out', shared, ...ONE_REPORT]),
    ]);
    expect(one!.stderr).toBe('');
    expect(two!.stderr).toBe('');
    expect([one!.code, two!.code]).toEqual([0, 0]);
    expect(checkOutput(shared).problems).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(shared, 'manifest.json'), 'utf8')) as { reports: { dataset: string }[] };
    expect([datasets.a, datasets.b]).toContain(manifest.reports[0]!.dataset);
    expect(leftovers(shared)).toEqual([]);
  }, 180_000);
});
