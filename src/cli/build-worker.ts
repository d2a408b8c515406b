/**
 * --watch's build thread: rebuilds run on one worker thread that keeps its
 * caches warm between edits and is replaced after a set number of builds.
 *
 * Why replace it: a long-lived V8 isolate keeps the heap it grew to and the
 * allocator keeps what the build's native side (zlib, fontkit buffers)
 * freed, so a watcher that builds in its own thread creeps up by about 18%
 * over 500 edits although every cache is bounded (BENCHMARKS.md, the watch
 * soak). Ending the thread hands all of that back; the replacement starts at
 * once and is warmed by one build whose output is thrown away, so the
 * rebuild an author waits for is seldom the cold one.
 */
import { createRequire } from 'node:module';
import type { WorkerOutcome, WorkerTask } from './worker.ts';

/** Builds per thread: measured, the thread's memory grows for its first ~25 builds; see BENCHMARKS.md. */
export const BUILDS_PER_THREAD = 25;

/** Runs report builds; `close` ends its thread. */
export interface BuildRunner {
  run(task: WorkerTask): Promise<WorkerOutcome>;
  close(): Promise<void>;
}

/** A runner on one recycled worker thread loading `workerFile` (bin/worker.js). */
export function createBuildWorker(workerFile: URL, buildsPerThread = BUILDS_PER_THREAD): BuildRunner {
  // require() of an ES module (Node 20.19+): the compiled CLI is a script and cannot import().
  const { Tinypool } = createRequire(import.meta.url)('tinypool') as typeof import('tinypool');
  const pool = new Tinypool({ filename: workerFile.href, minThreads: 1, maxThreads: 1 });
  let builds = 0;
  let warming: Promise<unknown> = Promise.resolve();
  const recycle = (last: WorkerTask) => {
    builds = 0;
    // The warm-up build's result is dropped: it only loads modules, fonts and templates in the new thread.
    warming = pool.recycleWorkers().then(() => pool.run(last)).catch(() => undefined);
  };
  return {
    async run(task) {
      await warming;
      const outcome = (await pool.run(task)) as WorkerOutcome;
      if (++builds >= buildsPerThread) recycle(task);
      return outcome;
    },
    async close() {
      await warming;
      await pool.destroy();
    },
  };
}
