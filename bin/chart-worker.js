// The chart command's pool task file (a batch of many specs): each worker
// thread loads dist/chart.cjs through the code cache, as the CLI's own thread
// does, and renders the specs it is given with the fonts loaded once.
import { loadBundle } from './load.js';

const bundle = loadBundle('chart');

export default async function task(input) {
  const outcome = await bundle.exports.renderInWorker(input);
  bundle.saveCache();
  return outcome;
}
