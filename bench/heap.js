// The live heap behind the --watch soak: the same rebuilds as bench/soak.js
// (one figure of the CATL dataset edited, the A4 report rebuilt) run in one
// process through the compiled CLI's main, with a full GC before each
// sample, so the figures are what the process keeps, not what V8 has yet to
// collect or hands back. Run as `npm run bench:heap` (node --expose-gc).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { getHeapSpaceStatistics } from 'node:v8';
import { makeProject, makeTempDir, ROOT } from './lib.js';

if (typeof globalThis.gc !== 'function') throw new Error('bench/heap.js needs node --expose-gc (npm run bench:heap)');
const EDITS = Number(process.env.EDITS ?? 400);
const { main } = createRequire(import.meta.url)(join(ROOT, 'dist', 'report.cjs'));
const scratch = makeTempDir('heap');
const project = makeProject(join(scratch, 'project'));
const file = 'data/catl-ai-stack.yaml';
const mb = (bytes) => Math.round((bytes / 1048576) * 10) / 10;
const samples = [];
const here = process.cwd();
try {
  process.chdir(project);
  const original = readFileSync(file, 'utf8');
  const figure = /(\n  shipments_storage_2025:\n(?:    .*\n)*?    value: )(\d+(?:\.\d+)?)/;
  for (let k = 1; k <= EDITS; k++) {
    writeFileSync(file, original.replace(figure, (_m, head) => `${head}${121 + k}`));
    if ((await main(['--data', file, '--out', 'out', '--only', 'catl-ai-stack-briefing', '--quiet'])) !== 0) throw new Error(`build ${k} failed`);
    if (k === 1 || k % 50 === 0) {
      globalThis.gc();
      const m = process.memoryUsage();
      const spaces = Object.fromEntries(getHeapSpaceStatistics().map((space) => [space.space_name, space.space_size]));
      samples.push({
        edit: k,
        rssMB: mb(m.rss),
        heapUsedMB: mb(m.heapUsed),
        heapTotalMB: mb(m.heapTotal),
        externalMB: mb(m.external),
        oldMB: mb(spaces.old_space ?? 0),
        newMB: mb(spaces.new_space ?? 0),
        codeMB: mb(spaces.code_space ?? 0),
        largeMB: mb(spaces.large_object_space ?? 0),
      });
    }
  }
} finally {
  process.chdir(here);
  rmSync(scratch, { recursive: true, force: true });
}
console.table(samples);
