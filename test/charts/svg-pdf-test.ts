import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import PDFDocument from 'pdfkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindChartData } from '../../src/charts/bind.ts';
import { renderChart, renderCharts, type ChartReadFile, type RenderedChart } from '../../src/charts/render.ts';
import { FONT_FAMILY, FONT_STACK, type FontBytes } from '../../src/text/fonts.ts';
import { messages } from '../../src/support/messages.ts';
import { drawSvg, fitDash, PX_TO_PT, registerFonts, renderChartPdf, type DrawSvgOptions } from '../../src/charts/svg-pdf.ts';
import { loadFonts, loadRealData, loadSpecs, svgTexts } from '../fixtures/charts/load.ts';
import { readPdf } from '../fixtures/charts/pdf.ts';
import { tinyPng } from '../fixtures/charts/png.ts';

let fonts: FontBytes;
let charts: RenderedChart[];

beforeAll(async () => {
  const { data, derived } = await loadRealData();
  fonts = await loadFonts();
  charts = (await renderCharts(await loadSpecs(), bindChartData(data, derived), { fonts })).charts;
});

/** Draws `svg` into a fresh one-page document and returns its bytes. */
async function drawAlone(svg: string, options: Partial<DrawSvgOptions> = {}, faces: FontBytes = fonts): Promise<Uint8Array> {
  const doc = new PDFDocument({ size: [200, 100], margin: 0, info: { CreationDate: new Date(0) } });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise((resolve) => doc.on('end', resolve));
  registerFonts(doc, faces);
  drawSvg(doc, svg, 0, 0, { width: 200, height: 100, ...options });
  doc.end();
  await done;
  return new Uint8Array(Buffer.concat(chunks));
}

const textSvg = (attrs: string, text: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 200 100"><text x="10" y="50" font-family="&quot;Source Sans 3&quot;, sans-serif" font-size="16px" ${attrs}>${text}</text></svg>`;

describe('renderChartPdf', () => {
  it('puts each chart alone on a page of its size, as vectors with its text as text', async () => {
    for (const chart of charts) {
      const pdf = await readPdf(await renderChartPdf(chart, fonts));
      expect(pdf.pages).toBe(1);
      expect(pdf.size[0]).toBeCloseTo(chart.width * PX_TO_PT, 3);
      expect(pdf.size[1]).toBeCloseTo(chart.height * PX_TO_PT, 3);
      expect(pdf.images).toBe(0);
      expect(pdf.raw).not.toMatch(/\/Subtype\s*\/Image/);
      const pdfText = pdf.text.join('');
      for (const label of svgTexts(chart.svg)) expect(pdfText.replace(/\s/g, '')).toContain(label.replace(/\s/g, ''));
    }
  });

  it('embeds the briefing fonts as subsets', async () => {
    const pdf = await readPdf(await renderChartPdf(charts[0]!, fonts));
    expect(pdf.raw).toMatch(/\/FontFile2/);
    expect(pdf.raw).toMatch(/\/BaseFont \/[A-Z]{6}\+SourceSans3-Regular/);
    expect(pdf.raw).toMatch(/\/BaseFont \/[A-Z]{6}\+SourceSans3-Bold/);
  });

  it('is byte-identical for the same chart and date, and records the date given', async () => {
    const a = await renderChartPdf(charts[1]!, fonts);
    const b = await renderChartPdf(charts[1]!, fonts);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const dated = Buffer.from(await renderChartPdf(charts[1]!, fonts, { creationDate: new Date(Date.UTC(2026, 10, 29)) })).toString('latin1');
    // pdfkit writes each date as its own object, so look for the date string itself.
    expect(dated).toContain('(D:20261129000000Z)');
    expect(Buffer.from(a).toString('latin1')).toContain('(D:19700101000000Z)');
    expect(Buffer.from(a).toString('latin1')).not.toContain('(D:20261129000000Z)');
  });

  it('tags the chart as a Figure with its description as alt text', async () => {
    const raw = Buffer.from(await renderChartPdf(charts[0]!, fonts)).toString('latin1');
    expect(raw).toMatch(/\/S \/Figure/);
    expect(raw).toContain('/Alt');
  });
});

describe('drawSvg', () => {
  it.each([
    ['font-weight="bold"', 'SourceSans3-Bold'],
    ['font-weight="700"', 'SourceSans3-Bold'],
    ['font-style="italic"', 'SourceSans3-Italic'],
    ['font-weight="600" font-style="oblique"', 'SourceSans3-BoldItalic'],
    ['', 'SourceSans3-Regular'],
  ])('draws text with %s in the real %s face', async (attrs, face) => {
    const pdf = await readPdf(await drawAlone(textSvg(attrs, 'Zhongheng')));
    expect(pdf.text.join('')).toBe('Zhongheng');
    // Each embedded font names itself twice (the Type0 font and its descendant).
    const fontsUsed = [...new Set([...pdf.raw.matchAll(/\/BaseFont \/[A-Z]{6}\+([\w-]+)/g)].map((m) => m[1]))];
    expect(fontsUsed).toEqual([face]);
  });

  it('refuses an image rather than embedding a raster', async () => {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="200" height="100"><image x="0" y="0" width="10" height="10" xlink:href="photo.png"/></svg>`;
    await expect(drawAlone(svg)).rejects.toThrow(/image/);
  });
});

/** The page content streams of a PDF, inflated (pdfkit compresses them). */
function contentStreams(bytes: Uint8Array): string {
  const raw = Buffer.from(bytes);
  const text = raw.toString('latin1');
  let content = '';
  for (const match of text.matchAll(/<<([^]*?)>>\s*stream\r?\n/g)) {
    const dict = match[1]!;
    const length = Number(/\/Length (\d+)/.exec(dict)?.[1]);
    const start = match.index! + match[0].length;
    const data = raw.subarray(start, start + length);
    const decoded = (/\/FlateDecode/.test(dict) ? inflateSync(data) : data).toString('latin1');
    // Font files and images are streams too, and binary; page content is text.
    if (/^[\t\n\r\x20-\x7e]*$/.test(decoded)) content += `${decoded}\n`;
  }
  return content;
}

/** Every RGB fill colour a content stream sets ("r g b rg", or "/DeviceRGB cs r g b scn" as pdfkit 0.20 writes it). */
function fillColours(content: string): number[][] {
  return [...content.matchAll(/(?:\/DeviceRGB cs\s+)?([\d.]+) ([\d.]+) ([\d.]+) (?:rg|scn)\b/g)].map((m) => m.slice(1, 4).map(Number));
}

/** The fill (ca) or stroke (CA) opacities of a PDF's ExtGState dictionaries. */
function opacities(bytes: Uint8Array, key: 'ca' | 'CA'): number[] {
  return [...Buffer.from(bytes).toString('latin1').matchAll(new RegExp(`/${key} ([\\d.]+)`, 'g'))].map((m) => Number(m[1]));
}

/** Every dash operator ("[4 2] 0 d") in a content stream, as numbers. */
function dashOperators(content: string): { dash: number[]; phase: number }[] {
  return [...content.matchAll(/\[([\d.\s]*)\]\s+([\d.]+)\s+d\b/g)].map((m) => ({
    dash: m[1]!.trim() ? m[1]!.trim().split(/\s+/).map(Number) : [],
    phase: Number(m[2]),
  }));
}

/** Renders a small inline spec as `npm run chart` does. */
async function chartOf(spec: object, options: { readFile?: ChartReadFile; warnings?: string[] } = {}): Promise<RenderedChart> {
  return renderChart({ id: 'test', file: 'test.vl.json', text: JSON.stringify(spec) }, {}, { fonts, ...options });
}

const squash = (text: string) => text.replace(/\s+/g, '');

describe('fitDash', () => {
  it('draws a pattern without gaps, or of zeros only, solid', () => {
    expect(fitDash([1, 0])).toBeNull();
    expect(fitDash([0, 0])).toBeNull();
    expect(fitDash([5, 0, 3, 0])).toBeNull();
  });

  it('keeps a valid pattern, repeating an odd one as SVG does', () => {
    expect(fitDash([4, 2])).toEqual({ dash: [4, 2], offset: 0 });
    expect(fitDash([3])).toEqual({ dash: [3, 3], offset: 0 });
    expect(fitDash([1, 2, 3])).toEqual({ dash: [1, 2, 3, 1, 2, 3], offset: 0 });
  });

  it('joins the dashes either side of a zero gap, the last into the first by moving the offset', () => {
    expect(fitDash([4, 0, 2, 3])).toEqual({ dash: [6, 3], offset: 0 });
    // 2 on, 3 off, 4 on, no gap: the 4 runs into the next period's 2, so the pattern starts 4 earlier.
    expect(fitDash([2, 3, 4, 0])).toEqual({ dash: [6, 3], offset: 4 });
  });

  it('draws a zero-length dash as a dot too short to see with butt caps and round with round caps', () => {
    const fitted = fitDash([0, 4])!;
    expect(fitted.dash[0]).toBeGreaterThan(0);
    expect(fitted.dash[0]).toBeLessThan(0.01);
    expect(fitted.dash[1]).toBe(4);
  });

  it('leaves a list that is no dash array alone', () => {
    expect(fitDash([4, -1])).toBeUndefined();
    expect(fitDash([Number.NaN])).toBeUndefined();
  });
});

describe('chart PDFs', () => {
  it('draws a strokeDash encoding with its dash patterns, and vega\'s solid "1,0" solid', async () => {
    const chart = await chartOf({
      data: { values: [{ x: 1, y: 1, k: 'a' }, { x: 2, y: 3, k: 'a' }, { x: 1, y: 2, k: 'b' }, { x: 2, y: 1, k: 'b' }] },
      mark: 'line',
      encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' }, strokeDash: { field: 'k', type: 'nominal' } },
    });
    const dashed = [...chart.svg.matchAll(/stroke-dasharray="([^"]*)"/g)].map((m) => m[1]!.split(',').map(Number));
    expect(dashed.some((d) => d.includes(0))).toBe(true);
    const ops = dashOperators(contentStreams(await renderChartPdf(chart, fonts)));
    for (const pattern of dashed.filter((d) => !d.includes(0))) expect(ops.map((op) => op.dash)).toContainEqual(pattern);
    expect(ops.every((op) => op.dash.every((length) => length > 0))).toBe(true);
    expect(ops.some((op) => op.dash.length === 0)).toBe(true);
  });

  const BLUE: [number, number, number] = [0, 0x72, 0xb2];
  it.each([
    ['#0072b280', 1, BLUE, 0x80 / 255],
    ['#07b8', 1, [0, 0x77, 0xbb], 0x88 / 255],
    ['rgba(0, 114, 178, 0.5)', 1, BLUE, 0.5],
    ['rgba(0%, 44.7%, 69.8%, 0.5)', 1, BLUE, 0.5],
    ['hsla(201.6, 100%, 34.9%, 0.5)', 1, BLUE, 0.5],
    ['#0072b2', 0.5, BLUE, 1],
  ] as const)('keeps the colour and alpha of fill %s (fill-opacity %s) in the PDF', async (fill, fillOpacity, rgb, alpha) => {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"><rect x="10" y="10" width="50" height="50" fill="${fill}" fill-opacity="${fillOpacity}"/></svg>`;
    const bytes = await drawAlone(svg);
    expect(fillColours(contentStreams(bytes))[0]).toEqual(rgb.map((channel) => expect.closeTo(channel / 255, 2)));
    expect(opacities(bytes, 'ca')).toEqual([expect.closeTo(alpha * fillOpacity, 3)]);
  });

  it('multiplies an 8-digit stroke colour\'s alpha with stroke-opacity', async () => {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"><path d="M0,0L50,50" stroke="#ff000080" stroke-opacity="0.5"/></svg>`;
    expect(opacities(await drawAlone(svg), 'CA')).toEqual([expect.closeTo((0x80 / 255) * 0.5, 3)]);
  });

  it('keeps an #RRGGBBAA fill of a Vega-Lite mark', async () => {
    const chart = await chartOf({ data: { values: [{ a: 'x', b: 2 }] }, mark: { type: 'bar', fill: '#e69f0080' }, encoding: { x: { field: 'a', type: 'nominal' }, y: { field: 'b', type: 'quantitative' } } });
    expect(chart.svg).toContain('fill="#e69f0080"');
    const bytes = await renderChartPdf(chart, fonts);
    expect(fillColours(contentStreams(bytes))).toContainEqual([expect.closeTo(0xe6 / 255, 3), expect.closeTo(0x9f / 255, 3), 0]);
    expect(opacities(bytes, 'ca')).toContainEqual(expect.closeTo(0x80 / 255, 3));
  });

  describe('image marks', () => {
    let dir: string;
    const readText = (): ChartReadFile => async (path) => readFile(join(dir, path), 'utf8');
    const readBytes = async (path: string) => new Uint8Array(await readFile(join(dir, path)));
    const spec = (url: string) => ({ data: { values: [{ x: 1, y: 1, img: url }] }, mark: { type: 'image', width: 20, height: 20 }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' }, url: { field: 'img', type: 'nominal' } } });
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'svg-pdf-'));
      await writeFile(join(dir, 'dot.png'), tinyPng(4, [230, 159, 0]));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it('draws an image in the spec\'s folder into the PDF, read through the reader it is given', async () => {
      const chart = await chartOf(spec('dot.png'), { readFile: readText() });
      const asked: string[] = [];
      const warnings: string[] = [];
      const bytes = await renderChartPdf(chart, fonts, { readFile: async (path) => (asked.push(path), readBytes(path)), warnings, file: 'test.vl.json' });
      expect(asked).toEqual(['dot.png']);
      expect(warnings).toEqual([]);
      expect(Buffer.from(bytes).toString('latin1')).toMatch(/\/Subtype \/Image/);
      expect((await readPdf(bytes)).images).toBe(1);
    });

    it('reads no image outside the folder: one vega refused draws nothing, one the SVG names is left out with a warning', async () => {
      const asked: string[] = [];
      const reader = async (path: string) => (asked.push(path), readBytes(path));
      const refused = await chartOf(spec('../dot.png'), { readFile: readText(), warnings: [] });
      const warnings: string[] = [];
      expect((await readPdf(await renderChartPdf(refused, fonts, { readFile: reader, warnings, file: 'test.vl.json' }))).images).toBe(0);
      expect(warnings).toEqual([]);
      const outside = { ...refused, svg: refused.svg.replace(/href="[^"]*"/, 'href="../dot.png"') };
      const bytes = await renderChartPdf(outside, fonts, { readFile: reader, warnings, file: 'test.vl.json' });
      expect(asked).toEqual([]);
      expect(warnings).toEqual([messages.chartWarning('test.vl.json', messages.chartPdfImageUnread('../dot.png', messages.chartLoadRefused('../dot.png', messages.chartLoadOutside)))]);
      expect((await readPdf(bytes)).images).toBe(0);
    });

    it('refuses an image when given no reader, as a vector-only edition does', async () => {
      const chart = await chartOf(spec('dot.png'), { readFile: readText() });
      await expect(renderChartPdf(chart, fonts)).rejects.toThrow(messages.chartPdfImage('dot.png'));
    });
  });

  it('sets a title of math symbols from the fallback faces, losing no character, and its SVG names them', async () => {
    const title = '\u2248 5 \u2265 3 \u2212 1 \u2192 \u221e';
    const warnings: string[] = [];
    const chart = await chartOf({ title, data: { values: [{ a: 1 }] }, mark: 'point', encoding: { x: { field: 'a', type: 'quantitative' } } }, { warnings });
    expect(warnings).toEqual([]);
    expect(chart.svg).toMatch(/font-family="[^"]*Noto Sans Math/);
    const bytes = await renderChartPdf(chart, fonts);
    expect(squash((await readPdf(bytes)).text.join(''))).toContain(squash(title));
    const embedded = [...Buffer.from(bytes).toString('latin1').matchAll(/\/BaseFont \/[A-Z]{6}\+([\w-]+)/g)].map((m) => m[1]);
    expect(embedded).toContain('NotoSansMath-Regular');
    expect(embedded).toContain('SourceSans3-Bold');
  });

  it('warns about a character no shipped face draws, and a font the project does not ship', async () => {
    const warnings: string[] = [];
    await chartOf({ title: 'CATL \u5b81\u5fb7', config: { font: 'Verdana' }, data: { values: [{ a: 1 }] }, mark: 'point', encoding: { x: { field: 'a', type: 'quantitative' } } }, { warnings });
    expect(warnings).toContain(messages.chartWarning('test.vl.json', messages.chartMissingGlyph('\u5b81', FONT_STACK)));
    expect(warnings).toContain(messages.chartWarning('test.vl.json', messages.chartMissingGlyph('\u5fb7', FONT_STACK)));
    expect(warnings).toContain(messages.chartWarning('test.vl.json', messages.chartFontNotShipped('Verdana', FONT_FAMILY)));
  });
});

describe('text after other documents', () => {
  it('maps every drawn glyph to its character even when an earlier document embedded it only as part of another (":" is built of two ".")', async () => {
    // Fresh bytes: faces are parsed once per bytes object, so this process's glyphs start unseen.
    const faces = Object.fromEntries(Object.entries(fonts).map(([key, bytes]) => [key, bytes.slice()])) as FontBytes;
    await drawAlone(textSvg('', '12:30 "x"'), {}, faces);
    const pdf = await readPdf(await drawAlone(textSvg('', "0.5 it's"), {}, faces));
    expect(pdf.text.join('')).toBe("0.5 it's");
  });
});

describe('drawSvg warnings', () => {
  const broken = `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"><path d="M 0 0 L 10" stroke="#000"/></svg>`;

  it('names what svg-to-pdfkit cannot draw in a warning with the spec file', async () => {
    const warnings: string[] = [];
    await drawAlone(broken, { warnings, file: 'spec.vl.json' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^spec\.vl\.json: warning: .*SvgPath/);
  });

  it('is an error when no warnings list is given (a published briefing must not lose part of a figure)', async () => {
    await expect(drawAlone(broken)).rejects.toThrow(/SvgPath/);
  });
});
