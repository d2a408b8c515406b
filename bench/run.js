#!/usr/bin/env node
/**
 * `npm run bench`: times the built CLI as users run it and prints each figure
 * against its target (issue 7), writing every sample to bench/results.json.
 *
 *   1. cold    `node bin/run.js report` as a whole process, empty chart cache:
 *              wall time and peak RSS (all reports, and the A4 briefing alone)
 *   2. chrome  our whole build vs headless Chromium printing our HTML to PDF,
 *              alternated pair by pair in one run
 *   3. watch   `report --watch`: one-figure data edit -> "rebuilt" line
 *   4. batch   50 generated reports with varied data, --jobs 1 vs --jobs 2
 *   5. sizes   our PDF vs Chromium's PDF of the same HTML; our HTML
 *
 * Plain Node ESM (no transpiler). Every run happens in a scratch project under
 * the temp dir, so the repo's output/ and .cache/ are never touched.
 * Options: --sections cold,chrome,watch,batch  --quick  --json <file>  --keep
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, cpSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { arch, availableParallelism, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import YAML from 'yaml';
import { BIN, ROOT, clearChartCache, makeProject, makeTempDir, runCli, runCommand, watchEdits } from './lib.js';

const { values: flags } = parseArgs({
  options: {
    sections: { type: 'string', default: 'cold,chrome,watch,batch' },
    quick: { type: 'boolean', default: false },
    json: { type: 'string', default: join(ROOT, 'bench', 'results.json') },
    keep: { type: 'boolean', default: false },
  },
});
const sections = new Set(flags.sections.split(','));
// Modest repetitions, so a fresh clone finishes in a few minutes on 2 cores.
const RUNS = flags.quick
  ? { cold: 2, pairs: 1, edits: 2, batch: [4, 8] }
  : { cold: 5, pairs: 3, edits: 5, batch: [25, 50] };
const BRIEFING = 'catl-ai-stack-briefing';
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

const figures = [];
const details = {};
const scratch = makeTempDir('run');
const log = (line) => process.stderr.write(`${line}\n`);

// ---------------------------------------------------------------- statistics

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

/**
 * Records one figure. `target` is { op: '<' | '<=' | '>=', value } in the
 * figure's unit, judged on the median; figures without one are context.
 */
function record(section, label, unit, samples, target, note) {
  const m = median(samples);
  const pass = target ? { '<': m < target.value, '<=': m <= target.value, '>=': m >= target.value }[target.op] : undefined;
  const figure = { section, label, unit, samples, median: m, min: Math.min(...samples), max: Math.max(...samples), target, pass, note };
  figures.push(figure);
  log(`  ${label}: ${format(m, unit)}${target ? ` (target ${target.op} ${format(target.value, unit)}: ${pass ? 'pass' : 'MISS'})` : ''}`);
  return figure;
}

function format(value, unit) {
  if (value === undefined || Number.isNaN(value)) return 'n/a';
  switch (unit) {
    case 'ms':
      return `${value.toFixed(value < 100 ? 1 : 0)} ms`;
    case 'MB':
      return `${value.toFixed(1)} MB`;
    case 'KB':
      return `${value.toFixed(1)} KB`;
    case 'x':
      return `${value.toFixed(2)}x`;
    case '/s':
      return `${value.toFixed(2)}/s`;
    default:
      return `${value} ${unit}`;
  }
}

const mb = (kib) => kib / 1024;

// ---------------------------------------------------------------- 1. cold

/** Removes the compiled bundle's code caches (dist/*.v8 beside the launcher measured). */
function removeCodeCache() {
  const dist = join(dirname(BIN), '..', 'dist');
  for (const name of readdirSync(dist)) if (name.endsWith('.v8')) rmSync(join(dist, name), { force: true });
}

/** One build of `args` in `project` with the chart cache emptied first: nothing is reused. */
async function coldBuild(project, args) {
  clearChartCache(project);
  return runCli(['report', ...args], { cwd: project });
}

async function benchCold() {
  log('cold end-to-end (whole process, empty chart cache)');
  const project = makeProject(join(scratch, 'cold'));
  const floor = [];
  for (let i = 0; i < RUNS.cold; i++) floor.push((await runCommand(process.execPath, ['-e', '0'])).ms);
  record('cold', 'node startup alone (node -e 0)', 'ms', floor);
  // --version exits after the CLI module graph is loaded: the module-loading floor.
  const load = [];
  for (let i = 0; i < RUNS.cold; i++) load.push((await runCli(['report', '--version'], { cwd: project })).ms);
  record('cold', 'CLI start + module load (report --version)', 'ms', load);

  await coldBuild(project, ['--out', 'out']); // warm-up: page cache, and the bundle's code cache (dist/*.v8) if missing
  const variants = [
    { label: `all reports in reports.yaml`, args: ['--out', 'out'], target: true },
    { label: `${BRIEFING} only (PDF, HTML, SVG)`, args: ['--out', 'out', '--only', BRIEFING], target: false },
  ];
  for (const variant of variants) {
    const runs = [];
    for (let i = 0; i < RUNS.cold; i++) runs.push(await coldBuild(project, variant.args));
    record('cold', `cold e2e wall, ${variant.label}`, 'ms', runs.map((r) => r.ms), variant.target ? { op: '<', value: 1000 } : undefined);
    record('cold', `peak RSS, ${variant.label}`, 'MB', runs.map((r) => mb(r.rssKiB)), variant.target ? { op: '<', value: 200 } : undefined);
  }
  // The same without V8's code cache (bin/load.js): what the first build after
  // a compile of dist/ costs, writing the cache at exit included.
  const uncached = [];
  for (let i = 0; i < RUNS.cold; i++) {
    removeCodeCache();
    uncached.push((await coldBuild(project, ['--out', 'out'])).ms);
  }
  record('cold', 'cold e2e wall, all reports, no code cache (dist/*.v8 removed first)', 'ms', uncached);
  // What a second `npm run report` costs: the chart cache on disk is warm.
  const cached = [];
  for (let i = 0; i < RUNS.cold; i++) cached.push((await runCli(['report', '--out', 'out'], { cwd: project })).ms);
  record('cold', 'e2e wall, all reports, chart cache on disk', 'ms', cached);
}

// ---------------------------------------------------------------- 2 + 5. chromium, sizes

function toolOutput(file, args) {
  const result = spawnSync(file, args, { encoding: 'utf8' });
  return result.status === 0 ? result.stdout : undefined;
}

/** Fonts in a PDF as poppler's pdffonts lists them: how many, how many embedded. */
function pdfFonts(path) {
  const out = toolOutput('pdffonts', [path]);
  if (out === undefined) return undefined;
  const rows = out.split('\n').slice(2).filter((line) => line.trim());
  // Columns: name type encoding emb sub uni object ID; "emb" is the 4th from the end.
  const embedded = rows.filter((row) => row.trim().split(/\s+/).at(-5) === 'yes').length;
  return { fonts: rows.length, embedded };
}

function pdfPages(path) {
  const out = toolOutput('pdfinfo', [path]);
  if (out === undefined) return undefined;
  return { pages: Number(/^Pages:\s+(\d+)/m.exec(out)?.[1]), size: /^Page size:\s+(.*)$/m.exec(out)?.[1]?.trim() };
}

async function printWithChromium(html, pdf) {
  const profile = makeTempDir('chromium-profile');
  try {
    return await runCommand(CHROMIUM, [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
      '--no-pdf-header-footer',
      `--print-to-pdf=${pdf}`,
      `file://${html}`,
    ]);
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

async function benchChromium() {
  log('our whole build vs headless Chromium printing our HTML to PDF');
  if (!existsSync(CHROMIUM)) {
    log(`  skipped: ${CHROMIUM} not found (install Debian's chromium, or set CHROMIUM=/path/to/chromium)`);
    details.chromium = { skipped: `${CHROMIUM} not found` };
    return;
  }
  details.chromium = { version: toolOutput(CHROMIUM, ['--version'])?.trim() };
  const project = makeProject(join(scratch, 'chrome'));
  const args = ['--out', 'out', '--only', BRIEFING];
  await coldBuild(project, args);
  // Chromium prints a copy, so our next build can replace out/ meanwhile.
  const html = join(project, 'briefing.html');
  cpSync(join(project, 'out', `${BRIEFING}.html`), html);
  const chromePdf = join(project, 'chromium.pdf');
  await printWithChromium(html, chromePdf); // warm-up
  const ours = [];
  const chrome = [];
  for (let i = 0; i < RUNS.pairs; i++) {
    // Alternate which goes first, so drift (thermal, page cache) hits both sides.
    const order = i % 2 ? ['chrome', 'ours'] : ['ours', 'chrome'];
    for (const side of order) {
      if (side === 'ours') ours.push((await coldBuild(project, args)).ms);
      else chrome.push((await printWithChromium(html, chromePdf)).ms);
    }
  }
  const o = record('chrome', `our whole build, ${BRIEFING} (PDF+HTML+SVG, empty cache)`, 'ms', ours);
  const c = record('chrome', 'chromium --headless --print-to-pdf of our HTML', 'ms', chrome);
  record('chrome', 'ratio: our build / Chromium print', 'x', [o.median / c.median], { op: '<=', value: 0.5 }, 'ratio of the medians');

  log('sizes');
  const ourPdf = join(project, 'out', `${BRIEFING}.pdf`);
  const kb = (path) => statSync(path).size / 1024;
  const sizes = {
    ours: { pdf: statSync(ourPdf).size, fonts: pdfFonts(ourPdf), layout: pdfPages(ourPdf) },
    chromium: { pdf: statSync(chromePdf).size, fonts: pdfFonts(chromePdf), layout: pdfPages(chromePdf) },
    html: statSync(html).size,
  };
  details.sizes = sizes;
  const o2 = record('sizes', 'our PDF', 'KB', [kb(ourPdf)], undefined, describePdf(sizes.ours));
  const c2 = record('sizes', "Chromium's PDF of our HTML", 'KB', [kb(chromePdf)], undefined, describePdf(sizes.chromium));
  const embedded = (f) => (f ? `${f.embedded}/${f.fonts}` : 'unknown (no pdffonts)');
  record('sizes', "ratio: our PDF / Chromium's", 'x', [o2.median / c2.median], { op: '<=', value: 1 }, `fonts embedded: ours ${embedded(sizes.ours.fonts)}, Chromium's ${embedded(sizes.chromium.fonts)}`);
  record('sizes', 'our HTML (self-contained: fonts, SVG inline)', 'KB', [kb(html)]);
}

function describePdf({ fonts, layout }) {
  const parts = [];
  if (fonts) parts.push(`${fonts.embedded}/${fonts.fonts} fonts embedded`);
  if (layout) parts.push(`${layout.pages} pages, ${layout.size}`);
  return parts.join('; ') || undefined;
}

// ---------------------------------------------------------------- 3. watch

async function benchWatch() {
  log('warm rebuild (--watch, one-figure data edit)');
  const project = makeProject(join(scratch, 'watch'));
  const session = await watchEdits(project, { report: BRIEFING, edits: RUNS.edits + 1 });
  const edits = session.edits.slice(1); // the first edit is a warm-up
  details.watch = { figure: session.figure, edits };
  record('watch', 'warm rebuild: edit saved -> "rebuilt" (incl. debounce)', 'ms', edits.map((e) => e.wallMs), { op: '<', value: 150 });
  record('watch', 'warm rebuild: build alone (CLI "wrote ... in Xms")', 'ms', edits.map((e) => e.buildMs));
  const stageNames = [...new Set(edits.flatMap((e) => Object.keys(e.stages ?? {})))];
  for (const stage of stageNames) record('watch', `  stage ${stage}`, 'ms', edits.map((e) => e.stages?.[stage] ?? 0));
  record('watch', 'charts re-rendered per edit (rest from cache)', 'charts', edits.map((e) => e.rendered));
  if (session.rssKiB) record('watch', 'peak RSS of the watch process', 'MB', [mb(session.rssKiB)]);
}

// ---------------------------------------------------------------- 4. batch

/** The i-th batch dataset: the briefing's data with every charted figure moved, so no chart repeats another report's. */
function varyDataset(doc, i) {
  const set = (path, value) => doc.setIn(path, value);
  const round1 = (x) => Math.round(x * 10) / 10;
  set(['metrics', 'shipments_ev_2025', 'value'], 541 + 7 * i);
  set(['metrics', 'shipments_storage_2025', 'value'], 121 + 3 * i);
  set(['metrics', 'share_q1_2026', 'value'], round1(39.2 + (i % 10) * 0.3));
  set(['metrics', 'share_q1_2025', 'value'], round1(38.5 - (i % 7) * 0.2));
  set(['metrics', 'storage_growth_catl', 'value'], 29 + (i % 13));
  set(['metrics', 'storage_growth_market', 'value'], 79 - (i % 11));
  set(['collections', 'deals', 'records', 'zhongheng', 'amount', 'value'], 600 + 5 * i);
  set(['collections', 'deals', 'records', 'vnet', 'amount', 'value'], 942 + 4 * i);
  return doc.toString();
}

async function benchBatch() {
  const sizes = RUNS.batch;
  const max = Math.max(...sizes);
  log(`batch (${sizes.join(' and ')} generated reports, --jobs 1 vs --jobs 2, empty chart cache)`);
  const project = makeProject(join(scratch, 'batch'), { copyData: false });
  mkdirSync(join(project, 'data'));
  const source = readFileSync(join(ROOT, 'data', 'catl-ai-stack.yaml'), 'utf8');
  const ids = [];
  for (let i = 1; i <= max; i++) {
    const id = `batch-${String(i).padStart(2, '0')}`;
    writeFileSync(join(project, 'data', `${id}.yaml`), varyDataset(YAML.parseDocument(source), i));
    ids.push(id);
  }
  for (const n of sizes) {
    // PDF and HTML: every report's charts are written to the same charts/<chart>.svg, so SVG files would overwrite each other.
    const reports = ids.slice(0, n).map((id) => ({ id, title: `Batch report ${id}`, dataset: `data/${id}.yaml`, templates: 'templates/briefing', charts: 'templates/charts', paper: 'a4', formats: ['pdf', 'html'] }));
    writeFileSync(join(project, `reports-${n}.yaml`), YAML.stringify({ reports }));
  }
  const wall = {};
  const rss = {};
  for (const n of sizes) {
    for (const jobs of [1, 2]) {
      rmSync(join(project, 'out'), { recursive: true, force: true });
      const run = await coldBuild(project, ['--config', `reports-${n}.yaml`, '--out', 'out', '--jobs', String(jobs), '--quiet']);
      wall[`${jobs}x${n}`] = run.ms;
      rss[`${jobs}x${n}`] = mb(run.rssKiB);
      log(`  ${n} reports, --jobs ${jobs}: ${format(run.ms, 'ms')}, peak RSS ${format(mb(run.rssKiB), 'MB')}`);
    }
  }
  details.batch = { wallMs: wall, peakRssMB: rss, formats: ['pdf', 'html'] };
  // What two threads can get from this machine right now: the same CPU-bound
  // loop once alone, then twice at once. 2.00x means two free cores; other
  // work on the machine (or shared vCPUs) shows as less.
  const spin = ['-e', 'let x = 0; for (let i = 0; i < 2e8; i++) x += i % 7;'];
  const alone = (await runCommand(process.execPath, spin)).ms;
  const pairStarted = performance.now();
  await Promise.all([runCommand(process.execPath, spin), runCommand(process.execPath, spin)]);
  const pair = performance.now() - pairStarted;
  const [small, big] = sizes;
  for (const jobs of [1, 2]) record('batch', `${big} reports, --jobs ${jobs}: reports per second`, '/s', [big / (wall[`${jobs}x${big}`] / 1000)]);
  record('batch', `speed-up, --jobs 2 over --jobs 1 (${big} reports)`, 'x', [wall[`1x${big}`] / wall[`2x${big}`]], { op: '>=', value: 1.7 });
  record('batch', 'CPU probe: 2 busy loops at once vs 1 (ideal 2.00x)', 'x', [(2 * alone) / pair], undefined, 'the speed-up two threads could get on this machine at the time of the run');
  const slope = (jobs) => (wall[`${jobs}x${big}`] - wall[`${jobs}x${small}`]) / (big - small);
  record('batch', `marginal cost per report, --jobs 2 (slope ${small}->${big})`, 'ms', [slope(2)], { op: '<', value: 100 });
  record('batch', `marginal cost per report, --jobs 1 (slope ${small}->${big})`, 'ms', [slope(1)]);
  record('batch', `peak RSS, ${big} reports, --jobs 2`, 'MB', [rss[`2x${big}`]]);
}

// ---------------------------------------------------------------- report

function printTable() {
  const rows = figures.map((f) => [
    f.label,
    format(f.median, f.unit),
    f.samples.length > 1 ? format(f.min, f.unit) : '',
    f.samples.length > 1 ? format(f.max, f.unit) : '',
    f.target ? `${f.target.op} ${format(f.target.value, f.unit)}` : '',
    f.target ? (f.pass ? 'pass' : 'MISS') : '',
  ]);
  const head = ['figure', 'median', 'min', 'max', 'target', 'result'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  let section;
  console.log(`\n${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  figures.forEach((f, i) => {
    if (f.section !== section && section !== undefined) console.log('');
    section = f.section;
    console.log(line(rows[i]));
  });
  const notes = figures.filter((f) => f.note);
  if (notes.length) console.log(`\n${notes.map((f) => `${f.label}: ${f.note}`).join('\n')}`);
  const targets = figures.filter((f) => f.target);
  console.log(`\n${targets.filter((f) => f.pass).length}/${targets.length} targets met`);
}

function machine() {
  const cpu = cpus();
  return {
    // Other work on the machine skews every figure, the --jobs 2 speed-up most.
    load_average: loadavg().map((x) => Math.round(x * 100) / 100),
    node: process.version,
    platform: `${platform()} ${release()} ${arch()}`,
    cpus: availableParallelism(),
    cpu_model: cpu[0]?.model,
    memory_gb: Math.round(totalmem() / 2 ** 30),
  };
}

async function main() {
  const started = performance.now();
  const before = machine();
  log(`${before.cpus} cores, ${before.cpu_model}, Node ${before.node}, load average ${before.load_average.join(' ')}`);
  // Compile dist/ now if it is stale, so no measurement includes esbuild.
  const probe = makeProject(join(scratch, 'probe'));
  await runCli(['report', '--version'], { cwd: probe });
  if (sections.has('cold')) await benchCold();
  if (sections.has('chrome')) await benchChromium();
  if (sections.has('watch')) await benchWatch();
  if (sections.has('batch')) await benchBatch();
  printTable();
  console.log(`load average before ${before.load_average.join(' ')}, after ${loadavg().map((x) => x.toFixed(2)).join(' ')} (${before.cpus} cores)`);
  const results = {
    // When and where: the one part of this file that is expected to differ between runs.
    date: new Date().toISOString(),
    machine: { ...before, load_average_after: machine().load_average },
    settings: { ...RUNS, sections: [...sections], quick: flags.quick },
    figures,
    details,
    bench_seconds: Math.round((performance.now() - started) / 100) / 10,
  };
  writeFileSync(flags.json, `${JSON.stringify(results, null, 2)}\n`);
  log(`\nwrote ${flags.json} (${results.bench_seconds} s)`);
}

try {
  await main();
} finally {
  if (flags.keep) log(`kept scratch folders in ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
}
