import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createCoverage,
  createFontMetrics,
  FACE_KEYS,
  faceFor,
  faceForCharacter,
  FONT_FAMILY,
  FONT_STACK,
  fontPaths,
  missingCharacters,
  splitByFace,
  unpackWoff,
  type FontBytes,
  type FontMetrics,
} from '../../src/text/fonts.ts';
import { loadFonts } from '../fixtures/charts/load.ts';

// Read the font independently of src/fonts.ts. Browsers and pdfkit apply the
// font's kerning, so the reference is fontkit's positioned advance widths;
// the raw glyph advances (no kerning) must agree closely too.
const require = createRequire(import.meta.url);
const fontkit = require('fontkit') as {
  create(bytes: Buffer): {
    unitsPerEm: number;
    postscriptName: string;
    hasGlyphForCodePoint(codePoint: number): boolean;
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

describe('the fallback chain', () => {
  // The package's math face, read here on its own as the reference.
  const mathFile = () => readFile(require.resolve('@fontsource/noto-sans-math/files/noto-sans-math-latin-400-normal.woff'));
  const title = '\u2248 5 \u2265 3 \u2212 1 \u2192 \u221e';

  it('lists Source Sans 3 first, then the fallback families', () => {
    expect(FONT_STACK).toEqual([FONT_FAMILY, 'Noto Sans Math', 'Noto Sans Symbols 2', 'Noto Emoji']);
  });

  it('sets each character in the first face that has it: the face itself, else a fallback', async () => {
    const own = fontkit.create(Buffer.from(fonts.regular));
    const runs = splitByFace(fonts, 'regular', title);
    expect(runs.map((run) => run.text).join('')).toBe(title);
    for (const run of runs) {
      for (const char of run.text) {
        const codePoint = char.codePointAt(0)!;
        expect(run.face.font.hasGlyphForCodePoint(codePoint), char).toBe(true);
        expect(run.face.family === FONT_FAMILY, char).toBe(own.hasGlyphForCodePoint(codePoint));
      }
    }
    // ≈ ≥ → ∞ are not in Source Sans 3's Latin files; − is.
    expect(runs.filter((run) => run.face.family === 'Noto Sans Math').map((run) => run.text)).toEqual(['\u2248', '\u2265', '\u2192', '\u221e']);
    expect(fontkit.create(await mathFile()).postscriptName).toBe((runs[0]!.face.font as unknown as { postscriptName: string }).postscriptName);
  });

  it('keeps a text the face draws whole, in the face itself', () => {
    const runs = splitByFace(fonts, 'bold', 'CATL’s 40.7% share — $942m');
    expect(runs).toHaveLength(1);
    expect(runs[0]!.face.name).toBe('bold');
  });

  it('takes Latin Extended from the same family, in the same weight', () => {
    const face = faceForCharacter(fonts, 'bold', '\u0141')!;
    expect(face.family).toBe(FONT_FAMILY);
    expect(face.name).toBe('source-sans-3-latin-ext-700-normal');
  });

  it('takes symbols and emoji from Noto Sans Symbols 2 and Noto Emoji', () => {
    expect(faceForCharacter(fonts, 'regular', '\u2717')?.family).toBe('Noto Sans Symbols 2');
    expect(faceForCharacter(fonts, 'regular', '\u{1F600}')?.family).toBe('Noto Emoji');
    expect(faceForCharacter(fonts, 'bold', '\u{1F600}')?.name).toMatch(/^noto-emoji-.*-700-normal$/);
  });

  it('measures a run of a fallback face with that face', async () => {
    const math = fontkit.create(await mathFile());
    const ge = (math.layout('\u2265').positions[0]!.xAdvance / math.unitsPerEm) * 20;
    expect(metrics.measure('\u2265', 20, 'regular')).toBeCloseTo(ge, 6);
    expect(metrics.measure('a\u2265b', 20, 'regular')).toBeCloseTo(metrics.measure('a', 20, 'regular') + ge + metrics.measure('b', 20, 'regular'), 6);
  });

  it('lays out text in a fallback face as fontkit does on the same file', async () => {
    const cases: [string, string, string][] = [
      ['\u2265', '\u2248\u2265\u2264 \u2192\u221e', '@fontsource/noto-sans-math/files/noto-sans-math-latin-400-normal.woff'],
      ['\u{1F600}', '\u{1F600}\u{1F600}', '@fontsource/noto-emoji/files/noto-emoji-9-400-normal.woff'],
    ];
    for (const [char, text, file] of cases) {
      const face = faceForCharacter(fonts, 'regular', char)!;
      const reference = fontkit.create(await readFile(require.resolve(file))) as unknown as { layout(t: string): { glyphs: { id: number }[]; positions: object[] } };
      const ours = face.font.layout(text) as unknown as { glyphs: { id: number }[]; positions: object[] };
      expect(ours.glyphs.map((glyph) => glyph.id), text).toEqual(reference.layout(text).glyphs.map((glyph) => glyph.id));
      expect(ours.positions, text).toEqual(reference.layout(text).positions.map((p) => ({ ...p })));
    }
  });

  it('names the characters no face draws, and counts what the chain draws as drawable', () => {
    expect(missingCharacters(fonts, 'regular', 'CATL (\u5b81\u5fb7) \u2265 \u{1F600}')).toEqual(['\u5b81', '\u5fb7']);
    const canDraw = createCoverage(fonts);
    for (const char of ['a', '\u2265', '\u0141', '\u{1F600}', '\u00ad', '\n']) expect(canDraw(char), char).toBe(true);
    expect(canDraw('\u5b81')).toBe(false);
  });
});
