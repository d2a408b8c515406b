// The gallery suite's worker-pool task: one spec through the compiled chart
// command (dist/chart.cjs, the code `npm run chart` runs), once to SVG and
// once to PDF, with what the command writes to stderr captured. Plain
// JavaScript: a worker thread of the pool is not run through vitest's
// TypeScript transform.
import { loadBundle } from '../../bin/load.js';

const chart = loadBundle('chart').exports;

/** Runs `chart SPEC -o OUT` for each output; resolves with each exit code and stderr. */
export default async function render({ spec, outputs }) {
  const runs = [];
  for (const output of outputs) runs.push(await runChart([spec, '-o', output]));
  return runs;
}

async function runChart(args) {
  let stderr = '';
  const write = process.stderr.write;
  // Tasks run one at a time in a worker, so the stream is this call's alone.
  process.stderr.write = (chunk) => {
    stderr += typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk);
    return true;
  };
  try {
    return { code: await chart.main(args), stderr, thrown: undefined };
  } catch (error) {
    // main catches every error itself; one escaping it is a crash to report, not to end the run with.
    return { code: -1, stderr, thrown: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  } finally {
    process.stderr.write = write;
  }
}
