/**
 * One build of the selected reports, shared by the report command and
 * --watch: select, run (in this thread or on a worker pool), commit the
 * outputs, and print progress and errors.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { writeBuild, type BuildEffects, type ReportOptions, type ReportResult, loadReports } from '../build.ts';
import { shardReports, type Format, type Paper, type Report } from '../config.ts';
import { CliError, EXIT } from '../support/error.ts';
import { messages } from '../support/messages.ts';
import { recoverOutput } from '../write.ts';
import type { WorkerOutcome, WorkerTask } from './worker.ts';
import type { BuildRunner } from './build-worker.ts';

export interface CliOptions {
  config: string;
  data?: string;
  out: string;
  format?: Format[];
  paper?: Paper;
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

/** Progress on stderr: plain lines, or one live line on a TTY without NO_COLOR; silent with --quiet. */
export interface Progress {
  stage(line: string): void;
  done(line: string): void;
}

/** The progress printer for these options. */
export function createProgress(options: CliOptions, effects: BuildEffects): Progress {
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

/**
 * The worker threads' task file, bin/worker.js, which loads the compiled
 * dist/worker.cjs; undefined under vitest, which runs src/ directly (no
 * .cjs bundle), so reports then run in this thread.
 */
export function workerTaskFile(): URL | undefined {
  const workerUrl = new URL('../bin/worker.js', import.meta.url);
  return import.meta.url.endsWith('.cjs') && existsSync(fileURLToPath(workerUrl)) ? workerUrl : undefined;
}

/** Builds the reports one after another, here or on `runner`'s thread. */
async function runInTurn(reports: Report[], reportOptions: ReportOptions, progress: Progress, runner?: BuildRunner): Promise<WorkerOutcome[]> {
  const run = runner ? (task: WorkerTask) => runner.run(task) : (await import('./worker.ts')).default;
  const outcomes: WorkerOutcome[] = [];
  for (const report of reports) {
    progress.stage(`building ${report.id} (${outcomes.length + 1}/${reports.length})`);
    outcomes.push(await run({ report, options: reportOptions }));
  }
  return outcomes;
}

/** Builds the selected reports: in turn (here or on `runner`), or on a pool of worker threads. */
async function runReports(reports: Report[], reportOptions: ReportOptions, jobs: number, explicitJobs: boolean, progress: Progress, runner?: BuildRunner): Promise<ReportResult[]> {
  const workerFile = workerTaskFile();
  // Each worker thread loads the pipeline afresh (~0.4 s, ~90 MB), while a
  // report built after another in this thread reuses its modules, fonts and
  // charts (~0.3 s): measured, the pool only wins from two reports per job,
  // so that is the default; an explicit --jobs N always gets the pool.
  const enough = explicitJobs ? reports.length > 1 : reports.length >= POOL_MIN_REPORTS_PER_JOB * jobs;
  const usePool = jobs > 1 && enough && workerFile !== undefined;
  let outcomes: WorkerOutcome[];
  if (!usePool) {
    outcomes = await runInTurn(reports, reportOptions, progress, runner);
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
export function selectReports(all: Report[], options: CliOptions): Report[] {
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

/** One full build: select, build, commit; `inProcess` builds in turn, on `runner`'s thread when given. */
export async function buildOnce(options: CliOptions, effects: BuildEffects, progress: Progress, inProcess = false, runner?: BuildRunner): Promise<BuildSummary> {
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
  const results = reports.length ? await runReports(reports, reportOptions, jobs, !inProcess && options.jobs !== undefined, progress, runner) : [];
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

