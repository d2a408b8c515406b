/**
 * The `report` command: parses flags, selects reports, runs them on a worker
 * pool, commits the outputs, and maps errors to exit codes
 * (0 ok, 1 build or validation failure, 2 usage error).
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { checkReport, loadReports, nodeEffects, writeBuild, type BuildEffects, type ReportOptions, type ReportResult } from '../build.ts';
import { FORMATS, shardReports, type Format, type Report } from '../config.ts';
import { CliError, EXIT } from '../support/error.ts';
import pkg from '../../package.json' with { type: 'json' };
import { messages } from '../support/messages.ts';
import { recoverOutput } from '../write.ts';
import type { WorkerOutcome, WorkerTask } from './worker.ts';
import type { RenderedChart } from '../charts/render.ts';

export interface CliOptions {
  config: string;
  data?: string;
  out: string;
  format?: Format[];
  paper?: Report['paper'];
  check?: boolean;
  watch?: boolean;
  serve?: number | true;
  only?: string[];
  jobs?: number;
  shard?: { index: number; count: number };
  quiet?: boolean;
  json?: boolean;
  debug?: boolean;
}


/** Without --jobs, the worker pool starts when there are at least this many reports per job. */
export const POOL_MIN_REPORTS_PER_JOB = 2;

function parsePositiveInt(name: string) {
  return (value: string) => {
    if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError(`${name} must be a whole number of 1 or more`);
    return Number(value);
  };
}

function program(): Command {
  return new Command('report')
    .description('Validate the data and build every report in reports.yaml (PDF, HTML, SVG charts) into output/.')
    .addOption(new Option('--config <file>', 'report config listing the reports').default('reports.yaml'))
    .option('--data <file>', 'build from this dataset instead of each selected report\'s own (with --only when reports differ in shape)')
    .addOption(new Option('--out <dir>', 'output folder').default('output'))
    .option('--format <list>', `formats to write, comma-separated (${FORMATS.join(',')})`, (value: string) => {
      const list = value.split(',').map((f) => f.trim());
      const bad = list.filter((f) => !(FORMATS as readonly string[]).includes(f));
      if (bad.length || list.length === 0) throw new InvalidArgumentError(`unknown format "${bad.join(',')}" (use ${FORMATS.join(', ')})`);
      return list as Format[];
    })
    .addOption(new Option('--paper <size>', 'paper size for the PDF').choices(['a4', 'letter']))
    .option('--check', 'check the data, derived figures, checks, chart specs and templates; write nothing')
    .option('--watch', 'rebuild when data/, templates/ or the config change')
    .addOption(new Option('--serve [port]', 'serve the output on 127.0.0.1 with live reload (implies --watch)').argParser(parsePositiveInt('--serve port')))
    .option('--only <id...>', 'build only the reports with these ids')
    .option('--jobs <n>', 'reports built at once (default: the number of cores)', parsePositiveInt('--jobs'))
    .option('--shard <i/n>', 'build the i-th of n disjoint slices of the report list', (value: string) => {
      const m = /^(\d+)\/(\d+)$/.exec(value);
      const index = Number(m?.[1]);
      const count = Number(m?.[2]);
      if (!m || count < 1 || index < 1 || index > count) throw new InvalidArgumentError('--shard must be i/n with 1 <= i <= n, e.g. 1/4');
      return { index, count };
    })
    .option('--quiet', 'print nothing but errors')
    .option('--json', 'print a machine-readable summary on stdout')
    .option('--debug', 'print stack traces for unexpected errors')
    .version(pkg.version, '--version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 build or validation failure, 2 usage error.\nExamples:\n  npm run report\n  npm run report -- --check\n  npm run report -- --only REPORT-ID --format pdf --paper letter\n  npm run report -- --serve 4173',
    )
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: () => {} });
}

/** Progress on stderr: plain lines, or one live line on a TTY without NO_COLOR; silent with --quiet. */
export interface Progress {
  stage(line: string): void;
  done(line: string): void;
}

function createProgress(options: CliOptions, effects: BuildEffects): Progress {
  if (options.quiet) return { stage() {}, done() {} };
  const live = process.stderr.isTTY && !process.env.NO_COLOR && !options.json;
  if (!live) return { stage: effects.log, done: effects.log };
  return {
    stage: (line) => process.stderr.write(`\r\x1b[2K${line}`),
    done: (line) => process.stderr.write(`\r\x1b[2K${line}\n`),
  };
}

function describeResult(result: ReportResult): string {
  const stages = result.timings.map((t) => `${t.stage} ${Math.round(t.ms)}ms`).join(' · ');
  const charts = `${result.charts.rendered.length} charts rendered, ${result.charts.reused.length} from cache`;
  return `${result.report}: ${stages} (${charts})`;
}

/** Builds the selected reports, in this process or on a pool of worker threads. */
async function runReports(reports: Report[], reportOptions: ReportOptions, jobs: number, explicitJobs: boolean, progress: Progress): Promise<ReportResult[]> {
  // The pool's task file is bin/worker.js, which loads the compiled
  // dist/worker.cjs; under vitest, which runs src/ directly (no .cjs bundle),
  // reports run in this thread.
  const compiled = import.meta.url.endsWith('.cjs');
  const workerUrl = new URL('../bin/worker.js', import.meta.url);
  const workerFile = compiled && existsSync(fileURLToPath(workerUrl)) ? workerUrl : undefined;
  // Each worker thread loads the pipeline afresh (~0.4 s, ~90 MB), while a
  // report built after another in this thread reuses its modules, fonts and
  // charts (~0.3 s): measured, the pool only wins from two reports per job,
  // so that is the default; an explicit --jobs N always gets the pool.
  const enough = explicitJobs ? reports.length > 1 : reports.length >= POOL_MIN_REPORTS_PER_JOB * jobs;
  const usePool = jobs > 1 && enough && workerFile !== undefined;
  let outcomes: WorkerOutcome[];
  if (!usePool) {
    const { default: run } = await import('./worker.ts');
    outcomes = [];
    for (const report of reports) {
      progress.stage(`building ${report.id} (${outcomes.length + 1}/${reports.length})`);
      outcomes.push(await run({ report, options: reportOptions }));
    }
  } else {
    // require() of an ES module (Node 20.19+): the compiled CLI is a script
    // loaded with V8's code cache, and such scripts cannot import().
    const { Tinypool } = createRequire(import.meta.url)('tinypool') as typeof import('tinypool');
    const pool = new Tinypool({ filename: workerFile!.href, minThreads: Math.min(jobs, reports.length), maxThreads: Math.min(jobs, reports.length) });
    let finished = 0;
    progress.stage(`building ${reports.length} reports on ${Math.min(jobs, reports.length)} workers`);
    try {
      outcomes = await Promise.all(
        reports.map(async (report) => {
          const outcome = (await pool.run({ report, options: reportOptions } satisfies WorkerTask)) as WorkerOutcome;
          progress.stage(`built ${++finished}/${reports.length} reports`);
          return outcome;
        }),
      );
    } finally {
      await pool.destroy();
    }
  }
  const failures = outcomes.flatMap((outcome, i) => (outcome.ok ? [] : [{ outcome, report: reports[i]! }]));
  if (failures.length > 0) {
    const { outcome, report } = failures[0]!;
    if (outcome.ok) throw new Error('unreachable');
    if (!outcome.expected) {
      const error = new Error(outcome.message);
      error.stack = outcome.stack;
      throw error;
    }
    const detail = failures.map((f) => (f.outcome.ok ? '' : reports.length > 1 ? messages.reportFailed(f.report.id, f.outcome.message) : f.outcome.message));
    throw new CliError(detail.join('\n'), outcome.exitCode);
  }
  return outcomes.map((outcome) => (outcome as { ok: true; result: ReportResult }).result);
}

/** Chooses reports by --only and --shard. */
function selectReports(all: Report[], options: CliOptions): Report[] {
  let reports = all;
  if (options.only) {
    const unknown = options.only.filter((id) => !all.some((r) => r.id === id));
    if (unknown.length) throw new CliError(messages.usage(messages.noReportsSelected(`--only ${unknown.join(' ')}`)), EXIT.usage);
    reports = all.filter((r) => options.only!.includes(r.id));
  }
  if (options.shard) reports = shardReports(reports, options.shard.index, options.shard.count);
  return reports;
}

export interface BuildSummary {
  ok: true;
  out: string;
  reports: { id: string; files: { path: string; bytes: number; sha256: string }[]; charts: ReportResult['charts']; timings: ReportResult['timings'] }[];
  duration_ms: number;
}

/** One full build: select, build, commit. */
export async function buildOnce(options: CliOptions, effects: BuildEffects, progress: Progress, inProcess = false): Promise<BuildSummary> {
  const started = performance.now();
  // A build killed between its two renames leaves no output folder: restore it before anything reads it.
  await recoverOutput(options.out);
  const reports = selectReports(await loadReports(options.config, effects), options);
  const reportOptions: ReportOptions = {
    data: options.data,
    paper: options.paper,
    formats: options.format,
    failStage: process.env.BRIEFING_FAIL_STAGE || undefined,
    sourceDateEpoch: process.env.SOURCE_DATE_EPOCH && /^\d+$/.test(process.env.SOURCE_DATE_EPOCH) ? Number(process.env.SOURCE_DATE_EPOCH) : undefined,
  };
  const jobs = inProcess ? 1 : (options.jobs ?? availableParallelism());
  const results = reports.length ? await runReports(reports, reportOptions, jobs, !inProcess && options.jobs !== undefined, progress) : [];
  for (const result of results) progress.done(describeResult(result));
  const manifest = await writeBuild(options.out, results, performance.now() - started, effects);
  const written = new Set(results.flatMap((r) => r.files.map((f) => f.path)));
  const duration = performance.now() - started;
  progress.done(`wrote ${written.size} files to ${options.out}/ in ${Math.round(duration)}ms`);
  return {
    ok: true,
    out: options.out,
    reports: results.map((r) => ({
      id: r.report,
      files: manifest.files.filter((f) => f.report === r.report).map(({ path, bytes, sha256 }) => ({ path, bytes, sha256 })),
      charts: r.charts,
      timings: r.timings.map((t) => ({ stage: t.stage, ms: Math.round(t.ms) })),
    })),
    duration_ms: Math.round(duration),
  };
}

/** Prints an error as the user should see it and returns its exit code. */
export function reportError(error: unknown, debug: boolean, json: boolean): number {
  const expected = error instanceof CliError;
  const message = expected ? error.message : messages.unexpected(error instanceof Error ? error.message : String(error));
  process.stderr.write(`${message}\n`);
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  const exitCode = expected ? error.exitCode : EXIT.failure;
  if (json) process.stdout.write(`${JSON.stringify({ ok: false, exit_code: exitCode, error: message })}\n`);
  return exitCode;
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], effects: BuildEffects = nodeEffects): Promise<number> {
  const cmd = program();
  let options: CliOptions;
  try {
    cmd.parse(argv, { from: 'user' });
    options = cmd.opts<CliOptions>();
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT.ok;
      process.stderr.write(`${messages.usage(error.message.replace(/^error: /, ''))}\n${cmd.helpInformation()}`);
      return EXIT.usage;
    }
    throw error;
  }
  const debug = Boolean(options.debug);
  try {
    if (options.check) {
      const reports = selectReports(await loadReports(options.config, effects), options).map((report) => ({ ...report, dataset: options.data ?? report.dataset }));
      // Editions that differ only in paper or formats read the same inputs: each set is checked once.
      const distinct = [...new Map(reports.map((report) => [JSON.stringify([report.dataset, report.templates, report.charts]), report])).values()];
      // In memory only: --check writes nothing, not even the chart cache.
      const cache = new Map<string, RenderedChart>();
      const summaries: string[] = [];
      for (const report of distinct) summaries.push(await checkReport(report, effects, cache));
      if (!options.quiet) for (const line of summaries) effects.log(line);
      if (options.json) process.stdout.write(`${JSON.stringify({ ok: true, check: summaries })}\n`);
      return EXIT.ok;
    }
    const progress = createProgress(options, effects);
    if (options.watch || options.serve !== undefined) {
      const { watchBuild } = await import('./watch.ts');
      return await watchBuild(options, effects, progress);
    }
    const summary = await buildOnce(options, effects, progress);
    if (options.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return EXIT.ok;
  } catch (error) {
    return reportError(error, debug, Boolean(options.json));
  }
}
