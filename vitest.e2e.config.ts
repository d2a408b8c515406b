import { defineConfig } from 'vitest/config';

// End-to-end suites that need Debian tools (chromium, poppler-utils, qpdf, a JDK).
export default defineConfig({
  test: {
    include: ['test/e2e/**/*-test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
