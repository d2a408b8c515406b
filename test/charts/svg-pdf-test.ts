import PDFDocument from 'pdfkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { bindChartData } from '../../src/charts/bind.ts';
import { renderCharts, type RenderedChart } from '../../src/charts/render.ts';
import type { FontBytes } from '../../src/text/fonts.ts';
import { drawSvg, PX_TO_PT, registerFonts, renderChartPdf } from '../../src/charts/svg-pdf.ts';
import { loadFonts, loadRealData, loadSpecs, svgTexts } from '../fixtures/charts/load.ts';
import { readPdf } from '../fixtures/charts/pdf.ts';

let fonts: FontBytes;
let charts: RenderedChart[];

beforeAll(async () => {
  const { data, derived } = await loadRealData();
  fonts = await loadFonts();
  charts = (await renderCharts(await loadSpecs(), bindChartData(data, derived), { fonts })).charts;
});

/** Draws `svg` into a fresh one-page document and returns its bytes. */
async function drawAlone(svg: string): Promise<Uint8Array> {
  const doc = new PDFDocument({ size: [200, 100], margin: 0, info: { CreationDate: new Date(0) } });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise((resolve) => doc.on('end', resolve));
  registerFonts(doc, fonts);
  drawSvg(doc, svg, 0, 0, { width: 200, height: 100 });
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
