// The worker-pool task file: each worker thread loads dist/worker.cjs through
// the code cache, like the CLI's own thread.
import { loadBundle } from './load.js';

const bundle = loadBundle('worker');
const run = bundle.exports.default;

export default async function task(input) {
  const outcome = await run(input);
  bundle.saveCache();
  return outcome;
}
