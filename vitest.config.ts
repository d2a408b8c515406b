import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Unit and integration tests: need only Node and npm. One worker per core:
// most test time is CPU-bound rendering, and a test that spawns the CLI waits
// while its child works.
//
// Most files share their worker's modules (isolate: false): vega, pdfkit,
// fontkit and the fonts load once per worker instead of once per file, as in
// one build or --watch session, which also lets a test meet what an earlier
// one left in the process's caches. Files that mock a module, or measure the
// process-wide cache registry from empty, get fresh modules.
const ISOLATED = ['test/pdf/pdfkit-adapter-test.ts', 'test/support/recent-test.ts'];
const ALL = ['test/**/*-test.ts'];
const EXCLUDE = ['test/e2e/**', 'node_modules/**'];

export default defineConfig({
  test: {
    maxWorkers: availableParallelism(),
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'shared', include: ALL, exclude: [...EXCLUDE, ...ISOLATED], isolate: false } },
      { extends: true, test: { name: 'isolated', include: ISOLATED, exclude: EXCLUDE, isolate: true } },
    ],
  },
});
