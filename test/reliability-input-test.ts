// Bad input: the shipped dataset, the report config and chart specs, damaged
// at random (fast-check, fixed seeds). Every run must end valid or in a clear,
// located error: never another exception, never a stack trace, never a hang.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { normalizeReports } from '../src/config.ts';
import { deriveDataset, type DerivedFigure } from '../src/dataset/derive.ts';
import { validateDataset } from '../src/dataset/validate.ts';
import { CliError, InputError } from '../src/support/error.ts';
import { MAX_INPUT_BYTES, parseYaml } from '../src/dataset/load.ts';
import { messages } from '../src/support/messages.ts';
import { at } from '../src/support/validate.ts';
import { makeTemp, removeTemps } from './fixtures/reliability/build.ts';
import { damage, expandNesting, mutateText, mutateTree, type Damage } from './fixtures/reliability/mutate.ts';
import { runs } from './fixtures/depth.ts';
import { chartInProcess } from './fixtures/charts/cli.ts';
import { main as reportMain } from '../src/cli/report.ts';
import { inProcess } from './fixtures/in-process.ts';

const ROOT = resolve(import.meta.dirname, '..');
const RUN = join(ROOT, 'bin/run.js');

// Fixed seeds and run counts: a failure prints its counterexample, and the same seed replays it.
const DATASET_RUNS = { seed: 20261129, numRuns: runs(400, 60) };
const REPORTS_RUNS = { seed: 20261130, numRuns: runs(300, 50) };
// Each chart run is a child process that loads Vega (about 3 s of CPU), so this one stays small.
const CHART_RUNS = { seed: 20261131, numRuns: runs(40, 6) };
/** A run taking longer than this counts as a hang (a bound on runaway input, not a speed test). */
const HANG_MS = 10_000;

type Outcome = 'valid' | 'located' | 'refused';

/** Tallies of what the runs ended in, printed for RELIABILITY.md. */
function tally() {
  const counts: Record<Outcome | 'overSizeLimit', number> = { valid: 0, located: 0, refused: 0, overSizeLimit: 0 };
  const messagesSeen = new Map<string, number>();
  const kinds: Record<string, number> = {};
  return {
    counts,
    /** Counts the mutations a run applied, by kind. */
    tried(d: Damage) {
      for (const m of [...d.tree, ...d.text]) kinds[m.kind] = (kinds[m.kind] ?? 0) + 1;
    },
    add(outcome: Outcome, message: string) {
      counts[outcome]++;
      if (message.includes('-byte limit')) counts.overSizeLimit++;
      const key = message.replace(/^\S+:\d+:\d+\s+/, '').replace(/\(found .*\)$/, '').slice(0, 70);
      messagesSeen.set(key, (messagesSeen.get(key) ?? 0) + 1);
    },
    print(name: string) {
      const top = [...messagesSeen].sort((a, b) => b[1] - a[1]).slice(0, 8);
      console.log(`[reliability] ${name}: ${JSON.stringify(counts)}; mutations ${JSON.stringify(kinds)}; top messages: ${top.map(([m, n]) => `${n}× ${m}`).join(' | ')}`);
    },
  };
}

/** A located error must point inside the file and say something; a plain refusal must name the file. */
function expectClearError(error: unknown, file: string, bytes: Uint8Array): { outcome: Outcome; message: string } {
  if (error instanceof InputError) {
    const lineCount = new TextDecoder().decode(bytes).split(/\r\n|\r|\n/).length;
    expect(error.file).toBe(file);
    expect(error.issues.length).toBeGreaterThan(0);
    for (const issue of error.issues) {
      expect(issue.file).toBe(file);
      expect(Number.isInteger(issue.line) && issue.line >= 1 && issue.line <= lineCount + 1, `line ${issue.line} of ${lineCount}`).toBe(true);
      expect(Number.isInteger(issue.column) && issue.column >= 1, `column ${issue.column}`).toBe(true);
      expect(issue.message.trim().length).toBeGreaterThan(0);
    }
    expect(error.message).not.toMatch(/\n\s+at /);
    return { outcome: 'located', message: error.issues[0]!.message };
  }
  if (error instanceof CliError) {
    expect(error.message.startsWith(`${file}: `), error.message).toBe(true);
    return { outcome: 'refused', message: error.message.slice(file.length + 2) };
  }
  // Anything else is a bug: let fast-check report it with its counterexample.
  throw error;
}

/** Runs `check` and fails the property if it takes longer than HANG_MS. */
function bounded<T>(check: () => T): T {
  const started = performance.now();
  const result = check();
  const ms = performance.now() - started;
  if (ms > HANG_MS) throw new Error(`one run took ${Math.round(ms)} ms (over the ${HANG_MS} ms hang bound)`);
  return result;
}

/** The damaged document as bytes: tree mutations, YAML text, then text mutations. */
function damagedYaml(base: unknown, d: Damage): Uint8Array {
  const { tree, nests } = mutateTree(base, d.tree);
  return mutateText(expandNesting(stringify(tree), nests), d.text);
}

/**
 * The property every YAML input must hold: `base` damaged at random ends in
 * `check` passing (valid) or in a clear, located error for `file`, within the
 * hang bound; each run's outcome goes into `seen`.
 */
function endsValidOrClear(seen: ReturnType<typeof tally>, file: string, base: unknown, check: (bytes: Uint8Array) => void) {
  return fc.property(damage, (d) => {
    seen.tried(d);
    const bytes = damagedYaml(base, d);
    bounded(() => {
      try {
        check(bytes);
        seen.add('valid', '');
      } catch (error) {
        const { outcome, message } = expectClearError(error, file, bytes);
        seen.add(outcome, message);
      }
    });
  });
}

afterAll(removeTemps);

const DATASET = 'data/catl-ai-stack.yaml';
const datasetValue: unknown = parse(readFileSync(join(ROOT, DATASET), 'utf8'));

/**
 * The dataset bytes parsed, validated and derived as the build does (the
 * shipped dataset names no CSV table, so none is found: a `csv` a mutation
 * adds is reported where it is named). Derive problems are located in the
 * dataset, as the build locates them.
 */
function loadDatasetBytes(bytes: Uint8Array) {
  const source = parseYaml(DATASET, bytes);
  const { data } = validateDataset(source, () => undefined);
  const { derived, problems } = deriveDataset(data);
  if (problems.length > 0) throw new InputError(DATASET, problems.map((problem) => at(source, problem.path, problem.message)));
  return { data, derived };
}

function checkFigure(figure: DerivedFigure) {
  // A valid dataset must never yield a figure the briefing would print as NaN or Infinity.
  expect(Number.isFinite(figure.value), `${figure.id} = ${figure.value}`).toBe(true);
}

describe('bad input: the dataset', () => {
  it(`ends valid or in located errors for ${DATASET_RUNS.numRuns} random mutations (seed ${DATASET_RUNS.seed})`, () => {
    const seen = tally();
    fc.assert(
      endsValidOrClear(seen, DATASET, datasetValue, (bytes) => {
        // Totals, implied values and shares are all declared derived figures now.
        const { derived } = loadDatasetBytes(bytes);
        Object.values(derived.figures).forEach(checkFigure);
      }),
      DATASET_RUNS,
    );
    seen.print('dataset');
    // The mix matters: a generator that only ever produced one kind of failure would test little.
    expect(seen.counts.located).toBeGreaterThan(DATASET_RUNS.numRuns / 4);
    expect(seen.counts.refused).toBeGreaterThan(0);
    expect(seen.counts.overSizeLimit).toBeGreaterThan(0);
    expect(seen.counts.valid).toBeGreaterThan(0);
  });

  it('refuses a file over the size limit with the size message, and accepts one at the limit', () => {
    const text = readFileSync(join(ROOT, DATASET), 'utf8');
    // The shipped dataset plus an ASCII comment padding it to exactly `size` bytes (the dataset itself holds non-ASCII text).
    const textBytes = new TextEncoder().encode(text).byteLength;
    const padded = (size: number) => new TextEncoder().encode(`${text}#${'x'.repeat(size - textBytes - 2)}\n`);
    const atLimit = padded(MAX_INPUT_BYTES);
    expect(atLimit.byteLength).toBe(MAX_INPUT_BYTES);
    expect(() => loadDatasetBytes(atLimit)).not.toThrow();
    const over = padded(MAX_INPUT_BYTES + 1);
    expect(() => parseYaml(DATASET, over)).toThrow(new CliError(messages.fileTooLarge(DATASET, MAX_INPUT_BYTES + 1, MAX_INPUT_BYTES)));
  });

  it('does not let a __proto__ key reach the prototype', () => {
    const text = readFileSync(join(ROOT, DATASET), 'utf8').replace('edition:\n', 'edition:\n  __proto__: { polluted: yes }\n');
    expect(() => loadDatasetBytes(new TextEncoder().encode(text))).toThrow(InputError);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('bad input: odd Unicode end to end', () => {
  // Characters the schema accepts as text but the PDF's Latin fonts may not draw. Each must either
  // build or be refused by validation at its line, never fail later as an unexpected error.
  const CHARACTERS = ['\u{1F600}', '\u202E', '\u200B', 'e\u0301', '二', '\u00A0', '\uFB01', '\u2028'];

  it('builds a dataset with each in an entity name, or refuses it located', async () => {
    const dir = makeTemp('reliability-unicode-');
    const data = parse(readFileSync(join(ROOT, DATASET), 'utf8')) as { entities: Record<string, { name: string }> };
    const outcomes: string[] = [];
    const check = async (character: string, i: number) => {
      data.entities.vnet!.name = `VNET${character} Group`;
      const file = join(dir, `unicode-${i}.yaml`);
      await writeFile(file, stringify(data));
      // Through the report command's main in this process: the build end to end, without a process start per character.
      const result = await inProcess((argv) => reportMain(argv), ['--data', file, '--out', join(dir, `out-${i}`), '--only', 'catl-ai-stack-briefing', '--jobs', '1', '--quiet']);
      const code = [...character].map((c) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`).join(' ');
      if (result.code === 0) outcomes.push(`${code}: built`);
      else if (result.code === 1 && new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+ `).test(result.stderr)) outcomes.push(`${code}: refused, located`);
      else outcomes.push(`${code}: ${result.stderr.split('\n')[0]}`);
    };
    for (const [i, character] of CHARACTERS.entries()) await check(character, i);
    console.log(`[reliability] odd Unicode end to end: ${outcomes.join('; ')}`);
    expect(outcomes.filter((o) => !/: (built|refused, located)$/.test(o))).toEqual([]);
  }, 300_000);
});

describe('bad input: reports.yaml', () => {
  const CONFIG = 'reports.yaml';
  const configValue: unknown = parse(readFileSync(join(ROOT, CONFIG), 'utf8'));

  it(`ends valid or in located errors for ${REPORTS_RUNS.numRuns} random mutations (seed ${REPORTS_RUNS.seed})`, () => {
    const seen = tally();
    fc.assert(
      endsValidOrClear(seen, CONFIG, configValue, (bytes) => {
        const reports = normalizeReports(parseYaml(CONFIG, bytes));
        // A config that passes may only name folders inside the project.
        for (const report of reports) {
          // A report may have no charts folder.
          for (const path of [report.dataset, report.templates, report.charts, report.editions].filter((p) => p !== undefined)) {
            const full = resolve(ROOT, path);
            expect(full === ROOT || full.startsWith(ROOT + sep), `${path} escapes the project`).toBe(true);
          }
        }
      }),
      REPORTS_RUNS,
    );
    seen.print('reports.yaml');
    expect(seen.counts.located).toBeGreaterThan(REPORTS_RUNS.numRuns / 4);
    expect(seen.counts.valid).toBeGreaterThan(0);
  });
});

/** Runs `node bin/run.js report` (what `npm run report` runs); resolves with the exit code and output. */
function reportCli(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [RUN, 'report', ...args], { cwd: ROOT, timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } }, (error, _stdout, stderr) => {
      done({ code: error ? Number((error as { code?: number }).code) : 0, stderr });
    });
  });
}

// A small spec with inline data, so the only failures are the ones we plant.
const CHART_SPEC = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: 'Shipments by segment, GWh',
  data: { values: [{ segment: 'EV', gwh: 541 }, { segment: 'Storage', gwh: 120 }] },
  mark: { type: 'bar', tooltip: true },
  encoding: {
    x: { field: 'segment', type: 'nominal', axis: { labelAngle: 0 } },
    y: { field: 'gwh', type: 'quantitative', title: 'GWh' },
    color: { field: 'segment', type: 'nominal', legend: null },
  },
};

describe('bad input: chart specs through npm run chart', () => {
  it(`exits 0 with an SVG or 1 with a message naming the spec, for ${CHART_RUNS.numRuns} random specs (seed ${CHART_RUNS.seed})`, async () => {
    const dir = makeTemp('reliability-chart-');
    // Sampled up front so the child processes can run two at a time; the seed fixes the sample.
    const samples = fc.sample(damage, CHART_RUNS);
    const seen = tally();
    const check = async (d: Damage, i: number) => {
      seen.tried(d);
      const { tree, nests } = mutateTree(CHART_SPEC, d.tree);
      // JSON has no NaN or Infinity: JSON.stringify writes null, which is what a user's tool would write.
      const bytes = mutateText(expandNesting(JSON.stringify(tree, null, 2), nests), d.text);
      const name = `spec-${i}.vl.json`;
      await writeFile(join(dir, name), bytes);
      const result = await chartInProcess(join(dir, name), '-o', join(dir, `spec-${i}.svg`));
      const context = `sample ${i}: ${JSON.stringify(d).slice(0, 300)}\n${result.stderr}`;
      expect(result.stderr, context).not.toMatch(/^\s+at .+\d+:\d+\)?$/m);
      expect(result.stderr, context).not.toContain(messages.unexpected('').split(':')[0]);
      if (result.code === 0) {
        expect((await readFile(join(dir, `spec-${i}.svg`), 'utf8')).startsWith('<svg')).toBe(true);
        seen.add('valid', '');
      } else {
        expect(result.code, context).toBe(1);
        expect(result.stderr, context).toContain(name);
        seen.add('refused', result.stderr.replace(`${join(dir, name)}: `, '').split('\n')[0]!);
      }
    };
    const queue = samples.map((d, i) => ({ d, i }));
    await Promise.all(
      [0, 1].map(async () => {
        for (let next = queue.shift(); next; next = queue.shift()) await check(next.d, next.i);
      }),
    );
    seen.print('chart specs');
    expect(seen.counts.refused).toBeGreaterThan(0);
  }, 300_000);
});
