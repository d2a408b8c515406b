import fc from 'fast-check';
import PDFDocument from 'pdfkit';
import { describe, expect, it, vi } from 'vitest';
import type { PdfOptions } from '../../src/pdf/render.ts';
import { renderPdf } from '../../src/pdf/render.ts';
import { countWords, resetPdfkitAdapter, usesPdfkitInternals } from '../../src/pdf/pdfkit-adapter.ts';
import { readPdf } from '../fixtures/charts/pdf.ts';
import { resetFontkitAdapter, usesFontkitInternals } from '../../src/text/fontkit-adapter.ts';
import { registerFonts } from '../../src/charts/svg-pdf.ts';
import { buildFixtureBriefing, buildFixtureCharts, hasRealEdition, loadRealEdition, readFixtureFonts } from '../fixtures/pdf/fixture.ts';
import { runs } from '../fixtures/depth.ts';

// renderPdf is run twice on the same input: once as the build runs it, once
// with pdfkit left entirely to itself (its own byte output, per-document word
// layouts and encoding, and doc.text for every run of text). The switch lives in the mocked module, so the real
// renderPdf runs both times.
const route = vi.hoisted(() => ({ pdfkitOwn: false }));
vi.mock('../../src/pdf/pdfkit-adapter.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/pdf/pdfkit-adapter.ts')>();
  return {
    ...actual,
    collectPdfBytes(doc: PDFKit.PDFDocument): () => Uint8Array {
      if (!route.pdfkitOwn) return actual.collectPdfBytes(doc);
      const chunks: Uint8Array[] = [];
      doc.on('data', (chunk: Uint8Array) => chunks.push(chunk));
      return () => new Uint8Array(Buffer.concat(chunks));
    },
    shareFaceLayouts(doc: PDFKit.PDFDocument): void {
      if (!route.pdfkitOwn) actual.shareFaceLayouts(doc);
    },
    drawTextRun(doc: PDFKit.PDFDocument, text: string, x: number, y: number, width: number): void {
      if (!route.pdfkitOwn) actual.drawTextRun(doc, text, x, y, width);
      else doc.text(text, x, y, { lineBreak: false, baseline: 'alphabetic' });
    },
  };
});

const OPTIONS: PdfOptions = { paper: 'a4', creationDate: new Date('2026-11-29T00:00:00Z') };

async function renderBothWays(render: () => Promise<Uint8Array>): Promise<{ ours: Uint8Array; pdfkit: Uint8Array }> {
  route.pdfkitOwn = false;
  const ours = await render();
  route.pdfkitOwn = true;
  try {
    return { ours, pdfkit: await render() };
  } finally {
    route.pdfkitOwn = false;
  }
}

/** Where two byte arrays first differ, with a little context, for a readable failure. */
function firstDifference(a: Uint8Array, b: Uint8Array): string {
  const length = Math.min(a.length, b.length);
  let i = 0;
  while (i < length && a[i] === b[i]) i++;
  if (i === length && a.length === b.length) return 'identical';
  const context = (bytes: Uint8Array) => Buffer.from(bytes.subarray(Math.max(0, i - 40), i + 40)).toString('latin1');
  return `differ at byte ${i} of ${a.length}/${b.length}:\n${context(a)}\n---\n${context(b)}`;
}

describe('collectPdfBytes (through renderPdf)', () => {
  it('gives the file pdfkit alone writes, for the fixture briefing with charts, on both paper sizes', async () => {
    const fonts = readFixtureFonts();
    const briefing = buildFixtureBriefing();
    const charts = buildFixtureCharts();
    for (const paper of ['a4', 'letter'] as const) {
      const { ours, pdfkit } = await renderBothWays(() => renderPdf(briefing, charts, fonts, { ...OPTIONS, paper }));
      expect(pdfkit.length).toBeGreaterThan(10_000);
      expect(firstDifference(ours, pdfkit)).toBe('identical');
    }
  });

  it.runIf(hasRealEdition())('gives the file pdfkit alone writes, for the real briefing', async () => {
    const { briefing, charts, fonts } = await loadRealEdition();
    const { ours, pdfkit } = await renderBothWays(() => renderPdf(briefing, charts, fonts, OPTIONS));
    expect(Buffer.from(pdfkit.subarray(0, 8)).toString('latin1')).toBe('%PDF-1.7');
    expect(firstDifference(ours, pdfkit)).toBe('identical');
  });

  it('returns a plain Uint8Array holding the whole file', async () => {
    const bytes = await renderPdf(buildFixtureBriefing(), buildFixtureCharts(), readFixtureFonts(), OPTIONS);
    expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype);
    const text = Buffer.from(bytes).toString('latin1');
    expect(text.startsWith('%PDF-1.7\n')).toBe(true);
    expect(text.trimEnd().endsWith('%%EOF')).toBe(true);
    // The xref offset after startxref points at the xref table: offsets were counted as bytes were kept.
    const startxref = Number(/startxref\n(\d+)\n%%EOF/.exec(text)?.[1]);
    expect(text.slice(startxref, startxref + 5)).toBe('xref\n');
  });
});

describe('shareFaceLayouts', () => {
  interface Face {
    layout(text: string, features?: unknown, onlyWidth?: boolean): { glyphs: { id: number }[] | null; positions: object[] | null; advanceWidth: number };
    encode(text: string): [string[], object[]];
    widths: number[];
    unicode: number[][];
    subset: { glyphs: number[] };
  }
  const fonts = readFixtureFonts();
  /** The current face object of a new document with the faces registered (so with the shared layouts), after selecting `key`. */
  const faceOf = (key: string): { face: Face; pdfkit: Face } => {
    const doc = new PDFDocument({ size: [200, 100], margin: 0 });
    registerFonts(doc, fonts);
    doc.font(key);
    const face = (doc as unknown as { _font: Face })._font;
    return { face, pdfkit: Object.getPrototypeOf(face) as Face };
  };
  const words = fc.array(fc.constantFrom('CATL', 'Amperex', 'AVAILABLE', 'first-quarter', '2025', '39.5%', 'ﬁ', 'office', 'Zhongheng', '—', '“quoted”', 'x', ''), { maxLength: 8 });
  const gaps = fc.constantFrom(' ', '  ', '\t', ' \t ', '');

  it("lays out any string as pdfkit's own layout does, in every face", () => {
    for (const key of ['regular', 'italic', 'bold', 'boldItalic']) {
      const { face, pdfkit } = faceOf(key);
      expect(face.layout).not.toBe(pdfkit.layout);
      fc.assert(
        fc.property(words, gaps, fc.boolean(), (parts, gap, edges) => {
          const text = edges ? ` ${parts.join(gap)} ` : parts.join(gap);
          for (const onlyWidth of [false, true]) expect(face.layout(text, undefined, onlyWidth)).toEqual(pdfkit.layout.call(face, text, undefined, onlyWidth));
        }),
        { numRuns: runs(150, 40), seed: 7 },
      );
    }
  });

  it("encodes as pdfkit's own encode does, leaving the same subset, widths and character map", () => {
    const { face } = faceOf('regular');
    const { face: other, pdfkit } = faceOf('regular');
    expect(face.encode).not.toBe(pdfkit.encode);
    const texts = ['Contemporary Amperex Technology', 'ﬁnal office  flows', '39.5% of 2025', 'Zhongheng — “VNET”', ' \t', ''];
    for (const text of texts) expect(face.encode(text)).toEqual(pdfkit.encode.call(other, text));
    expect(face.subset.glyphs).toEqual(other.subset.glyphs);
    expect(face.widths).toEqual(other.widths);
    expect(face.unicode).toEqual(other.unicode);
  });

  it("shares a face's word layouts between documents, and keeps faces apart", () => {
    const first = faceOf('regular').face as unknown as { layoutCache: object; layout: Face['layout'] };
    first.layout('Contemporary Amperex');
    const second = faceOf('regular').face as unknown as { layoutCache: Record<string, unknown> };
    expect(second.layoutCache).toBe(first.layoutCache);
    expect(Object.keys(second.layoutCache)).toEqual(expect.arrayContaining(['Contemporary ', 'Amperex']));
    expect((faceOf('bold').face as unknown as { layoutCache: object }).layoutCache).not.toBe(first.layoutCache);
  });
});

describe('countWords', () => {
  it("counts words as pdfkit's split on JavaScript whitespace does", () => {
    const pdfkit = (text: string) => (text.trim() ? text.trim().split(/\s+/).length : 0);
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'Zh', '.', ' ', '  ', '\t', '\n', '\u00a0', '\u2009', '\u3000', '\ufeff', '\u200b', '—'), { maxLength: 12 }), (parts) => {
        const text = parts.join('');
        expect(countWords(text)).toBe(pdfkit(text));
      }),
      { numRuns: runs(500, 120), seed: 11 },
    );
  });
});

describe('the public path (another pdfkit version, or BRIEFING_PUBLIC_APIS=1)', () => {
  it('gives a valid PDF of the real briefing with no pdfkit or fontkit internals touched', async () => {
    if (!hasRealEdition()) throw new Error('the real edition is missing');
    process.env.BRIEFING_PUBLIC_APIS = '1';
    resetPdfkitAdapter();
    resetFontkitAdapter();
    try {
      expect(usesPdfkitInternals()).toBe(false);
      expect(usesFontkitInternals()).toBe(false);
      const { briefing, charts } = await loadRealEdition();
      // Fresh font bytes: faces opened now lay out every word with fontkit's own layout.
      const bytes = await renderPdf(briefing, charts, readFixtureFonts(), OPTIONS);
      const pdf = await readPdf(bytes);
      expect(pdf.pages).toBeGreaterThan(1);
      expect(pdf.text.join(' ')).toContain(briefing.meta.title);
      // The faces embedded (a FontFile2 per face subset), and the structure tagged, as on the fast path.
      expect(pdf.raw.match(/\/FontFile2/g)?.length ?? 0).toBeGreaterThan(0);
      expect(pdf.raw).toContain('/StructTreeRoot');
    } finally {
      delete process.env.BRIEFING_PUBLIC_APIS;
      resetPdfkitAdapter();
      resetFontkitAdapter();
    }
    expect(usesPdfkitInternals()).toBe(true);
    expect(usesFontkitInternals()).toBe(true);
  });
});
