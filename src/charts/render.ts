/**
 * Charts stage: Dataset + Derived + Vega-Lite specs -> RenderedChart[] (SVG).
 *
 *   rows by data name (bind.ts: views, collections, tables; no number typed in a spec)
 *   spec text ──JSON.parse──▶ object ──named data bound?──▶ TopLevelSpec
 *     ──fill {{field}} in title/usermeta──▶ ──vl.compile(THEME)──▶ Vega spec
 *       (vega-lite throws or warns: the JSON schema says where the spec strays)
 *     ──vega.View(renderer none, fenced loader, font metrics, seeded random)──▶ scenegraph
 *     ──field check against the input data (fields.ts)──▶
 *     ──toSVG + accessible title/desc, stable ids──▶ RenderedChart
 *   and, given a NarrowLayout and a chart wider than it, the same spec again
 *     ──narrowSpec, wrapTitle (narrow.ts)──▶ ──compile, run, toSVG──▶ RenderedChart.narrow
 *
 * Text is measured with the briefing's own font files (as vl-convert does), so
 * labels fit and right-aligned text lines up in the SVG, the HTML and the PDF.
 * Charts are cached by a hash of everything that shapes the SVG.
 */
import { encodedFields, fieldRoot, findUnknownField, type FieldSources } from './fields.ts';
import { measureTextWith, type TextItem } from './vega-adapter.ts';
import { escapeXml } from '../support/text.ts';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { posix } from 'node:path';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { createFormatter } from '../text/format.ts';
import { CliError, InputError } from '../support/error.ts';
import { createFontMetrics, faceFor, FACE_KEYS, FONT_FAMILY, type FontBytes, type FontMetrics } from '../text/fonts.ts';
import { messages } from '../support/messages.ts';
import { recent } from '../support/recent.ts';
import { INK_SOFT, THEME } from './theme.ts';
import { checkChartFonts } from './svg-pdf.ts';
import { isComposite, NARROW_AUTOSIZE, narrowSpec, stackViews, viewWidth, wrapTextWith, wrapTitle, type NarrowLayout } from './narrow.ts';

/** One drawing of a chart: its SVG and size in CSS px. */
export interface ChartDrawing {
  svg: string;
  width: number;
  height: number;
}

/** A chart rendered to SVG, with the words the editions put around it. */
export interface RenderedChart {
  id: string;
  title: string;
  /** The data in words, used as <desc> and alt text. */
  description: string;
  /** One sentence for the figure caption. */
  caption: string;
  /** Source line, e.g. "Source: Example Weekly, “Title of the article” (c. April–June 2026)". */
  source: string;
  svg: string;
  width: number;
  height: number;
  /** The same spec drawn for a phone (narrow.ts); absent when the chart is no wider than the narrow layout, or none was asked for. */
  narrow?: ChartDrawing;
  hash: string;
}

/** A chart spec as read by the caller. */
export interface ChartSource {
  id: string;
  /** Path for messages. */
  file: string;
  /** The spec JSON text. */
  text: string;
}

/** Rendered charts by hash; the build keeps one across rebuilds so unchanged charts are reused. */
export interface ChartCache {
  get(hash: string): RenderedChart | undefined;
  set(hash: string, chart: RenderedChart): void;
}

/**
 * Reads a file a spec asks for, by a path relative to the spec's folder that
 * the loader has already checked stays inside it. The caller decides what
 * "inside" means on disk (the chart CLI also resolves symlinks).
 */
export type ChartReadFile = (relativePath: string) => Promise<string>;

export interface RenderChartsOptions {
  fonts: FontBytes;
  cache?: ChartCache;
  /** Omit to refuse every file read, as the briefing does: its data is bound by name. */
  readFile?: ChartReadFile;
  /**
   * Let image marks name files inside the spec's folder even without
   * `readFile`: the SVG keeps the fenced path, for the caller to read (a
   * report build does, after the cache, if its config allows). An image
   * href the fence refuses fails the chart instead of drawing nothing.
   */
  imageHrefs?: boolean;
  /** Also draw each chart wider than this layout in it (the HTML edition shows it on phones). */
  narrow?: NarrowLayout;
}

export interface RenderChartsResult {
  charts: RenderedChart[];
  /** Ids rendered this time. */
  rendered: string[];
  /** Ids taken from the cache. */
  reused: string[];
  /** Vega-Lite and Vega warnings, each naming the spec file. */
  warnings: string[];
}

type Row = Record<string, unknown>;

/** Bump when a change here alters the SVG for the same inputs, so cached charts are not reused. */
const RENDERER_VERSION = '4';

// Numbers in a spec's own description: English, as Vega's own labels are (a spec given to npm run chart has no language).
const number = (value: number, digits: number) => createFormatter({ language: 'en-US' }).number(value, digits);

// ---------------------------------------------------------------------------
// The loader fence.

/** True for anything with a URL scheme (http:, file:, data:, javascript:) or a protocol-relative `//host`. */
const isUrl = (uri: string) => /^[a-z][a-z0-9+.-]*:/i.test(uri) || uri.startsWith('//');

/** True for a link the SVG may carry: one a reader follows by choice (web, mail), never one that runs or embeds. */
const isSafeLink = (uri: string) => /^(?:https?|mailto):/i.test(uri.trim());

/**
 * A Vega loader that never touches the network and reads only relative paths
 * that stay inside the spec's folder, through `readFile`; without `readFile`
 * it refuses everything. A hyperlink (an `href` encoding) is written into the
 * SVG, not fetched: web and mail links are kept, any other is left out with a
 * warning through `warn`. It must not be refused: vega-scenegraph reads the
 * `href` of a refused link's null result and throws outside any promise chain.
 * Given `imageRefused`, an image's path passes the same fence without
 * `readFile` (the caller reads it later), and a refused one is told there:
 * vega itself swallows a refused image and draws nothing.
 */
export function createChartLoader(readFile?: ChartReadFile, warn?: (detail: string) => void, imageRefused?: (detail: string) => void): vega.Loader {
  const check = (uri: string, readable = Boolean(readFile)): string => {
    const refuse = (reason: string) => new Error(messages.chartLoadRefused(uri, reason));
    if (isUrl(uri)) throw refuse(messages.chartLoadUrl);
    if (!readable) throw refuse(messages.chartLoadNone);
    // Windows drive paths and backslashes are treated as outside too: the fence is about meaning, not only POSIX.
    const normal = posix.normalize(uri.replace(/\\/g, '/'));
    if (posix.isAbsolute(normal) || normal === '..' || normal.startsWith('../') || /^[a-z]:/i.test(normal)) {
      throw refuse(messages.chartLoadOutside);
    }
    return normal;
  };
  const dropped = new Set<string>();
  return {
    async load(uri) {
      return readFile!(check(uri));
    },
    async sanitize(uri, options) {
      if (options?.context === 'image' && imageRefused) {
        try {
          return { href: check(uri, true) };
        } catch (error) {
          imageRefused((error as Error).message);
          throw error;
        }
      }
      if (options?.context !== 'href') return { href: check(uri) };
      if (isSafeLink(uri)) return { href: uri };
      if (!dropped.has(uri)) warn?.(messages.chartLinkDropped(uri));
      dropped.add(uri);
      // No href: vega then writes the <a> without one, a link to nowhere rather than to a script.
      return { href: null as unknown as string };
    },
    async http(uri) {
      throw new Error(messages.chartLoadRefused(uri, messages.chartLoadUrl));
    },
    async file(filename) {
      return readFile ? readFile(check(filename)) : Promise.reject(new Error(messages.chartLoadRefused(filename, messages.chartLoadNone)));
    },
  };
}

// ---------------------------------------------------------------------------
// Schema check: vega-lite itself does not validate, and a malformed spec makes
// it throw TypeErrors that name nothing the author wrote. It is asked only
// when vega-lite throws or warns: compiling the validator costs a second or
// more, and vega-lite also compiles specs newer than its own schema (the
// gallery's `*_future` specs, tooltip `filter`), which the schema would refuse.

type ValidateFn = ((spec: unknown) => boolean) & {
  errors?: { instancePath: string; keyword: string; message?: string; params: Record<string, unknown> }[] | null;
};
let schemaValidator: ValidateFn | undefined;

/**
 * The options of vega-lite's own example test (examples/examples.test.ts).
 * It adds ajv-formats; here the schema's formats (color-hex, uri,
 * uri-reference) pass unchecked, as its color-hex does: a wrong URL is found
 * by the loader, which names it.
 */
const AJV_OPTIONS = {
  allowUnionTypes: true,
  strictTypes: false,
  strictTuples: false,
  formats: { 'color-hex': true, uri: true, 'uri-reference': true },
} as const;

/** Where `spec` breaks Vega-Lite's JSON schema, as "path: what", or undefined when it conforms. */
function validateSchema(spec: unknown): string | undefined {
  if (!schemaValidator) {
    // Compiled once per process, and only for a spec vega-lite threw or warned at.
    const require = createRequire(import.meta.url);
    const Ajv = require('ajv') as new (options: object) => { compile(schema: unknown): ValidateFn };
    const schema = require('vega-lite/vega-lite-schema.json') as unknown;
    schemaValidator = new Ajv(AJV_OPTIONS).compile(schema);
  }
  if (schemaValidator(spec)) return undefined;
  return describeSchemaErrors(schemaValidator.errors ?? [], spec);
}

/**
 * Vega-Lite's schema is a tree of anyOf branches, so one mistake yields an
 * error per branch tried. The deepest path is where the mistake is; at that
 * path the allowed values (enum/const) are the most useful thing to say.
 */
function describeSchemaErrors(errors: NonNullable<ValidateFn['errors']>, spec: unknown): string {
  const depth = (path: string) => (path ? path.split('/').length : 0);
  const deepest = Math.max(...errors.map((e) => depth(e.instancePath)));
  const here = errors.filter((e) => depth(e.instancePath) === deepest);
  const path = here[0]?.instancePath ?? '';
  const where = path ? path.slice(1).replace(/\//g, '.') : 'the spec';
  const value = path.split('/').slice(1).reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], spec);
  const allowed = [
    ...new Set(
      here.flatMap((e) =>
        e.keyword === 'enum' ? (e.params.allowedValues as unknown[]) : e.keyword === 'const' ? [e.params.allowedValue] : [],
      ),
    ),
  ];
  if (allowed.length && value !== undefined && typeof value !== 'object') {
    return `${where}: ${JSON.stringify(value)} is not allowed (allowed: ${allowed.map((v) => JSON.stringify(v)).join(', ')})`;
  }
  const extra = here.find((e) => e.keyword === 'additionalProperties');
  if (extra) return `${where}: unknown property "${String(extra.params.additionalProperty)}"`;
  const first = here.find((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf') ?? here[0];
  return `${where}: ${first?.message ?? 'does not match the Vega-Lite schema'}`;
}

// ---------------------------------------------------------------------------
// Text measurement with the real font.

/**
 * Measures as vega's canvas measurer would: the trimmed string in the item's
 * face and size. Past a label's `limit` the width is the limit itself, so
 * vega's own truncation search (which calls back here) ends on the same
 * string the SVG renderer then writes.
 */
function useFontMetrics(metrics: FontMetrics): void {
  measureTextWith((item: TextItem, text: unknown) => {
    const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11;
    const value = text == null ? '' : String(text).trim();
    if (size <= 0 || !value) return 0;
    const width = metrics.measure(value, size, faceFor(item.fontWeight, item.fontStyle));
    const limit = Number(item.limit);
    return limit > 0 && width > limit ? limit : width;
  });
}

const metricsByFonts = new WeakMap<FontBytes, { metrics: FontMetrics; hash: string }>();

function fontsFor(fonts: FontBytes): { metrics: FontMetrics; hash: string } {
  let entry = metricsByFonts.get(fonts);
  if (!entry) {
    const hash = createHash('sha256');
    for (const key of FACE_KEYS) hash.update(key).update(fonts[key]);
    entry = { metrics: createFontMetrics(fonts), hash: hash.digest('hex') };
    metricsByFonts.set(fonts, entry);
  }
  return entry;
}

// ---------------------------------------------------------------------------
// Rendering.

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The spec's own named rows (its top-level `datasets`), by name. */
function ownDatasets(spec: Json): Record<string, unknown> {
  return isObject(spec.datasets) ? spec.datasets : {};
}

/**
 * Names of the data a spec asks the caller for: a `data` that is only a
 * name, anywhere in it, unless the spec's own `datasets` holds it. A name
 * beside a `url` or `values` only labels that data.
 */
function namedData(spec: Json): Set<string> {
  const own = ownDatasets(spec);
  const names = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) for (const child of node) visit(child);
    else if (isObject(node)) {
      for (const [key, value] of Object.entries(node)) {
        // Rows are data, not spec: a row's own "data" key asks for nothing.
        if (key === 'datasets' || key === 'values') continue;
        if (key === 'data' && isObject(value) && typeof value.name === 'string' && !DATA_SOURCE_KEYS.some((k) => k in value) && !(value.name in own)) {
          names.add(value.name);
        }
        visit(value);
      }
    }
  };
  visit(spec);
  return names;
}

const DATA_SOURCE_KEYS = ['url', 'values', 'sequence', 'sphere', 'graticule'] as const;

/** `{{field}}` placeholders in a string, filled from one row. */
function fillRow(template: string, row: Row, file: string, dataName: string): string {
  return template.replace(/\{\{\s*([\w-]+)\s*\}\}/g, (_, field: string) => {
    if (!(field in row)) throw new CliError(messages.chartTemplateField(file, field, dataName));
    return String(row[field]);
  });
}

const hasPlaceholder = (text: string) => /\{\{\s*[\w-]+\s*\}\}/.test(text);

interface ChartText {
  fill(template: string): string;
  describe(template: string): string;
}

/** Fills templates from the rows of the spec's top-level data; title and caption must come out the same for every row. */
function createChartText(file: string, rows: Row[] | undefined, dataName: string): ChartText {
  return {
    fill(template) {
      if (!hasPlaceholder(template)) return template;
      if (!rows?.length) throw new CliError(messages.chartTemplateNoData(file));
      const filled = new Set(rows.map((row) => fillRow(template, row, file, dataName)));
      if (filled.size > 1) throw new CliError(messages.chartTemplateVaries(file, template));
      return [...filled][0]!;
    },
    describe(template) {
      if (!rows?.length) throw new CliError(messages.chartTemplateNoData(file));
      return rows.map((row) => fillRow(template, row, file, dataName)).join('; ');
    },
  };
}

type TitleSpec = string | string[] | { text?: string | string[]; subtitle?: string | string[]; [key: string]: unknown };

function fillTitle(title: TitleSpec, fillText: (template: string) => string): TitleSpec {
  const fill = (value: string | string[]) => (Array.isArray(value) ? value.map((line) => fillText(line)) : fillText(value));
  if (typeof title === 'string' || Array.isArray(title)) return fill(title);
  return {
    ...title,
    ...(title.text !== undefined ? { text: fill(title.text) } : {}),
    ...(title.subtitle !== undefined ? { subtitle: fill(title.subtitle) } : {}),
  };
}

function titleText(title: TitleSpec | undefined): string {
  const text = typeof title === 'string' || Array.isArray(title) ? title : title?.text;
  return Array.isArray(text) ? text.join(' ') : (text ?? '');
}

/** A stable, readable id prefix for a chart's SVG ids (several charts share one HTML page). */
const idPrefix = (id: string) => `chart-${id.replace(/[^A-Za-z0-9_-]/g, '-')}`;


/**
 * Makes vega's SVG accessible and deterministic: role="img" with a <title>
 * and <desc> on the root; per-mark ARIA removed (the root describes the
 * chart); vega's clip and gradient ids, which count up across a process,
 * renamed in order of appearance under the chart's own prefix.
 */
function finishSvg(svg: string, prefix: string, title: string, description: string): string {
  const ids = new Map<string, string>();
  for (const [, old] of svg.matchAll(/\sid="([^"]+)"/g)) if (!ids.has(old!)) ids.set(old!, `${prefix}-def${ids.size + 1}`);
  let out = svg
    .replace(/\s(?:role|aria-[a-z]+)="[^"]*"/g, '')
    .replace(/\sid="([^"]+)"/g, (_, old: string) => ` id="${ids.get(old)}"`)
    .replace(/url\(#([^)]+)\)/g, (match, old: string) => (ids.has(old) ? `url(#${ids.get(old)})` : match))
    .replace(/href="#([^"]+)"/g, (match, old: string) => (ids.has(old) ? `href="#${ids.get(old)}"` : match));
  out = out.replace(
    /^<svg([^>]*)>/,
    (_, attrs: string) =>
      `<svg${attrs} role="img" aria-labelledby="${prefix}-title ${prefix}-desc">` +
      `<title id="${prefix}-title">${escapeXml(title)}</title><desc id="${prefix}-desc">${escapeXml(description)}</desc>`,
  );
  return out;
}

// Matches the theme's padding (8 px left and bottom).
const SOURCE_LINE = { size: 11, gap: 6, left: 8, bottom: 8 } as const;

/**
 * The chart as a file of its own (output/charts/<id>.svg): the same SVG with
 * its source line drawn under it, since outside the briefing no caption
 * carries it. In the editions the figure caption does, so it is not repeated.
 */
export function standaloneSvg(chart: RenderedChart): string {
  if (!chart.source) return chart.svg;
  const height = chart.height + SOURCE_LINE.gap + SOURCE_LINE.size + SOURCE_LINE.bottom;
  const line =
    `<text x="${SOURCE_LINE.left}" y="${chart.height + SOURCE_LINE.gap + SOURCE_LINE.size}" ` +
    `font-family="${FONT_FAMILY}, sans-serif" font-size="${SOURCE_LINE.size}" fill="${INK_SOFT}">${escapeXml(chart.source)}</text>`;
  return chart.svg
    .replace(/^(<svg[^>]*\sheight=")[\d.]+(")/, `$1${height}$2`)
    .replace(/^(<svg[^>]*\sviewBox="0 0 [\d.]+ )[\d.]+(")/, `$1${height}$2`)
    .replace(/(<rect width="[\d.]+" height=")[\d.]+(" fill="[^"]+"\/>)/, `$1${height}$2`)
    .replace(/<\/svg>$/, `${line}</svg>`);
}

/** The 1-based line and column of the first match of `pattern` in a spec's text (1:1 when absent). */
function locateInJson(text: string, pattern: RegExp): { line: number; column: number } {
  const index = pattern.exec(text)?.index ?? 0;
  const before = text.slice(0, index).split('\n');
  return { line: before.length, column: before.at(-1)!.length + 1 };
}

function parseSpec(source: ChartSource): Json {
  let spec: unknown;
  try {
    spec = JSON.parse(source.text);
  } catch (error) {
    throw new CliError(messages.chartBadJson(source.file, (error as Error).message));
  }
  if (!isObject(spec)) throw new CliError(messages.chartNotObject(source.file));
  return spec;
}

/** The cache key: spec text, the rows of the data it names, theme, fonts, the narrow layout asked for and renderer versions. */
function hashChart(source: ChartSource, datasets: Record<string, Row[]>, names: Set<string>, fontHash: string, narrow: NarrowLayout | undefined): string {
  const data = [...names].sort().map((name) => [name, datasets[name] ?? null]);
  return createHash('sha256')
    .update(JSON.stringify([RENDERER_VERSION, vl.version, vega.version, source.id, source.text, data, THEME, fontHash, narrow ?? null]))
    .digest('hex');
}

/** Collects warnings with the spec's file name; errors (a refused or failed load) go to `errors` when given. */
function createLogger(file: string, warnings: string[], errors?: string[]): vega.LoggerInterface {
  let level = vega.Warn;
  // runView blocks timer events, and without a DOM vega cannot listen on window or document:
  // vega says so per listener, the author needs each once.
  const said = new Set<string>();
  const once = (detail: string) => {
    if (!said.has(detail)) warnings.push(messages.chartWarning(file, detail));
    said.add(detail);
  };
  const logger: vega.LoggerInterface = {
    level(value?: number) {
      if (value === undefined) return level;
      level = value;
      return logger;
    },
    error(...args: unknown[]) {
      const detail = args.map((arg) => (arg instanceof Error ? arg.message : String(arg))).join(' ');
      if (errors) errors.push(detail);
      else warnings.push(messages.chartWarning(file, detail));
      return logger;
    },
    warn(...args: unknown[]) {
      // vega reports a failed data load as a warning ("Loading failed", url, error) and carries on without the data.
      if (errors && args[0] === 'Loading failed') errors.push(args[2] instanceof Error ? args[2].message : args.map(String).join(' '));
      else if (/^Blocked timer /.test(String(args[0]))) once(messages.chartTimerBlocked);
      else if (/^Can not resolve event source: /.test(String(args[0]))) once(messages.chartEventSourceStatic(String(args[0]).replace(/^Can not resolve event source: /, '')));
      else warnings.push(messages.chartWarning(file, args.map(String).join(' ')));
      return logger;
    },
    info: () => logger,
    debug: () => logger,
  };
  return logger;
}

/**
 * Vega-Lite's compile depends only on the spec and the theme, and the data
 * comes by name, so every report of a batch and every --watch rebuild shares
 * it: kept per file and spec text (its warnings too, repeated on each use),
 * for the most recent specs. The title is the one part filled from the data
 * ("... revenue, 2025, USD"), so it is compiled as tokens (U+E000, a number,
 * U+E001) that Vega-Lite copies into the Vega spec like any string, and the
 * filled text replaces them in each use's copy: a batch's charts of one kind
 * compile once. Each use gets its own copy, since vega's parser may annotate
 * the spec it reads.
 */
const compiledSpecs = recent<{ json: string; warnings: string[] }>('charts: compiled Vega specs', 64, (entry, key) => (entry.json.length + key.length) * 2);
const FILLED_TOKEN = /\ue000(\d+)\ue001/g;

/** Compiles `spec` whose strings may hold tokens for `filled[n]` (exported for test/charts-test.ts). */
export function compileSpec(file: string, spec: TopLevelSpec, filled: readonly string[], warnings: string[]): { spec: vega.Spec } {
  const key = `${file}\u0000${JSON.stringify(spec)}`;
  let entry = compiledSpecs.get(key);
  if (!entry) {
    const own: string[] = [];
    const compiled = vl.compile(spec, { config: THEME, logger: createLogger(file, own) });
    // vega-lite warns and falls back where a spec strays from its schema (an
    // aggregate op it does not know): say where, and render its fallback.
    const schemaError = own.length ? validateSchema(spec) : undefined;
    if (schemaError) own.push(messages.chartSchemaWarning(file, vl.version, schemaError));
    entry = compiledSpecs.set(key, { json: JSON.stringify(compiled.spec), warnings: own });
  }
  warnings.push(...entry.warnings);
  // Inside a JSON string, so each text goes in as JSON would write it.
  const json = entry.json.replace(FILLED_TOKEN, (run, n: string) => {
    const text = filled[Number(n)];
    return text === undefined ? run : JSON.stringify(text).slice(1, -1);
  });
  return { spec: JSON.parse(json) as vega.Spec };
}

/** A CliError for a spec vega-lite or vega failed on: the schema's finding when it has one (it names what the author wrote), else `fallback`. */
function explainFailure(file: string, spec: unknown, fallback: string): CliError {
  const schemaError = validateSchema(spec);
  return new CliError(schemaError ? messages.chartSchema(file, schemaError) : fallback);
}

/** Refuses a data name neither the caller nor the spec's own `datasets` provides, at the name in the spec text. */
function checkNamedData(source: ChartSource, names: ReadonlySet<string>, datasets: Record<string, Row[]>): void {
  for (const name of names) {
    if (name in datasets) continue;
    const file = source.file;
    const at = locateInJson(source.text, new RegExp(`"name"\\s*:\\s*${JSON.stringify(name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    throw new InputError(file, [{ file, ...at, path: 'data.name', message: messages.chartMissingData(name, Object.keys(datasets)) }]);
  }
}

/**
 * The seed of Vega's random() for one spec, from its text and bound rows:
 * the same spec draws the same points in every run, and so in its SVG and PDF.
 */
function randomSeed(source: ChartSource, bound: unknown): number {
  const digest = createHash('sha256').update(source.text).update(JSON.stringify(bound)).digest();
  // randomLCG works modulo 2^31 - 1; a seed of 0 would stay 0.
  return (digest.readUInt32BE(0) % 2147483646) + 1;
}

// vega re-exports vega-statistics' setRandom and randomLCG (documented API), but its type declarations leave them out.
const vegaRandom = vega as unknown as { setRandom(random: () => number): void; randomLCG(seed: number): () => number };

/** Reads each file once per render: the field check reads what vega read. */
function readOnce(readFile: ChartReadFile | undefined): ChartReadFile | undefined {
  if (!readFile) return undefined;
  const texts = new Map<string, Promise<string>>();
  return (path) => {
    let text = texts.get(path);
    if (!text) texts.set(path, (text = readFile(path)));
    return text;
  };
}

interface ViewRun {
  compiled: vega.Spec;
  bound: Record<string, Row[]>;
  loader: vega.Loader;
  logger: vega.LoggerInterface;
  errors: string[];
  seed: number;
}

/** Runs the dataflow and renders its SVG; a failed data load (vega logs it and renders on without the data) is an error. */
async function runView(run: ViewRun): Promise<{ view: vega.View; svg: string }> {
  // A chart file is a still image: timer events (Vega-Lite's animations) would
  // move it on by wall-clock time while data loads, so no two runs agreed.
  const config = { ...run.compiled.config, events: { ...run.compiled.config?.events, timer: false } };
  const view = new vega.View(vega.parse({ ...run.compiled, config }), { renderer: 'none', loader: run.loader, logger: run.logger });
  for (const [name, rows] of Object.entries(run.bound)) view.data(name, structuredClone(rows));
  // Process-wide, like the text measurer: set right before this view draws anything.
  vegaRandom.setRandom(vegaRandom.randomLCG(run.seed));
  await view.runAsync();
  if (run.errors.length) throw new Error(run.errors.join('; '));
  const svg = await view.toSVG();
  return { view, svg };
}

/** Refuses an encoding field that neither the data in its scope nor a transform there provides (fields.ts). */
async function checkFields(file: string, spec: Json, compiled: vega.Spec, view: vega.View, sources: FieldSources): Promise<void> {
  const seen = new Set<string>();
  for (const data of compiled.data ?? []) {
    for (const row of (view.data(data.name) as Row[]).slice(0, 100)) for (const key of Object.keys(row)) seen.add(key);
  }
  const unknown = await findUnknownField(encodedFields(spec), seen, sources);
  if (unknown) throw new CliError(messages.chartUnknownField(file, unknown.field, unknown.where, unknown.known));
}

/** Renders one spec to an accessible, deterministic SVG (no cache). */
export async function renderChart(
  source: ChartSource,
  datasets: Record<string, Row[]>,
  options: { fonts: FontBytes; readFile?: ChartReadFile; imageHrefs?: boolean; narrow?: NarrowLayout; warnings?: string[] },
): Promise<RenderedChart> {
  const { metrics, hash: fontHash } = fontsFor(options.fonts);
  const warnings = options.warnings ?? [];
  const file = source.file;

  // 1. parse; every name the spec asks for must be bound (or be in its own `datasets`)
  const spec = parseSpec(source);
  const names = namedData(spec);
  checkNamedData(source, names, datasets);
  const own = ownDatasets(spec);
  const rowsNamed = (name: string) => (Array.isArray(own[name]) ? (own[name] as Row[]) : datasets[name]);

  // 2. fill {{field}} placeholders in title and usermeta from the top-level rows
  const top = isObject(spec.data) ? spec.data : undefined;
  const topName = typeof top?.name === 'string' ? top.name : 'values';
  const topRows = Array.isArray(top?.values) ? (top.values as Row[]) : typeof top?.name === 'string' ? rowsNamed(top.name) : undefined;
  const text = createChartText(file, topRows, topName);
  const usermeta = isObject(spec.usermeta) ? spec.usermeta : {};
  const filled: string[] = [];
  const token = (template: string) => {
    if (!hasPlaceholder(template)) return template;
    const value = text.fill(template);
    // Blank text stays itself: Vega-Lite may leave out a blank title part.
    return value.trim() ? `\ue000${filled.push(value) - 1}\ue001` : value;
  };
  const tokenTitle = spec.title === undefined ? undefined : fillTitle(spec.title as TitleSpec, token);
  // The title as shown: each template filled once, above, and put back in place of its token.
  const title = tokenTitle === undefined ? undefined : fillTitle(tokenTitle, (part) => part.replace(FILLED_TOKEN, (run, n: string) => filled[Number(n)] ?? run));
  const compileTarget = { ...spec, ...(tokenTitle !== undefined ? { title: tokenTitle } : {}) } as unknown as TopLevelSpec;

  // 3-4. compile with the theme under the spec's own config (once per spec
  //      text: data is bound by name, so a batch's reports share it), then run
  //      the dataflow, seeded, with the fenced loader and real text widths
  useFontMetrics(metrics);
  wrapTextWith(metrics.measure, (weight, style) => faceFor(weight as string | number | undefined, style as string | undefined));
  const bound = Object.fromEntries([...names].map((name) => [name, datasets[name]!]));
  const readFile = readOnce(options.readFile);
  const refusedImages: string[] = [];
  const loader = createChartLoader(readFile, (detail) => warnings.push(messages.chartWarning(file, detail)), options.imageHrefs ? (detail) => refusedImages.push(detail) : undefined);
  const draw: DrawContext = { file, spec, bound, loader, warnings, seed: randomSeed(source, bound) };
  const { view, svg, compiled } = await drawSpec(compileTarget, filled, draw);
  if (refusedImages.length) throw new CliError(messages.chartImageRefused(file, refusedImages[0]!));

  // 5. every field an encoding reads must be in the data it reads, or made from it
  await checkFields(file, spec, compiled, view, { named: rowsNamed, read: (url) => loader.load(url) });

  // 6. words around the chart, then the accessible SVG
  const chartTitle = titleText(title) || source.id;
  const describe = typeof usermeta.describe === 'string' ? usermeta.describe : undefined;
  const description = describe
    ? text.describe(describe)
    : typeof spec.description === 'string'
      ? text.fill(spec.description)
      : describeGenerically(spec, compiled.data ?? [], view);
  const caption = typeof usermeta.caption === 'string' ? text.fill(usermeta.caption) : chartTitle;
  const citations = [...new Set([...names].flatMap((name) => datasets[name]!.map((row) => row.source)).filter((s): s is string => typeof s === 'string'))];
  const sourceLine = citations.length ? `${citations.length > 1 ? 'Sources' : 'Source'}: ${citations.join('; ')}` : '';
  const finished = finishSvg(svg, idPrefix(source.id), chartTitle, description);
  // A font the project does not ship, or a character no shipped face draws, is named rather than lost.
  warnings.push(...checkChartFonts(finished, options.fonts, file));
  const size = svgSize(finished, view);
  view.finalize();

  // 7. the same spec for a phone, when the chart is wider than one
  const layout = options.narrow;
  const narrow =
    layout && size.width > layout.width
      ? await drawNarrow(spec, title, layout, { ...draw, measure: metrics.measure, finish: (text) => finishSvg(text, `${idPrefix(source.id)}.narrow`, chartTitle, description) })
      : undefined;
  return {
    id: source.id,
    title: chartTitle,
    description,
    caption,
    source: sourceLine,
    svg: finished,
    ...size,
    ...(narrow ? { narrow } : {}),
    hash: hashChart(source, datasets, names, fontHash, layout),
  };
}

/** Width and height of a finished SVG, from its root (the view's own when absent). */
function svgSize(svg: string, view: vega.View): { width: number; height: number } {
  const size = /^<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
  return { width: Number(size?.[1] ?? view.width()), height: Number(size?.[2] ?? view.height()) };
}

interface DrawContext {
  file: string;
  /** The spec as written, which the schema check explains a failure by. */
  spec: Json;
  bound: Record<string, Row[]>;
  loader: vega.Loader;
  warnings: string[];
  seed: number;
}

/** Compiles and runs one layout of a spec; vega-lite's or vega's failure is explained by the schema where it can be. */
async function drawSpec(
  target: TopLevelSpec,
  filled: readonly string[],
  draw: DrawContext,
  autosize?: vega.AutoSize,
): Promise<{ view: vega.View; svg: string; compiled: vega.Spec }> {
  const file = draw.file;
  let compiled: vega.Spec;
  try {
    compiled = compileSpec(file, target, filled, draw.warnings).spec;
    if (autosize) compiled.autosize = autosize;
  } catch (error) {
    throw explainFailure(file, draw.spec, messages.chartInvalid(file, (error as Error).message));
  }
  const errors: string[] = [];
  try {
    const { view, svg } = await runView({ compiled, bound: draw.bound, loader: draw.loader, logger: createLogger(file, draw.warnings, errors), errors, seed: draw.seed });
    return { view, svg, compiled };
  } catch (error) {
    throw explainFailure(file, draw.spec, messages.chartRenderFailed(file, (error as Error).message));
  }
}

/**
 * The chart in the narrow layout. Its title lines are tokens, as a filled
 * title is, so a batch's narrow charts of one kind compile once too. A
 * composite's views are given a width by guess and narrowed once more by
 * what still overflows; one that stays wider is kept (it is still narrower
 * than the wide one), with a warning. A single view whose labels leave its
 * plot no width at all has no narrow drawing: phones show the wide one.
 */
async function drawNarrow(
  spec: Json,
  title: TitleSpec | undefined,
  layout: NarrowLayout,
  draw: DrawContext & { measure: FontMetrics['measure']; finish: (svg: string) => string },
): Promise<ChartDrawing | undefined> {
  const filled: string[] = [];
  const token = (line: string) => (line.trim() ? `\ue000${filled.push(line) - 1}\ue001` : line);
  const lines = title === undefined ? undefined : fillTitle(wrapTitle(title, layout, draw.measure) as TitleSpec, token);
  const narrowed = narrowSpec(spec, layout);
  // The wide drawing has said what vega-lite and vega warn about this spec; only what is new here is added.
  const own = { ...draw, warnings: [] as string[] };
  const composite = isComposite(narrowed);
  const render = async () => {
    const target = { ...narrowed, ...(lines !== undefined ? { title: lines } : {}) } as unknown as TopLevelSpec;
    const { view, svg } = await drawSpec(target, filled, own, composite ? undefined : NARROW_AUTOSIZE);
    const drawing = { svg: draw.finish(svg), ...svgSize(svg, view) };
    // Vega fits a single view by its plot width, down to none; at none, what is left over overflows the SVG.
    const plotWidth = view.width();
    view.finalize();
    return { drawing, plotWidth };
  };
  let { drawing, plotWidth } = await render();
  if (drawing.width > layout.width && composite) {
    stackViews(narrowed, Math.max(40, viewWidth(layout.width) - (drawing.width - layout.width)));
    ({ drawing } = await render());
  }
  const kept = composite || plotWidth > 0 ? drawing : undefined;
  if (!kept) own.warnings.push(messages.chartNarrowNoRoom(draw.file, layout.width));
  else if (drawing.width > layout.width) own.warnings.push(messages.chartNarrowTooWide(draw.file, drawing.width, layout.width));
  draw.warnings.push(...own.warnings.filter((warning) => !draw.warnings.includes(warning)));
  return kept;
}

/**
 * For specs without `usermeta.describe` (any spec given to `npm run chart`):
 * the encoded fields of each row of the first data source that has them,
 * e.g. "a 1; b 3". A selection's store comes first in Vega-Lite's output, but
 * holds no encoded field (and its size can vary from run to run).
 */
function describeGenerically(spec: Json, data: { name: string }[], view: vega.View): string {
  const fields = [...new Set(encodedFields(spec).map((f) => f.field))];
  const roots = fields.map(fieldRoot);
  const hasField = (rows: Row[]) => rows.slice(0, 100).some((row) => roots.some((root) => root in row));
  const rows = data.map((d) => view.data(d.name) as Row[]).find(hasField) ?? [];
  // Names before numbers reads as "b 3", the way a person would say it.
  const shown = rows.slice(0, 30).map((row) => {
    const values = fields.map((field) => row[fieldRoot(field)]).filter((value) => value !== undefined && value !== null);
    const names = values.filter((value) => typeof value !== 'number').map(String);
    const numbers = values.filter((value): value is number => typeof value === 'number').map((value) => number(value, 2));
    return [...names, ...numbers].join(' ');
  });
  const more = rows.length > shown.length ? `; and ${rows.length - shown.length} more` : '';
  return shown.filter(Boolean).join('; ') + more || titleText(spec.title as TitleSpec | undefined);
}

/** Renders every chart, reusing cached ones whose spec, data, theme and fonts are unchanged. */
export async function renderCharts(
  sources: ChartSource[],
  datasets: Record<string, Row[]>,
  options: RenderChartsOptions,
): Promise<RenderChartsResult> {
  const { hash: fontHash } = fontsFor(options.fonts);
  const result: RenderChartsResult = { charts: [], rendered: [], reused: [], warnings: [] };
  // One at a time: vega's text measurer is process-wide, and charts are small.
  for (const source of sources) {
    const hash = hashChart(source, datasets, namedData(parseSpec(source)), fontHash, options.narrow);
    const cached = options.cache?.get(hash);
    if (cached) {
      result.charts.push(cached);
      result.reused.push(source.id);
      continue;
    }
    const chart = await renderChart(source, datasets, { fonts: options.fonts, readFile: options.readFile, imageHrefs: options.imageHrefs, narrow: options.narrow, warnings: result.warnings });
    options.cache?.set(hash, chart);
    result.charts.push(chart);
    result.rendered.push(source.id);
  }
  return result;
}
