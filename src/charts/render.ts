/**
 * Charts stage: Dataset + Derived + Vega-Lite specs -> RenderedChart[] (SVG).
 *
 *   rows by data name (bind.ts: views, collections, tables; no number typed in a spec)
 *   spec text ──JSON.parse──▶ object ──schema check──▶ TopLevelSpec
 *     ──fill {{field}} in title/usermeta──▶ ──vl.compile(THEME)──▶ Vega spec
 *     ──vega.View(renderer none, fenced loader, font metrics)──▶ scenegraph
 *     ──toSVG + accessible title/desc, stable ids──▶ RenderedChart
 *
 * Text is measured with the briefing's own font files (as vl-convert does), so
 * labels fit and right-aligned text lines up in the SVG, the HTML and the PDF.
 * Charts are cached by a hash of everything that shapes the SVG.
 */
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
const RENDERER_VERSION = '1';

// Numbers in a spec's own description: English, as Vega's own labels are (a spec given to npm run chart has no language).
const number = (value: number, digits: number) => createFormatter({ language: 'en-US' }).number(value, digits);

// ---------------------------------------------------------------------------
// The loader fence.

/** True for anything with a URL scheme (http:, file:, data:, javascript:) or a protocol-relative `//host`. */
const isUrl = (uri: string) => /^[a-z][a-z0-9+.-]*:/i.test(uri) || uri.startsWith('//');

/**
 * A Vega loader that never touches the network and reads only relative paths
 * that stay inside the spec's folder, through `readFile`; without `readFile`
 * it refuses everything.
 */
export function createChartLoader(readFile?: ChartReadFile): vega.Loader {
  const check = (uri: string): string => {
    const refuse = (reason: string) => new Error(messages.chartLoadRefused(uri, reason));
    if (isUrl(uri)) throw refuse(messages.chartLoadUrl);
    if (!readFile) throw refuse(messages.chartLoadNone);
    // Windows drive paths and backslashes are treated as outside too: the fence is about meaning, not only POSIX.
    const normal = posix.normalize(uri.replace(/\\/g, '/'));
    if (posix.isAbsolute(normal) || normal === '..' || normal.startsWith('../') || /^[a-z]:/i.test(normal)) {
      throw refuse(messages.chartLoadOutside);
    }
    return normal;
  };
  return {
    async load(uri) {
      return readFile!(check(uri));
    },
    async sanitize(uri) {
      return { href: check(uri) };
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
// it throw TypeErrors that name nothing the author wrote.

type ValidateFn = ((spec: unknown) => boolean) & {
  errors?: { instancePath: string; keyword: string; message?: string; params: Record<string, unknown> }[] | null;
};
let schemaValidator: ValidateFn | undefined;

function validateSchema(spec: unknown): string | undefined {
  if (!schemaValidator) {
    // Compiled once per process (about a second); cache hits never get here.
    const require = createRequire(import.meta.url);
    const Ajv = require('ajv') as new (options: object) => { compile(schema: unknown): ValidateFn };
    const schema = require('vega-lite/vega-lite-schema.json') as unknown;
    schemaValidator = new Ajv({ allErrors: false, strict: false, validateFormats: false }).compile(schema);
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

/** Names of the data sources a spec binds by name, anywhere in it. */
function namedData(node: unknown, names = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const child of node) namedData(child, names);
  else if (isObject(node)) {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'data' && isObject(value) && typeof value.name === 'string') names.add(value.name);
      namedData(value, names);
    }
  }
  return names;
}

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

/** Every `field` an encoding reads, with where it is used, for the field-in-data check. */
function encodingFields(spec: unknown, path = ''): { field: string; where: string }[] {
  if (!isObject(spec)) return [];
  const found: { field: string; where: string }[] = [];
  const visitDef = (def: unknown, where: string) => {
    if (Array.isArray(def)) def.forEach((d, i) => visitDef(d, `${where}[${i}]`));
    else if (isObject(def)) {
      if (typeof def.field === 'string') found.push({ field: def.field, where });
      if (def.condition) visitDef(def.condition, `${where}.condition`);
    }
  };
  if (isObject(spec.encoding)) {
    for (const [channel, def] of Object.entries(spec.encoding)) visitDef(def, `${path}encoding.${channel}`);
  }
  for (const key of ['layer', 'concat', 'hconcat', 'vconcat'] as const) {
    const children = spec[key];
    if (Array.isArray(children)) children.forEach((child, i) => found.push(...encodingFields(child, `${path}${key}[${i}].`)));
  }
  if (isObject(spec.spec)) found.push(...encodingFields(spec.spec, `${path}spec.`));
  return found;
}

/** The top-level name of a field path: "a.b" reads a's b; "a\\.b" is the field "a.b". */
function fieldRoot(field: string): string {
  const match = /^((?:\\.|[^.\\[])*)/.exec(field);
  return (match?.[1] ?? field).replace(/\\(.)/g, '$1');
}

/** A stable, readable id prefix for a chart's SVG ids (several charts share one HTML page). */
const idPrefix = (id: string) => `chart-${id.replace(/[^A-Za-z0-9_-]/g, '-')}`;


/**
 * Makes vega's SVG accessible and deterministic: role="img" with a <title>
 * and <desc> on the root; per-mark ARIA removed (the root describes the
 * chart); vega's clip and gradient ids, which count up across a process,
 * renamed in order of appearance under the chart's own prefix.
 */
function finishSvg(svg: string, id: string, title: string, description: string): string {
  const prefix = idPrefix(id);
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

/** The cache key: spec text, the rows of the data it names, theme, fonts and renderer versions. */
function hashChart(source: ChartSource, datasets: Record<string, Row[]>, names: Set<string>, fontHash: string): string {
  const data = [...names].sort().map((name) => [name, datasets[name] ?? null]);
  return createHash('sha256')
    .update(JSON.stringify([RENDERER_VERSION, vl.version, vega.version, source.id, source.text, data, THEME, fontHash]))
    .digest('hex');
}

/** Collects warnings with the spec's file name; errors (a refused or failed load) go to `errors` when given. */
function createLogger(file: string, warnings: string[], errors?: string[]): vega.LoggerInterface {
  let level = vega.Warn;
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

/** Renders one spec to an accessible, deterministic SVG (no cache). */
export async function renderChart(
  source: ChartSource,
  datasets: Record<string, Row[]>,
  options: {
    fonts: FontBytes;
    readFile?: ChartReadFile;
    warnings?: string[];
    /**
     * 'always' checks the spec against Vega-Lite's JSON schema first (the chart
     * command); 'on-error' only explains a spec that fails to compile or render
     * with it, since compiling the schema validator costs about a second and a
     * briefing build should not pay that for specs that work.
     */
    schemaCheck?: 'always' | 'on-error';
  },
): Promise<RenderedChart> {
  const { metrics, hash: fontHash } = fontsFor(options.fonts);
  const warnings = options.warnings ?? [];
  const file = source.file;

  // 1. parse and check against Vega-Lite's schema
  const spec = parseSpec(source);
  const explain = () => {
    const schemaError = validateSchema(spec);
    if (schemaError) throw new CliError(messages.chartSchema(file, schemaError));
  };
  if (options.schemaCheck !== 'on-error') explain();

  // 2. every named source must be bound
  const names = namedData(spec);
  for (const name of names) {
    if (!(name in datasets)) {
      const at = locateInJson(source.text, new RegExp(`"name"\\s*:\\s*${JSON.stringify(name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      throw new InputError(file, [{ file, ...at, path: 'data.name', message: messages.chartMissingData(name, Object.keys(datasets)) }]);
    }
  }

  // 3. fill {{field}} placeholders in title and usermeta from the top-level rows
  const top = isObject(spec.data) ? spec.data : undefined;
  const topName = typeof top?.name === 'string' ? top.name : 'values';
  const topRows = typeof top?.name === 'string' ? datasets[top.name] : Array.isArray(top?.values) ? (top.values as Row[]) : undefined;
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

  // 4. compile with the theme under the spec's own config (once per spec text:
  //    data is bound by name at step 5, so a batch's reports share it)
  let compiled: { spec: vega.Spec };
  try {
    compiled = compileSpec(file, compileTarget, filled, warnings);
  } catch (error) {
    if (options.schemaCheck === 'on-error') explain();
    throw new CliError(messages.chartInvalid(file, (error as Error).message));
  }

  // 5. run the dataflow with the fenced loader and real text widths
  useFontMetrics(metrics);
  let svg: string;
  let view: vega.View;
  // Vega logs a failed data load and renders on without the data; here that is an error, not a blank chart.
  const errors: string[] = [];
  try {
    view = new vega.View(vega.parse(compiled.spec), {
      renderer: 'none',
      loader: createChartLoader(options.readFile),
      logger: createLogger(file, warnings, errors),
    });
    for (const name of names) view.data(name, structuredClone(datasets[name]!));
    await view.runAsync();
    if (errors.length) throw new Error(errors.join('; '));
    svg = await view.toSVG();
  } catch (error) {
    if (options.schemaCheck === 'on-error' && !(error instanceof CliError)) explain();
    throw new CliError(messages.chartRenderFailed(file, (error as Error).message));
  }

  // 6. every field an encoding reads must exist in some dataset of the view
  const fields = new Set<string>();
  let rowsSeen = 0;
  for (const data of compiled.spec.data ?? []) {
    const rows = view.data(data.name) as Row[];
    rowsSeen += rows.length;
    for (const row of rows.slice(0, 100)) for (const key of Object.keys(row)) fields.add(key);
  }
  if (rowsSeen > 0) {
    for (const { field, where } of encodingFields(spec)) {
      if (!fields.has(fieldRoot(field))) throw new CliError(messages.chartUnknownField(file, field, where, [...fields].sort()));
    }
  }

  // 7. words around the chart, then the accessible SVG
  const chartTitle = titleText(title) || source.id;
  const describe = typeof usermeta.describe === 'string' ? usermeta.describe : undefined;
  const description = describe
    ? text.describe(describe)
    : typeof spec.description === 'string'
      ? text.fill(spec.description)
      : describeGenerically(spec, compiled.spec.data ?? [], view);
  const caption = typeof usermeta.caption === 'string' ? text.fill(usermeta.caption) : chartTitle;
  const citations = [...new Set([...names].flatMap((name) => datasets[name]!.map((row) => row.source)).filter((s): s is string => typeof s === 'string'))];
  const sourceLine = citations.length ? `${citations.length > 1 ? 'Sources' : 'Source'}: ${citations.join('; ')}` : '';
  const finished = finishSvg(svg, source.id, chartTitle, description);
  // A font the project does not ship, or a character no shipped face draws, is named rather than lost.
  warnings.push(...checkChartFonts(finished, options.fonts, file));
  const size = /^<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(finished);
  view.finalize();
  return {
    id: source.id,
    title: chartTitle,
    description,
    caption,
    source: sourceLine,
    svg: finished,
    width: Number(size?.[1] ?? view.width()),
    height: Number(size?.[2] ?? view.height()),
    hash: hashChart(source, datasets, names, fontHash),
  };
}

/**
 * For specs without `usermeta.describe` (any spec given to `npm run chart`):
 * the encoded fields of each row of the first data source, e.g. "a 1; b 3".
 */
function describeGenerically(spec: Json, data: { name: string }[], view: vega.View): string {
  const fields = [...new Set(encodingFields(spec).map((f) => f.field))];
  const first = data[0];
  const rows = first ? (view.data(first.name) as Row[]) : [];
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
    const hash = hashChart(source, datasets, namedData(parseSpec(source)), fontHash);
    const cached = options.cache?.get(hash);
    if (cached) {
      result.charts.push(cached);
      result.reused.push(source.id);
      continue;
    }
    const chart = await renderChart(source, datasets, { fonts: options.fonts, readFile: options.readFile, warnings: result.warnings, schemaCheck: 'on-error' });
    options.cache?.set(hash, chart);
    result.charts.push(chart);
    result.rendered.push(source.id);
  }
  return result;
}
