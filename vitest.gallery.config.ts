import { defineConfig } from 'vitest/config';

// The Vega-Lite gallery through the chart command (npm run test:gallery): one
// long suite that needs Debian's chromium and poppler-utils, like test:e2e.
export default defineConfig({
  test: {
    include: ['test/gallery/gallery-suite.ts'],
    testTimeout: 60_000,
    hookTimeout: 40 * 60_000,
    fileParallelism: false,
  },
});
