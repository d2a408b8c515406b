import { bindChartData } from '../../src/charts/bind.ts';
import { resetVegaAdapter, usesVegaTextMetrics } from '../../src/charts/vega-adapter.ts';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vega from 'vega';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as vl from 'vega-lite';
import {
  compileSpec,
  createChartLoader,
  renderChart,
  renderCharts,
  standaloneSvg,
  type ChartCache,
  type ChartSource,
  type RenderedChart,
} from '../../src/charts/render.ts';
import type { Derived } from '../../src/dataset/derive.ts';
import type { Dataset } from '../../src/dataset/schema.ts';
import { THEME } from '../../src/charts/theme.ts';
import { CliError, InputError } from '../../src/support/error.ts';
import type { FontBytes } from '../../src/text/fonts.ts';
import { messages } from '../../src/support/messages.ts';
import { CHART_IDS, decodeXml, loadFonts, loadRealData, loadSpecs, svgTexts } from '../fixtures/charts/load.ts';

const fontkit = createRequire(import.meta.url)('fontkit') as {
  create(bytes: Buffer): { unitsPerEm: number; layout(text: string): { positions: { xAdvance: number }[] } };
};

interface Figure {
  value: number;
  unit: string;
  scale?: 'thousand' | 'million' | 'billion';
}
interface Deal {
  counterparty: string;
  layer: string;
  order: number;
  status: string;
  amount?: Figure;
  stake?: Figure;
  valuation?: Figure;
}
interface Layer {
  name: string;
  in_ai_stack: boolean;
}

let data: Dataset;
let derived: Derived;
/** The dataset's deals and layers, as the charts read them (records are loose in the core schema). */
let deals: Record<string, Deal>;
let layers: Record<string, Layer>;
let fonts: FontBytes;
let specs: ChartSource[];
let datasets: Record<string, Record<string, unknown>[]>;
let charts: Record<string, RenderedChart>;
let warnings: string[];

beforeAll(async () => {
  ({ data, derived } = await loadRealData());
  deals = data.collections.deals!.records as unknown as Record<string, Deal>;
  layers = data.collections.layers!.records as unknown as Record<string, Layer>;
  fonts = await loadFonts();
  specs = await loadSpecs();
  datasets = bindChartData(data, derived);
  const result = await renderCharts(specs, datasets, { fonts });
  warnings = result.warnings;
  charts = Object.fromEntries(result.charts.map((chart) => [chart.id, chart]));
});

const mapCache = (): ChartCache & { map: Map<string, RenderedChart> } => {
  const map = new Map<string, RenderedChart>();
  return { map, get: (hash) => map.get(hash), set: (hash, chart) => void map.set(hash, chart) };
};

/** The number in a dataset figure as the charts print it: no trailing zeros, thousands unseparated below 1000. */
const printed = (value: number) => String(Number(value.toFixed(1)));

describe('the briefing charts', () => {
  it('renders every chart id from templates/charts, with no Vega-Lite or Vega warnings', () => {
    expect(Object.keys(charts).sort()).toEqual([...CHART_IDS].sort());
    expect(warnings).toEqual([]);
  });

  it('passes Vega-Lite warnings on, naming the spec file', async () => {
    // A sort by sum over layers that filter differently cannot be honoured; Vega-Lite says so and falls back.
    const spec = {
      data: { values: [{ a: 1, b: 'x' }] },
      encoding: { y: { field: 'b', type: 'nominal', sort: { field: 'a', order: 'descending' } }, x: { field: 'a', type: 'quantitative' } },
      layer: [{ transform: [{ filter: 'datum.a > 0' }], mark: 'bar' }, { mark: 'text', encoding: { text: { field: 'b' } } }],
    };
    const collected: string[] = [];
    await renderChart({ id: 'w', file: 'w.vl.json', text: JSON.stringify(spec) }, {}, { fonts, warnings: collected });
    expect(collected.length).toBeGreaterThan(0);
    for (const warning of collected) expect(warning).toMatch(/^w\.vl\.json: warning: /);
  });

  it.each(CHART_IDS)('%s: root <svg> is an accessible image with a title and a desc from the data', (id) => {
    const chart = charts[id]!;
    const root = /^<svg[^>]*>/.exec(chart.svg)![0];
    expect(root).toContain('role="img"');
    const labelledBy = /aria-labelledby="([^"]+)"/.exec(root)![1]!.split(' ');
    expect(labelledBy).toHaveLength(2);
    const title = new RegExp(`<title id="${labelledBy[0]}">([^<]*)</title>`).exec(chart.svg);
    const desc = new RegExp(`<desc id="${labelledBy[1]}">([^<]*)</desc>`).exec(chart.svg);
    expect(decodeXml(title![1]!)).toBe(chart.title);
    expect(decodeXml(desc![1]!)).toBe(chart.description);
    expect(chart.caption.length).toBeGreaterThan(10);
    expect(chart.width).toBe(Number(/width="([\d.]+)"/.exec(root)![1]));
  });

  it('deals: every disclosed amount is labelled and drawn; the undisclosed one is labelled, never drawn as zero', () => {
    const chart = charts.deals!;
    const texts = svgTexts(chart.svg);
    const all = Object.values(deals);
    const disclosed = all.filter((deal) => deal.amount);
    expect(disclosed.length).toBeGreaterThan(0);
    for (const deal of disclosed) {
      expect(deal.amount!.scale).toBe('million');
      expect(texts).toContain(`$${printed(deal.amount!.value)}m`);
      expect(chart.description).toContain(`$${printed(deal.amount!.value)}m`);
    }
    for (const deal of all.filter((d) => !d.amount)) {
      const name = data.entities[deal.counterparty]!.name;
      expect(texts).toContain(name);
      expect(chart.description).toMatch(new RegExp(`${name}[^;]*: undisclosed`));
    }
    expect(texts).toContain('undisclosed');
    expect(texts.some((text) => /\$0(\.0)?m/.test(text))).toBe(false);
    // One bar per disclosed deal, none for the undisclosed one.
    const bars = /<g class="mark-rect role-mark[^"]*">(.*?)<\/g>/.exec(chart.svg)![1]!;
    expect(bars.match(/<path /g)).toHaveLength(disclosed.length);
    expect(chart.title).toMatch(/USD/);
  });

  it('stack: each AI-stack layer shows the company CATL dealt with and the deal status', () => {
    const texts = svgTexts(charts.stack!.svg);
    const inStack = Object.entries(layers).filter(([, layer]) => layer.in_ai_stack);
    expect(inStack.length).toBeGreaterThan(0);
    for (const [layerId, layer] of inStack) {
      expect(texts).toContain(layer.name);
      for (const deal of Object.values(deals).filter((d) => d.layer === layerId)) {
        expect(texts).toContain(data.entities[deal.counterparty]!.name);
        expect(texts.some((text) => text.includes(deal.status))).toBe(true);
        if (deal.stake) expect(texts.some((text) => text.includes(`${printed(deal.stake!.value)}% stake`))).toBe(true);
      }
    }
    const notInStack = Object.values(layers).filter((layer) => !layer.in_ai_stack);
    expect(notInStack.length).toBeGreaterThan(0);
    for (const layer of notInStack) expect(texts).not.toContain(layer.name);
  });

  it('shipments, market share and storage growth label every value with its unit', () => {
    const metrics = Object.values(data.metrics);
    const expectLabel = (id: string, text: string) => {
      expect(svgTexts(charts[id]!.svg)).toContain(text);
      expect(charts[id]!.description).toContain(text);
    };
    for (const m of metrics.filter((m) => m.unit === 'GWh' && m.subject === 'catl')) expectLabel('shipments', `${printed(m.value)} GWh`);
    for (const m of metrics.filter((m) => m.unit === 'percent' && m.subject === 'catl')) expectLabel('market-share', `${printed(m.value)}%`);
    for (const m of metrics.filter((m) => m.unit === 'percent_change')) expectLabel('storage-growth', `+${printed(m.value)}%`);
    expect(charts.shipments!.title).toMatch(/GWh/);
    expect(charts['market-share']!.title).toMatch(/percent/);
    expect(charts['storage-growth']!.title).toMatch(/percent/);
  });

  it('states the change in market share and the growth gap from the derived figures', () => {
    const texts = (id: string) => svgTexts(charts[id]!.svg).join('\n');
    const change = derived.figures.share_change!;
    expect(texts('market-share')).toContain(`${change.value > 0 ? '+' : '−'}${printed(Math.abs(change.value))} percentage points`);
    const gap = derived.figures.storage_growth_gap!;
    expect(texts('storage-growth')).toContain(`${printed(Math.abs(gap.value))} percentage points`);
  });

  it('cites the dataset source of the bound rows under every chart', () => {
    const source = data.sources.vector!;
    for (const id of CHART_IDS) {
      expect(charts[id]!.source).toMatch(/^Source: /);
      expect(charts[id]!.source).toContain(source.publication);
      expect(charts[id]!.source).toContain(`“${source.title}”`);
    }
  });

  it('types no data into a spec: data is a view of the dataset bound by name, and no dataset number appears in the spec text', () => {
    const numbers = new Set<number>();
    for (const m of Object.values(data.metrics)) numbers.add(m.value);
    for (const deal of Object.values(deals)) for (const f of [deal.amount, deal.stake, deal.valuation]) if (f) numbers.add(f.value);
    // The deals chart reads the deal-amounts view; every other chart a view of its own name.
    const expectedName = (id: string) => (id === 'deals' ? 'deal-amounts' : id);
    for (const spec of specs) {
      const parsed = JSON.parse(spec.text) as { data: unknown };
      expect(parsed.data).toEqual({ name: expectedName(spec.id) });
      expect(Object.keys(data.views)).toContain(expectedName(spec.id));
      expect(spec.text).not.toMatch(/"values"\s*:/);
      expect(spec.text).not.toMatch(/"datum"\s*:/);
      const literals = [...spec.text.replace(/"(?:[^"\\]|\\.)*"/g, '""').matchAll(/-?\d+(?:\.\d+)?/g)].map((m) => Math.abs(Number(m[0])));
      for (const literal of literals) expect(numbers.has(literal), `${spec.file}: ${literal}`).toBe(false);
    }
  });

  it('keeps the chart background white and the text in the briefing typeface', () => {
    for (const id of CHART_IDS) {
      expect(charts[id]!.svg).toMatch(/<rect width="[\d.]+" height="[\d.]+" fill="#ffffff"\/>/);
      const families = new Set([...charts[id]!.svg.matchAll(/font-family="([^"]*)"/g)].map((m) => decodeXml(m[1]!)));
      expect([...families]).toEqual([THEME.font]);
    }
  });
});

describe('standaloneSvg', () => {
  it('draws each chart\'s source line under it and grows the canvas to hold it', () => {
    for (const id of CHART_IDS) {
      const chart = charts[id]!;
      const svg = standaloneSvg(chart);
      expect(chart.source).toMatch(/^Sources?: /);
      expect(svgTexts(svg)).toContain(chart.source);
      expect(svgTexts(chart.svg)).not.toContain(chart.source);
      const height = Number(/^<svg[^>]*\sheight="([\d.]+)"/.exec(svg)?.[1]);
      expect(height).toBeGreaterThan(chart.height);
      expect(svg).toContain(`viewBox="0 0 ${chart.width} ${height}"`);
      // The line sits inside the new canvas.
      const y = Number(/<text x="[\d.]+" y="([\d.]+)"[^>]*>[^<]*<\/text><\/svg>$/.exec(svg)?.[1]);
      expect(y).toBeGreaterThan(chart.height);
      expect(y).toBeLessThanOrEqual(height);
    }
  });
});

describe('text measurement', () => {
  const textMetrics = (vega as unknown as { textMetrics: { width(item: object, text: string): number } }).textMetrics;

  function fontkitWidth(bytes: Uint8Array, text: string, size: number): number {
    const font = fontkit.create(Buffer.from(bytes));
    return (font.layout(text).positions.reduce((sum, p) => sum + p.xAdvance, 0) / font.unitsPerEm) * size;
  }

  it("measures a label's width as the sum of the font's advance widths, within 1%, in its own face", () => {
    const label = data.entities[Object.values(deals)[0]!.counterparty]!.name;
    const cases = [
      [{ fontSize: 13 }, fonts.regular],
      [{ fontSize: 14, fontWeight: 'bold' }, fonts.bold],
      [{ fontSize: 12, fontStyle: 'italic' }, fonts.italic],
    ] as const;
    for (const [item, bytes] of cases) {
      const expected = fontkitWidth(bytes, label, item.fontSize);
      expect(Math.abs(textMetrics.width(item, label) - expected) / expected).toBeLessThan(0.01);
    }
  });

  it('sizes the chart to fit a label by its real width', async () => {
    const label = 'Zhongheng Electric and some much wider text WWWW';
    const spec = {
      padding: 0,
      width: 1,
      height: 1,
      data: { values: [{ t: label }] },
      mark: { type: 'text', align: 'left', baseline: 'top', fontSize: 20 },
      encoding: { text: { field: 't' }, x: { value: 0 }, y: { value: 0 } },
    };
    const chart = await renderChart({ id: 'fit', file: 'fit.vl.json', text: JSON.stringify(spec) }, {}, { fonts });
    const expected = fontkitWidth(fonts.regular, label, 20);
    // The layout rounds the view up to whole pixels; the estimate vega uses without a font would be ~40% off.
    expect(chart.width).toBeGreaterThanOrEqual(Math.floor(expected));
    expect(chart.width).toBeLessThanOrEqual(Math.ceil(expected) + 1);
  });
});

describe('determinism and the cache', () => {
  it('renders byte-identical SVG every time, whatever was rendered before in the process', async () => {
    const again = await renderCharts([...specs].reverse(), datasets, { fonts });
    for (const chart of again.charts) {
      expect(chart.svg).toBe(charts[chart.id]!.svg);
      expect(chart.hash).toBe(charts[chart.id]!.hash);
    }
  });

  it('gives each chart its own SVG ids, so charts can share one HTML page', () => {
    const ids = CHART_IDS.flatMap((id) => [...charts[id]!.svg.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('skips an unchanged chart and re-renders one whose spec or data changed', async () => {
    const cache = mapCache();
    const first = await renderCharts(specs, datasets, { fonts, cache });
    expect(first.rendered).toEqual([...CHART_IDS]);
    expect(first.reused).toEqual([]);

    const second = await renderCharts(specs, datasets, { fonts, cache });
    expect(second.rendered).toEqual([]);
    expect(second.reused).toEqual([...CHART_IDS]);
    second.charts.forEach((chart, i) => expect(chart).toBe(first.charts[i]));

    const editedSpecs = specs.map((s) => (s.id === 'deals' ? { ...s, text: s.text.replace('by disclosed amount', 'by amount disclosed') } : s));
    const editedData = { ...datasets, shipments: datasets.shipments!.map((row, i) => (i === 0 ? { ...row, label: `${String(row.label)}*` } : row)) };
    const third = await renderCharts(editedSpecs, editedData, { fonts, cache });
    expect(third.rendered.sort()).toEqual(['deals', 'shipments']);
    expect(third.reused.sort()).toEqual(CHART_IDS.filter((id) => id !== 'deals' && id !== 'shipments').sort());
    expect(third.charts.find((c) => c.id === 'deals')!.title).toContain('by amount disclosed');
  });

  it('compiles a spec with tokens in its title to the Vega spec its filled title gives', () => {
    const texts = ['CATL battery shipments by segment, 2025, GWh', 'Quote " and backslash \\ and “curly” — 39.5%', 'Line one\nline two', '{{not a placeholder}}'];
    for (const source of specs) {
      const spec = JSON.parse(source.text) as Record<string, unknown>;
      for (const [a, b] of [[0, 1], [2, 3], [1, 2]] as const) {
        const direct = vl.compile({ ...spec, title: { text: texts[a], subtitle: [texts[b], 'fixed'] } } as never, { config: THEME }).spec;
        const warnings: string[] = [];
        const viaTokens = compileSpec(source.file, { ...spec, title: { text: '\ue0000\ue001', subtitle: ['\ue0001\ue001', 'fixed'] } } as never, [texts[a]!, texts[b]!], warnings);
        expect(viaTokens.spec).toEqual(JSON.parse(JSON.stringify(direct)));
      }
    }
  });

  it('re-renders when the fonts change', async () => {
    const cache = mapCache();
    await renderCharts(specs.slice(0, 1), datasets, { fonts, cache });
    const swapped: FontBytes = { ...fonts, regular: fonts.bold };
    const result = await renderCharts(specs.slice(0, 1), datasets, { fonts: swapped, cache });
    expect(result.rendered).toEqual([specs[0]!.id]);
  });
});

describe('the loader fence', () => {
  const spec = (url: string) =>
    JSON.stringify({ data: { url }, mark: 'bar', encoding: { x: { field: 'b', type: 'quantitative' }, y: { field: 'a', type: 'nominal' } } });
  let folder: string;
  let readInFolder: (path: string) => Promise<string>;

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'charts-loader-'));
    await writeFile(join(folder, 'inside.csv'), 'a,b\nx,3\n');
    // A reader that would read anything: the fence must stop what it should not see.
    readInFolder = (path) => readFile(join(folder, path), 'utf8');
  });

  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  const render = (url: string, readFile?: (path: string) => Promise<string>) =>
    renderChart({ id: 'fence', file: 'fence.vl.json', text: spec(url) }, {}, { fonts, readFile });

  it('reads a file beside the spec', async () => {
    const chart = await render('inside.csv', readInFolder);
    expect(svgTexts(chart.svg)).toContain('x');
  });

  it.each([
    ['/etc/passwd', messages.chartLoadOutside],
    ['../../../../../../etc/passwd', messages.chartLoadOutside],
    ['http://example.com/data.json', messages.chartLoadUrl],
    ['https://example.com/data.csv', messages.chartLoadUrl],
    ['file:///etc/passwd', messages.chartLoadUrl],
    ['//example.com/data.csv', messages.chartLoadUrl],
  ])('refuses %s', async (url, reason) => {
    const error = await render(url, readInFolder).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as Error).message).toBe(messages.chartRenderFailed('fence.vl.json', messages.chartLoadRefused(url, reason)));
  });

  it('refuses every file when the caller gives no reader, as the briefing build does', async () => {
    await expect(render('inside.csv')).rejects.toThrow(messages.chartLoadRefused('inside.csv', messages.chartLoadNone));
    await expect(createChartLoader().sanitize('x.png', { context: 'image' })).rejects.toThrow(messages.chartLoadNone);
  });

  it('lets an image path through the fence without a reader when asked (a report build reads it later), and refuses data still', async () => {
    const refused: string[] = [];
    const loader = createChartLoader(undefined, undefined, (detail) => refused.push(detail));
    await expect(loader.sanitize('pics/x.png', { context: 'image' })).resolves.toEqual({ href: 'pics/x.png' });
    await expect(loader.sanitize('pics/../../x.png', { context: 'image' })).rejects.toThrow(messages.chartLoadOutside);
    await expect(loader.sanitize('data:image/png;base64,AA==', { context: 'image' })).rejects.toThrow(messages.chartLoadUrl);
    expect(refused).toEqual([messages.chartLoadRefused('pics/../../x.png', messages.chartLoadOutside), messages.chartLoadRefused('data:image/png;base64,AA==', messages.chartLoadUrl)]);
    await expect(loader.load('inside.csv')).rejects.toThrow(messages.chartLoadNone);
    await expect(loader.sanitize('inside.csv', { context: 'dataflow', response: 'csv' })).rejects.toThrow(messages.chartLoadNone);
    const image = JSON.stringify({ data: { values: [{ a: 1 }] }, mark: { type: 'image', width: 5, height: 5 }, encoding: { x: { field: 'a', type: 'quantitative' }, url: { value: '../x.png' } } });
    await expect(renderChart({ id: 'fence', file: 'fence.vl.json', text: image }, {}, { fonts, imageHrefs: true })).rejects.toThrow(
      messages.chartImageRefused('fence.vl.json', messages.chartLoadRefused('../x.png', messages.chartLoadOutside)),
    );
    const shown = await renderChart({ id: 'fence', file: 'fence.vl.json', text: image.replace('../x.png', 'x.png') }, {}, { fonts, imageHrefs: true });
    expect(shown.svg).toMatch(/<image [^>]*href="x\.png"/);
  });
});

describe('invalid specs', () => {
  /** The error rendering `text` throws; a spec that renders fails the test. */
  const render = (text: string): Promise<Error> =>
    renderChart({ id: 'bad', file: 'specs/bad.vl.json', text }, {}, { fonts }).then(
      () => {
        throw new Error('expected the spec to be refused');
      },
      (error: unknown) => error as Error,
    );
  const values = { values: [{ a: 'x', b: 1 }] };

  it('bad JSON names the file and the parser message', async () => {
    const error = await render('{"mark": "bar",');
    expect(error).toBeInstanceOf(CliError);
    expect(error.message).toMatch(/^specs\/bad\.vl\.json: not valid JSON \(.+\)/);
  });

  it('an unknown mark names the file, the mark and the marks Vega-Lite allows', async () => {
    const error = await render(JSON.stringify({ data: values, mark: 'bogus' }));
    expect(error.message).toMatch(/^specs\/bad\.vl\.json: not a valid Vega-Lite spec: mark: "bogus" is not allowed/);
    expect(error.message).toContain('"bar"');
  });

  it('a field not in the data names the file, the channel and the fields there are', async () => {
    const error = await render(JSON.stringify({ data: values, mark: 'bar', encoding: { x: { field: 'amount', type: 'quantitative' } } }));
    expect(error.message).toBe(messages.chartUnknownField('specs/bad.vl.json', 'amount', 'encoding.x', ['a', 'b']));
  });

  it('a schema violation names the file and the property', async () => {
    const error = await render(JSON.stringify({ data: values, mark: 'bar', encoding: { x: { field: 'b', type: 'numeric' } } }));
    expect(error.message).toMatch(/^specs\/bad\.vl\.json: not a valid Vega-Lite spec: encoding\.x\.type: "numeric" is not allowed/);
  });

  it('a data name the build does not provide is an input error at the name in the spec file, listing the names it does', async () => {
    const text = '{\n  "mark": "bar",\n  "data": { "name": "nope" }\n}\n';
    const error = await renderChart({ id: 'bad', file: 'specs/bad.vl.json', text }, { shipments: [], stack: [] }, { fonts }).then(
      () => {
        throw new Error('expected the spec to be refused');
      },
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(InputError);
    const input = error as InputError;
    expect(input.file).toBe('specs/bad.vl.json');
    const line = 3;
    const column = text.split('\n')[line - 1]!.indexOf('"name"') + 1;
    expect(input.issues).toEqual([{ file: 'specs/bad.vl.json', line, column, path: 'data.name', message: messages.chartMissingData('nope', ['shipments', 'stack']) }]);
    expect(error.message).toContain(`specs/bad.vl.json:${line}:${column}`);
  });

  it('an unknown data name with nothing bound says there is nothing to name', async () => {
    const error = await render(JSON.stringify({ data: { name: 'nope' }, mark: 'bar' }));
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).issues.map((issue) => issue.message)).toEqual([messages.chartMissingData('nope', [])]);
  });

  it('a real spec whose data name is misspelled lists the names the dataset has', async () => {
    const source = specs.find((s) => s.id === 'deals')!;
    const text = source.text.replace('"deal-amounts"', '"deal-amount"');
    const error = await renderChart({ ...source, text }, datasets, { fonts }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    const [issue] = (error as InputError).issues;
    expect(issue!.file).toBe(source.file);
    expect(issue!.line).toBe(text.slice(0, text.indexOf('"name": "deal-amount"')).split('\n').length);
    expect(issue!.message).toBe(messages.chartMissingData('deal-amount', Object.keys(datasets)));
  });

  it('a {{field}} that the rows lack names the field', async () => {
    const error = await render(JSON.stringify({ title: 'Total {{missing}}', data: values, mark: 'bar' }));
    expect(error.message).toBe(messages.chartTemplateField('specs/bad.vl.json', 'missing', 'values'));
  });
});

describe('bindChartData', () => {
  it('binds the undisclosed amount as null with the word "undisclosed", never zero', () => {
    const rows = datasets['deal-amounts']!;
    expect(rows).toHaveLength(Object.keys(deals).length);
    for (const [id, deal] of Object.entries(deals)) {
      const row = rows.find((r) => r.deal === id)!;
      if (deal.amount) {
        expect(row.amount_usd_m).toBe(deal.amount.value * (deal.amount.scale === 'billion' ? 1000 : 1));
        expect(row.label).toBe(`$${printed(deal.amount.value)}m`);
      }
      else {
        expect(row.amount_usd_m).toBeNull();
        expect(row.label).toBe('undisclosed');
      }
    }
  });

  it('binds a row per metric of each chart, with the values as given', () => {
    const byUnit = (unit: string) => Object.values(data.metrics).filter((m) => m.unit === unit).map((m) => m.value).sort();
    expect(datasets.shipments!.map((r) => r.value).sort()).toEqual(byUnit('GWh'));
    expect(datasets['market-share']!.map((r) => r.value).sort()).toEqual(byUnit('percent'));
    expect(datasets['storage-growth']!.map((r) => r.value).sort()).toEqual(byUnit('percent_change'));
  });

  it('binds rows for every view, collection and table by name, plus entities and metrics', () => {
    const names = [...Object.keys(data.views), ...Object.keys(data.collections), 'entities', 'metrics'];
    expect(Object.keys(datasets).sort()).toEqual([...new Set(names)].sort());
    for (const [name, view] of Object.entries(derived.views)) expect(datasets[name], name).toHaveLength(view.rows.length);
  });

  it("gives a collection's records their id and figure fields as their written numbers, each row with its source", () => {
    const rows = datasets.deals!;
    expect(rows.map((row) => row.id)).toEqual(Object.keys(deals));
    for (const row of rows) {
      const deal = deals[row.id as string]!;
      expect(row.amount).toBe(deal.amount?.value);
      expect(row.stake).toBe(deal.stake?.value);
      expect(row.counterparty).toBe(deal.counterparty);
      expect(row.source).toContain(data.sources.vector!.publication);
    }
  });

  it('sorts a view as declared and fills its computed fields from the derived figures', () => {
    const rows = datasets['deal-amounts']!;
    const order = Object.entries(deals)
      .sort(([, a], [, b]) => a.order - b.order)
      .map(([id]) => id);
    expect(rows.map((row) => row.deal)).toEqual(order);
    const total = Object.values(deals).reduce((sum, deal) => sum + (deal.amount ? deal.amount.value * (deal.amount.scale === 'billion' ? 1000 : 1) : 0), 0);
    for (const row of rows) expect(row.total_label).toBe(`$${(total / 1000).toFixed(2)}bn`);
  });

  it('binds a table collection as its rows, each citing the table source', () => {
    const table = structuredClone(data);
    table.collections.sales = { label: 'Sales', source: 'vector', fields: { year: 'integer', units: 'integer' }, rows: [{ year: 2024, units: 10 }, { year: 2025, units: 12 }] };
    const bound = bindChartData(table, derived);
    expect(bound.sales).toEqual([
      { year: 2024, units: 10, source: expect.stringContaining(data.sources.vector!.title) },
      { year: 2025, units: 12, source: expect.stringContaining(data.sources.vector!.title) },
    ]);
  });
});

describe('the vega adapter on its public path (another vega, or BRIEFING_PUBLIC_APIS=1)', () => {
  it("renders every chart with vega's own text estimate, and measures with our fonts again after", async () => {
    process.env.BRIEFING_PUBLIC_APIS = '1';
    resetVegaAdapter();
    let estimated: string[];
    try {
      expect(usesVegaTextMetrics()).toBe(false);
      const result = await renderCharts(specs, datasets, { fonts });
      estimated = result.charts.map((chart) => chart.svg);
      for (const svg of estimated) expect(svg).toMatch(/^<svg[^>]*role="img"/);
    } finally {
      delete process.env.BRIEFING_PUBLIC_APIS;
      resetVegaAdapter();
    }
    expect(usesVegaTextMetrics()).toBe(true);
    // With our fonts measuring again, the same specs give the same SVG as the build's.
    const measured = await renderCharts(specs, datasets, { fonts });
    expect(measured.charts.map((chart) => chart.svg)).toEqual(Object.values(charts).map((chart) => chart.svg));
  });
});

describe('every valid spec', () => {
  let folder: string;
  /** Rows the data files hold; expected marks are computed from these, never from an output. */
  const population = [2000, 2010].flatMap((year) => [0, 5, 10, 15].flatMap((age) => [1, 2].map((sex) => ({ year, age, sex, people: year + age * 100 + sex * 7 }))));
  const values = [3, 7, 12, 14, 18, 25, 33, 34, 36, 39, 47];
  const cities = [
    { city: 'Oslo', jan: 2, feb: 3, mar: 6 },
    { city: 'Rome', jan: 12, feb: 13, mar: 16 },
  ];
  const toCsv = (rows: Record<string, unknown>[]) => [Object.keys(rows[0]!).join(','), ...rows.map((row) => Object.values(row).join(','))].join('\n') + '\n';

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'charts-valid-'));
    await writeFile(join(folder, 'population.csv'), toCsv(population));
    await writeFile(join(folder, 'values.json'), JSON.stringify(values.map((v) => ({ v }))));
    await writeFile(join(folder, 'cities.csv'), toCsv(cities));
  });

  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  const render = (spec: object, warnings: string[] = [], id = 'valid') =>
    renderChart({ id, file: `${id}.vl.json`, text: JSON.stringify(spec) }, {}, { fonts, readFile: (path) => readFile(join(folder, path), 'utf8'), warnings });
  /** The items drawn by each mark group of one kind (rect for bars, symbol for points, rule). */
  const marks = (svg: string, kind: string) =>
    [...svg.matchAll(new RegExp(`<g class="mark-${kind} role-mark[^"]*"[^>]*>(.*?)</g>`, 'g'))].map((m) => (m[1]!.match(/<(?:path|line) /g) ?? []).length);

  it('an aggregated bar chart reads its field before the aggregate: a bar per age, its title named after the field', async () => {
    const chart = await render({
      data: { url: 'population.csv' },
      transform: [{ filter: 'datum.year == 2000' }],
      mark: 'bar',
      encoding: { x: { aggregate: 'sum', field: 'people' }, y: { field: 'age', type: 'ordinal' } },
    });
    const ages = new Set(population.filter((row) => row.year === 2000).map((row) => row.age));
    expect(marks(chart.svg, 'rect')).toEqual([ages.size]);
    const texts = svgTexts(chart.svg);
    for (const age of ages) expect(texts).toContain(String(age));
    expect(texts).toContain('Sum of people');
  });

  it('a binned histogram: a bar per filled bin of a bin transform, read as the bin and its _end', async () => {
    const step = 10;
    const chart = await render({
      data: { url: 'values.json' },
      transform: [{ bin: { step }, field: 'v', as: 'bucket' }],
      mark: 'bar',
      encoding: { x: { field: 'bucket', bin: { binned: true, step } }, x2: { field: 'bucket_end' }, y: { aggregate: 'count' } },
    });
    const filled = new Set(values.map((v) => Math.floor(v / step)));
    expect(marks(chart.svg, 'rect')).toEqual([filled.size]);
    expect(svgTexts(chart.svg)).toContain(String(Math.max(...filled) * step));
  });

  it('encoding-level bin and aggregate read the input field', async () => {
    const chart = await render({ data: { url: 'values.json' }, mark: 'bar', encoding: { x: { field: 'v', bin: true }, y: { aggregate: 'count' } } });
    expect(marks(chart.svg, 'rect')[0]).toBeGreaterThan(1);
    expect(svgTexts(chart.svg)).toContain('v (binned)');
  });

  it('a folded spec: a bar per city and month, the months as axis labels', async () => {
    const months = ['jan', 'feb', 'mar'];
    const chart = await render({
      data: { url: 'cities.csv' },
      transform: [{ fold: months }],
      mark: 'bar',
      encoding: { x: { field: 'key', type: 'nominal', sort: months }, xOffset: { field: 'city' }, y: { field: 'value', type: 'quantitative' }, color: { field: 'city' } },
    });
    expect(marks(chart.svg, 'rect')).toEqual([cities.length * months.length]);
    const texts = svgTexts(chart.svg);
    for (const name of [...months, ...cities.map((c) => c.city)]) expect(texts).toContain(name);
  });

  const inline = { values: [{ a: { b: 1 }, 'c.d': 2, t: '2024-01-15', g: 'x' }, { a: { b: 3 }, 'c.d': 4, t: '2024-02-15', g: 'y' }] };
  /** One small view per naming Vega-Lite knows, side by side in one spec: one render for all. */
  const views: [string, object][] = [
    ['fold as', { transform: [{ fold: ['c\\.d'], as: ['k', 'n'] }], mark: 'bar', encoding: { x: { field: 'k' }, y: { field: 'n', type: 'quantitative' } } }],
    ['timeUnit as', { transform: [{ timeUnit: 'month', field: 't', as: 'm' }], mark: 'bar', encoding: { x: { field: 'm', timeUnit: 'month' }, y: { field: 'a.b', type: 'quantitative' } } }],
    ['timeUnit in encoding', { mark: 'bar', encoding: { x: { field: 't', timeUnit: 'month', type: 'ordinal' }, y: { field: 'a.b', aggregate: 'sum' } } }],
    ['window and joinaggregate', { transform: [{ window: [{ op: 'rank', as: 'r' }] }, { joinaggregate: [{ op: 'max', field: 'r', as: 'top' }] }], mark: 'point', encoding: { x: { field: 'r', type: 'quantitative' }, y: { field: 'top', type: 'quantitative' } } }],
    ['calculate, nested and escaped fields', { transform: [{ calculate: 'datum.a.b * 2', as: 'twice' }], mark: 'point', encoding: { x: { field: 'twice', type: 'quantitative' }, y: { field: 'c\\.d', type: 'quantitative' }, color: { field: 'a.b' } } }],
    ['lookup from.fields', { transform: [{ lookup: 'g', from: { data: { values: [{ g: 'x', w: 5 }] }, key: 'g', fields: ['w'] } }], mark: 'point', encoding: { x: { field: 'w', type: 'quantitative' }, y: { field: 'g' } } }],
    ['lookup of a whole record', { transform: [{ lookup: 'g', from: { data: { values: [{ g: 'x', w: 5 }] }, key: 'g' }, as: 'rec' }], mark: 'point', encoding: { x: { field: 'rec.w', type: 'quantitative' }, y: { field: 'g' } } }],
    ['a layer with its own data', { layer: [{ mark: 'point', encoding: { x: { field: 'g' } } }, { data: { values: [{ z: 1 }] }, mark: 'rule', encoding: { y: { field: 'z', type: 'quantitative' } } }] }],
    ['a shared encoding over layers', { encoding: { x: { field: 'g' }, y: { field: 'sum', type: 'quantitative' } }, layer: [{ transform: [{ aggregate: [{ op: 'sum', field: 'c\\.d', as: 'sum' }], groupby: ['g'] }], mark: 'bar' }] }],
    ['repeat', { repeat: { row: ['g', 't'] }, spec: { mark: 'bar', encoding: { x: { field: { repeat: 'row' }, type: 'nominal' }, y: { aggregate: 'count' } } } }],
    ['facet and concat', { hconcat: [{ facet: { field: 'g' }, spec: { mark: 'point', encoding: { x: { field: 'a.b', type: 'quantitative' } } } }, { mark: 'bar', encoding: { x: { field: 'g' } } }] }],
  ];

  it("understands Vega-Lite's names for derived fields in every kind of view, nested and escaped field paths, repeat refs", async () => {
    const warnings: string[] = [];
    const chart = await render({ data: inline, vconcat: views.map(([, view]) => view) }, warnings);
    expect(warnings).toEqual([]);
    // Every view drew something: a mark group per view at least.
    expect((chart.svg.match(/<g class="mark-(?:rect|symbol|rule) role-mark/g) ?? []).length).toBeGreaterThanOrEqual(views.length);
  });

  it('still refuses a field the input lacks and no transform makes, listing what the view can read', async () => {
    const spec = { data: { url: 'population.csv' }, transform: [{ calculate: 'datum.people / 2', as: 'half' }], mark: 'bar', encoding: { x: { aggregate: 'sum', field: 'peple' }, y: { field: 'age', type: 'ordinal' } } };
    await expect(render(spec)).rejects.toThrow(messages.chartUnknownField('valid.vl.json', 'peple', 'encoding.x', [...Object.keys(population[0]!), 'half'].sort()));
    const nested = { data: inline, mark: 'point', encoding: { x: { field: 'c.d', type: 'quantitative' } } };
    await expect(render(nested)).rejects.toThrow(messages.chartUnknownField('valid.vl.json', 'c.d', 'encoding.x', Object.keys(inline.values[0]!).sort()));
  });

  it('renders named top-level datasets, in a layer and at the top', async () => {
    const chart = await render({
      datasets: { pts: [{ x: 1 }, { x: 2 }, { x: 3 }], line: [{ y: 2 }] },
      data: { name: 'pts' },
      layer: [{ mark: 'point', encoding: { x: { field: 'x', type: 'quantitative' } } }, { data: { name: 'line' }, mark: 'rule', encoding: { x: { field: 'y', type: 'quantitative' } } }],
    });
    expect(marks(chart.svg, 'symbol')).toEqual([3]);
    expect(marks(chart.svg, 'rule')).toEqual([1]);
  });

  it('seeds random(): two renders give byte-identical SVG, whatever rendered between', async () => {
    const spec = { data: { values: Array.from({ length: 20 }, (_, i) => ({ i })) }, transform: [{ calculate: 'random()', as: 'r' }], mark: 'point', encoding: { x: { field: 'i', type: 'quantitative' }, y: { field: 'r', type: 'quantitative' } } };
    const first = await render(spec, [], 'random');
    await render({ ...spec, transform: [{ calculate: 'random() * 2', as: 'r' }] }, [], 'random');
    const second = await render(spec, [], 'random');
    expect(second.svg).toBe(first.svg);
    // The points are drawn at random heights, not all at one.
    const ys = new Set([...first.svg.matchAll(/<path transform="translate\([\d.]+,([\d.]+)\)"/g)].map((m) => m[1]));
    expect(ys.size).toBeGreaterThan(10);
  });

  it('draws a timer animation as a still, the same every run, and says so once', async () => {
    const spec = {
      // Read from a file: ticks come while the event loop waits for it.
      data: { url: 'population.csv' },
      params: [{ name: 'frame', select: { type: 'point', fields: ['year'], on: 'timer' } }],
      transform: [{ filter: { param: 'frame' } }],
      mark: 'point',
      encoding: { x: { field: 'people', type: 'quantitative' }, y: { field: 'age', type: 'ordinal' }, time: { field: 'year', type: 'ordinal' } },
    };
    const warnings: string[] = [];
    const first = await render(spec, warnings, 'timer');
    const second = await render(spec, [], 'timer');
    expect(second.svg).toBe(first.svg);
    expect(warnings).toEqual([messages.chartWarning('timer.vl.json', messages.chartTimerBlocked)]);
  });

  it('draws an interval brush as it stands, saying once that its window events do nothing in a chart file', async () => {
    const warnings: string[] = [];
    const spec = {
      data: { values: [{ a: 1, b: 2 }, { a: 2, b: 3 }, { a: 3, b: 1 }] },
      params: [{ name: 'brush', select: 'interval' }, { name: 'pan', select: 'interval', bind: 'scales' }],
      mark: 'point',
      encoding: { x: { field: 'a', type: 'quantitative' }, y: { field: 'b', type: 'quantitative' } },
    };
    const chart = await render(spec, warnings, 'brush');
    expect(chart.svg.match(/<path transform=/g)?.length).toBe(3);
    expect(warnings).toEqual([messages.chartWarning('brush.vl.json', messages.chartEventSourceStatic('window'))]);
  });

  it('writes web links of an href encoding and leaves out any other, with a warning', async () => {
    const warnings: string[] = [];
    const links = { values: [{ u: 'https://example.com/a?q=1' }, { u: 'javascript:alert(1)' }] };
    const chart = await render({ data: links, mark: 'point', encoding: { y: { field: 'u' }, href: { field: 'u' } } }, warnings);
    expect(chart.svg).toContain('xlink:href="https://example.com/a?q=1"');
    expect(chart.svg).not.toMatch(/href="javascript/);
    expect(marks(chart.svg, 'symbol')).toEqual([2]);
    expect(warnings).toEqual([messages.chartWarning('valid.vl.json', messages.chartLinkDropped('javascript:alert(1)'))]);
  });
});

describe('the schema check', () => {
  const render = (spec: object, warnings: string[] = []) =>
    renderChart({ id: 'schema', file: 'specs/schema.vl.json', text: JSON.stringify(spec) }, {}, { fonts, warnings });
  const data = { values: [{ a: 'x', b: 1, c: 0 }] };

  it('explains a spec vega-lite cannot compile at the misspelt mark', async () => {
    await expect(render({ data, mark: { type: 'barr' } })).rejects.toThrow(/^specs\/schema\.vl\.json: not a valid Vega-Lite spec: mark\.type: "barr" is not allowed \(allowed: .*"bar"/);
  });

  it('accepts a spec newer than the schema that vega-lite compiles without a warning', async () => {
    const warnings: string[] = [];
    const tooltip = [{ field: 'a' }, { field: 'c', type: 'quantitative', filter: { not: { equal: 0 } } }];
    const chart = await render({ data, mark: 'bar', encoding: { x: { field: 'a' }, y: { field: 'b', type: 'quantitative' }, tooltip } }, warnings);
    expect(chart.svg).toMatch(/^<svg/);
    expect(warnings).toEqual([]);
  });

  it("where vega-lite warns and falls back, adds the schema's finding as a warning and renders", async () => {
    const warnings: string[] = [];
    const chart = await render({ data, mark: 'bar', encoding: { x: { field: 'a' }, y: { field: 'b', aggregate: 'summ' } } }, warnings);
    expect(chart.svg).toMatch(/^<svg/);
    expect(warnings.some((w) => w.startsWith('specs/schema.vl.json: warning: not valid by the schema of Vega-Lite') && w.includes('encoding.y.aggregate: "summ" is not allowed'))).toBe(true);
  });
});
