/**
 * Reports as data: a third report, written here, builds with no change to
 * the engine (its own units, a CSV table, fiscal periods, derived aggregates,
 * a declared check and a chart on a declared view); and its mistakes are
 * located errors naming the right file.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildReport, checkReport } from '../src/build.ts';
import { effectsIn, effectsWith } from './fixtures/effects.ts';
import { tinyPng } from './fixtures/charts/png.ts';
import type { RenderedChart } from '../src/charts/render.ts';
import { normalizeReports } from '../src/config.ts';
import { CliError, InputError } from '../src/support/error.ts';
import { parseYaml } from '../src/dataset/load.ts';
import { messages } from '../src/support/messages.ts';

const DATASET = `edition:
  id: fleet-review
  title: Harbour Bikes' fleet year
  subtitle: Deliveries by region over a fiscal year
  as_of: 2026-05-02
  language: en
  author: Test analysts
  keywords: [fleet]
  fiscal_year: { start_month: 4, named_by: end }
units:
  bikes: { singular: bike, plural: bikes, precision: 0 }
sources:
  ledger:
    publication: Harbour Bikes
    title: Delivery ledger
    kind: internal ledger
    published: { as_given: spring 2026, period: 2026-04, approximate: true }
    truncated: false
collections:
  deliveries:
    label: Deliveries
    csv: deliveries.csv
    source: ledger
    fields:
      quarter: period
      region: { type: enum, values: { north: the north, south: the south } }
      bikes: { type: figure, unit: bikes, scale: thousand }
derived:
  total:
    label: Bikes delivered in FY2026
    unit: bikes
    formula: sum(deliveries.bikes)
  north_share:
    label: The north's share of deliveries
    unit: percent
    formula: "sum(deliveries.bikes, datum.region == 'north') / derived.total"
checks:
  quarters_positive:
    label: Every quarter delivered bikes
    for_each: deliveries
    assert: datum.bikes > 0
views:
  by-quarter:
    from: deliveries
    where: "datum.region == 'north'"
    fields:
      quarter: period(datum.quarter)
      bikes: value(datum.bikes)
      label: format(datum.bikes)
`;

const CSV = `quarter,region,bikes
FY2026-Q1,north,1.5
FY2026-Q1,south,2
FY2026-Q2,north,2.5
FY2026-Q2,south,3
`;

const MAIN = `## The year in deliveries

The fleet delivered {{figure derived.total}} across {{count deliveries}} ledger rows in {{period deliveries.0.quarter}}, and the north took {{figure derived.north_share}}.

{{chart "north"}}

{{table "by-quarter" caption="Deliveries in the north"}}
`;

const CHART = JSON.stringify({
  title: 'Deliveries in the north, thousand bikes',
  usermeta: { caption: 'The north by quarter.', describe: '{{quarter}} {{label}}' },
  data: { name: 'by-quarter' },
  mark: 'line',
  encoding: { x: { field: 'quarter', type: 'ordinal' }, y: { field: 'bikes', type: 'quantitative' } },
});

const REPORTS = `reports:
  - id: fleet-review
    dataset: fleet/fleet.yaml
    templates: fleet/templates
    charts: fleet/charts
    formats: [pdf, html, svg]
`;

const FILES = {
  'fleet/fleet.yaml': DATASET,
  'fleet/deliveries.csv': CSV,
  'fleet/templates/briefing.md.hbs': MAIN,
  'fleet/charts/north.vl.json': CHART,
};

const reportOf = (reports = REPORTS) => normalizeReports(parseYaml('reports.yaml', new TextEncoder().encode(reports)))[0]!;

async function thrown(run: () => Promise<unknown>): Promise<InputError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

describe('a report written as data', () => {
  it('builds with its own units, CSV table, fiscal periods, aggregates, check and charted view', async () => {
    const effects = effectsWith(FILES);
    const result = await buildReport(reportOf(), {}, effects, new Map<string, RenderedChart>());
    const html = new TextDecoder().decode(result.files.find((file) => file.path === 'fleet-review.html')!.bytes);
    // 1.5 + 2 + 2.5 + 3 thousand bikes; the north 4 of 9.
    const total = (1.5 + 2 + 2.5 + 3) * 1000;
    // The total is shown in the largest scale that keeps it at 1 or more.
    expect(html).toContain(`${total / 1000} thousand bikes`);
    expect(html).toContain(`${new Intl.NumberFormat('en', { maximumFractionDigits: 1 }).format((100 * 4) / 9)}%`);
    expect(html).toContain('Q1 FY2026');
    expect(html).toContain('sum(deliveries.bikes)');
    expect(html).toMatch(/<svg[^>]*role="img"/);
    expect(result.files.map((file) => file.path)).toEqual(expect.arrayContaining(['fleet-review.pdf', 'charts/north.svg']));
    expect(new TextDecoder().decode(result.files.find((file) => file.path === 'fleet-review.pdf')!.bytes.slice(0, 5))).toBe('%PDF-');
  });

  it('is checked by --check without writing', async () => {
    const summary = await checkReport(reportOf(), effectsWith(FILES), new Map());
    expect(summary).toContain(messages.checkContent('fleet/templates', 1));
  });

  it('locates a bad CSV cell in the CSV file', async () => {
    const effects = effectsWith({ ...FILES, 'fleet/deliveries.csv': CSV.replace('2.5', 'lots') });
    const error = await thrown(() => buildReport(reportOf(), {}, effects, new Map()));
    expect(error.issues[0]).toMatchObject({ file: 'fleet/deliveries.csv', line: 4, column: CSV.split('\n')[3]!.indexOf('2.5') + 1 });
  });

  it('locates a CSV cell the editions cannot draw', async () => {
    const effects = effectsWith({ ...FILES, 'fleet/deliveries.csv': CSV.replace('FY2026-Q2,south,3', 'FY2026-Q2,south,3\nFY2026-Q3,north,1\u5b81') });
    const error = await thrown(() => buildReport(reportOf(), {}, effects, new Map()));
    expect(error.issues.map((issue) => [issue.file, issue.line])).toContainEqual(['fleet/deliveries.csv', 6]);
    expect(error.issues.map((issue) => issue.message)).toContain(messages.unsupportedCharacter('\u5b81', 'U+5B81'));
  });

  it('locates a unit mismatch in a derived formula at the formula', async () => {
    const effects = effectsWith({ ...FILES, 'fleet/fleet.yaml': DATASET.replace('formula: sum(deliveries.bikes)', 'formula: sum(deliveries.bikes) + 1') });
    const error = await thrown(() => buildReport(reportOf(), {}, effects, new Map()));
    expect(error.issues[0]).toMatchObject({ file: 'fleet/fleet.yaml', path: 'derived.total.formula' });
  });

  it('locates a failing declared check at the CSV row', async () => {
    const effects = effectsWith({ ...FILES, 'fleet/deliveries.csv': CSV.replace('FY2026-Q2,south,3', 'FY2026-Q2,south,0') });
    const error = await thrown(() => buildReport(reportOf(), {}, effects, new Map()));
    expect(error.issues[0]).toMatchObject({ file: 'fleet/deliveries.csv', line: 5 });
    expect(error.issues[0]!.message).toContain('check quarters_positive');
  });

  it('locates an unknown chart data name in the spec', async () => {
    const effects = effectsWith({ ...FILES, 'fleet/charts/north.vl.json': CHART.replace('by-quarter', 'by-month') });
    const error = await thrown(() => buildReport(reportOf(), {}, effects, new Map()));
    expect(error.issues[0]).toMatchObject({ file: 'fleet/charts/north.vl.json', path: 'data.name' });
    expect(error.issues[0]!.message).toContain('"by-month"');
  });

  it('locates a missing templates folder in reports.yaml', async () => {
    const effects = effectsWith(FILES);
    const error = await thrown(() => buildReport(reportOf(REPORTS.replace('fleet/templates', 'fleet/nowhere')), {}, effects, new Map()));
    expect(error.issues[0]).toMatchObject({ file: 'reports.yaml', line: 4, path: 'reports.0.templates', message: messages.templatesMissing('fleet/nowhere') });
  });
});

describe('chart images in a report (raster_images)', () => {
  const temps: string[] = [];
  afterAll(() => temps.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  const LOGO = tinyPng(4, [230, 159, 0]);
  const SPEC = 'fleet/charts/north.vl.json';
  /** The fleet chart with a second layer: an image mark showing `url` at each point. */
  const chartShowing = (url: string) => {
    const chart = JSON.parse(CHART) as Record<string, unknown>;
    const { mark, encoding, ...rest } = chart;
    const image = { mark: { type: 'image', width: 12, height: 12 }, encoding: { ...(encoding as object), url: { value: url } } };
    return JSON.stringify({ ...rest, layer: [{ mark, encoding }, image] });
  };
  const allowed = REPORTS.replace('    formats:', '    raster_images: allow\n    formats:');

  /** The fleet report's files, changed by `files`, in a fresh temp folder (removed after the tests), with `links` as symbolic links. */
  function project(files: Record<string, string | Uint8Array>, links: Record<string, string> = {}): string {
    const root = mkdtempSync(join(tmpdir(), 'build-images-'));
    temps.push(root);
    for (const [path, content] of Object.entries({ ...FILES, [SPEC]: chartShowing('logo.png'), 'fleet/charts/logo.png': LOGO, ...files })) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), content);
    }
    for (const [path, target] of Object.entries(links)) symlinkSync(target, join(root, path));
    return root;
  }
  const build = (root: string, reports = allowed, cache = new Map<string, RenderedChart>()) => buildReport(reportOf(reports), {}, effectsIn(root), cache);
  const text = (result: Awaited<ReturnType<typeof build>>, path: string) => new TextDecoder().decode(result.files.find((file) => file.path === path)!.bytes);
  const dataUrl = (png: Buffer) => `data:image/png;base64,${png.toString('base64')}`;

  it('draws a PNG from the charts folder in the PDF (one image XObject), the HTML and the chart SVG when allowed', async () => {
    const result = await build(project({}));
    const pdf = Buffer.from(result.files.find((file) => file.path === 'fleet-review.pdf')!.bytes).toString('latin1');
    // The chart shows the logo at each of its two points; the PDF embeds it once.
    expect(text(result, 'charts/north.svg').match(/<image /g)).toHaveLength(2);
    expect(pdf.match(/\/Subtype \/Image/g)).toHaveLength(1);
    const html = text(result, 'fleet-review.html');
    expect(html).toMatch(new RegExp(`<image [^>]*href="${dataUrl(LOGO).replace(/[+/]/g, '\\$&')}"`));
    expect(text(result, 'charts/north.svg')).toContain(`href="${dataUrl(LOGO)}"`);
  });

  it('fails the build (and --check) by default, naming the spec, the image and the option to set', async () => {
    const root = project({});
    const expected = messages.reportImageRefused(SPEC, 'logo.png', 'fleet-review');
    const error = await build(root, REPORTS).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toBe(expected);
    expect(expected).toContain('raster_images: allow');
    await expect(checkReport(reportOf(), effectsIn(root), new Map())).rejects.toThrow(expected);
  });

  it('reads an edited image afresh while the chart itself comes from the cache, and builds the same bytes twice', async () => {
    const root = project({});
    const cache = new Map<string, RenderedChart>();
    const first = await build(root, allowed, cache);
    const again = await build(root, allowed, cache);
    expect(again.charts.reused).toContain('north');
    expect(again.files.map((file) => Buffer.from(file.bytes).toString('base64'))).toEqual(first.files.map((file) => Buffer.from(file.bytes).toString('base64')));
    const edited = tinyPng(4, [0, 114, 178]);
    writeFileSync(join(root, 'fleet/charts/logo.png'), edited);
    const after = await build(root, allowed, cache);
    expect(after.charts.reused).toContain('north');
    expect(text(after, 'fleet-review.html')).toContain(dataUrl(edited));
    expect(text(after, 'fleet-review.html')).not.toContain(dataUrl(LOGO));
  });

  it('refuses an image outside the charts folder even when allowed: by a ".." path, or through a symbolic link', async () => {
    const up = project({ [SPEC]: chartShowing('../logo.png'), 'fleet/logo.png': LOGO });
    await expect(build(up)).rejects.toThrow(messages.chartImageRefused(SPEC, messages.chartLoadRefused('../logo.png', messages.chartLoadOutside)));
    const linked = project({ [SPEC]: chartShowing('linked.png'), 'fleet/secret.png': LOGO }, { 'fleet/charts/linked.png': '../secret.png' });
    await expect(build(linked)).rejects.toThrow(messages.reportImageOutside(SPEC, 'linked.png', 'fleet/charts'));
  });

  it('refuses URLs of any scheme, images the PDF cannot embed, and data files, even when allowed', async () => {
    for (const url of ['https://example.com/logo.png', 'file:///etc/passwd', '/etc/passwd']) {
      const reason = url.startsWith('/') ? messages.chartLoadOutside : messages.chartLoadUrl;
      await expect(build(project({ [SPEC]: chartShowing(url) })), url).rejects.toThrow(messages.chartImageRefused(SPEC, messages.chartLoadRefused(url, reason)));
    }
    const svg = project({ [SPEC]: chartShowing('logo.svg'), 'fleet/charts/logo.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>' });
    await expect(build(svg)).rejects.toThrow(messages.reportImageType(SPEC, 'logo.svg', 'image/svg+xml'));
    const data = project({ [SPEC]: JSON.stringify({ ...JSON.parse(CHART), data: { url: 'rows.csv' } }), 'fleet/charts/rows.csv': CSV });
    await expect(build(data)).rejects.toThrow(messages.chartLoadRefused('rows.csv', messages.chartLoadNone));
  });
});
