import { beforeAll, describe, expect, it } from 'vitest';
import { bindChartData } from '../../src/charts/bind.ts';
import { NARROW, narrowSpec, wrapLines } from '../../src/charts/narrow.ts';
import { renderChart, renderCharts, type ChartCache, type ChartSource, type RenderedChart } from '../../src/charts/render.ts';
import { THEME } from '../../src/charts/theme.ts';
import { messages } from '../../src/support/messages.ts';
import { createFontMetrics, type FontBytes } from '../../src/text/fonts.ts';
import { CHART_IDS, decodeXml, loadFonts, loadRealData, loadSpecs } from '../fixtures/charts/load.ts';

let fonts: FontBytes;
let specs: ChartSource[];
let datasets: Record<string, Record<string, unknown>[]>;
let charts: Record<string, RenderedChart>;
let warnings: string[];

beforeAll(async () => {
  const { data, derived } = await loadRealData();
  fonts = await loadFonts();
  specs = await loadSpecs();
  datasets = bindChartData(data, derived);
  const result = await renderCharts(specs, datasets, { fonts, narrow: NARROW });
  warnings = result.warnings;
  charts = Object.fromEntries(result.charts.map((chart) => [chart.id, chart]));
});

/** Each <text> element's lines (its <tspan>s, or its own text), entities decoded. */
function textLines(svg: string): { size: number; weight: string; lines: string[] }[] {
  return [...svg.matchAll(/<text\b([^>]*?)(?:\/>|>(.*?)<\/text>)/g)].map(([, attrs, body = '']) => {
    const tspans = [...body!.matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)].map(([, line]) => decodeXml(line!));
    return {
      size: Number(/font-size="([\d.]+)/.exec(attrs!)?.[1]),
      weight: /font-weight="([^"]+)"/.exec(attrs!)?.[1] ?? 'normal',
      lines: tspans.length ? tspans : [decodeXml(body!)],
    };
  });
}

const words = (svg: string) => textLines(svg).flatMap((text) => text.lines.join(' ').split(/\s+/)).filter(Boolean).sort();

describe('wrapLines', () => {
  const byLength = (line: string) => line.length;

  it('breaks at spaces into lines no wider than the width', () => {
    const lines = wrapLines('one two three four five six', 9, byLength);
    expect(lines.join(' ')).toBe('one two three four five six');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(9);
    expect(lines.length).toBeGreaterThan(1);
  });

  it('keeps a word wider than the width whole, and a separator with the word before it', () => {
    expect(wrapLines('a supercalifragilistic b', 5, byLength)).toEqual(['a', 'supercalifragilistic', 'b']);
    for (const line of wrapLines('stake · $600m · completed', 12, byLength)) expect(line).not.toMatch(/^·/);
  });

  it('leaves text that fits as one line', () => {
    expect(wrapLines('fits', 10, byLength)).toEqual(['fits']);
  });
});

describe('narrowSpec', () => {
  it('leaves the spec it is given untouched', () => {
    for (const source of specs) {
      const spec = JSON.parse(source.text) as Record<string, unknown>;
      const before = JSON.stringify(spec);
      narrowSpec(spec, NARROW);
      expect(JSON.stringify(spec)).toBe(before);
    }
  });

  it('puts side-by-side views and a column facet in one column, and a side legend below', () => {
    const spec = narrowSpec(
      {
        hconcat: [
          { mark: 'bar', width: 300, encoding: { color: { field: 'a', legend: { orient: 'right' } } } },
          { facet: { column: { field: 'b' } }, spec: { mark: 'point', width: 200 } },
        ],
      },
      NARROW,
    );
    expect(spec.hconcat).toBeUndefined();
    const [bar, facet] = spec.vconcat as Record<string, any>[];
    expect(bar!.encoding.color.legend.orient).toBe('bottom');
    expect(facet!.facet).toEqual({ field: 'b' });
    expect(facet!.columns).toBe(1);
    expect(bar!.width).toBeLessThan(NARROW.width);
    expect(facet!.spec.width).toBeLessThan(NARROW.width);
  });
});

describe('the briefing charts in the narrow layout', () => {
  it('draws each chart wider than the layout again, no wider than it, with no new warnings', () => {
    for (const id of CHART_IDS) {
      const chart = charts[id]!;
      expect(chart.width).toBeGreaterThan(NARROW.width);
      expect(chart.narrow, id).toBeDefined();
      expect(chart.narrow!.width, id).toBeLessThanOrEqual(NARROW.width);
      expect(chart.narrow!.svg).toMatch(new RegExp(`^<svg[^>]*\\swidth="${chart.narrow!.width}"[^>]*\\sheight="${chart.narrow!.height}"`));
    }
    expect(warnings).toEqual([]);
  });

  it('keeps every text at the theme sizes, so at 1:1 on a 360 px phone no text is under 11 px', () => {
    for (const id of CHART_IDS) {
      const sizes = textLines(charts[id]!.narrow!.svg).map((text) => text.size);
      expect(sizes.length).toBeGreaterThan(0);
      for (const size of sizes) expect(size, id).toBeGreaterThanOrEqual(11);
    }
  });

  it('says every word the wide chart says, its title broken into lines that fit the width', () => {
    const metrics = createFontMetrics(fonts);
    const padding = THEME.padding as { left: number; right: number };
    for (const id of CHART_IDS) {
      const chart = charts[id]!;
      expect(words(chart.narrow!.svg), id).toEqual(words(chart.svg));
      // The title and subtitle are the chart's largest text; each line fits between the paddings.
      for (const text of textLines(chart.narrow!.svg).filter((t) => t.size >= 13)) {
        for (const line of text.lines) {
          expect(metrics.measure(line, text.size, text.weight === 'bold' ? 'bold' : 'regular'), `${id}: ${line}`).toBeLessThanOrEqual(NARROW.width - padding.left - padding.right);
        }
      }
    }
    // At least one title needed breaking at this width (else this test would prove nothing).
    expect(CHART_IDS.some((id) => textLines(charts[id]!.narrow!.svg).some((t) => t.size === 16 && t.lines.length > 1))).toBe(true);
  });

  it('gives the narrow drawing ids of its own, and leaves the wide drawing as it was', async () => {
    const plain = await renderCharts(specs, datasets, { fonts });
    for (const chart of plain.charts) {
      expect(chart.narrow).toBeUndefined();
      expect(charts[chart.id]!.svg).toBe(chart.svg);
      expect(charts[chart.id]!.hash).not.toBe(chart.hash);
      const ids = (svg: string) => [...svg.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!);
      const narrowIds = ids(charts[chart.id]!.narrow!.svg);
      expect(narrowIds.length).toBeGreaterThan(0);
      for (const id of narrowIds) expect(ids(chart.svg)).not.toContain(id);
    }
  });

  it('renders byte-identical narrow SVG every time, and takes it from the cache', async () => {
    const map = new Map<string, RenderedChart>();
    const cache: ChartCache = { get: (hash) => map.get(hash), set: (hash, chart) => void map.set(hash, chart) };
    const again = await renderCharts([...specs].reverse(), datasets, { fonts, narrow: NARROW, cache });
    for (const chart of again.charts) expect(chart.narrow!.svg).toBe(charts[chart.id]!.narrow!.svg);
    const cached = await renderCharts(specs, datasets, { fonts, narrow: NARROW, cache });
    expect(cached.reused).toEqual([...CHART_IDS]);
    const other = await renderCharts(specs, datasets, { fonts, narrow: { ...NARROW, width: 320 }, cache });
    expect(other.rendered).toEqual([...CHART_IDS]);
  });
});

describe('other specs in the narrow layout', () => {
  const render = (spec: object, warnings: string[] = []) =>
    renderChart({ id: 'x', file: 'x.vl.json', text: JSON.stringify(spec) }, {}, { fonts, narrow: NARROW, warnings });
  const values = Array.from({ length: 6 }, (_, i) => ({ group: `group ${i % 3}`, kind: `a rather long category name ${i}`, value: i + 1 }));

  it('stacks side-by-side views and fits them to the width', async () => {
    const view = { mark: 'bar', width: 320, encoding: { y: { field: 'kind', type: 'nominal' }, x: { field: 'value', type: 'quantitative' } } };
    const chart = await render({ data: { values }, hconcat: [view, view] });
    expect(chart.width).toBeGreaterThan(2 * NARROW.width);
    expect(chart.narrow!.width).toBeLessThanOrEqual(NARROW.width);
    expect(chart.narrow!.height).toBeGreaterThan(chart.height);
  });

  it('puts a facet in one column and a right-hand legend below', async () => {
    const chart = await render({
      data: { values },
      facet: { column: { field: 'group' } },
      spec: { mark: 'point', width: 200, encoding: { x: { field: 'value', type: 'quantitative' }, color: { field: 'kind', legend: { orient: 'right' } } } },
    });
    expect(chart.narrow!.width).toBeLessThanOrEqual(NARROW.width);
  });

  it('draws no narrow copy of a chart that already fits', async () => {
    const chart = await render({ data: { values: [{ a: 1 }] }, width: 100, height: 50, mark: 'point', encoding: { x: { field: 'a', type: 'quantitative' } } });
    expect(chart.width).toBeLessThanOrEqual(NARROW.width);
    expect(chart.narrow).toBeUndefined();
  });

  it('draws no narrow copy, and says so, when a word too long to break leaves the plot no room', async () => {
    const warnings: string[] = [];
    const long = 'Pneumonoultramicroscopicsilicovolcanoconiosis-and-more';
    const chart = await render({ data: { values: [{ t: long, v: 1 }] }, width: 600, mark: { type: 'text', fontSize: 20, align: 'left' }, encoding: { x: { field: 'v', type: 'quantitative' }, text: { field: 't' } } }, warnings);
    expect(chart.width).toBeGreaterThan(NARROW.width);
    expect(chart.narrow).toBeUndefined();
    expect(warnings).toEqual([messages.chartNarrowNoRoom('x.vl.json', NARROW.width)]);
  });

  it('keeps a stacked composite that stays too wide, and says how wide', async () => {
    const warnings: string[] = [];
    const long = 'Pneumonoultramicroscopicsilicovolcanoconiosis-and-more';
    const view = { mark: 'bar', encoding: { y: { field: 't', type: 'nominal', axis: { labelFontSize: 20, labelLimit: 0 } }, x: { field: 'v', type: 'quantitative' } } };
    const chart = await render({ data: { values: [{ t: long, v: 1 }] }, hconcat: [view, view] }, warnings);
    expect(chart.narrow!.width).toBeGreaterThan(NARROW.width);
    expect(chart.narrow!.width).toBeLessThan(chart.width);
    expect(warnings).toEqual([messages.chartNarrowTooWide('x.vl.json', chart.narrow!.width, NARROW.width)]);
  });
});
