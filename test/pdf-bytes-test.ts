import { describe, expect, it, vi } from 'vitest';
import type { PdfOptions } from '../src/pdf.ts';
import { renderPdf } from '../src/pdf.ts';
import { buildFixtureBriefing, buildFixtureCharts, hasRealEdition, loadRealEdition, readFixtureFonts } from './fixtures/pdf/fixture.ts';

// renderPdf is run twice on the same input: once with collectPdfBytes, once
// with the bytes pdfkit itself streams out (its own per-line conversion).
// The switch lives in the mocked module so the real renderPdf runs both times.
const route = vi.hoisted(() => ({ pdfkitOwn: false }));
vi.mock('../src/pdf-bytes.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/pdf-bytes.ts')>();
  return {
    collectPdfBytes(doc: PDFKit.PDFDocument): () => Uint8Array {
      if (!route.pdfkitOwn) return actual.collectPdfBytes(doc);
      const chunks: Uint8Array[] = [];
      doc.on('data', (chunk: Uint8Array) => chunks.push(chunk));
      return () => new Uint8Array(Buffer.concat(chunks));
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

describe('collectPdfBytes', () => {
  it('gives the same file as pdfkit streams out, for the fixture briefing with charts, on both paper sizes', async () => {
    const fonts = readFixtureFonts();
    const briefing = buildFixtureBriefing();
    const charts = buildFixtureCharts();
    for (const paper of ['a4', 'letter'] as const) {
      const { ours, pdfkit } = await renderBothWays(() => renderPdf(briefing, charts, fonts, { ...OPTIONS, paper }));
      expect(pdfkit.length).toBeGreaterThan(10_000);
      expect(firstDifference(ours, pdfkit)).toBe('identical');
    }
  });

  it.runIf(hasRealEdition())('gives the same file as pdfkit streams out, for the real briefing', async () => {
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
