/**
 * Standalone chart SVG -> the same SVG with the faces its text uses embedded
 * as subset @font-face data, so it renders in the briefing's typeface on a
 * machine that does not have it (npm run chart, output/charts/). The HTML
 * edition keeps its one copy of the fonts and never calls this.
 *
 *   SVG ─text elements' font-family/weight/style─▶ characters per face
 *     ─fontkit subset + cmap/name/OS2/post/kern (font-subset.ts)─▶ TrueType ─base64─▶ <style> in <defs>
 *
 * Faces are matched as a browser matches them: for each character, the first
 * family in the element's font-family list that has a face with its glyph
 * (the nearest weight and style of that family, by the CSS rules), so a
 * fallback chain of more families keeps working as faces are added.
 */
import { FACE_KEYS, FONT_FAMILY, openFaces, type FaceKey, type FontBytes } from '../text/fonts.ts';
import { recent } from '../support/recent.ts';
import { subsetFont, type SubsettableFont } from './font-subset.ts';
import { createHash } from 'node:crypto';

/** A face an SVG may name, with its TrueType bytes and the same face opened by fontkit. */
export interface EmbeddableFace {
  family: string;
  /** CSS weight, 100-900. */
  weight: number;
  style: 'normal' | 'italic';
  sfnt: Uint8Array;
  font: SubsettableFont & { hasGlyphForCodePoint(codePoint: number): boolean };
}

const FACE_STYLE: Record<FaceKey, { weight: number; style: 'normal' | 'italic' }> = {
  regular: { weight: 400, style: 'normal' },
  italic: { weight: 400, style: 'italic' },
  bold: { weight: 700, style: 'normal' },
  boldItalic: { weight: 700, style: 'italic' },
};

/** The briefing's faces (unpacked sfnt bytes, as loadFonts gives them) as embeddable faces. */
export function briefingFaces(fonts: FontBytes): EmbeddableFace[] {
  const parsed = openFaces(fonts);
  // The process's parsed faces are fontkit fonts: createSubset and glyphForCodePoint are part of their public API.
  return FACE_KEYS.map((key) => ({ family: FONT_FAMILY, ...FACE_STYLE[key], sfnt: fonts[key], font: parsed[key] as unknown as EmbeddableFace['font'] }));
}

/** The font a piece of text is set in, as the SVG's attributes say. */
interface FontContext {
  families: string[];
  weight: number;
  style: 'normal' | 'italic';
}

const GENERIC = new Set(['serif', 'sans-serif', 'monospace', 'cursive', 'fantasy', 'system-ui', 'ui-sans-serif', 'ui-serif', 'ui-monospace', 'math', 'emoji']);

/** `"Source Sans 3", 'Noto Sans Math', sans-serif` -> the named families, lower-cased, generic names left out. */
function parseFamilies(value: string): string[] {
  const names = value.match(/"[^"]*"|'[^']*'|[^,]+/g) ?? [];
  return names.map((name) => name.trim().replace(/^["']|["']$/g, '').trim().toLowerCase()).filter((name) => name && !GENERIC.has(name));
}

function parseWeight(value: string, inherited: number): number {
  const v = value.trim().toLowerCase();
  if (v === 'normal') return 400;
  if (v === 'bold') return 700;
  // Relative weights, as CSS Fonts 4 maps them for an inherited weight.
  if (v === 'bolder') return inherited < 350 ? 400 : inherited < 550 ? 700 : 900;
  if (v === 'lighter') return inherited < 550 ? 100 : inherited < 750 ? 400 : 700;
  const n = Number(v);
  return Number.isFinite(n) && n >= 1 && n <= 1000 ? n : inherited;
}

const decodeEntities = (text: string) =>
  text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, code: string) => {
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    if (code[0] !== '#') return named[code.toLowerCase()]!;
    return String.fromCodePoint(code[1] === 'x' || code[1] === 'X' ? parseInt(code.slice(2), 16) : Number(code.slice(1)));
  });

/** The font properties an element sets, from its attributes and its style attribute (which wins, as in CSS). */
function elementFont(attributes: string, parent: FontContext): FontContext {
  const props = new Map<string, string>();
  for (const [, name, value] of attributes.matchAll(/([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    if (name === 'font-family' || name === 'font-weight' || name === 'font-style') props.set(name, decodeEntities(value ?? ''));
  }
  const style = /(?:^|\s)style\s*=\s*(?:"([^"]*)"|'([^']*)')/.exec(attributes);
  for (const declaration of decodeEntities(style?.[1] ?? style?.[2] ?? '').split(';')) {
    const [name, ...rest] = declaration.split(':');
    const key = name?.trim().toLowerCase();
    if (key === 'font-family' || key === 'font-weight' || key === 'font-style') props.set(key, rest.join(':').trim());
  }
  const family = props.get('font-family');
  const weight = props.get('font-weight');
  const fontStyle = props.get('font-style')?.trim().toLowerCase();
  return {
    families: family !== undefined ? parseFamilies(family) : parent.families,
    weight: weight !== undefined ? parseWeight(weight, parent.weight) : parent.weight,
    style: fontStyle === undefined ? parent.style : fontStyle === 'italic' || fontStyle === 'oblique' ? 'italic' : 'normal',
  };
}

// Tags, comments, CDATA and processing instructions, or a run of character data.
const TOKENS = /<!--[\s\S]*?-->|<!\[CDATA\[([\s\S]*?)\]\]>|<[?!][\s\S]*?>|<(\/?)([A-Za-z][\w:.-]*)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|([^<]+)/g;
const TEXT_ELEMENTS = new Set(['text', 'tspan', 'textPath']);

/** Each piece of drawn text (inside <text>) with the font it is set in. */
function textRuns(svg: string): { font: FontContext; text: string }[] {
  const runs: { font: FontContext; text: string }[] = [];
  const stack: { name: string; font: FontContext }[] = [];
  const root: FontContext = { families: [], weight: 400, style: 'normal' };
  const inText = () => stack.some((entry) => entry.name === 'text');
  for (const [, cdata, closing, name, attributes, selfClosing, chars] of svg.matchAll(TOKENS)) {
    const font = stack.at(-1)?.font ?? root;
    if (chars !== undefined || cdata !== undefined) {
      const top = stack.at(-1)?.name;
      if (inText() && top && TEXT_ELEMENTS.has(top)) runs.push({ font, text: cdata ?? decodeEntities(chars!) });
    } else if (name && closing) {
      const at = stack.map((entry) => entry.name).lastIndexOf(name);
      if (at >= 0) stack.length = at;
    } else if (name && !selfClosing) {
      stack.push({ name, font: elementFont(attributes ?? '', font) });
    }
  }
  return runs;
}

/** CSS font matching (CSS Fonts 4, section 5.2) within one family: style first, then the nearest weight. */
function matchFace(faces: readonly EmbeddableFace[], family: string, weight: number, style: 'normal' | 'italic'): EmbeddableFace | undefined {
  const ofFamily = faces.filter((face) => face.family.toLowerCase() === family);
  const styled = ofFamily.filter((face) => face.style === style);
  const candidates = styled.length ? styled : ofFamily;
  const distance = (w: number) => {
    if (w === weight) return 0;
    // Between 400 and 500: up to 500 first, then down, then up past 500; below 400 down first; above 500 up first.
    if (weight >= 400 && weight <= 500) return w > weight && w <= 500 ? w - weight : w < weight ? 1000 + weight - w : 2000 + w;
    if (weight < 400) return w < weight ? weight - w : 1000 + w;
    return w > weight ? w - weight : 1000 + weight - w;
  };
  return candidates.reduce<EmbeddableFace | undefined>((best, face) => (best === undefined || distance(face.weight) < distance(best.weight) ? face : best), undefined);
}

/**
 * The text each face draws in `svg`, in the order of `faces`: each run split
 * where the face changes, so adjacent characters in one string are the pairs
 * the face kerns.
 */
export function textByFace(svg: string, faces: readonly EmbeddableFace[]): Map<EmbeddableFace, string[]> {
  const used = new Map<EmbeddableFace, Set<string>>();
  for (const { font, text } of textRuns(svg)) {
    let current: EmbeddableFace | undefined;
    let piece = '';
    const flush = () => {
      if (current && piece) (used.get(current) ?? used.set(current, new Set([' '])).get(current)!).add(piece);
      piece = '';
    };
    for (const char of text) {
      const codePoint = char.codePointAt(0)!;
      const face = font.families.map((family) => matchFace(faces, family, font.weight, font.style)).find((f) => f?.font.hasGlyphForCodePoint(codePoint));
      if (face !== current) flush(), (current = face);
      piece += char;
    }
    flush();
  }
  return new Map(faces.filter((face) => used.has(face)).map((face) => [face, [...used.get(face)!].sort()]));
}

// The same face and text give the same subset: a --watch session's and a batch's repeated charts share them.
const subsets = recent<string>('charts: embedded font subsets', 64, (base64) => base64.length * 2);
const faceIds = new WeakMap<Uint8Array, string>();

function subsetBase64(face: EmbeddableFace, texts: string[]): string {
  let id = faceIds.get(face.sfnt);
  if (!id) faceIds.set(face.sfnt, (id = createHash('sha256').update(face.sfnt).digest('hex')));
  const key = `${id}\u0000${JSON.stringify(texts)}`;
  return subsets.get(key) ?? subsets.set(key, Buffer.from(subsetFont(face.sfnt, face.font, texts)).toString('base64'));
}

/** `svg` with a <style> of subset @font-face rules for the faces its text uses, first in its <defs>; unchanged when it draws no text in them. */
export function embedFonts(svg: string, faces: readonly EmbeddableFace[]): string {
  const used = textByFace(svg, faces);
  if (used.size === 0) return svg;
  const rules = [...used].map(
    ([face, texts]) =>
      `@font-face{font-family:"${face.family}";font-style:${face.style};font-weight:${face.weight};` +
      `src:url(data:font/ttf;base64,${subsetBase64(face, texts)}) format("truetype")}`,
  );
  const style = `<style>${rules.join('')}</style>`;
  if (/<defs>/.test(svg)) return svg.replace(/<defs>/, `<defs>${style}`);
  // After the root's <title> and <desc>, which stay its first children for assistive technology.
  return svg.replace(/^(<svg[^>]*>(?:<title[^>]*>[\s\S]*?<\/title>)?(?:<desc[^>]*>[\s\S]*?<\/desc>)?)/, `$1<defs>${style}</defs>`);
}
