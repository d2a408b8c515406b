import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Unit and integration tests: need only Node and npm. One worker per core:
// most test time is CPU-bound rendering, and a test that spawns the CLI waits
// while its child works.
export default defineConfig({
  test: {
    include: ['test/**/*-test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    maxWorkers: availableParallelism(),
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
