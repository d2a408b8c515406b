/**
 * Reports as data: a third report, written here, builds with no change to
 * the engine (its own units, a CSV table, fiscal periods, derived aggregates,
 * a declared check and a chart on a declared view); and its mistakes are
 * located errors naming the right file.
 */
import { describe, expect, it } from 'vitest';
import { buildReport, checkReport } from '../src/build.ts';
import { effectsWith } from './fixtures/effects.ts';
import type { RenderedChart } from '../src/charts/render.ts';
import { normalizeReports } from '../src/config.ts';
import { InputError } from '../src/support/error.ts';
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
