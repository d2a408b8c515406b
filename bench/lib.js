// Shared by bench/run.js and bench/profile.js: scratch projects and timed CLI runs.
import { NODE_FLAGS } from '../bin/flags.js';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
// BENCH_BIN: another launcher taking bin/run.js's arguments, to measure a candidate optimisation against this tree.
export const BIN = process.env.BENCH_BIN ?? join(ROOT, 'bin', 'run.js');
const MAXRSS = pathToFileURL(join(ROOT, 'bench', 'maxrss.js')).href;

/** A fresh scratch folder under the system temp dir; removed by the caller. */
export function makeTempDir(tag) {
  return mkdtempSync(join(tmpdir(), `briefing-bench-${tag}-`));
}

/**
 * A scratch project the CLI can run in: report paths resolve against the cwd
 * and may not contain "..", and the chart cache lives in <cwd>/.cache, so each
 * measurement gets its own folder with the repo's templates, node_modules and
 * package.json linked in (read-only use) and its own copy of data/ and
 * reports.yaml (so edits and others' work in the repo never meet).
 */
export function makeProject(dir, { copyData = true } = {}) {
  mkdirSync(dir, { recursive: true });
  for (const name of ['templates', 'node_modules', 'package.json']) symlinkSync(join(ROOT, name), join(dir, name));
  if (copyData) {
    cpSync(join(ROOT, 'data'), join(dir, 'data'), { recursive: true });
    cpSync(join(ROOT, 'reports.yaml'), join(dir, 'reports.yaml'));
  }
  return dir;
}

/** Empties a project's chart cache, so the next build renders every chart. */
export function clearChartCache(project) {
  rmSync(join(project, '.cache'), { recursive: true, force: true });
}

/**
 * Runs `node bin/run.js <args>` in `cwd` as a whole child process and
 * resolves with its wall time (spawn to exit, ms), peak RSS (KiB) and output.
 * Rejects with the child's stderr when it exits non-zero.
 */
export function runCli(args, { cwd, nodeArgs = [] }) {
  const rssFile = join(cwd, `.maxrss-${process.pid}-${Math.random().toString(36).slice(2)}`);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let ms;
    const child = spawn(process.execPath, [...NODE_FLAGS, '--import', MAXRSS, ...nodeArgs, BIN, ...args], {
      cwd,
      env: { ...process.env, BENCH_MAXRSS_FILE: rssFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', () => (ms = performance.now() - started));
    child.on('error', reject);
    child.on('close', (code) => {
      let rssKiB;
      try {
        rssKiB = Number(readFileSync(rssFile, 'utf8'));
        rmSync(rssFile, { force: true });
      } catch {
        rssKiB = undefined; // the process died before its exit hook ran
      }
      if (code !== 0) reject(new Error(`node bin/run.js ${args.join(' ')} (cwd ${cwd}) exited with ${code}:\n${stderr}`));
      else resolve({ ms, rssKiB, stdout, stderr });
    });
  });
}

/** Runs any command and resolves with its wall time; rejects on a non-zero exit or after `timeoutMs`. */
export function runCommand(file, args, { cwd, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let ms;
    const child = spawn(file, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('exit', () => (ms = performance.now() - started));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0) reject(new Error(`${file} ${args.join(' ')} exited with ${code ?? signal}:\n${output}`));
      else resolve({ ms, output });
    });
  });
}

/** Collects a child's stderr as timestamped lines and lets the caller wait for one matching a pattern. */
function lineReader(stream) {
  const lines = [];
  let waiter;
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop();
    for (const line of parts) {
      lines.push({ line, at: performance.now() });
      if (waiter && waiter.pattern.test(line)) {
        const w = waiter;
        waiter = undefined;
        w.resolve(lines.at(-1));
      }
    }
  });
  return {
    lines,
    /** Resolves with the first line after index `from` matching `pattern`. */
    waitFor(pattern, from, timeoutMs = 60_000) {
      const seen = lines.slice(from).find((l) => pattern.test(l.line));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; stderr so far:\n${lines.map((l) => l.line).join('\n')}`)), timeoutMs);
        waiter = { pattern, resolve: (l) => (clearTimeout(timer), resolve(l)) };
      });
    },
  };
}

// The CLI's own words (src/support/messages.ts watching / watchRebuilt / watchKeptPrevious, and the summary lines of src/cli/report.ts).
const WATCHING = /^watching /;
const REBUILT = /^rebuilt; watching/;
const FAILED = /^build failed; the previous outputs are kept/;
const WROTE = /^wrote \d+ files to .* in (\d+)ms$/;

/** Parses "<id>: validate 3ms · charts 40ms · … (1 charts rendered, 4 from cache)". */
function parseStages(line) {
  const stages = Object.fromEntries([...line.matchAll(/(\w+) (\d+)ms/g)].map((m) => [m[1], Number(m[2])]));
  const charts = /\((\d+) charts rendered, (\d+) from cache\)/.exec(line);
  return { stages, rendered: Number(charts?.[1]), reused: Number(charts?.[2]) };
}

/** A process's resident set now (Linux /proc), in KiB. */
function currentRssKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
}

/** Waits until the watcher is idle: no rebuild started by stray file events is still running. */
async function settle(reader) {
  await sleep(300);
  const last = reader.lines.at(-1)?.line ?? '';
  if (!REBUILT.test(last) && !WATCHING.test(last)) await reader.waitFor(REBUILT, reader.lines.length - 1);
}

/**
 * Runs `report --watch --only <report>` on the project's copy of the dataset
 * and edits one figure `edits` times, each time timing save -> "rebuilt".
 * Resolves with each edit's wall time, the CLI's own build time and stage
 * timings, the time to the first "watching" line, and the peak RSS.
 */
export async function watchEdits(project, { report, edits, nodeArgs = [], sampleRss = false }) {
  const dataFile = join(project, 'data', 'catl-ai-stack.yaml');
  const original = readFileSync(dataFile, 'utf8');
  // One figure: CATL's 2025 storage shipments, which feeds one chart and a few derived figures.
  const figure = /(\n  shipments_storage_2025:\n(?:    .*\n)*?    value: )(\d+(?:\.\d+)?)/;
  const base = Number(figure.exec(original)?.[2]);
  if (!Number.isFinite(base)) throw new Error('bench: metrics.shipments_storage_2025.value not found in data/catl-ai-stack.yaml; update the pattern in bench/lib.js');

  const rssFile = join(project, '.maxrss-watch');
  const started = performance.now();
  const child = spawn(process.execPath, [...NODE_FLAGS, '--import', MAXRSS, ...nodeArgs, BIN, 'report', '--watch', '--data', 'data/catl-ai-stack.yaml', '--out', 'out', '--only', report], {
    cwd: project,
    env: { ...process.env, BENCH_MAXRSS_FILE: rssFile },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const reader = lineReader(child.stderr);
  const results = [];
  let readyMs;
  try {
    readyMs = (await reader.waitFor(WATCHING, 0)).at - started;
    for (let k = 1; k <= edits; k++) {
      await settle(reader);
      const from = reader.lines.length;
      // A new value every time: a value seen before would come back from the chart cache whole.
      const text = original.replace(figure, (_m, head) => `${head}${base + k}`);
      const saved = performance.now();
      writeFileSync(dataFile, text); // in place, as an editor's save would (a rename would orphan a file watch)
      const done = await reader.waitFor(new RegExp(`${REBUILT.source}|${FAILED.source}`), from);
      const since = reader.lines.slice(from).map((l) => l.line);
      if (FAILED.test(done.line)) throw new Error(`watch rebuild failed:\n${since.join('\n')}`);
      const wrote = since.map((l) => WROTE.exec(l)).find(Boolean);
      const stageLine = since.find((l) => l.startsWith(`${report}: `));
      results.push({ value: base + k, wallMs: done.at - saved, buildMs: Number(wrote?.[1]), ...(stageLine ? parseStages(stageLine) : {}), ...(sampleRss ? { rssKiB: currentRssKiB(child.pid) } : {}) });
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  const rssKiB = existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) : undefined;
  return { figure: 'metrics.shipments_storage_2025.value', edits: results, readyMs, rssKiB };
}
