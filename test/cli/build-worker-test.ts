// --watch's build thread: builds run on a worker thread that is replaced after a set number of
// builds, and a build on the replacement gives the same files as one on the first thread. Runs the
// compiled task file (bin/worker.js -> dist/worker.cjs), as --watch does.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadReports, nodeEffects } from '../../src/build.ts';
import { createBuildWorker } from '../../src/cli/build-worker.ts';
import type { WorkerOutcome } from '../../src/cli/worker.ts';

const ROOT = resolve(import.meta.dirname, '../..');
let out: string;

beforeAll(async () => {
  // The task file loads dist/: compile it first if src/ changed since (as the launcher does).
  const launcher = (await import(join(ROOT, 'bin', 'build.js'))) as { isStale(): boolean; compile(): Promise<void> };
  if (launcher.isStale()) await launcher.compile();
  out = mkdtempSync(join(tmpdir(), 'briefing-build-worker-'));
}, 120_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

const digest = (outcome: WorkerOutcome) => {
  if (!outcome.ok) throw new Error(outcome.message);
  return outcome.result.files.map((f) => [f.path, Buffer.from(f.bytes).toString('base64')]);
};

describe('createBuildWorker', () => {
  it('replaces its thread after the set number of builds, with the same output', async () => {
    const here = process.cwd();
    process.chdir(ROOT);
    const [report] = (await loadReports('reports.yaml', nodeEffects)).filter((r) => r.id === 'iowa-electricity-briefing');
    const runner = createBuildWorker(pathToFileURL(join(ROOT, 'bin', 'worker.js')), 2);
    try {
      expect(report, 'the Iowa report in reports.yaml').toBeDefined();
      const task = { report: report!, options: { formats: ['html' as const] } };
      const outcomes = [await runner.run(task), await runner.run(task), await runner.run(task)];
      const threads = outcomes.map((o) => (o.ok ? o.thread : -1));
      expect(threads[0]).toBeGreaterThan(0);
      expect(threads[1]).toBe(threads[0]);
      expect(threads[2]).not.toBe(threads[0]);
      expect(digest(outcomes[2]!)).toEqual(digest(outcomes[0]!));
    } finally {
      await runner.close();
      process.chdir(here);
    }
  }, 120_000);
});
