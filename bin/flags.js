// The Node flags the launcher is run with (package.json's scripts and the
// first line of bin/run.js), for the benchmark and the tests that start it;
// bin/run.js says why this one pays. test/launcher-test.ts keeps the three in step.
export const NODE_FLAGS = ['--interrupt-budget=540672'];
