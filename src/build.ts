/**
 * The orchestrator: the only module that reads inputs from disk (through
 * `BuildEffects`) and the one caller of the write stage.
 *
 *   reports.yaml ─parseYaml─▶ YamlSource ─normalizeReports─▶ Report[]     (config.ts)
 *   for each Report, on a worker pool:
 *     data/*.yaml (+ its CSV tables) ─read─▶ Uint8Array ─parseYaml─▶ YamlSource     (dataset/load.ts)
 *       ─validateDataset─▶ Dataset ─deriveDataset─▶ Derived (figures, checks, views)
 *                                                       (dataset/validate.ts, dataset/derive.ts)
 *     <charts>/*.vl.json + Dataset + Derived
 *       ─bindChartData, renderCharts─▶ RenderedChart[]  (cached by hash)  (charts/bind.ts, charts/render.ts)
 *         (each wide, and narrow for phones: charts/narrow.ts)
 *       ─readChartImages (raster_images: allow)─▶ Map<href, PNG|JPEG bytes>  (charts/images.ts finds the hrefs)
 *     <templates>/*.hbs + Dataset + Derived + RenderedChart[]
 *       ─buildBriefing─▶ Briefing (one mdast tree)                        (content/)
 *     Briefing ─renderHtml─▶ string      Briefing ─renderPdf─▶ Uint8Array (html/render.ts, pdf/render.ts)
 *       (the PDF draws images from the map; the HTML and chart SVGs carry them as data: URLs)
 *     ─▶ OutputFile[]
 *   OutputFile[] + manifest ─commitOutputs─▶ output/ (all or nothing)     (write.ts)
 */
import type { PdfEditionLink } from './html/render.ts';
import { mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync, renameSync } from 'node:fs';
import { join, sep } from 'node:path';
import { chartImageHrefs, imageType, inlineChartImages } from './charts/images.ts';
import type { ChartCache, ChartSource, RenderedChart } from './charts/render.ts';
import { normalizeReports, pdfFileName, type Format, type Paper, type Report } from './config.ts';
import type { Briefing, TemplateSource } from './content/briefing.ts';
import { deriveDataset, type Derived } from './dataset/derive.ts';
import type { Dataset } from './dataset/schema.ts';
import { locateProblem, validateDataset } from './dataset/validate.ts';
import { CliError, InputError } from './support/error.ts';
import { createCoverage, FACE_KEYS, fontPaths, isFontFile, loadFontkit, unpackWoff, type FontBytes } from './text/fonts.ts';
import { parseYaml, type YamlSource } from './dataset/load.ts';
import { recent } from './support/recent.ts';
import { messages } from './support/messages.ts';
import { checkCharacters } from './support/validate.ts';
import { commitOutputs, listFiles, sha256, type OutputFile } from './write.ts';

/** What the build reads and reports; tests replace it. */
export interface BuildEffects {
  readFile(path: string): Promise<Uint8Array>;
  /** Names of the entries in a folder; [] when it does not exist. */
  readDir(path: string): Promise<string[]>;
  /** The absolute path with every symbolic link followed, to fence reads inside a folder. */
  realPath(path: string): Promise<string>;
  log(line: string): void;
}

/**
 * Inputs are small files read once per build, so they are read synchronously:
 * fs/promises costs several thread-pool round trips per file, which in a
 * short-lived process add up to more than the reading itself.
 */
export const nodeEffects: BuildEffects = {
  readFile: async (path) => readFileSync(path),
  readDir: async (path) => {
    try {
      return readdirSync(path).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  },
  realPath: async (path) => realpathSync(path),
  log: (line) => process.stderr.write(`${line}\n`),
};

export interface CheckResult {
  data: Dataset;
  derived: Derived;
  summary: string;
}

/** Reads an input file, turning the errors a user can cause into clear messages. */
export async function readInput(path: string, effects: BuildEffects): Promise<Uint8Array> {
  try {
    return await effects.readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(messages.fileMissing(path));
    if (code === 'EISDIR') throw new CliError(messages.fileIsDirectory(path));
    if (code === 'EACCES' || code === 'EPERM') throw new CliError(messages.fileUnreadable(path, 'permission denied'));
    throw error;
  }
}

// The A4 and Letter editions (and a --watch session's unchanged previous edition) validate a dataset once.
const datasets = recent<{ source: YamlSource; data: Dataset; derived: Derived }>('build: validated datasets', 8, () => 2 * 1024 * 1024);
// Parsed YAML by path and bytes: what names the tables to read before the dataset's key is known.
const sources = recent<YamlSource>('build: parsed dataset YAML', 8, () => 1024 * 1024);

/**
 * Read -> parse -> validate one dataset, including the check that the
 * briefing's typeface can draw every string, so --check refuses what the
 * build would. The same path and bytes are validated once per process.
 */
async function readDataset(path: string, effects: BuildEffects): Promise<{ sha256: string; source: YamlSource; data: Dataset; derived: Derived }> {
  const bytes = await readInput(path, effects);
  const yamlKey = `${path}\u0000${sha256(bytes)}`;
  const source = sources.get(yamlKey) ?? sources.set(yamlKey, parseYaml(path, bytes));
  const folder = path.includes('/') ? path.replace(/\/[^/]*$/, '') : '.';
  const texts = await readTables(source.value, folder, effects);
  // The dataset is its YAML and the CSV tables it names: an edit to either is a new dataset.
  const hash = texts.size === 0 ? sha256(bytes) : sha256(JSON.stringify([sha256(bytes), ...[...texts.values()].map((table) => [table.file, table.text])]));
  const key = `${path}\u0000${hash}`;
  const known = datasets.get(key);
  if (known) return { sha256: hash, ...known };
  const { canDraw } = await loadFonts(effects);
  const { data, tables } = validateDataset(source, (name) => texts.get(name), { canDraw });
  checkCharacters(source, canDraw);
  const { derived, problems } = deriveDataset(data);
  if (problems.length > 0) {
    throw new InputError(path, problems.map((problem) => locateProblem(source, tables, problem)));
  }
  return { sha256: hash, ...datasets.set(key, { source, data, derived }) };
}

/** The CSV files the dataset's tables name, read from its folder; a missing one is left out (validation reports it where it is named). */
async function readTables(raw: unknown, folder: string, effects: BuildEffects): Promise<Map<string, { file: string; text: string }>> {
  const texts = new Map<string, { file: string; text: string }>();
  const collections = (raw as { collections?: unknown } | null)?.collections;
  if (!collections || typeof collections !== 'object') return texts;
  for (const spec of Object.values(collections as Record<string, unknown>)) {
    const name = (spec as { csv?: unknown } | null)?.csv;
    if (typeof name !== 'string' || !/^[^/\\]+\.csv$/i.test(name) || texts.has(name)) continue;
    const file = `${folder}/${name}`;
    try {
      texts.set(name, { file, text: new TextDecoder().decode(await effects.readFile(file)) });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return texts;
}

/** Load -> validate -> derive, writing nothing. */
export async function loadDataset(path: string, effects: BuildEffects): Promise<CheckResult> {
  const { data, derived } = await readDataset(path, effects);
  return { data, derived, summary: messages.checkSummary(path, countDataset(data, derived)) };
}

/** Counts of what a dataset holds, for the --check summary. */
function countDataset(data: Dataset, derived: Derived): { collections: number; records: number; figures: number; derived: number; checks: number; views: number } {
  const collections = Object.values(data.collections);
  return {
    collections: collections.length,
    records: collections.reduce((n, spec) => n + Object.keys(spec.records ?? {}).length + (spec.rows?.length ?? 0), Object.keys(data.entities).length),
    figures: Object.keys(data.metrics).length,
    derived: Object.keys(derived.figures).length,
    checks: Object.keys(data.checks).length,
    views: Object.keys(derived.views).length,
  };
}

/** Reads and validates reports.yaml. */
export async function loadReports(path: string, effects: BuildEffects): Promise<Report[]> {
  return normalizeReports(parseYaml(path, await readInput(path, effects)));
}

/** Options that change what one report build produces. */
export interface ReportOptions {
  /** Overrides the report's dataset (--data). */
  data?: string;
  /** Overrides the report's paper (--paper). */
  paper?: Paper;
  /** Restricts the report's formats (--format). */
  formats?: Format[];
  /** Seconds since the epoch for PDF dates (SOURCE_DATE_EPOCH); default: the dataset's as-of date. */
  sourceDateEpoch?: number;
  /** Fault injection for reliability tests (BRIEFING_FAIL_STAGE): the named stage throws. */
  failStage?: string;
}

export interface StageTiming {
  stage: string;
  ms: number;
}

export interface ReportResult {
  report: string;
  files: OutputFile[];
  dataset: { path: string; sha256: string; asOf: string };
  charts: { rendered: string[]; reused: string[] };
  timings: StageTiming[];
}

/** The briefing's fonts as shipped (WOFF, for the HTML) and unpacked (for PDF and chart metrics). */
export interface LoadedFonts {
  woff: FontBytes;
  sfnt: FontBytes;
  /** Whether every face can draw a character (directly or by fallback). */
  canDraw: (char: string) => boolean;
}

let fontCache: LoadedFonts | undefined;

/** The briefing's font files, read and unpacked once per process. */
export async function loadFonts(effects: BuildEffects): Promise<LoadedFonts> {
  if (fontCache) return fontCache;
  const paths = fontPaths();
  const entries = await Promise.all(
    FACE_KEYS.map(async (key) => {
      let bytes: Uint8Array;
      try {
        bytes = await effects.readFile(paths[key]);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError(messages.fontMissing(paths[key]));
        throw error;
      }
      if (!isFontFile(bytes)) throw new CliError(messages.fontInvalid(paths[key]));
      return [key, bytes] as const;
    }),
  );
  const woff = Object.fromEntries(entries) as FontBytes;
  await loadFontkit();
  const sfnt = Object.fromEntries(entries.map(([key, bytes]) => [key, unpackWoff(bytes)])) as FontBytes;
  fontCache = { woff, sfnt, canDraw: createCoverage(sfnt) };
  return fontCache;
}

/**
 * A chart cache kept in memory for this process (what makes --watch fast)
 * and on disk under .cache/charts so the next build skips unchanged charts.
 */
export function createChartCache(dir = '.cache/charts'): ChartCache {
  // The most recent charts (a --watch session's are mostly the same few); older ones stay on disk.
  const memory = recent<RenderedChart>('build: rendered charts', 64, (chart) => chart.svg.length * 4);
  return {
    get(hash) {
      const hit = memory.get(hash);
      if (hit) return hit;
      try {
        const chart = JSON.parse(readFileSync(join(dir, `${hash}.json`), 'utf8')) as RenderedChart;
        if (chart.hash !== hash) return undefined;
        memory.set(hash, chart);
        return chart;
      } catch {
        return undefined; // a missing or damaged cache entry only costs a re-render
      }
    },
    set(hash, chart) {
      memory.set(hash, chart);
      try {
        mkdirSync(dir, { recursive: true });
        const temp = join(dir, `${hash}.json.tmp-${process.pid}`);
        writeFileSync(temp, JSON.stringify(chart));
        renameSync(temp, join(dir, `${hash}.json`));
      } catch {
        // The cache is an optimisation: a read-only checkout still builds.
      }
    },
  };
}

/** The files in `dir` ending in `suffix`: `id` is the name without the suffix. */
async function readFolder(dir: string, suffix: string, effects: BuildEffects): Promise<{ id: string; name: string; file: string; text: string }[]> {
  const names = (await effects.readDir(dir)).filter((name) => name.endsWith(suffix));
  return Promise.all(
    names.map(async (name) => {
      const file = `${dir}/${name}`;
      return { id: name.slice(0, -suffix.length), name, file, text: new TextDecoder().decode(await readInput(file, effects)) };
    }),
  );
}

/** What of a report its edition is made from. */
export type EditionReport = Pick<Report, 'id' | 'dataset' | 'charts' | 'templates' | 'editions' | 'templatesAt' | 'raster_images'>;

/**
 * The image files a report's charts show, by href: refused unless the report
 * allows raster images, and read only from its charts folder (vega's loader
 * has fenced the paths; here the real path, links followed, must stay inside)
 * and only as PNG or JPEG, the images a PDF can embed. Read after the chart
 * cache, which keeps each image's path, so an edited image is always read afresh.
 */
async function readChartImages(charts: RenderedChart[], report: EditionReport, effects: BuildEffects): Promise<Map<string, Uint8Array>> {
  const images = new Map<string, Uint8Array>();
  for (const chart of charts) {
    const file = `${report.charts}/${chart.id}.vl.json`;
    for (const href of chartImageHrefs(chart)) {
      if (images.has(href)) continue;
      if (report.raster_images !== 'allow') throw new CliError(messages.reportImageRefused(file, href, report.id));
      const bytes = await readInsideFolder(report.charts!, href, file, effects);
      const type = imageType(bytes);
      if (type !== 'image/png' && type !== 'image/jpeg') throw new CliError(messages.reportImageType(file, href, type));
      images.set(href, bytes);
    }
  }
  return images;
}

/** Reads `folder`/`href`, refusing a file whose real path leads out of the folder. */
async function readInsideFolder(folder: string, href: string, file: string, effects: BuildEffects): Promise<Uint8Array> {
  const path = `${folder}/${href}`;
  let root: string;
  let target: string;
  try {
    [root, target] = await Promise.all([effects.realPath(folder), effects.realPath(path)]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError(messages.reportImageMissing(file, href, folder));
    throw error;
  }
  if (!target.startsWith(`${root}${sep}`)) throw new CliError(messages.reportImageOutside(file, href, folder));
  return readInput(path, effects);
}

/** The latest edition dataset in `dir` dated before `asOf`, if any (files named YYYY-MM-DD.yaml). */
async function loadPreviousEdition(dir: string, edition: Dataset['edition'], effects: BuildEffects): Promise<{ file: string; data: Dataset } | undefined> {
  const dated = (await effects.readDir(dir)).filter((name) => /^\d{4}-\d{2}-\d{2}\.yaml$/.test(name) && name.slice(0, 10) < edition.as_of).sort();
  // Only an earlier edition of the same report (the same edition id) is compared.
  for (const name of dated.reverse()) {
    const file = `${dir}/${name}`;
    const { data } = await readDataset(file, effects);
    if (data.edition.id === edition.id) return { file, data };
  }
  return undefined;
}

/** The content both editions are rendered from, with what it was made of. */
export interface Edition {
  /** sha256 of the dataset file, for the manifest. */
  datasetSha256: string;
  data: Dataset;
  derived: Derived;
  briefing: Briefing;
  charts: RenderedChart[];
  /** The bytes of the images the charts show, by href (empty unless the report allows raster images). */
  images: ReadonlyMap<string, Uint8Array>;
  chartResult: { rendered: string[]; reused: string[] };
  fonts: LoadedFonts;
}

type Timer = <T>(stage: string, run: () => T | Promise<T>) => Promise<T>;

const briefings = recent<Briefing>('build: content trees', 4, () => 2 * 1024 * 1024);
const objectIds = new WeakMap<object, number>();
let lastObjectId = 0;
/** A number per object for the life of the process (0 for none), to key caches on identity. */
function objectId(value: object | undefined): number {
  if (!value) return 0;
  let id = objectIds.get(value);
  if (id === undefined) objectIds.set(value, (id = ++lastObjectId));
  return id;
}

/** Steps 1-3 of a report: dataset, charts and content, in memory. */
export async function prepareEdition(
  report: EditionReport,
  effects: BuildEffects,
  cache: ChartCache,
  time: Timer = async (_stage, run) => run(),
): Promise<Edition> {
  // 1. Load, validate and derive the dataset (and the previous edition's, for the diff).
  const fonts = await loadFonts(effects);
  const { sha256: datasetSha256, data, derived, previous } = await time('validate', async () => {
    const { sha256, data, derived } = await readDataset(report.dataset, effects);
    const previous = await loadPreviousEdition(report.editions, data.edition, effects);
    return { sha256, data, derived, previous };
  });

  // 2. Charts: bind data to each spec and render SVG, wide and (for the HTML
  //    on phones) narrow; unchanged charts come from the cache. Image marks
  //    keep their fenced paths; the files are read after, if the report allows.
  //    The heavy stages load on first use, so --check, --help and a pool's
  //    main thread never load vega, pdfkit or the Markdown toolchain.
  const [{ bindChartData }, { renderCharts }, { NARROW }, { buildBriefing }] = await Promise.all([
    import('./charts/bind.ts'),
    import('./charts/render.ts'),
    import('./charts/narrow.ts'),
    import('./content/briefing.ts'),
  ]);
  const chartResult = await time('charts', async () => {
    const specs: ChartSource[] = report.charts ? (await readFolder(report.charts, '.vl.json', effects)).map(({ id, file, text }) => ({ id, file, text })) : [];
    return renderCharts(specs, bindChartData(data, derived), { fonts: fonts.sfnt, cache, narrow: NARROW, imageHrefs: true });
  });
  for (const warning of chartResult.warnings) effects.log(warning);
  const images = await readChartImages(chartResult.charts, report, effects);

  // 3. Content: templates -> one mdast tree for both editions.
  const briefing = await time('content', async () => {
    const templates: TemplateSource[] = (await readFolder(report.templates, '.hbs', effects)).map(({ name, file, text }) => ({ name, file, text }));
    if (templates.length === 0) {
      const at = report.templatesAt ?? { file: report.templates, line: 1, column: 1, path: '', message: '' };
      throw new InputError(at.file, [{ ...at, message: messages.templatesMissing(report.templates) }]);
    }
    // The same validated data (same objects), charts and template texts give the same tree.
    const key = [data, previous?.data].map((value) => objectId(value)).join(',') + '|' + chartResult.charts.map((chart) => chart.hash).join(',') + sha256(JSON.stringify(templates));
    return briefings.get(key) ?? briefings.set(key, buildBriefing({ data, derived, charts: chartResult.charts, templates, previous }));
  });
  return { datasetSha256, data, derived, briefing, charts: chartResult.charts, images, chartResult: { rendered: chartResult.rendered, reused: chartResult.reused }, fonts };
}

/**
 * Everything a build would read, checked, and nothing written: the dataset
 * (derived figures, checks, views), the chart specs (data names and fields,
 * rendered in memory) and the templates (helpers, paths, figures).
 */
export async function checkReport(report: EditionReport, effects: BuildEffects, cache: ChartCache): Promise<string> {
  const { data, derived, charts } = await prepareEdition(report, effects, cache);
  return `${messages.checkSummary(report.dataset, countDataset(data, derived))}; ${messages.checkContent(report.templates, charts.length)}`;
}

/** Builds one report's files in memory: nothing is written here. */
export async function buildReport(report: Report, options: ReportOptions, effects: BuildEffects, cache: ChartCache): Promise<ReportResult> {
  const timings: StageTiming[] = [];
  const time: Timer = async (stage, run) => {
    const started = performance.now();
    if (options.failStage === stage) throw new Error(`injected failure in stage ${stage} (BRIEFING_FAIL_STAGE)`);
    const value = await run();
    timings.push({ stage, ms: performance.now() - started });
    return value;
  };
  const formats = new Set(options.formats ? report.formats.filter((f) => options.formats!.includes(f)) : report.formats);
  const papers = options.paper ? [options.paper] : report.paper;
  const datasetPath = options.data ?? report.dataset;
  const { datasetSha256, data, briefing, charts, images, chartResult, fonts } = await prepareEdition({ ...report, dataset: datasetPath }, effects, cache, time);
  // The HTML edition and the chart files request nothing: their images go in as data: URLs. The PDF embeds the bytes.
  const inlined = images.size ? charts.map((chart) => inlineChartImages(chart, images)) : charts;

  // 4. Editions and chart files.
  const files: OutputFile[] = [];
  const add = (path: string, bytes: Uint8Array | string) =>
    files.push({ path, bytes: typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes, report: report.id });
  if (formats.has('svg')) {
    // Files of their own carry their faces (a subset each); the HTML edition keeps its one copy of the fonts.
    const [{ standaloneSvg }, { embedFonts }] = await Promise.all([import('./charts/render.ts'), import('./charts/embed-fonts.ts')]);
    for (const chart of inlined) add(`${report.chartsOut}/${chart.id}.svg`, embedFonts(standaloneSvg(chart), fonts.sfnt));
  }
  // The PDFs first (one per paper), so the HTML edition can link to each with its size.
  const pdfs: PdfEditionLink[] = [];
  if (formats.has('pdf')) {
    const epoch = options.sourceDateEpoch;
    const creationDate = epoch !== undefined ? new Date(epoch * 1000) : new Date(`${data.edition.as_of}T00:00:00Z`);
    const { renderPdf } = await import('./pdf/render.ts');
    await time('pdf', async () => {
      for (const paper of papers) {
        const pdf = await renderPdf(briefing, charts, fonts.sfnt, { paper, creationDate, htmlUrl: report.html_url, images });
        const href = pdfFileName({ id: report.id, paper: papers }, paper);
        add(href, pdf);
        pdfs.push({ href, paper, bytes: pdf.byteLength });
      }
    });
  }
  if (formats.has('html')) {
    const { renderHtml } = await import('./html/render.ts');
    await time('html', () => add(`${report.id}.html`, renderHtml(briefing, inlined, fonts.woff, { pdfs })));
  }

  return {
    report: report.id,
    files,
    dataset: { path: datasetPath, sha256: datasetSha256, asOf: data.edition.as_of },
    charts: { rendered: chartResult.rendered, reused: chartResult.reused },
    timings,
  };
}

export interface Manifest {
  pipeline: { name: string; version: string };
  libraries: Record<string, string>;
  reports: { id: string; dataset: string; dataset_sha256: string; as_of: string }[];
  files: { path: string; bytes: number; sha256: string; report: string }[];
  /** Wall time of the build that wrote this manifest; the one field that differs between identical builds. */
  duration_ms: number;
}

const LIBRARIES = ['pdfkit', 'vega', 'vega-lite', 'handlebars', 'zod', 'yaml', 'fontkit', 'svg-to-pdfkit'];

async function readVersions(effects: BuildEffects): Promise<{ pipeline: Manifest['pipeline']; libraries: Record<string, string> }> {
  const version = async (dir: string) => JSON.parse(new TextDecoder().decode(await effects.readFile(`${dir}/package.json`))) as { name: string; version: string };
  const own = await version('.');
  const libraries: Record<string, string> = {};
  for (const name of LIBRARIES) libraries[name] = (await version(`node_modules/${name}`).catch(() => ({ version: 'unknown' }))).version;
  return { pipeline: { name: own.name, version: own.version }, libraries };
}

/** Reads the manifest of the current output folder, if any. */
export async function readManifest(out: string, effects: BuildEffects): Promise<Manifest | undefined> {
  try {
    return JSON.parse(new TextDecoder().decode(await effects.readFile(`${out}/manifest.json`))) as Manifest;
  } catch {
    return undefined; // no (or an unreadable) manifest: nothing from a previous build to keep track of
  }
}

/**
 * Commits the results of one build: the new files, plus the previous
 * build's files for reports not rebuilt this time, and a manifest of all.
 */
export async function writeBuild(out: string, results: ReportResult[], durationMs: number, effects: BuildEffects): Promise<Manifest> {
  const previous = await readManifest(out, effects);
  const rebuilt = new Set(results.map((r) => r.report));
  const files = results.flatMap((r) => r.files);
  const paths = new Set(files.map((f) => f.path));
  const kept = (previous?.files ?? []).filter((f) => !rebuilt.has(f.report) && !paths.has(f.path));
  const keptPaths = new Set(kept.map((f) => f.path));
  const onDisk = new Set(await listFiles(out));
  const ours = new Set((previous?.files ?? []).map((f) => f.path));
  const manifest: Manifest = {
    ...(await readVersions(effects)),
    reports: [
      ...(previous?.reports ?? []).filter((r) => !rebuilt.has(r.id)),
      ...results.map((r) => ({ id: r.report, dataset: r.dataset.path, dataset_sha256: r.dataset.sha256, as_of: r.dataset.asOf })),
    ].sort((a, b) => a.id.localeCompare(b.id)),
    files: [
      ...kept.filter((f) => onDisk.has(f.path)),
      ...files.map((f) => ({ path: f.path, bytes: f.bytes.byteLength, sha256: sha256(f.bytes), report: f.report })),
    ].sort((a, b) => a.path.localeCompare(b.path)),
    duration_ms: Math.round(durationMs),
  };
  const manifestFile: OutputFile = { path: 'manifest.json', bytes: new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`), report: '' };
  // Keep other reports' files and anything the user put there; drop our stale files (a removed chart).
  await commitOutputs(out, [...files, manifestFile], (path) => path !== 'manifest.json' && (keptPaths.has(path) || !ours.has(path)));
  return manifest;
}
