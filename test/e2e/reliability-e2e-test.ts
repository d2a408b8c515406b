/**
 * Reliability checks that need system tools or root:
 * - the hostile-content build still passes the Nu HTML Checker (Java) and
 *   `qpdf --check`;
 * - a read-only output folder (read-only bind mount) and a full disk (a tiny
 *   tmpfs) give a clear message and lose nothing;
 * - a wider SIGKILL spread than the unit suite's;
 * - reproducibility with each factor varied alone (time zone, locale,
 *   clone path), so a failure names its cause.
 *
 * Needs Debian `qpdf`, a JRE, and root with mount rights (CAP_SYS_ADMIN). A
 * missing precondition fails its test with a message saying what is missing;
 * nothing is skipped.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messages } from '../../src/support/messages.ts';
import { checkOutput, cloneProject, makeTemp, ONE_REPORT, REPORT_ID, removeTemps, ROOT, runReport, snapshot } from '../fixtures/reliability/build.ts';
import { hostileDataset } from '../fixtures/reliability/hostile.ts';
import { leftovers, runKillSpread, writeDatasets } from '../fixtures/reliability/kills.ts';

/** Kills in this suite (the unit suite runs fewer). */
const KILLS = 40;

/** Runs a tool; returns its exit code and output instead of throwing. */
function tool(command: string, args: string[]): { code: number | null; output: string; missing: boolean } {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  const missing = (result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
  return { code: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}`, missing };
}

function requireTool(command: string, args: string[], what: string) {
  const probe = tool(command, args);
  if (probe.missing) throw new Error(`${command} is not installed; this suite needs ${what}`);
}

const mounts: string[] = [];

/** Mounts with `mount ARGS`, failing with a clear message when this machine does not allow it. */
function mount(args: string[], target: string) {
  const result = tool('mount', [...args, target]);
  if (result.code !== 0) {
    throw new Error(`mount ${args.join(' ')} ${target} failed (${result.output.trim()}); this test needs root with mount rights (CAP_SYS_ADMIN), e.g. a privileged container`);
  }
  mounts.push(target);
}

afterAll(() => {
  for (const target of mounts.reverse()) tool('umount', [target]);
  removeTemps();
});

describe('hostile content passes the validators', () => {
  let out: string;
  beforeAll(async () => {
    const work = makeTemp('reliability-e2e-hostile-');
    out = join(work, 'out');
    writeFileSync(join(work, 'hostile.yaml'), hostileDataset());
    const result = await runReport(['--data', join(work, 'hostile.yaml'), '--out', out, ...ONE_REPORT]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('the HTML passes the Nu HTML Checker with no errors', () => {
    requireTool('java', ['-version'], 'a Java runtime (apt-get install default-jre-headless)');
    const result = tool('java', ['-jar', join(ROOT, 'node_modules/vnu-jar/build/dist/vnu.jar'), '--errors-only', join(out, `${REPORT_ID}.html`)]);
    // The checker's CSS grammar predates CSS Anchor Positioning (the notes' popovers) and container queries (a chart's narrow drawing); those names, and nothing else, it may not know.
    const unknownToChecker = /error: CSS: (?:“(position-area|position-try-fallbacks|container-type)”: Property “\1” doesn't exist\.|Unrecognized at-rule “@container”)$/;
    const errors = result.output.trim().split('\n').filter((line) => line && !unknownToChecker.test(line));
    expect(errors).toEqual([]);
  });

  it('the PDF passes qpdf --check', () => {
    requireTool('qpdf', ['--version'], 'qpdf (apt-get install qpdf)');
    const result = tool('qpdf', ['--check', join(out, `${REPORT_ID}.pdf`)]);
    expect(result.output).toContain('No syntax or stream encoding errors found');
    expect(result.code).toBe(0);
  });
});

describe('filesystem faults lose nothing', () => {
  let datasets: { a: string; b: string };
  beforeAll(() => {
    datasets = writeDatasets(makeTemp('reliability-e2e-data-'));
  });

  it('a read-only output folder (read-only bind mount) gives the not-writable message and keeps the previous set', async () => {
    const parent = join(makeTemp('reliability-e2e-ro-'), 'site');
    const out = join(parent, 'out');
    mkdirSync(parent);
    const first = await runReport(['--data', datasets.a, '--out', out, ...ONE_REPORT]);
    expect(first.code, first.stderr).toBe(0);
    const before = snapshot(out);
    mount(['--bind', parent], parent);
    mount(['-o', 'remount,ro,bind'], parent);
    const result = await runReport(['--data', datasets.b, '--out', out, ...ONE_REPORT]);
    expect(result.code).toBe(1);
    expect(snapshot(out)).toEqual(before);
    expect(checkOutput(out).problems).toEqual([]);
    expect(result.stderr.trim()).toBe(messages.outputNotWritable(out, 'EROFS'));
  });

  it('a full disk (tmpfs with room for one set, not two) gives the disk-full message and keeps the previous set', async () => {
    // Size the tmpfs from a real set: tmpfs counts whole 4 KiB pages per file.
    const probe = join(makeTemp('reliability-e2e-size-'), 'out');
    expect((await runReport(['--data', datasets.a, '--out', probe, ...ONE_REPORT])).code).toBe(0);
    const pages = Object.keys(snapshot(probe)).reduce((sum, path) => sum + Math.ceil(readFileSync(join(probe, path)).byteLength / 4096), 0);
    const size = Math.ceil(pages * 1.5) * 4096;
    const parent = makeTemp('reliability-e2e-full-');
    mount(['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs'], parent);
    const out = join(parent, 'out');
    const first = await runReport(['--data', datasets.a, '--out', out, ...ONE_REPORT]);
    expect(first.code, `the first set should fit in ${size} bytes: ${first.stderr}`).toBe(0);
    const before = snapshot(out);
    const result = await runReport(['--data', datasets.b, '--out', out, ...ONE_REPORT]);
    expect(result.code).toBe(1);
    expect(snapshot(out)).toEqual(before);
    expect(checkOutput(out).problems).toEqual([]);
    expect(result.stderr.trim()).toBe(messages.outputDiskFull(out));
    // The failed build's staging folder is gone, so the space is free again.
    expect(leftovers(out)).toEqual([]);
  });
});

describe('a wide SIGKILL spread', () => {
  it(`leaves a complete set matching the manifest after each of ${KILLS} kills`, async () => {
    const stats = await runKillSpread(makeTemp('reliability-e2e-kills-'), KILLS);
    console.log(`[reliability] e2e kills: ${JSON.stringify({ ...stats, delaysMs: `${stats.delaysMs.length} delays, 0..${stats.delaysMs.at(-1)} ms` })}`);
    expect(stats.problems).toEqual([]);
    expect(stats.kills).toBe(KILLS);
    expect(stats.previousKept).toBeGreaterThan(0);
  }, 900_000);
});

describe('reproducibility, one factor at a time', () => {
  const BASE = { SOURCE_DATE_EPOCH: undefined, TZ: 'UTC', LANG: 'C', LC_ALL: 'C' };
  let clone: string;
  let baseline: Record<string, string>;

  async function build(cwd: string, env: Record<string, string | undefined>): Promise<Record<string, string>> {
    const out = makeTemp('reliability-e2e-repro-out-');
    const result = await runReport(['--out', join(out, 'out'), '--quiet'], { cwd, env: { ...BASE, ...env } });
    expect(result.code, result.stderr).toBe(0);
    const files = snapshot(join(out, 'out'));
    delete files['manifest.json'];
    return files;
  }

  beforeAll(async () => {
    clone = cloneProject('reliability-e2e-clone-');
    baseline = await build(clone, {});
  });

  it.each([
    ['a second build', {}],
    ['TZ=Asia/Shanghai', { TZ: 'Asia/Shanghai' }],
    ['TZ=America/St_Johns (a half-hour offset)', { TZ: 'America/St_Johns' }],
    ['LANG=de_DE.UTF-8', { LANG: 'de_DE.UTF-8', LC_ALL: undefined }],
    ['LC_ALL=de_DE.UTF-8', { LC_ALL: 'de_DE.UTF-8' }],
    ['LC_ALL=ar_EG.UTF-8', { LC_ALL: 'ar_EG.UTF-8' }],
  ])('is byte-identical with %s', async (_name, env) => {
    expect(await build(clone, env)).toEqual(baseline);
  });

  it('is byte-identical from another clone path', async () => {
    const other = cloneProject('reliability-e2e-other clone-');
    expect(await build(other, {})).toEqual(baseline);
  });

  it('really varies the locale and time zone it claims to (Node formats differently under them)', () => {
    const probe = (env: Record<string, string>) =>
      execFileSync(process.execPath, ['-e', 'process.stdout.write(JSON.stringify([(1234.5).toLocaleString(), new Date(0).getHours()]))'], {
        env: { ...process.env, ...BASE, ...env },
        encoding: 'utf8',
      });
    expect(probe({})).not.toBe(probe({ LC_ALL: 'de_DE.UTF-8', TZ: 'Asia/Shanghai' }));
  });
});
