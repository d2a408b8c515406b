/**
 * The plain shaper must give exactly what fontkit's full shaping gives, word
 * for word, or step aside.
 *
 * Two fresh fontkit fonts per face: `pristine` is plain fontkit that nothing
 * in src/ touches, and `driven` is used the way src/fonts.ts uses a face (the
 * plain shaper first, fontkit's layout when it steps aside). fontkit keeps one
 * glyph object per glyph id holding the code points it was first made for,
 * and its layout reads them, so both fonts get the same texts in the same
 * order (always through `compare`): the shaper must also leave that glyph
 * cache as fontkit alone would.
 */
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { FACE_KEYS, openFaces, unpackWoff, type FaceKey, type FontBytes } from '../../src/text/fonts.ts';
import { createPlainShaper, type PlainRun, type ShapableFont } from '../../src/text/fontkit-adapter.ts';
import { loadFonts } from '../fixtures/charts/load.ts';
import { runs } from '../fixtures/depth.ts';

interface FontkitGlyph {
  id: number;
  codePoints: number[];
}
interface FontkitRun {
  glyphs: FontkitGlyph[];
  positions: PlainRun['positions'];
  advanceWidth: number;
}
interface FontkitFont extends ShapableFont {
  layout(text: string): FontkitRun;
  hasGlyphForCodePoint(codePoint: number): boolean;
}
const fontkit = createRequire(import.meta.url)('fontkit') as { create(bytes: Buffer): FontkitFont };

/** A face as the shaper and fontkit see it, and the same face untouched. */
interface FacePair {
  pristine: FontkitFont;
  driven: FontkitFont;
  shaper: (text: string) => PlainRun | undefined;
}

let sfnt: FontBytes;
const faces = {} as Record<FaceKey, FacePair>;
let words: string[];

function openPair(face: FaceKey): FacePair {
  const driven = fontkit.create(Buffer.from(sfnt[face]));
  const shaper = createPlainShaper(driven);
  if (!shaper) throw new Error(`no plain shaper for ${face}: the font has something the shaper does not model`);
  return { pristine: fontkit.create(Buffer.from(sfnt[face])), driven, shaper };
}

/** Glyph ids and code points and every position field: what pdfkit reads of a run. */
function plain(run: { glyphs: unknown[]; positions: PlainRun['positions'] }) {
  return {
    glyphs: (run.glyphs as FontkitGlyph[]).map((glyph) => ({ id: glyph.id, codePoints: [...glyph.codePoints] })),
    positions: run.positions.map(({ xAdvance, yAdvance, xOffset, yOffset }) => ({ xAdvance, yAdvance, xOffset, yOffset })),
  };
}

/** Shapes `text` on both fonts of a pair: the shaper's answer (undefined when it stepped aside) and fontkit's, and the shaper's run itself. */
function compare(pair: FacePair, text: string) {
  const run = pair.shaper(text);
  if (!run) pair.driven.layout(text);
  return { fast: run && plain(run), fontkit: plain(pair.pristine.layout(text)), run };
}

/** Every word of the briefing's templates, dataset and chart specs, as pdfkit shapes them: alone and with the space that follows. */
async function briefingWords(): Promise<string[]> {
  const texts = [await readFile('data/catl-ai-stack.yaml', 'utf8')];
  for (const dir of ['templates/briefing', 'templates/charts']) {
    for (const name of (await readdir(dir)).sort()) texts.push(await readFile(`${dir}/${name}`, 'utf8'));
  }
  const found = new Set<string>();
  const add = (word: string) => {
    if (!word) return;
    found.add(word);
    found.add(`${word} `);
  };
  for (const text of texts) {
    for (const word of text.split(/\s+/)) {
      // The raw word, and the word stripped of the markup around it, as it ends up on the page.
      add(word);
      add(word.replace(/^[\s"'`*_([{<#|>-]+|[\s"'`*_)\]}>|:,;.]+$/g, ''));
    }
  }
  for (const extra of ['2025', '$5.2bn', '39.2%', '–', '—', '(approximate)', 'office', 'fluffy', 'AVAWAY', 'To.', 'Ta', 'T,', 'Yo', 'L’', '“Quoted”', 'naïve', 'Zürich', 'façade', 'L·L', 'ﬁ', '1 000', '€100', 'A\u00a0B', '']) add(extra);
  return [...found];
}

beforeAll(async () => {
  const woff = await loadFonts();
  sfnt = Object.fromEntries(FACE_KEYS.map((key) => [key, unpackWoff(woff[key])])) as FontBytes;
  for (const key of FACE_KEYS) faces[key] = openPair(key);
  words = await briefingWords();
});

describe('createPlainShaper', () => {
  it(`gives exactly fontkit's glyphs and positions for ${runs(1, 2) === 1 ? 'every word' : 'every second word'} of the briefing, in every face`, () => {
    let answered = 0;
    // npm test checks every second word; test:fuzz every word.
    const sample = words.filter((_, i) => i % runs(1, 2) === 0);
    for (const face of FACE_KEYS) {
      for (const word of sample) {
        const { fast, fontkit } = compare(faces[face], word);
        if (!fast) continue;
        answered++;
        expect(fast, `${face}: ${JSON.stringify(word)}`).toEqual(fontkit);
      }
    }
    expect(answered).toBeGreaterThan(0);
  });

  it("gives exactly fontkit's result for every pair of characters the faces have, so every kerning pair is checked", () => {
    const codes = [...Array.from({ length: 0x160 }, (_, i) => 0x20 + i), ...Array.from({ length: 0x30 }, (_, i) => 0x2010 + i), 0x20ac, 0x2122];
    for (const face of FACE_KEYS) {
      const pair = openPair(face);
      const characters = codes.filter((code) => pair.pristine.hasGlyphForCodePoint(code)).map((code) => String.fromCharCode(code));
      let kerned = 0;
      // npm test checks every third first character against all seconds; test:fuzz checks every pair.
      const stride = runs(1, 3);
      for (const first of characters.filter((_, i) => i % stride === 0)) {
        for (const second of characters) {
          const { fast, fontkit, run } = compare(pair, first + second);
          if (!fast) continue;
          if (run!.positions[0]!.xAdvance !== run!.glyphs[0]!.advanceWidth) kerned++;
          // Compared as JSON first: toEqual on 40,000 runs per face is slow.
          if (JSON.stringify(fast) !== JSON.stringify(fontkit)) expect(fast, JSON.stringify(first + second)).toEqual(fontkit);
        }
      }
      expect(kerned, face).toBeGreaterThan(1000);
    }
  });

  it('answers for most words (so the fast path is real), and kerning shows in some of them', () => {
    const answered = words.flatMap((word) => compare(faces.regular, word).run ?? []);
    const share = answered.length / words.length;
    console.log(`[shaping] plain shaper answers ${answered.length} of ${words.length} briefing words (${(share * 100).toFixed(1)}%) in the regular face`);
    expect(share).toBeGreaterThan(0.8);
    // Some answered words are kerned: their advances differ from the glyphs' own widths.
    const kerned = answered.filter((run) => run.positions.some((position, i) => position.xAdvance !== run.glyphs[i]!.advanceWidth));
    expect(kerned.length).toBeGreaterThan(10);
  });

  it('steps aside for ligatures, combining marks, ignorables, fractions, controls and other scripts', () => {
    // Source Sans 3 ligates f_f (liga) and L·L (ccmp): fontkit gives fewer glyphs than characters.
    for (const word of ['office', 'L·L']) expect(compare(faces.regular, word).fontkit.glyphs.length).toBeLessThan(word.length);
    for (const word of ['office', 'L·L', 'e\u0301', 'co\u00adop', 'a\u200db', 'a\ufe0f', '1\u20442', 'a\tb', 'line\n', 'Ωmega', 'д', '😀', '\ud800']) {
      expect(compare(faces.regular, word).fast, JSON.stringify(word)).toBeUndefined();
    }
  });

  it('steps aside for a hyphen once fontkit has made the hyphen glyph for a soft hyphen (fontkit then hides every hyphen)', () => {
    const pair = openPair('regular');
    compare(pair, 'co\u00adop');
    const { fast, fontkit } = compare(pair, 'AI-native');
    expect(fast).toBeUndefined();
    expect(fontkit.positions[2]!.xAdvance).toBe(0);
    // A fresh face that meets the hyphen first sets it as usual, on the fast path.
    const fresh = openPair('regular');
    const first = compare(fresh, 'AI-native');
    expect(first.fast).toEqual(first.fontkit);
    expect(first.fast!.positions[2]!.xAdvance).toBeGreaterThan(0);
  });

  const alphabet = [
    ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?\'"()[]-–—%$€/&·•…‘’“”éèüßçñÅïøÆ',
    ...['f', 'f', 'f', 'i', 'l', 'l', 'L', 'T', 'V', 'A', 'W', 'Y', 'o'],
    ...['\u00a0', '\u0301', '\u0308', '\u00ad', '\u2044', '\u200d', '\ufe0f', '\t', 'Ω', '→', 'ﬁ'],
  ];
  // Mostly the hand-picked characters, sometimes any character of the allow-list's ranges and around them.
  const character = fc.oneof(
    { arbitrary: fc.constantFrom(...alphabet), weight: 8 },
    { arbitrary: fc.integer({ min: 0x1f, max: 0x180 }).map((code) => String.fromCharCode(code)), weight: 1 },
    { arbitrary: fc.integer({ min: 0x2000, max: 0x2050 }).map((code) => String.fromCharCode(code)), weight: 1 },
  );
  const texts = fc.array(character, { minLength: 0, maxLength: 12 }).map((chars) => chars.join(''));

  it('is exact or steps aside on random strings of plain and other characters', () => {
    const numRuns = runs(3000, 500);
    let answered = 0;
    fc.assert(
      fc.property(texts, fc.constantFrom(...FACE_KEYS), (text, face) => {
        const { fast, fontkit } = compare(faces[face], text);
        if (!fast) return;
        answered++;
        expect(fast).toEqual(fontkit);
      }),
      { numRuns, seed: 20261129 },
    );
    // A sixth of the strings at least must take the fast path, or little of it was tested.
    expect(answered).toBeGreaterThan(numRuns / 6);
  });

  it('is exact or steps aside on random sequences of strings shaped by fresh faces (any glyph cache history)', () => {
    const numRuns = runs(300, 60);
    let answered = 0;
    fc.assert(
      fc.property(fc.array(texts, { minLength: 1, maxLength: 8 }), fc.constantFrom(...FACE_KEYS), (sequence, face) => {
        const pair = openPair(face);
        for (const text of sequence) {
          const { fast, fontkit } = compare(pair, text);
          if (!fast) continue;
          answered++;
          expect(fast, JSON.stringify(sequence)).toEqual(fontkit);
        }
      }),
      { numRuns, seed: 20261129 },
    );
    expect(answered).toBeGreaterThan((numRuns * 2) / 3);
  });
});

describe('openFaces with the plain shaper', () => {
  it('lays out every briefing word as fontkit does, fast path or not, and again from its cache', () => {
    const hooked = openFaces({ ...sfnt });
    const pristine = Object.fromEntries(FACE_KEYS.map((key) => [key, fontkit.create(Buffer.from(sfnt[key]))])) as Record<FaceKey, FontkitFont>;
    // npm test takes every second word (twice, the second time from the cache); test:fuzz every word.
    const sample = words.filter((_, i) => i % runs(1, 2) === 0);
    for (const face of FACE_KEYS) {
      for (const word of [...sample, ...sample]) {
        const run = hooked[face].layout(word);
        const expected = pristine[face].layout(word);
        expect(plain(run), `${face}: ${JSON.stringify(word)}`).toEqual(plain(expected));
        expect(run.advanceWidth).toBe(expected.advanceWidth);
      }
    }
  });
});
