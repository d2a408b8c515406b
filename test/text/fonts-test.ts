import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { createFontMetrics, FACE_KEYS, faceFor, fontPaths, unpackWoff, type FontBytes, type FontMetrics } from '../../src/text/fonts.ts';
import { loadFonts } from '../fixtures/charts/load.ts';

// Read the font independently of src/fonts.ts. Browsers and pdfkit apply the
// font's kerning, so the reference is fontkit's positioned advance widths;
// the raw glyph advances (no kerning) must agree closely too.
const fontkit = createRequire(import.meta.url)('fontkit') as {
  create(bytes: Buffer): {
    unitsPerEm: number;
    glyphsForString(text: string): { advanceWidth: number }[];
    layout(text: string): { positions: { xAdvance: number }[] };
  };
};

let fonts: FontBytes;
let metrics: FontMetrics;
beforeAll(async () => {
  fonts = await loadFonts();
  metrics = createFontMetrics(fonts);
});

function advanceSum(bytes: Uint8Array, text: string, size: number, kerning: boolean): number {
  const font = fontkit.create(Buffer.from(bytes));
  const advances = kerning
    ? font.layout(text).positions.map((position) => position.xAdvance)
    : font.glyphsForString(text).map((glyph) => glyph.advanceWidth);
  return (advances.reduce((sum, advance) => sum + advance, 0) / font.unitsPerEm) * size;
}

describe('font files', () => {
  it('resolves four distinct .woff files that exist', async () => {
    const paths = fontPaths();
    expect(new Set(Object.values(paths)).size).toBe(4);
    for (const key of FACE_KEYS) expect((await readFile(paths[key])).subarray(0, 4).toString('latin1')).toBe('wOFF');
  });
});

describe('unpackWoff', () => {
  it('gives a TrueType font with the same tables, glyphs and metrics as the WOFF', () => {
    for (const key of FACE_KEYS) {
      const sfnt = unpackWoff(fonts[key]);
      const fromWoff = fontkit.create(Buffer.from(fonts[key])) as unknown as { numGlyphs: number; postscriptName: string; type: string };
      const fromSfnt = fontkit.create(Buffer.from(sfnt)) as unknown as { numGlyphs: number; postscriptName: string; type: string };
      expect(fromSfnt.type).toBe('TTF');
      expect(fromSfnt.numGlyphs).toBe(fromWoff.numGlyphs);
      expect(fromSfnt.postscriptName).toBe(fromWoff.postscriptName);
      const text = 'CATL’s 40.7% share — $942m, 541 GWh';
      expect(advanceSum(sfnt, text, 12, true)).toBe(advanceSum(fonts[key], text, 12, true));
      // Glyph outlines survive: the bounding box of every glyph in the text matches.
      const boxes = (bytes: Uint8Array) =>
        (fontkit.create(Buffer.from(bytes)) as unknown as { glyphsForString(t: string): { bbox: object }[] }).glyphsForString(text).map((g) => JSON.stringify(g.bbox));
      expect(boxes(sfnt)).toEqual(boxes(fonts[key]));
    }
  });

  it('passes a font that is not WOFF through unchanged', () => {
    const sfnt = unpackWoff(fonts.regular);
    expect(unpackWoff(sfnt)).toBe(sfnt);
  });
});

describe('faceFor', () => {
  it('maps CSS weights and styles onto the four faces', () => {
    expect(faceFor(undefined, undefined)).toBe('regular');
    expect(faceFor('bold', undefined)).toBe('bold');
    expect(faceFor(700, 'normal')).toBe('bold');
    expect(faceFor('600', 'italic')).toBe('boldItalic');
    expect(faceFor(500, 'oblique')).toBe('italic');
    expect(faceFor('normal', 'italic')).toBe('italic');
  });
});

describe('createFontMetrics', () => {
  const samples = ['VNET Group', 'Zhongheng Electric', '$942m', 'Energy-storage battery', 'undisclosed'];

  it.each(samples)('measures "%s" as the sum of its advance widths, within 1%', (text) => {
    for (const face of FACE_KEYS) {
      const expected = advanceSum(fonts[face], text, 13, true);
      expect(Math.abs(metrics.measure(text, 13, face) - expected) / expected, face).toBeLessThan(0.01);
      const unkerned = advanceSum(fonts[face], text, 13, false);
      expect(Math.abs(metrics.measure(text, 13, face) - unkerned) / unkerned, face).toBeLessThan(0.02);
    }
  });

  it('scales linearly with the font size', () => {
    expect(metrics.measure('CATL', 26, 'regular')).toBeCloseTo(2 * metrics.measure('CATL', 13, 'regular'), 9);
  });

  it('measures bold text with the bold face, which is wider', () => {
    expect(metrics.measure('Data-center operation', 13, 'bold')).toBeGreaterThan(metrics.measure('Data-center operation', 13, 'regular'));
  });

  it('measures nothing as zero', () => {
    expect(metrics.measure('', 13, 'regular')).toBe(0);
  });
});
