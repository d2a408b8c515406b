import { defineConfig } from 'vitest/config';

// Unit and integration tests: need only Node and npm.
export default defineConfig({
  test: {
    include: ['test/**/*-test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
