/**
 * The plain shaper must give exactly what fontkit's full shaping gives, word
 * for word, or step aside. The reference is a fresh fontkit font of the same
 * face that nothing in src/ has touched.
 */
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { FACE_KEYS, unpackWoff, type FaceKey, type FontBytes } from '../src/fonts.ts';
import { createPlainShaper, type PlainRun, type ShapableFont } from '../src/shaping.ts';
import { loadFonts } from './fixtures/charts/load.ts';

interface ReferenceFont extends ShapableFont {
  layout(text: string): { glyphs: { id: number; codePoints: number[] }[]; positions: PlainRun['positions'] };
}
const fontkit = createRequire(import.meta.url)('fontkit') as { create(bytes: Buffer): ReferenceFont };

let fonts: FontBytes;
const reference = {} as Record<FaceKey, ReferenceFont>;
const shapers = {} as Record<FaceKey, (text: string) => PlainRun | undefined>;
let words: string[];

/** Every word of the briefing's templates and dataset, as pdfkit shapes them: alone and with the space that follows. */
async function briefingWords(): Promise<string[]> {
  const texts = [await readFile('data/catl-ai-stack.yaml', 'utf8')];
  for (const name of await readdir('templates/briefing')) texts.push(await readFile(`templates/briefing/${name}`, 'utf8'));
  for (const name of await readdir('templates/charts')) texts.push(await readFile(`templates/charts/${name}`, 'utf8'));
  const found = new Set<string>();
  for (const text of texts) {
    for (const word of text.split(/\s+/)) {
      if (!word) continue;
      // The raw word, and the word stripped of markup around it, as it ends up on the page.
      for (const variant of [word, word.replace(/^[\s"'`*_([{<#|>-]+|[\s"'`*_)\]}>|:,;.]+$/g, '')]) {
        if (!variant) continue;
        found.add(variant);
        found.add(`${variant} `);
      }
    }
  }
  for (const extra of ['2025', '$5.2bn', '39.2%', '–', '—', '(approximate)', 'office', 'fluffy', 'AVAWAY', 'To.', 'Ta', 'T,', 'Yo', 'L’', '“Quoted”', 'naïve', 'Zürich', 'façade', 'ﬁ', '1 000', '€100', 'A\u00a0B']) {
    found.add(extra);
    found.add(`${extra} `);
  }
  return [...found];
}

function fontkitRun(face: FaceKey, text: string) {
  const run = reference[face].layout(text);
  return {
    glyphs: run.glyphs.map((glyph) => ({ id: glyph.id, codePoints: [...glyph.codePoints] })),
    positions: run.positions.map(({ xAdvance, yAdvance, xOffset, yOffset }) => ({ xAdvance, yAdvance, xOffset, yOffset })),
  };
}

function plainRun(face: FaceKey, text: string) {
  const run = shapers[face](text);
  if (!run) return undefined;
  return {
    glyphs: run.glyphs.map((glyph) => ({ id: glyph.id, codePoints: [...(glyph as unknown as { codePoints: number[] }).codePoints] })),
    positions: run.positions.map(({ xAdvance, yAdvance, xOffset, yOffset }) => ({ xAdvance, yAdvance, xOffset, yOffset })),
  };
}

beforeAll(async () => {
  fonts = await loadFonts();
  for (const key of FACE_KEYS) {
    reference[key] = fontkit.create(Buffer.from(unpackWoff(fonts[key])));
    const shaper = createPlainShaper(fontkit.create(Buffer.from(unpackWoff(fonts[key]))));
    if (!shaper) throw new Error(`no plain shaper for ${key}: the font has something the shaper does not model`);
    shapers[key] = shaper;
  }
  words = await briefingWords();
});

describe('createPlainShaper', () => {
  it('gives exactly fontkit\'s glyphs and positions for every word of the briefing, in every face', () => {
    let answered = 0;
    for (const face of FACE_KEYS) {
      for (const word of words) {
        const fast = plainRun(face, word);
        if (!fast) continue;
        answered++;
        expect(fast, `${face}: ${JSON.stringify(word)}`).toEqual(fontkitRun(face, word));
      }
    }
    expect(answered).toBeGreaterThan(0);
  });

  it('answers for most words (so the fast path is real), and kerning shows in some of them', () => {
    const plain = words.filter((word) => plainRun('regular', word) !== undefined);
    const share = plain.length / words.length;
    console.log(`[shaping] plain shaper answers ${plain.length} of ${words.length} briefing words (${(share * 100).toFixed(1)}%) in the regular face`);
    expect(share).toBeGreaterThan(0.8);
    // Some answered words are kerned: their advances differ from the glyphs' own widths.
    const kerned = plain.filter((word) => {
      const run = shapers.regular(word)!;
      return run.positions.some((position, i) => position.xAdvance !== run.glyphs[i]!.advanceWidth);
    });
    expect(kerned.length).toBeGreaterThan(10);
  });

  it('steps aside for a ligature, a combining mark, a soft hyphen, a fraction slash, a tab and other scripts', () => {
    // "office" has an f-ligature in Source Sans 3: fontkit substitutes a glyph for "ff".
    expect(fontkitRun('regular', 'office').glyphs.length).toBeLessThan('office'.length);
    for (const word of ['office', 'e\u0301', 'co\u00adop', '1\u20442', 'a\tb', 'Ωmega', 'д', '😀']) {
      expect(shapers.regular(word), JSON.stringify(word)).toBeUndefined();
    }
  });

  it('is exact or steps aside on random strings of plain and other characters', () => {
    const alphabet = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?\'"()[]-–—%$€/&ffiflTVAWYLPo’“”•…éèüßçñÅ', '\u00a0', '\u0301', '\u00ad', '\u2044'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...alphabet), { minLength: 1, maxLength: 12 }), fc.constantFrom(...FACE_KEYS), (chars, face) => {
        const text = chars.join('');
        const fast = plainRun(face, text);
        if (fast) expect(fast).toEqual(fontkitRun(face, text));
      }),
      { numRuns: 3000, seed: 20261129 },
    );
  });
});
