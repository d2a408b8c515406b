#!/usr/bin/env node
/**
 * Where a cold build's time goes: runs `node --cpu-prof bin/run.js report
 * --jobs 1` (one thread, so one profile holds the whole build) in a scratch
 * project with an empty chart cache, then prints self time by module and by
 * function, and inclusive time of our own functions (the stages). Frames in
 * the dist/ bundle are mapped back to src/*.ts through its source map.
 *
 *   node bench/profile.js [--top 25] [--keep] [-- extra report args]
 *   node bench/profile.js --watch [--edits 5]   (the warm path: `report --watch`,
 *       one-figure data edits; only samples after the first build count)
 *   node bench/profile.js --file some.cpuprofile   (summarise an existing profile)
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ROOT, clearChartCache, makeProject, makeTempDir, runCli, watchEdits } from './lib.js';

const { values: flags, positionals } = parseArgs({
  options: {
    top: { type: 'string', default: '25' },
    keep: { type: 'boolean', default: false },
    file: { type: 'string' },
    watch: { type: 'boolean', default: false },
    edits: { type: 'string', default: '5' },
  },
  allowPositionals: true,
});
const TOP = Number(flags.top);

const sourceMaps = new Map();
/** The source map of a dist/ bundle, if it has one. */
function sourceMapFor(url) {
  if (!sourceMaps.has(url)) {
    let map;
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${fileURLToPath(url)}.map`, 'utf8')));
    } catch {
      map = undefined; // no map beside the bundle: frames stay as bundle lines
    }
    sourceMaps.set(url, map);
  }
  return sourceMaps.get(url);
}

/** A frame's module ("src/pdf.ts", "vega-lite", "node:internal", "(garbage collector)") and a readable location. */
function locate(callFrame) {
  const { url, functionName, lineNumber, columnNumber } = callFrame;
  if (!url) return { module: functionName.startsWith('(') ? functionName : '(native)', where: '' };
  if (url.startsWith('node:')) return { module: url.startsWith('node:internal') ? 'node:internal' : url, where: `${url}:${lineNumber + 1}` };
  let path = url.startsWith('file:') ? fileURLToPath(url) : url;
  let line = lineNumber + 1;
  // The bundle holds our code and most packages: its source map says which.
  const entry = url.startsWith('file:') ? sourceMapFor(url)?.findEntry(lineNumber, columnNumber) : undefined;
  // Sources in esbuild plugin namespaces ("lazy:brotli/...", bin/build.js's stand-ins) have no file.
  if (entry?.originalSource && !/^[a-z]+:(?!\/\/)/.test(entry.originalSource)) {
    path = fileURLToPath(new URL(entry.originalSource, url));
    line = entry.originalLine + 1;
  }
  const file = relative(ROOT, path);
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];
  return { module: pkg ?? file, where: `${file}:${line}` };
}

/** Self and inclusive milliseconds per module and per function of a .cpuprofile, counting samples from `afterMs` into the profile on. */
export function summarise(profile, afterMs = 0) {
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const info = new Map(profile.nodes.map((n) => {
    const { module, where } = locate(n.callFrame);
    return [n.id, { module, key: `${n.callFrame.functionName || '(anonymous)'}  ${where}`.trim() }];
  }));
  const selfByModule = new Map();
  const selfByFunction = new Map();
  const inclusiveOurs = new Map();
  const add = (map, key, ms) => map.set(key, (map.get(key) ?? 0) + ms);
  let total = 0;
  let at = 0;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] / 1000;
    if (at < afterMs) return;
    // timeDeltas[i] is the gap before sample i; the next gap is the time this sample stands for.
    const ms = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000;
    total += ms;
    const { module, key } = info.get(id);
    add(selfByModule, module, ms);
    add(selfByFunction, `${key}`, ms);
    const seen = new Set();
    for (let n = id; n !== undefined; n = parent.get(n)) {
      const frame = info.get(n);
      if (frame.module.startsWith('src/') && !seen.has(frame.key)) {
        seen.add(frame.key);
        add(inclusiveOurs, frame.key, ms);
      }
    }
  });
  const top = (map) => [...map].sort((a, b) => b[1] - a[1]).slice(0, TOP).map(([name, ms]) => ({ name, ms: Math.round(ms * 10) / 10, share: Math.round((ms / total) * 1000) / 10 }));
  return { totalMs: Math.round(total), byModule: top(selfByModule), byFunction: top(selfByFunction), inclusiveOurs: top(inclusiveOurs) };
}

function print(title, rows) {
  console.log(`\n${title}`);
  for (const row of rows) console.log(`${row.ms.toFixed(1).padStart(9)} ms ${row.share.toFixed(1).padStart(5)}%  ${row.name}`);
}

async function main() {
  let files;
  let scratch;
  let afterMs = 0;
  if (flags.file) files = [flags.file];
  else {
    scratch = makeTempDir('profile');
    const project = makeProject(join(scratch, 'project'));
    const dir = join(scratch, 'prof');
    const profiling = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
    await runCli(['report', '--version'], { cwd: project }); // compile dist/ if stale, outside the profile
    await runCli(['report', '--out', 'out', '--jobs', '1'], { cwd: project }); // warm the page cache
    clearChartCache(project);
    if (flags.watch) {
      const session = await watchEdits(project, { report: 'catl-ai-stack-briefing', edits: Number(flags.edits), nodeArgs: profiling });
      // The profile starts as the process does; the first build ends at "watching". Idle waits between edits sample as (idle).
      afterMs = session.readyMs + 150;
      const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
      console.log(`profiled: node --cpu-prof bin/run.js report --watch, ${session.edits.length} one-figure edits: median ${Math.round(median(session.edits.map((e) => e.wallMs)))} ms save -> rebuilt; samples from ${Math.round(afterMs)} ms on (after the first build) only`);
    } else {
      const run = await runCli(['report', '--out', 'out', '--jobs', '1', ...positionals], { cwd: project, nodeArgs: profiling });
      console.log(`profiled: node --cpu-prof bin/run.js report --jobs 1 ${positionals.join(' ')} (empty chart cache): ${Math.round(run.ms)} ms wall, ${Math.round(run.rssKiB / 1024)} MB peak RSS`);
    }
    files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f));
  }
  try {
    for (const file of files) {
      const summary = summarise(JSON.parse(readFileSync(file, 'utf8')), afterMs);
      console.log(`\n${flags.file ? file : 'main thread'}: ${summary.totalMs} ms sampled`);
      print('self time by module', summary.byModule);
      print('self time by function', summary.byFunction);
      print('inclusive time of our functions (src/)', summary.inclusiveOurs);
    }
  } finally {
    if (scratch && !flags.keep) rmSync(scratch, { recursive: true, force: true });
    else if (scratch) console.log(`\nkept ${scratch}`);
  }
}

await main();
