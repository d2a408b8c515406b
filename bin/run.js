#!/usr/bin/env -S node --interrupt-budget=540672
// Launcher: runs the compiled CLI (dist/<command>.cjs), loaded through V8's
// code cache (bin/load.js), compiling it first (bin/build.js) when dist/ is
// missing or stale, so a fresh clone needs no step beyond npm ci.
//
// V8 flags are given on the command line, never set at run time: npm's
// scripts and this file's first line run `node --interrupt-budget=540672`.
// V8 optimises a function with TurboFan once it has run for a while (its
// "interrupt budget", 66 KB of bytecode by default). A build runs a large
// body of code (vega, pdfkit, micromark, ...) a few times each, so most of
// what gets optimised is never run enough to repay it: in a 25-report batch,
// over a thousand functions were compiled, using ~3.5 s of CPU on the second
// core next to ~5 s of work on the first. With eight times the budget only
// the really hot functions are optimised; measured, cold build 0.9 -> 0.78 s,
// batch --jobs 2 5.2 -> 3.9 s, --watch rebuild no slower (BENCHMARKS.md,
// third round). Flags are per process, so worker threads get it too. The
// launcher runs the same without it, only slower; bin/flags.js names it for
// the benchmark and the tests.
import { compile, ENTRIES, isStale } from './build.js';
import { loadBundle } from './load.js';

const command = process.argv[2];
if (!(command in ENTRIES)) {
  process.stderr.write(`usage: node bin/run.js ${Object.keys(ENTRIES).join('|')} [options]\n`);
  process.exit(2);
}
if (isStale()) await compile();

const args = process.argv.slice(3);
const light = args.some((arg) => ['--help', '-h', '--version', '-V', '--check'].includes(arg));
const bundle = loadBundle(command, { light });
process.once('exit', () => bundle.saveCache());
process.exitCode = await bundle.exports.main(args);
