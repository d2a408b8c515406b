#!/usr/bin/env node
/**
 * `npm run bench:chart`: the chart command against Vega-Lite's own `vl2svg`,
 * side by side in one run, on a scratch copy of the Vega-Lite gallery
 * (../shared/vega-lite-gallery, data from vega-datasets@3.2.1 copied in, as
 * its README says).
 *
 *   1. one chart, cold   `node bin/run.js chart X.vl.json -o X.svg` vs
 *                        `node vl2svg X.vl.json X.svg`, whole processes,
 *                        alternated pair by pair; median wall and CPU time
 *   2. batch             every gallery spec to SVG in one process
 *                        (`chart specs/ -o out/`): charts per second, beside
 *                        vega-lite + vega alone in one process (bench/vega-batch.js)
 *
 * Options: --reps N (5)  --specs a,b,c  --batch-runs N (1)  --batch-args="--jobs 1"
 *          --data DIR (a vega-datasets data/ folder; else npm installs it)  --gallery DIR  --keep
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { NODE_FLAGS } from '../bin/flags.js';
import { BIN, ROOT, makeTempDir } from './lib.js';

const { values: flags } = parseArgs({
  options: {
    reps: { type: 'string', default: '5' },
    specs: { type: 'string', default: 'bar,line,point_2d,layer_line_co2_concentration,trellis_barley,geo_choropleth' },
    'batch-runs': { type: 'string', default: '1' },
    'batch-args': { type: 'string', default: '' },
    data: { type: 'string' },
    gallery: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const VL2SVG = join(ROOT, 'node_modules', 'vega-lite', 'bin', 'vl2svg');
const USAGE = join(ROOT, 'bench', 'usage.js');

/** Runs `node ARGS` in `cwd`; resolves with wall ms, CPU ms (user + system, from bench/usage.js), exit code and stderr. */
function runNode(args, cwd, stdout = 'ignore') {
  const usageFile = join(cwd, `.usage-${process.pid}-${Math.random().toString(36).slice(2)}`);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', USAGE, ...args], { cwd, env: { ...process.env, BENCH_USAGE_FILE: usageFile }, stdio: ['ignore', stdout, 'pipe'] });
    let stderr = '';
    let out = '';
    child.stdout?.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      let usage = {};
      try {
        usage = JSON.parse(readFileSync(usageFile, 'utf8'));
      } catch {
        // the process died before its exit hook ran
      }
      rmSync(usageFile, { force: true });
      resolve({ ms, cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000, rssKiB: usage.maxRSS, code, stderr, stdout: out });
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const round = (x) => Math.round(x);

// shared/ sits beside the checkout (and beside the worktrees' parent for a worktree).
const GALLERY = flags.gallery ?? [join(ROOT, '..', 'shared'), join(ROOT, '..', '..', 'shared')].map((dir) => join(dir, 'vega-lite-gallery', 'specs')).find(existsSync);

/** A scratch copy of the gallery with its data copied in (a symlink would point outside each spec's folder). */
function prepareGallery(scratch) {
  const specs = join(scratch, 'specs');
  cpSync(GALLERY, specs, { recursive: true });
  let data = flags.data;
  if (!data) {
    const prefix = join(scratch, 'datasets');
    const npm = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', prefix, 'vega-datasets@3.2.1'], { encoding: 'utf8' });
    if (npm.status !== 0) throw new Error(`npm install vega-datasets@3.2.1 failed:\n${npm.stderr}`);
    data = join(prefix, 'node_modules', 'vega-datasets', 'data');
  }
  cpSync(data, join(specs, 'data'), { recursive: true });
  return specs;
}

async function coldPairs(specsDir, scratch) {
  const reps = Number(flags.reps);
  const rows = [];
  for (const name of flags.specs.split(',')) {
    const spec = join(specsDir, `${name}.vl.json`);
    const ours = [];
    const theirs = [];
    for (let i = 0; i < reps; i++) {
      // Alternated, and the first of each pair swapped each time, so load on the machine falls on both alike.
      const runs = [
        async () => ours.push(await runNode([...NODE_FLAGS, BIN, 'chart', spec, '-o', join(scratch, `${name}.ours.svg`)], scratch)),
        async () => theirs.push(await runNode([VL2SVG, spec, join(scratch, `${name}.vl2svg.svg`)], scratch)),
      ];
      for (const run of i % 2 ? runs.reverse() : runs) await run();
    }
    for (const [who, samples] of [['ours', ours], ['vl2svg', theirs]]) {
      const failed = samples.filter((s) => s.code !== 0);
      if (failed.length) throw new Error(`${who} failed on ${name}:\n${failed[0].stderr}`);
    }
    const row = { spec: name, ours: { wallMs: round(median(ours.map((s) => s.ms))), cpuMs: round(median(ours.map((s) => s.cpuMs))), rssMiB: round(median(ours.map((s) => s.rssKiB)) / 1024) } };
    row.vl2svg = { wallMs: round(median(theirs.map((s) => s.ms))), cpuMs: round(median(theirs.map((s) => s.cpuMs))), rssMiB: round(median(theirs.map((s) => s.rssKiB)) / 1024) };
    console.log(`  ${name.padEnd(14)} ours ${String(row.ours.wallMs).padStart(5)} ms wall ${String(row.ours.cpuMs).padStart(5)} ms CPU ${String(row.ours.rssMiB).padStart(4)} MiB | vl2svg ${String(row.vl2svg.wallMs).padStart(5)} ms wall ${String(row.vl2svg.cpuMs).padStart(5)} ms CPU ${String(row.vl2svg.rssMiB).padStart(4)} MiB`);
    rows.push(row);
  }
  return rows;
}

async function batch(specsDir, scratch) {
  const results = [];
  for (let i = 0; i < Number(flags['batch-runs']); i++) {
    const out = join(scratch, `batch-${i}/`);
    const extra = flags['batch-args'].split(' ').filter(Boolean);
    const run = await runNode([...NODE_FLAGS, BIN, 'chart', specsDir, '-o', out, ...extra], scratch);
    const summary = /rendered (\d+) of (\d+) specs/.exec(run.stderr);
    if (!summary) throw new Error(`the batch printed no summary (exit ${run.code}):\n${run.stderr.slice(-2000)}`);
    const rendered = Number(summary[1]);
    const result = { specs: Number(summary[2]), rendered, failed: Number(summary[2]) - rendered, wallMs: round(run.ms), cpuMs: round(run.cpuMs), rssMiB: round(run.rssKiB / 1024), chartsPerSecond: Math.round((rendered / (run.ms / 1000)) * 10) / 10 };
    console.log(`  run ${i + 1}: ${rendered} of ${result.specs} specs in ${(run.ms / 1000).toFixed(1)} s wall (${(run.cpuMs / 1000).toFixed(1)} s CPU, ${result.rssMiB} MiB peak): ${result.chartsPerSecond} charts/s`);
    results.push(result);
    rmSync(out, { recursive: true, force: true });
  }
  return results;
}

async function main() {
  const scratch = makeTempDir('chart');
  try {
    console.log(`machine: ${availableParallelism()} cores (${cpus()[0]?.model}), load ${loadavg().map((x) => x.toFixed(1)).join(' ')}, node ${process.version}`);
    const specsDir = prepareGallery(scratch);
    // Compile dist/ (if stale) and make the code cache, outside the samples; vl2svg once to warm the page cache.
    await runNode([...NODE_FLAGS, BIN, 'chart', join(specsDir, 'bar.vl.json'), '-o', join(scratch, 'warm.svg')], scratch);
    await runNode([VL2SVG, join(specsDir, 'bar.vl.json'), join(scratch, 'warm2.svg')], scratch);
    console.log(`\none chart, cold process (median of ${flags.reps}, alternated with vl2svg)`);
    const cold = await coldPairs(specsDir, scratch);
    console.log(`\nbatch: every gallery spec to SVG in one process ${flags['batch-args']}`);
    const batches = await batch(specsDir, scratch);
    if (batches.length === 0) return console.log(`\n${JSON.stringify({ load: loadavg(), cold })}`);
    console.log('\nthe floor: vega-lite + vega alone, every spec in one process (bench/vega-batch.js)');
    const floor = await runNode([join(ROOT, 'bench', 'vega-batch.js'), specsDir], scratch, 'pipe');
    const vegaAlone = { ...JSON.parse(floor.stdout), cpuMs: round(floor.cpuMs) };
    console.log(`  ${vegaAlone.rendered} of ${vegaAlone.specs} specs in ${(vegaAlone.wallMs / 1000).toFixed(1)} s (${(floor.cpuMs / 1000).toFixed(1)} s CPU): ${((vegaAlone.rendered / vegaAlone.wallMs) * 1000).toFixed(1)} charts/s`);
    console.log(`\n${JSON.stringify({ load: loadavg(), cold, batches, vegaAlone })}`);
  } finally {
    if (flags.keep) console.log(`kept ${scratch}`);
    else rmSync(scratch, { recursive: true, force: true });
  }
}

if (!existsSync(VL2SVG)) throw new Error(`vl2svg is missing: ${VL2SVG}`);
if (!GALLERY) throw new Error('the gallery is missing: pass --gallery DIR (shared/vega-lite-gallery/specs)');
await main();
