/** Worker-pool task: builds one report in memory and hands back its files. */
import { buildReport, createChartCache, nodeEffects, type ReportOptions, type ReportResult } from '../build.ts';
import type { Report } from '../config.ts';
import { threadId } from 'node:worker_threads';
import { CliError } from '../support/error.ts';

export interface WorkerTask {
  report: Report;
  options: ReportOptions;
}

/** Errors cross the thread boundary as data, since classes do not survive structured cloning. */
export type WorkerOutcome = { ok: true; result: ReportResult; thread: number } | { ok: false; message: string; exitCode: number; expected: boolean; stack?: string };

const cache = createChartCache();

/** Builds one report; never throws. */
export default async function run(task: WorkerTask): Promise<WorkerOutcome> {
  try {
    return { ok: true, result: await buildReport(task.report, task.options, nodeEffects, cache), thread: threadId };
  } catch (error) {
    if (error instanceof CliError) return { ok: false, message: error.message, exitCode: error.exitCode, expected: true, stack: error.stack };
    const e = error instanceof Error ? error : new Error(String(error));
    return { ok: false, message: e.message, exitCode: 1, expected: false, stack: e.stack };
  }
}
