// Preloaded into a measured CLI process with `node --import`: on exit, writes
// the process's peak resident set size (KiB, ru_maxrss) to $BENCH_MAXRSS_FILE.
// Worker threads share the process, so the figure covers the whole pool; only
// the main thread writes, since it exits last and resourceUsage() is process-wide.
import { writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const file = process.env.BENCH_MAXRSS_FILE;
if (file && isMainThread) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
