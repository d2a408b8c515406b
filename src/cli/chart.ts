/**
 * The `chart` command: Vega-Lite specs -> SVG, PDF and PNG files with the
 * briefing's theme and fonts, one spec or a whole batch in one process. Data
 * comes inline or from files beside each spec; nothing outside a spec's
 * folder is read.
 *
 *   args ─expandSpecs (files, folders, quoted globs)─▶ spec paths ─planJobs─▶ ChartJob[]
 *   for each job (an error fails that spec only):
 *     spec text ─renderChart─▶ RenderedChart ─standaloneSvg─▶ SVG
 *       ─embedFonts─▶ .svg   ─renderChartPdf─▶ .pdf   ─resvg─▶ .png   (writeAtomic)
 *   ─▶ a summary line (folder output), exit code 1 if any spec failed
 *
 * The PDF, PNG and font-embedding stages load on first use, so a plain SVG
 * run never loads pdfkit, resvg or hb-subset.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, realpath, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { basename, dirname, extname, isAbsolute, join, resolve, sep } from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { glob, isDynamicPattern } from 'tinyglobby';
import { renderChart, standaloneSvg, type ChartReadFile, type RenderedChart } from '../charts/render.ts';
import type { Rasterizer } from '../charts/png.ts';
import type { ChartReadBytes } from '../charts/svg-pdf.ts';
import { CliError, EXIT } from '../support/error.ts';
import type { FontBytes } from '../text/fonts.ts';
import { messages } from '../support/messages.ts';
import { writeAtomic } from '../write.ts';

type ChartFormat = 'svg' | 'pdf' | 'png';
const FORMATS: readonly ChartFormat[] = ['svg', 'pdf', 'png'];

interface ChartCliOptions {
  output: string;
  format?: ChartFormat[];
  scale: number;
  embedFonts: boolean;
  jobs?: number;
  debug?: boolean;
}

/** One spec and the files it is written to. */
interface ChartJob {
  spec: string;
  id: string;
  outputs: { format: ChartFormat; path: string }[];
}

/** How the command reads specs and writes files; tests replace it to make one fail. */
export interface ChartEffects {
  readSpec(path: string): Promise<string>;
  writeFile(path: string, bytes: Uint8Array): Promise<void>;
}

const nodeChartEffects: ChartEffects = { readSpec: (path) => readFile(path, 'utf8'), writeFile: writeAtomic };

function parseFormats(value: string): ChartFormat[] {
  const list = value.split(',').map((format) => format.trim().toLowerCase());
  const bad = list.filter((format) => !(FORMATS as readonly string[]).includes(format));
  if (bad.length || list.length === 0) throw new InvalidArgumentError(messages.chartFormatUnknown(bad));
  return [...new Set(list as ChartFormat[])];
}

function parseScale(value: string): number {
  const scale = Number(value);
  if (!Number.isFinite(scale) || scale < 0.1 || scale > 16) throw new InvalidArgumentError(messages.chartScale(value));
  return scale;
}

function parseJobs(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError(messages.chartJobs(value));
  return Number(value);
}

function program(): Command {
  return new Command('chart')
    .description('Render Vega-Lite specs to SVG, PDF or PNG with the briefing theme and fonts.')
    .argument('<spec...>', 'Vega-Lite specs (.vl.json), folders of them, or quoted globs ("specs/*.vl.json"); data inline or in files beside each spec')
    .requiredOption('-o, --output <path>', 'a file for one spec (.svg, .pdf for a page sized to the chart, .png), or a folder ending in / for any number')
    .option('--format <list>', 'what a folder output gets per spec, comma-separated: svg, pdf, png (default: svg)', parseFormats)
    .option('--scale <n>', 'PNG pixels per chart pixel', parseScale, 2)
    .option('--jobs <n>', `specs rendered at once on worker threads (default: the number of cores from ${POOL_MIN_SPECS} specs on, else 1)`, parseJobs)
    .option('--no-embed-fonts', 'leave the typeface out of SVG files (smaller; they then need it installed to look right)')
    .option('--debug', 'print stack traces for unexpected errors')
    .helpOption('-h, --help', 'show this help')
    .addHelpText(
      'after',
      '\nSVG files embed the faces their text uses (a subset of each), so they look the same on machines without the font.\n' +
        'A folder output gets <spec name>.<format> per spec; one bad spec is reported and the others still render.\n' +
        'Exit codes: 0 ok, 1 a spec failed, 2 usage error.\nExamples:\n' +
        '  npm run chart -- bar.vl.json -o bar.svg\n  npm run chart -- bar.vl.json -o bar.png --scale 3\n' +
        '  npm run chart -- "specs/*.vl.json" -o out/ --format svg,pdf,png',
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: () => {} });
}

/** Resolves `relativePath` inside `folder` after following symlinks, so a link inside the folder cannot lead a spec outside it. */
async function resolveInside(folder: string, relativePath: string): Promise<string> {
  const root = await realpath(folder);
  const target = await realpath(resolve(root, relativePath));
  if (!target.startsWith(root + sep)) throw new Error(messages.chartLoadRefused(relativePath, messages.chartLoadOutside));
  return target;
}

const createFolderReader = (folder: string): ChartReadFile => async (path) => readFile(await resolveInside(folder, path), 'utf8');
const createBytesReader = (folder: string): ChartReadBytes => async (path) => new Uint8Array(await readFile(await resolveInside(folder, path)));

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

/** Files as given, folders as their *.vl.json specs, quoted globs expanded (each sorted, so runs are in a stable order). */
async function expandSpecs(args: readonly string[]): Promise<string[]> {
  const specs: string[] = [];
  for (const arg of args) {
    if (isDynamicPattern(arg)) {
      const found = (await glob(arg, { onlyFiles: true, absolute: isAbsolute(arg), expandDirectories: false })).sort();
      if (found.length === 0) throw new CliError(messages.usage(messages.chartNoMatch(arg)), EXIT.usage);
      specs.push(...found);
    } else if (await isDirectory(arg)) {
      const found = (await glob('*.vl.json', { cwd: arg, onlyFiles: true })).sort();
      if (found.length === 0) throw new CliError(messages.chartNoSpecs(arg));
      specs.push(...found.map((name) => join(arg, name)));
    } else specs.push(arg);
  }
  return [...new Set(specs)];
}

const specId = (path: string) => basename(path).replace(/\.vl\.json$|\.json$/i, '');

/** The files each spec is written to: `-o X.svg|pdf|png` for one spec, or `-o DIR/` with --format for any number. */
async function planJobs(specs: string[], options: ChartCliOptions): Promise<{ jobs: ChartJob[]; folder: boolean }> {
  const out = options.output;
  if (/[\\/]$/.test(out) || (await isDirectory(out))) {
    const formats = options.format ?? ['svg'];
    const byId = new Map<string, string[]>();
    for (const spec of specs) byId.set(specId(spec), [...(byId.get(specId(spec)) ?? []), spec]);
    for (const [id, files] of byId) if (files.length > 1) throw new CliError(messages.usage(messages.chartSameId(id, files)), EXIT.usage);
    const jobs = specs.map((spec) => ({ spec, id: specId(spec), outputs: formats.map((format) => ({ format, path: join(out, `${specId(spec)}.${format}`) })) }));
    return { jobs, folder: true };
  }
  const format = extname(out).slice(1).toLowerCase() as ChartFormat;
  if (!FORMATS.includes(format)) throw new CliError(messages.usage(messages.chartOutputType(out)), EXIT.usage);
  if (options.format) throw new CliError(messages.usage(messages.chartFormatWithFile(out)), EXIT.usage);
  if (specs.length !== 1) throw new CliError(messages.usage(messages.chartOutputNotFolder(out, specs.length)), EXIT.usage);
  return { jobs: [{ spec: specs[0]!, id: specId(specs[0]!), outputs: [{ format, path: out }] }], folder: false };
}

async function readSpec(specPath: string, effects: ChartEffects): Promise<string> {
  try {
    return await effects.readSpec(specPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(messages.chartSpecMissing(specPath));
    if (code === 'EISDIR') throw new CliError(messages.fileIsDirectory(specPath));
    throw error;
  }
}

/** SOURCE_DATE_EPOCH (seconds), the reproducible-builds convention, dates the PDF; otherwise the epoch. */
function pdfDate(): Date {
  const epoch = Number(process.env.SOURCE_DATE_EPOCH);
  return new Date(Number.isFinite(epoch) && process.env.SOURCE_DATE_EPOCH ? epoch * 1000 : 0);
}

/** What every job of a run shares: the fonts, loaded once, and the rasterizer, made on first use. */
interface ChartRun {
  options: ChartCliOptions;
  effects: ChartEffects;
  fonts: FontBytes;
  rasterizer: () => Promise<Rasterizer>;
  close(): Promise<void>;
}

async function createRun(options: ChartCliOptions, effects: ChartEffects): Promise<ChartRun> {
  // Loaded here, not imported above: build.ts's own imports (the dataset layer) are the report pipeline's, and load on demand.
  const { loadFonts, nodeEffects } = await import('../build.ts');
  const fonts = (await loadFonts(nodeEffects)).sfnt;
  let rasterizer: Promise<Rasterizer> | undefined;
  const run: ChartRun = {
    options,
    effects,
    fonts,
    rasterizer: () => (rasterizer ??= import('../charts/png.ts').then(({ createRasterizer }) => createRasterizer(fonts))),
    close: async () => (await rasterizer)?.close(),
  };
  return run;
}

/** One output file's bytes. */
async function encode(format: ChartFormat, chart: RenderedChart, job: ChartJob, run: ChartRun, warnings: string[]): Promise<Uint8Array> {
  const svg = standaloneSvg(chart);
  if (format === 'svg') {
    if (!run.options.embedFonts) return new TextEncoder().encode(svg);
    const { embedFonts } = await import('../charts/embed-fonts.ts');
    return new TextEncoder().encode(embedFonts(svg, run.fonts));
  }
  if (format === 'png') {
    const folder = dirname(job.spec);
    return (await run.rasterizer()).render(svg, run.options.scale, createBytesReader(folder));
  }
  const { renderChartPdf } = await import('../charts/svg-pdf.ts');
  try {
    return await renderChartPdf(chart, run.fonts, { creationDate: pdfDate(), readFile: createBytesReader(dirname(job.spec)), warnings, file: job.spec });
  } catch (error) {
    // drawSvg refuses images and markup it cannot draw faithfully; that is the spec's doing, not a bug.
    throw new CliError(`${job.spec}: ${(error as Error).message}`);
  }
}

async function writeOutput(path: string, bytes: Uint8Array, effects: ChartEffects): Promise<void> {
  try {
    await effects.writeFile(path, bytes);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code && ['ENOENT', 'ENOTDIR', 'EACCES', 'EPERM', 'EROFS', 'EISDIR', 'ENOSPC'].includes(code)) throw new CliError(messages.chartCannotWrite(path, code));
    throw error;
  }
}

async function makeFolder(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code) throw new CliError(messages.chartCannotWrite(path, code));
    throw error;
  }
}

/** Renders one spec to the bytes of each of its files, in memory (so a spec that fails writes nothing). */
async function renderJob(job: ChartJob, run: ChartRun, lines: string[]): Promise<{ chart: RenderedChart; files: { path: string; bytes: Uint8Array }[] }> {
  const text = await readSpec(job.spec, run.effects);
  const warnings: string[] = [];
  // Ajv's schema check (about a second to compile) only explains a spec vega-lite fails or warns at, as in the build.
  const chart = await renderChart({ id: job.id, file: job.spec, text }, {}, { fonts: run.fonts, readFile: createFolderReader(dirname(job.spec)), warnings });
  const files: { path: string; bytes: Uint8Array }[] = [];
  for (const output of job.outputs) files.push({ path: output.path, bytes: await encode(output.format, chart, job, run, warnings) });
  // The PDF drawer's warnings (fonts mapped, constructs it cannot draw) follow the chart's own.
  lines.push(...new Set(warnings));
  return { chart, files };
}

/** What one spec came to: the lines to print for it (warnings, what was written or why not), its files, its exit code. */
export interface JobOutcome {
  lines: string[];
  files: number;
  code: number;
}

/** Renders one spec and writes its files; never throws. */
async function processJob(job: ChartJob, run: ChartRun): Promise<JobOutcome> {
  const lines: string[] = [];
  try {
    const { chart, files } = await catchEscapes(() => renderJob(job, run, lines));
    for (const file of files) await writeOutput(file.path, file.bytes, run.effects);
    lines.push(messages.chartWritten(files.map((file) => file.path).join(', '), chart.width, chart.height));
    return { lines, files: files.length, code: EXIT.ok };
  } catch (error) {
    const { text, code } = describeError(error, Boolean(run.options.debug), job.spec);
    return { lines: [...lines, text], files: 0, code };
  }
}

let workerRun: Promise<ChartRun> | undefined;

/** The pool's task (bin/chart-worker.js): one spec in a worker thread, which loads the fonts once for all its specs. */
export async function renderInWorker(task: { job: ChartJob; options: ChartCliOptions }): Promise<JobOutcome> {
  workerRun ??= createRun(task.options, nodeChartEffects);
  return processJob(task.job, await workerRun);
}

/**
 * Runs `task`. An error thrown where no caller can catch it (in a library's
 * own promise callback, as vega's SVG renderer did for an href it could not
 * sanitise) would reach Node, which prints a line of the bundle's source and
 * exits; while the task runs it fails the task instead. The task is still
 * waited for (up to ESCAPE_GRACE_MS, in case the error left it hanging), and
 * one turn of the event loop after it, so no part of it runs on into the
 * next spec's turn and its late errors arrive while it is still current.
 */
export async function catchEscapes<T>(task: () => Promise<T>): Promise<T> {
  const escapes: unknown[] = [];
  let gaveUp: (() => void) | undefined;
  const hung = new Promise<void>((resolve) => (gaveUp = resolve));
  const listener = (error: unknown) => {
    if (escapes.push(error) === 1) setTimeout(gaveUp!, ESCAPE_GRACE_MS).unref();
  };
  process.on('uncaughtException', listener);
  process.on('unhandledRejection', listener);
  try {
    const outcome = task().then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    const settled = await Promise.race([outcome, hung.then(() => undefined)]);
    await new Promise((resolve) => setImmediate(resolve));
    if (escapes.length) throw escapes[0];
    if (!settled) throw new Error('the chart never finished rendering');
    if ('error' in settled) throw settled.error;
    return settled.value;
  } finally {
    process.off('uncaughtException', listener);
    process.off('unhandledRejection', listener);
  }
}

const ESCAPE_GRACE_MS = 2000;

/** An error as the user should see it: a CliError's message, anything else as unexpected (naming the spec); stacks only with --debug. */
function describeError(error: unknown, debug: boolean, spec?: string): { text: string; code: number } {
  const detail = error instanceof Error ? error.message : String(error);
  const expected = error instanceof CliError;
  const text = expected ? detail : messages.unexpected(spec ? `${spec}: ${detail}` : detail);
  const stack = debug && error instanceof Error && error.stack ? `\n${error.stack}` : '';
  return { text: text + stack, code: expected ? error.exitCode : EXIT.failure };
}

function printError(error: unknown, debug: boolean): number {
  const { text, code } = describeError(error, debug);
  process.stderr.write(`${text}\n`);
  return code;
}

// Each worker thread loads vega and the fonts afresh (about 0.4 s), and a chart takes about 0.1 s: a pool pays from a few dozen specs.
const POOL_MIN_SPECS = 24;

/**
 * Every job's outcome, printed in the jobs' order as they finish: in this
 * thread one after another, or on a pool of worker threads (bin/chart-worker.js
 * loading the compiled bundle; under vitest, which runs src/ directly, always here).
 */
async function runJobs(jobs: ChartJob[], options: ChartCliOptions, effects: ChartEffects, print: (outcome: JobOutcome) => void): Promise<JobOutcome[]> {
  const workerUrl = new URL('../bin/chart-worker.js', import.meta.url);
  const threads = Math.min(options.jobs ?? (jobs.length >= POOL_MIN_SPECS ? availableParallelism() : 1), jobs.length);
  if (threads < 2 || !import.meta.url.endsWith('.cjs') || !existsSync(fileURLToPath(workerUrl))) {
    const run = await createRun(options, effects);
    const outcomes: JobOutcome[] = [];
    try {
      for (const job of jobs) print(outcomes[outcomes.push(await processJob(job, run)) - 1]!);
    } finally {
      await run.close();
    }
    return outcomes;
  }
  // require() of an ES module (Node 20.19+): the compiled CLI is a script loaded with V8's code cache, and such scripts cannot import().
  const { Tinypool } = createRequire(import.meta.url)('tinypool') as typeof import('tinypool');
  const pool = new Tinypool({ filename: workerUrl.href, minThreads: threads, maxThreads: threads });
  const outcomes: (JobOutcome | undefined)[] = new Array(jobs.length);
  let printed = 0;
  try {
    await Promise.all(
      jobs.map(async (job, i) => {
        outcomes[i] = (await pool.run({ job, options })) as JobOutcome;
        for (; printed < jobs.length && outcomes[printed]; printed++) print(outcomes[printed]!);
      }),
    );
  } finally {
    await pool.destroy();
  }
  return outcomes as JobOutcome[];
}

async function run(args: string[], options: ChartCliOptions, effects: ChartEffects): Promise<number> {
  const started = performance.now();
  const { jobs, folder } = await planJobs(await expandSpecs(args), options);
  if (folder) await makeFolder(options.output);
  const outcomes = await runJobs(jobs, options, effects, (outcome) => process.stderr.write(outcome.lines.map((line) => `${line}\n`).join('')));
  const failed = jobs.filter((_, i) => outcomes[i]!.code !== EXIT.ok).map((job) => job.spec);
  if (!folder) return outcomes[0]!.code;
  const files = outcomes.reduce((sum, outcome) => sum + outcome.files, 0);
  const summary = messages.chartBatchSummary(jobs.length - failed.length, jobs.length, files, options.output, (performance.now() - started) / 1000);
  process.stderr.write(`${summary}${failed.length ? `; ${messages.chartBatchFailed(failed)}` : ''}\n`);
  return failed.length ? EXIT.failure : EXIT.ok;
}

/** Runs `chart SPEC... -o OUT` with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], effects: ChartEffects = nodeChartEffects): Promise<number> {
  const cmd = program();
  let args: string[];
  let options: ChartCliOptions;
  try {
    cmd.parse(argv, { from: 'user' });
    args = cmd.args;
    options = cmd.opts<ChartCliOptions>();
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
      process.stderr.write(`${messages.usage(error.message.replace(/^error: /, ''))}\n${cmd.helpInformation()}`);
      return EXIT.usage;
    }
    return printError(error, argv.includes('--debug'));
  }
  try {
    return await run(args, options, effects);
  } catch (error) {
    return printError(error, Boolean(options.debug));
  }
}
