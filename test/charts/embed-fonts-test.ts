import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadFonts, nodeEffects } from '../../src/build.ts';
import { embedFonts, textByFace, unicodeRange } from '../../src/charts/embed-fonts.ts';
import { subsetFont } from '../../src/charts/font-subset.ts';
import { FONT_FAMILY, FONT_STACK, openFaces, type FontBytes } from '../../src/text/fonts.ts';

interface Font {
  familyName: string;
  subfamilyName: string;
  unitsPerEm: number;
  numGlyphs: number;
  hasGlyphForCodePoint(codePoint: number): boolean;
  glyphForCodePoint(codePoint: number): { advanceWidth: number };
  layout(text: string): { advanceWidth: number };
}
const fontkit = createRequire(import.meta.url)('fontkit') as { create(bytes: Buffer): Font };

let faces: FontBytes;
let regular: { sfnt: Uint8Array; font: Parameters<typeof subsetFont>[1] };
beforeAll(async () => {
  faces = (await loadFonts(nodeEffects)).sfnt;
  regular = { sfnt: faces.regular, font: openFaces(faces).regular as unknown as Parameters<typeof subsetFont>[1] };
});

/** The fonts of an SVG's @font-face rules, opened by fontkit, with the rule's declared weight and style. */
function embedded(svg: string): { family: string; weight: number; style: string; font: Font; range: string }[] {
  const rule = /@font-face\{font-family:"([^"]+)";font-style:(\w+);font-weight:(\d+);src:url\(data:font\/ttf;base64,([A-Za-z0-9+/=]+)\) format\("truetype"\);unicode-range:([^}]+)\}/g;
  return [...svg.matchAll(rule)].map(([, family, style, weight, data, range]) => ({
    family: family!,
    style: style!,
    weight: Number(weight),
    font: fontkit.create(Buffer.from(data!, 'base64')),
    range: range!,
  }));
}

const svgOf = (body: string) => `<svg xmlns="http://www.w3.org/2000/svg" width="100" height="40"><title>t</title><desc>Zebra Quiz</desc>${body}</svg>`;
const family = `font-family="&quot;${FONT_FAMILY}&quot;, sans-serif"`;

describe('font subsets', () => {
  it('keep every character and its advance, and kern the pairs the text sets as the full face does', () => {
    const text = 'AVATAR Tea, Vy. 12.5%';
    const subset = fontkit.create(Buffer.from(subsetFont(regular.sfnt, regular.font, [text])));
    const full = fontkit.create(Buffer.from(regular.sfnt));
    expect(subset.familyName).toBe(FONT_FAMILY);
    expect(subset.numGlyphs).toBeLessThan(full.numGlyphs / 4);
    for (const char of text) {
      expect(subset.hasGlyphForCodePoint(char.codePointAt(0)!), char).toBe(true);
      expect(subset.glyphForCodePoint(char.codePointAt(0)!).advanceWidth).toBe(full.glyphForCodePoint(char.codePointAt(0)!).advanceWidth);
    }
    // fontkit reads the subset's kern table as a browser does (no GPOS): the run is as wide as in the full face.
    expect(subset.layout(text).advanceWidth).toBe(full.layout(text).advanceWidth);
    expect(full.layout('AV').advanceWidth).toBeLessThan(full.glyphForCodePoint(65).advanceWidth + full.glyphForCodePoint(86).advanceWidth);
    expect(Buffer.from(subsetFont(regular.sfnt, regular.font, [text])).equals(Buffer.from(subsetFont(regular.sfnt, regular.font, [text])))).toBe(true);
  });
});

describe('embedFonts', () => {
  it('embeds each face the text is set in, by weight and style, with the characters it draws', () => {
    const svg = svgOf(
      `<g><text ${family} font-size="11px">Tonnes</text><text ${family} font-weight="bold">Kenya &amp; Co</text>` +
        `<text ${family} font-weight="600" font-style="italic"><tspan>Sri</tspan><tspan font-style="normal">Lanka</tspan></text></g>`,
    );
    const fonts = embedded(embedFonts(svg, faces));
    expect(fonts.map((f) => `${f.weight} ${f.style}`).sort()).toEqual(['400 normal', '700 italic', '700 normal']);
    const chars = (weight: number, style: string) => fonts.find((f) => f.weight === weight && f.style === style)!.font;
    expect([...'Tonnes '].every((c) => chars(400, 'normal').hasGlyphForCodePoint(c.codePointAt(0)!))).toBe(true);
    expect(chars(700, 'normal').hasGlyphForCodePoint('&'.codePointAt(0)!)).toBe(true);
    expect(chars(700, 'italic').hasGlyphForCodePoint('S'.codePointAt(0)!)).toBe(true);
    expect(chars(700, 'italic').hasGlyphForCodePoint('L'.codePointAt(0)!)).toBe(false);
    expect(chars(700, 'normal').hasGlyphForCodePoint('L'.codePointAt(0)!)).toBe(true);
    // The <desc> is not drawn: its letters are not embedded.
    expect(chars(400, 'normal').hasGlyphForCodePoint('Z'.codePointAt(0)!)).toBe(false);
  });

  it('embeds each character from the chain face the PDF draws it with, each rule naming exactly its characters, and nothing for families the project does not ship', () => {
    const stack = FONT_STACK.map((name) => `&quot;${name}&quot;`).join(', ');
    const svg = svgOf(`<text font-family="${stack}, sans-serif">x ≥ 3 🐷 Łódź</text><text font-family="Verdana, sans-serif">elsewhere ∞</text>`);
    const used = textByFace(svg, faces);
    const of = (family: string) => used.filter((face) => face.face.family === family).flatMap((face) => face.texts);
    expect(of('Noto Sans Math')).toEqual(['≥']);
    expect(of('Noto Emoji')).toEqual(['🐷']);
    // Ł is in Source Sans 3's Latin Extended file, a second face of the same family.
    expect(used.filter((face) => face.face.family === FONT_FAMILY).length).toBe(2);
    expect(of(FONT_FAMILY).join('')).not.toMatch(/[≥🐷∞]/u);
    const rules = embedded(embedFonts(svg, faces));
    expect(rules.map((rule) => rule.family).sort()).toEqual(['Noto Emoji', 'Noto Sans Math', FONT_FAMILY, FONT_FAMILY]);
    for (const rule of rules) {
      // Every character the rule's unicode-range names is in its subset.
      for (const part of rule.range.split(',')) {
        const [from, to] = part.replace('U+', '').split('-').map((hex) => parseInt(hex, 16));
        for (let cp = from!; cp <= (to ?? from!); cp++) expect(rule.font.hasGlyphForCodePoint(cp), `${rule.family} U+${cp.toString(16)}`).toBe(true);
      }
    }
    expect(rules.find((rule) => rule.family === 'Noto Emoji')!.range).toBe('U+1F437');
    expect(embedFonts(svgOf(`<text font-family="Verdana">elsewhere</text>`), faces)).toBe(svgOf(`<text font-family="Verdana">elsewhere</text>`));
  });

  it('writes unicode-range as CSS does: single code points and runs', () => {
    expect(unicodeRange(['abc', 'e', ' '])).toBe('U+20,U+61-63,U+65');
    expect(unicodeRange(['🐷'])).toBe('U+1F437');
  });

  it('puts the rules first in an existing <defs>, or in a new one after the title and description, and gives the same bytes each time', () => {
    const withDefs = embedFonts(svgOf(`<text ${family}>a</text><defs><clipPath id="c"/></defs>`), faces);
    expect(withDefs).toMatch(/<defs><style>@font-face\{[^<]*<\/style><clipPath id="c"\/><\/defs>/);
    const without = embedFonts(svgOf(`<text ${family}>a</text>`), faces);
    expect(without).toMatch(/^<svg[^>]*><title>t<\/title><desc>Zebra Quiz<\/desc><defs><style>@font-face/);
    expect(embedFonts(svgOf(`<text ${family}>a</text>`), faces)).toBe(without);
  });
});
