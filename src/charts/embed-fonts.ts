/**
 * Standalone chart SVG -> the same SVG with the faces its text uses embedded
 * as subset @font-face data, so it renders in the briefing's typeface on a
 * machine that does not have it (npm run chart, output/charts/). The HTML
 * edition keeps its one copy of the fonts and never calls this.
 *
 *   SVG ─text elements' font-family/weight/style─▶ characters per face
 *     ─fontkit subset + cmap/name/OS2/post/kern (font-subset.ts)─▶ TrueType ─base64─▶ <style> in <defs>
 *
 * Each character is embedded from the face of the fallback chain that the
 * PDF draws it with (fonts.ts: the Latin face, its other slices, Noto Sans
 * Math, Symbols 2, Emoji), and each rule's unicode-range names exactly its
 * characters, so a browser picks the same face per character as the PDF.
 */
import { faceFor, FACE_STYLES, FONT_STACK, splitByFace, type ChainFace, type FaceKey, type FontBytes } from '../text/fonts.ts';
import { recent } from '../support/recent.ts';
import { decodeXml } from '../support/text.ts';
import { subsetFont, type SubsettableFont } from './font-subset.ts';
import { createHash } from 'node:crypto';

/** A face of the chain that an SVG's text uses, for one weight and style the text asks for. */
export interface UsedFace {
  face: ChainFace;
  /** The face the text asks for (weight and style): the @font-face rule declares it, so a browser neither synthesises nor skips it. */
  key: FaceKey;
  /** The pieces of text the face draws, sorted: adjacent characters in one piece are the pairs it kerns. */
  texts: string[];
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

/** The font properties an element sets, from its attributes and its style attribute (which wins, as in CSS). */
function elementFont(attributes: string, parent: FontContext): FontContext {
  const props = new Map<string, string>();
  for (const [, name, value] of attributes.matchAll(/([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    if (name === 'font-family' || name === 'font-weight' || name === 'font-style') props.set(name, decodeXml(value ?? ''));
  }
  const style = /(?:^|\s)style\s*=\s*(?:"([^"]*)"|'([^']*)')/.exec(attributes);
  for (const declaration of decodeXml(style?.[1] ?? style?.[2] ?? '').split(';')) {
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
      if (inText() && top && TEXT_ELEMENTS.has(top)) runs.push({ font, text: cdata ?? decodeXml(chars!) });
    } else if (name && closing) {
      const at = stack.map((entry) => entry.name).lastIndexOf(name);
      if (at >= 0) stack.length = at;
    } else if (name && !selfClosing) {
      stack.push({ name, font: elementFont(attributes ?? '', font) });
    }
  }
  return runs;
}

const STACK = new Set(FONT_STACK.map((family) => family.toLowerCase()));

/**
 * The faces `svg`'s text is set in: text whose font-family list names a
 * family of the project's chain is split by the chain as the PDF splits it
 * (each character from the first face that draws it); other families are
 * left to the viewer. Own faces also get a space, as a run may end on one.
 */
export function textByFace(svg: string, fonts: FontBytes): UsedFace[] {
  const used = new Map<string, { face: ChainFace; key: FaceKey; texts: Set<string> }>();
  for (const { font, text } of textRuns(svg)) {
    if (!font.families.some((family) => STACK.has(family))) continue;
    const key = faceFor(font.weight, font.style);
    for (const run of splitByFace(fonts, key, text)) {
      const id = `${run.face.name}\u0000${key}`;
      let entry = used.get(id);
      if (!entry) used.set(id, (entry = { face: run.face, key, texts: new Set(run.face.name === key ? [' '] : []) }));
      entry.texts.add(run.text);
    }
  }
  return [...used.values()].map(({ face, key, texts }) => ({ face, key, texts: [...texts].sort() }));
}

/** `unicode-range` of the characters in `texts`: U+20,U+41-5A. */
export function unicodeRange(texts: readonly string[]): string {
  const codePoints = [...new Set(texts.flatMap((text) => [...text].map((char) => char.codePointAt(0)!)))].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < codePoints.length; i++) {
    const from = codePoints[i]!;
    while (codePoints[i + 1] === codePoints[i]! + 1) i++;
    const hex = (n: number) => n.toString(16).toUpperCase();
    ranges.push(from === codePoints[i] ? `U+${hex(from)}` : `U+${hex(from)}-${hex(codePoints[i]!)}`);
  }
  return ranges.join(',');
}

// The same face and text give the same subset: a --watch session's and a batch's repeated charts share them.
const subsets = recent<string>('charts: embedded font subsets', 64, (base64) => base64.length * 2);
const faceIds = new WeakMap<Uint8Array, string>();

function subsetBase64(face: ChainFace, texts: string[]): string {
  let id = faceIds.get(face.sfnt);
  if (!id) faceIds.set(face.sfnt, (id = createHash('sha256').update(face.sfnt).digest('hex')));
  const key = `${id}\u0000${JSON.stringify(texts)}`;
  // The chain's faces are fontkit fonts: createSubset and glyphForCodePoint are part of their public API.
  return subsets.get(key) ?? subsets.set(key, Buffer.from(subsetFont(face.sfnt, face.font as unknown as SubsettableFont, texts)).toString('base64'));
}

/** `svg` with a <style> of subset @font-face rules for the faces its text uses, first in its <defs>; unchanged when it draws no text in them. */
export function embedFonts(svg: string, fonts: FontBytes): string {
  const used = textByFace(svg, fonts);
  if (used.length === 0) return svg;
  // Each rule names its characters: a family split into files (Latin, Latin Extended ...) is then one family to a browser.
  const rules = used.map(
    ({ face, key, texts }) =>
      `@font-face{font-family:"${face.family}";font-style:${FACE_STYLES[key].style};font-weight:${FACE_STYLES[key].weight};` +
      `src:url(data:font/ttf;base64,${subsetBase64(face, texts)}) format("truetype");unicode-range:${unicodeRange(texts)}}`,
  );
  const style = `<style>${rules.join('')}</style>`;
  if (/<defs>/.test(svg)) return svg.replace(/<defs>/, `<defs>${style}`);
  // After the root's <title> and <desc>, which stay its first children for assistive technology.
  return svg.replace(/^(<svg[^>]*>(?:<title[^>]*>[\s\S]*?<\/title>)?(?:<desc[^>]*>[\s\S]*?<\/desc>)?)/, `$1<defs>${style}</defs>`);
}
