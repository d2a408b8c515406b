// The --watch soak: 500 edits of one dataset figure in a running
// `report --watch`, the watcher's resident memory read after each rebuild.
// Its bounded caches and recycled build thread should keep RSS flat: after
// the first 50 edits (warm-up: faces, shaped words, compiled templates and
// specs fill), every later sample within 10% of the highest of those 50. Prints the figures and writes
// bench/soak.json; `npm run bench:soak` (EDITS=N for another count).
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject, makeTempDir, ROOT, watchEdits } from './lib.js';

const EDITS = Number(process.env.EDITS ?? 500);
const WARM = Math.min(50, Math.floor(EDITS / 5));
const scratch = makeTempDir('soak');
const project = makeProject(join(scratch, 'project'));
const started = performance.now();
let session;
try {
  session = await watchEdits(project, { report: 'catl-ai-stack-briefing', edits: EDITS, sampleRss: true });
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
const mb = (kib) => Math.round((kib / 1024) * 10) / 10;
const rss = session.edits.map((edit) => edit.rssKiB);
// The level to hold is the most the watcher took over the first WARM edits:
// the same as the WARM-th sample when memory only rises, and the fair
// reference when the build thread is replaced now and then (a saw-tooth).
const warm = Math.max(...rss.slice(0, WARM));
const later = rss.slice(WARM);
const max = Math.max(...later);
const min = Math.min(...later);
const summary = {
  edits: EDITS,
  warmUpEdits: WARM,
  rssMB: { afterFirstEdit: mb(rss[0]), afterWarmUp: mb(warm), maxAfterWarmUp: mb(max), minAfterWarmUp: mb(min), last: mb(rss.at(-1)) },
  growthAfterWarmUp: Math.round(((max - warm) / warm) * 1000) / 10,
  withinTenPercent: max <= warm * 1.1,
  medianRebuildMs: [...session.edits.map((e) => e.wallMs)].sort((a, b) => a - b)[Math.floor(EDITS / 2)],
  everyFiftiethMB: rss.filter((_, i) => (i + 1) % 50 === 0).map(mb),
  highestPerFiftyMB: Array.from({ length: Math.ceil(EDITS / 50) }, (_, i) => mb(Math.max(...rss.slice(i * 50, i * 50 + 50)))),
  seconds: Math.round((performance.now() - started) / 1000),
  rssAfterEachEditMB: rss.map(mb),
};
console.log(JSON.stringify(summary, null, 2));
writeFileSync(join(ROOT, 'bench', 'soak.json'), `${JSON.stringify(summary, null, 2)}\n`);
process.exitCode = summary.withinTenPercent ? 0 : 1;
