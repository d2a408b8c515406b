// Preloaded into a measured process with `node --import` (bench/chart.js): on
// exit, writes its resource usage (CPU microseconds, peak RSS KiB) as JSON to
// $BENCH_USAGE_FILE, so figures on a loaded machine can be read as CPU too.
import { writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const file = process.env.BENCH_USAGE_FILE;
if (file && isMainThread) process.on('exit', () => writeFileSync(file, JSON.stringify(process.resourceUsage())));
