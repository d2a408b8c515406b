/**
 * The briefing's typeface: Source Sans 3 from npm (@fontsource), the same
 * files for chart text metrics, the PDF's embedded fonts and the HTML's
 * inline @font-face, so every machine renders the same. Characters its Latin
 * files lack come from a fallback chain of other @fontsource faces (see
 * FALLBACK_FAMILIES), read only when a text needs them.
 */
import { noteStore, trackMap } from '../support/recent.ts';
import { createRequire } from 'node:module';
import { CliError } from '../support/error.ts';
import { messages } from '../support/messages.ts';
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { createPlainShaper, usesFontkitInternals, type ShapableFont } from './fontkit-adapter.ts';

export const FONT_FAMILY = 'Source Sans 3';
export type FaceKey = 'regular' | 'italic' | 'bold' | 'boldItalic';
export const FACE_KEYS: readonly FaceKey[] = ['regular', 'italic', 'bold', 'boldItalic'];

/** The raw .woff bytes of each face, read by the orchestrator. */
export type FontBytes = Record<FaceKey, Uint8Array>;

const FACE_FILES: Record<FaceKey, string> = {
  regular: 'source-sans-3-latin-400-normal.woff',
  italic: 'source-sans-3-latin-400-italic.woff',
  bold: 'source-sans-3-latin-700-normal.woff',
  boldItalic: 'source-sans-3-latin-700-italic.woff',
};

/** The briefing's own files: the fallback chain skips them (they are the same package's Latin slice). */
const OWN_FILES: ReadonlySet<string> = new Set(Object.values(FACE_FILES));

/** Resolves a file of an @fontsource package; a missing one is a CliError naming it. */
function resolveFontFile(specifier: string): string {
  try {
    return createRequire(import.meta.url).resolve(specifier);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') throw new CliError(messages.fontMissing(specifier));
    throw error;
  }
}

/** Absolute paths of the font files inside node_modules; a missing one is a CliError naming it. */
export function fontPaths(): Record<FaceKey, string> {
  return Object.fromEntries(FACE_KEYS.map((key) => [key, resolveFontFile(`@fontsource/source-sans-3/files/${FACE_FILES[key]}`)])) as Record<FaceKey, string>;
}

/** True when the bytes start like a font file this project can read (WOFF, TrueType or OpenType). */
export function isFontFile(bytes: Uint8Array): boolean {
  const magic = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(4, bytes.byteLength)).toString('latin1');
  return magic === 'wOFF' || magic === 'OTTO' || magic === 'true' || magic === '\x00\x01\x00\x00';
}

/** Characters that are dropped rather than drawn (soft hyphens, zero-width joiners). */
export const IGNORABLE_CHARACTERS = /[\u00ad\u200b\u200c\u200d\ufeff]/g;

/**
 * Which characters every face can draw, from its own file or a face of the
 * fallback chain, so validation can refuse text the PDF could not set before
 * any stage runs.
 */
export function createCoverage(bytes: FontBytes): (char: string) => boolean {
  // Every string of every dataset is checked character by character, and the
  // faces never change, so each character is looked up once per process.
  const known = new Map<string, boolean>();
  return (char) => {
    let drawable = known.get(char);
    if (drawable === undefined) {
      const ignorable = IGNORABLE_CHARACTERS.test(char);
      IGNORABLE_CHARACTERS.lastIndex = 0;
      drawable = char === '\n' || ignorable || FACE_KEYS.every((key) => faceForCharacter(bytes, key, char) !== undefined);
      known.set(char, drawable);
    }
    return drawable;
  };
}

/** The face for a CSS-style weight and style. */
export function faceFor(weight: number | string | undefined, style: string | undefined): FaceKey {
  const bold = weight === 'bold' || Number(weight) >= 600;
  const italic = style === 'italic' || style === 'oblique';
  return bold ? (italic ? 'boldItalic' : 'bold') : italic ? 'italic' : 'regular';
}

/** One glyph's position in a shaped run, in font units (fontkit's GlyphPosition). */
interface GlyphPosition {
  xAdvance: number;
  yAdvance: number;
  xOffset: number;
  yOffset: number;
}

/** A shaped run as fontkit returns it; pdfkit reads glyphs, positions and advanceWidth. */
export interface ShapedRun {
  glyphs: unknown[];
  positions: GlyphPosition[];
  readonly advanceWidth: number;
}

/** The slice of fontkit's font object this project uses (fontkit ships no type declarations). */
export interface FontkitFont {
  unitsPerEm: number;
  layout(text: string, ...rest: unknown[]): ShapedRun;
  hasGlyphForCodePoint(codePoint: number): boolean;
  getGlyph(id: number, codePoints?: number[]): { codePoints: number[] } | null;
}
type Fontkit = { create(bytes: Buffer): FontkitFont };
let fontkitModule: Fontkit | undefined;

/**
 * Loads fontkit (the build's font loader awaits this first): the module
 * pdfkit imports too, so a compiled build holds one fontkit. It is loaded on
 * first use, since the CLI's main thread never needs it.
 */
export async function loadFontkit(): Promise<void> {
  // @ts-expect-error: fontkit ships no type declarations; the slice used here is typed above.
  fontkitModule ??= (await import('fontkit')) as Fontkit;
}

/** fontkit: the one loadFontkit() loaded, else (a test calling a font function directly) required now. */
function fontkit(): Fontkit {
  return (fontkitModule ??= createRequire(import.meta.url)('fontkit') as Fontkit);
}

/**
 * Shaping (fontkit's GSUB/GPOS processing) is the costliest step of setting
 * text, and its result depends only on the face and the string. Each face is
 * parsed once per process and its layout() remembers every run it shaped,
 * for chart labels, PDF line breaking and PDF drawing alike, across reports
 * and --watch rebuilds. A call returns fresh position objects, since pdfkit
 * scales them in place.
 */
function rememberRuns(font: FontkitFont): FontkitFont {
  const shape = font.layout.bind(font);
  // Plain words (most of them) skip fontkit's shaping machinery: src/shaping.ts.
  let plain: ReturnType<typeof createPlainShaper> | null = null;
  const runs = trackMap('fonts: shaped words', new Map<string, { glyphs: unknown[]; positions: GlyphPosition[] }>(), 640);
  font.layout = (text: string, ...rest: unknown[]): ShapedRun => {
    // Only the plain call (default features, script from the text) is remembered.
    if (typeof text !== 'string' || rest.some((arg) => arg !== undefined)) return shape(text, ...rest);
    let run = runs.get(text);
    if (!run) {
      // The fontkit adapter's plain shaper only for the fontkit it mirrors; else fontkit's own layout for every word.
      if (plain === null) plain = usesFontkitInternals() ? createPlainShaper(font as unknown as ShapableFont) : undefined;
      const fast = plain?.(text);
      if (fast) run = fast;
      else {
        const shaped = shape(text);
        run = { glyphs: shaped.glyphs, positions: shaped.positions.map(copyPosition) };
      }
      runs.set(text, run);
      noteStore();
    }
    return freshRun(run.glyphs, run.positions.map(copyPosition));
  };
  return font;
}

/**
 * fontkit makes each glyph object once per font, with the characters of the
 * call that first asked for it. A glyph first met as part of another (the
 * period inside a colon or an ellipsis, when a PDF embeds a subset) is made
 * with none, and every later PDF's ToUnicode map then lacks it: the period
 * is drawn but copies and searches as nothing. So a glyph without characters
 * takes those of the first call that names some.
 */
function keepGlyphCharacters(font: FontkitFont): FontkitFont {
  const getGlyph = font.getGlyph.bind(font);
  font.getGlyph = (id: number, codePoints: number[] = []) => {
    const glyph = getGlyph(id, codePoints);
    if (glyph && glyph.codePoints.length === 0 && codePoints.length > 0) glyph.codePoints = codePoints;
    return glyph;
  };
  return font;
}

/** A face parsed from font bytes, with its runs remembered and its glyphs' characters kept. */
function openFont(bytes: Uint8Array): FontkitFont {
  return rememberRuns(keepGlyphCharacters(fontkit().create(Buffer.from(bytes))));
}

function copyPosition(p: GlyphPosition): GlyphPosition {
  return { xAdvance: p.xAdvance, yAdvance: p.yAdvance, xOffset: p.xOffset, yOffset: p.yOffset };
}

function freshRun(glyphs: unknown[], positions: GlyphPosition[]): ShapedRun {
  return {
    glyphs: glyphs.slice(),
    positions,
    get advanceWidth() {
      let width = 0;
      for (const position of positions) width += position.xAdvance;
      return width;
    },
  };
}

const facesByBytes = new WeakMap<FontBytes, Record<FaceKey, FontkitFont>>();

/**
 * The parsed faces of a font set, once per process (keyed by the bytes
 * object the orchestrator loaded once): chart metrics, the coverage check and
 * every PDF share them. pdfkit accepts a fontkit font in place of font bytes.
 */
export function openFaces(bytes: FontBytes): Record<FaceKey, FontkitFont> {
  let faces = facesByBytes.get(bytes);
  if (!faces) {
    faces = Object.fromEntries(FACE_KEYS.map((key) => [key, openFont(bytes[key])])) as Record<FaceKey, FontkitFont>;
    facesByBytes.set(bytes, faces);
  }
  return faces;
}

// ---------------------------------------------------------------------------
// The fallback chain: faces for the characters Source Sans 3's Latin files lack.

/** A family of the chain: its npm package and the file style that serves each face (the nearest weight and slant it has). */
interface FallbackFamily {
  family: string;
  /** An @fontsource package; its unicode.json names the slices Google Fonts split the face into. */
  package: string;
  styles: Record<FaceKey, string>;
}

const UPRIGHT: Record<FaceKey, string> = { regular: '400-normal', italic: '400-normal', bold: '400-normal', boldItalic: '400-normal' };

/**
 * In the order a browser reads the SVG's font-family list: the same face's
 * other slices first (Latin Extended, Greek, Cyrillic, Vietnamese), then
 * mathematical symbols (≈ ≥ ∞ → and arrows), other symbols (✓ ✗ ★) and
 * monochrome emoji. CJK is not in it: Noto Sans SC alone is 76 MB in 1,800
 * slices, too much for every install of a briefing tool.
 */
const FALLBACK_FAMILIES: readonly FallbackFamily[] = [
  { family: FONT_FAMILY, package: '@fontsource/source-sans-3', styles: { regular: '400-normal', italic: '400-italic', bold: '700-normal', boldItalic: '700-italic' } },
  { family: 'Noto Sans Math', package: '@fontsource/noto-sans-math', styles: UPRIGHT },
  { family: 'Noto Sans Symbols 2', package: '@fontsource/noto-sans-symbols-2', styles: UPRIGHT },
  { family: 'Noto Emoji', package: '@fontsource/noto-emoji', styles: { regular: '400-normal', italic: '400-normal', bold: '700-normal', boldItalic: '700-normal' } },
];

/** The chain's families in order, for a CSS font-family list. */
export const FONT_STACK: readonly string[] = [...new Set(FALLBACK_FAMILIES.map((entry) => entry.family))];

/** One face of the chain, as the PDF registers it and the SVG names it. */
export interface ChainFace {
  /** The pdfkit font name: the FaceKey for the briefing's own faces, the file's name for a fallback face. */
  name: string;
  family: string;
  /** The face's TrueType/OpenType bytes, for embedding a subset of it. */
  sfnt: Uint8Array;
  font: FontkitFont;
}

/** CSS weight and style of a FaceKey. */
export const FACE_STYLES: Record<FaceKey, { weight: number; style: 'normal' | 'italic' }> = {
  regular: { weight: 400, style: 'normal' },
  italic: { weight: 400, style: 'italic' },
  bold: { weight: 700, style: 'normal' },
  boldItalic: { weight: 700, style: 'italic' },
};

/** A slice of a fallback family: the file stem without its style, and the code points its unicode-range names. */
interface Slice {
  stem: string;
  ranges: [number, number][];
}

const slicesByPackage = new Map<string, Slice[]>();

/** The slices of a package, from its unicode.json ("latin-ext": "U+0100-02BA,..."; "[3]": ... for numbered slices). */
function slicesOf(pkg: string): Slice[] {
  let slices = slicesByPackage.get(pkg);
  if (!slices) {
    const ranges = JSON.parse(readFileSync(resolveFontFile(`${pkg}/unicode.json`), 'utf8')) as Record<string, string>;
    const id = pkg.replace(/^@fontsource\//, '');
    slices = Object.entries(ranges).map(([name, list]) => ({
      stem: `${id}-${name.replace(/[[\]]/g, '')}`,
      ranges: list.split(',').map((range) => {
        const [from, to] = range.trim().replace(/^U\+/i, '').split('-');
        return [parseInt(from!, 16), parseInt(to ?? from!, 16)] as [number, number];
      }),
    }));
    slicesByPackage.set(pkg, slices);
  }
  return slices;
}

/** Fallback faces read so far, by package file and by pdfkit name. */
const fallbackFaces = new Map<string, ChainFace>();
const fallbackNames = new Map<string, ChainFace>();

/**
 * A fallback face, read from node_modules on first need and kept for the
 * process: fonts are the packages' assets, like their code, and vega's text
 * measurer asks synchronously, so they are read here rather than through the
 * build's effects. A briefing in plain Latin never reads one.
 */
function fallbackFace(family: string, file: string): ChainFace {
  let face = fallbackFaces.get(file);
  if (!face) {
    const path = resolveFontFile(file);
    const bytes = readFileSync(path);
    if (!isFontFile(bytes)) throw new CliError(messages.fontInvalid(path));
    const name = file.replace(/^.*\//, '').replace(/\.woff$/, '');
    const sfnt = unpackWoff(bytes);
    face = { name, family, sfnt, font: openFont(sfnt) };
    fallbackFaces.set(file, face);
    fallbackNames.set(name, face);
  }
  return face;
}

/** The first fallback face that draws `codePoint` for `key`, skipping files the briefing's own faces already are. */
function findFallback(key: FaceKey, codePoint: number, own: ReadonlySet<string>): ChainFace | undefined {
  for (const entry of FALLBACK_FAMILIES) {
    const slices = slicesOf(entry.package);
    // A face split into slices holds each character in the slice whose range names it; a face in one file is whole.
    const candidates = slices.length === 1 ? slices : slices.filter((slice) => slice.ranges.some(([from, to]) => codePoint >= from && codePoint <= to));
    for (const slice of candidates) {
      const file = `${entry.package}/files/${slice.stem}-${entry.styles[key]}.woff`;
      if (own.has(file.replace(/^.*\//, ''))) continue;
      const face = fallbackFace(entry.family, file);
      if (face.font.hasGlyphForCodePoint(codePoint)) return face;
    }
  }
  return undefined;
}

interface FontChain {
  own: Record<FaceKey, ChainFace>;
  /** Per face, the chain face of each character seen (null: none has it). */
  byCharacter: Record<FaceKey, Map<string, ChainFace | null>>;
  /** Per face, text made only of characters the face itself draws from the common ranges, which needs no lookup. */
  plain: Record<FaceKey, RegExp>;
}

const chainsByBytes = new WeakMap<FontBytes, FontChain>();

// Where a briefing's text mostly is: ASCII, Latin-1, and the dashes, quotes, bullets and ellipsis of General Punctuation.
const COMMON_RANGES: readonly [number, number][] = [[0x20, 0x7e], [0xa0, 0xff], [0x2010, 0x2027], [0x2030, 0x203a], [0x20ac, 0x20ac]];

/** A test for text made only of common characters `font` draws itself (ranges it lacks any character of are left out). */
function plainText(font: FontkitFont): RegExp {
  const escape = (codePoint: number) => `\\u${codePoint.toString(16).padStart(4, '0')}`;
  const covered = COMMON_RANGES.filter(([from, to]) => {
    for (let codePoint = from; codePoint <= to; codePoint++) if (!font.hasGlyphForCodePoint(codePoint)) return false;
    return true;
  });
  return new RegExp(`^[${covered.map(([from, to]) => `${escape(from)}-${escape(to)}`).join('')}]*$`);
}

function chainOf(bytes: FontBytes): FontChain {
  let chain = chainsByBytes.get(bytes);
  if (!chain) {
    const faces = openFaces(bytes);
    const perFace = <T>(make: (key: FaceKey) => T) => Object.fromEntries(FACE_KEYS.map((key) => [key, make(key)])) as Record<FaceKey, T>;
    chain = {
      own: perFace((key) => ({ name: key, family: FONT_FAMILY, sfnt: bytes[key], font: faces[key] })),
      byCharacter: perFace(() => trackMap('fonts: faces by character', new Map<string, ChainFace | null>(), 64)),
      plain: perFace((key) => plainText(faces[key])),
    };
    chainsByBytes.set(bytes, chain);
  }
  return chain;
}

/** The first face of the chain that draws `char` in `key`: the face itself, else a fallback; undefined when none does. */
export function faceForCharacter(bytes: FontBytes, key: FaceKey, char: string): ChainFace | undefined {
  const chain = chainOf(bytes);
  const known = chain.byCharacter[key];
  let face = known.get(char);
  if (face === undefined) {
    const codePoint = char.codePointAt(0) ?? 0;
    const own = chain.own[key];
    face = own.font.hasGlyphForCodePoint(codePoint) ? own : (findFallback(key, codePoint, OWN_FILES) ?? null);
    known.set(char, face);
    noteStore();
  }
  return face ?? undefined;
}

/** A run of text set in one face of the chain. */
export interface FaceRun {
  face: ChainFace;
  text: string;
}

// Marks, joiners and variation selectors belong to the character before them, so they stay in its run when its face has them.
const CLINGING = /^[\p{M}\u200d\ufe00-\ufe0f]$/u;

/**
 * Splits `text` into runs, each in the first face of the chain that draws its
 * characters (as a browser falls back through a font-family list). A
 * character no face draws stays in the run before it, and is passed to
 * `missing` (whitespace and ignorable characters aside).
 */
export function splitByFace(bytes: FontBytes, key: FaceKey, text: string, missing?: (char: string) => void): FaceRun[] {
  const chain = chainOf(bytes);
  const own = chain.own[key];
  if (chain.plain[key].test(text)) return [{ face: own, text }];
  const runs: FaceRun[] = [];
  for (const char of text) {
    const last = runs.at(-1);
    const clings = last !== undefined && CLINGING.test(char) && last.face.font.hasGlyphForCodePoint(char.codePointAt(0) ?? 0);
    let face = clings ? last.face : faceForCharacter(bytes, key, char);
    if (!face) {
      if (missing && !/\s/.test(char) && !IGNORABLE_CHARACTER.test(char)) missing(char);
      face = last?.face ?? own;
    }
    if (last?.face === face) last.text += char;
    else runs.push({ face, text: char });
  }
  return runs;
}

const IGNORABLE_CHARACTER = new RegExp(`^${IGNORABLE_CHARACTERS.source}$`);

/** The distinct characters of `text` that no face of the chain draws in `key` (whitespace and ignorable characters aside). */
export function missingCharacters(bytes: FontBytes, key: FaceKey, text: string): string[] {
  const missing = new Set<string>();
  splitByFace(bytes, key, text, (char) => missing.add(char));
  return [...missing];
}

/** A face of the chain by its pdfkit name, once it has been used (the PDF registers fallback faces on first use). */
export function chainFaceNamed(bytes: FontBytes, name: string): ChainFace | undefined {
  if ((FACE_KEYS as readonly string[]).includes(name)) return chainOf(bytes).own[name as FaceKey];
  return fallbackNames.get(name);
}

/** Text widths from the real font files, in the same units as the font size. */
export interface FontMetrics {
  /** Advance width of `text` set in `face` at `size` (px or pt), with the font's kerning as pdfkit and browsers apply it. */
  measure(text: string, size: number, face: FaceKey): number;
}

/**
 * Measures text with the shared faces, each run in the face of the chain that
 * draws it (as the PDF sets it and a browser with the fonts shows it); widths
 * are cached per face and string.
 */
export function createFontMetrics(bytes: FontBytes): FontMetrics {
  // Widths per em, so one layout serves every size; charts repeat the same labels often.
  const cache = trackMap('fonts: chart text widths', new Map<string, number>(), 120);
  return {
    measure(text, size, face) {
      const key = `${face}\u0000${text}`;
      let em = cache.get(key);
      if (em === undefined) {
        em = 0;
        for (const run of splitByFace(bytes, face, text)) em += run.face.font.layout(run.text).advanceWidth / run.face.font.unitsPerEm;
        cache.set(key, em);
        noteStore();
      }
      return em * size;
    },
  };
}

/**
 * Unpacks a WOFF 1.0 file into the TrueType/OpenType file it wraps. fontkit
 * reads WOFF by inflating a table on every access (the whole glyf table for
 * each glyph), so the PDF and chart stages get the unpacked font, once; the
 * HTML keeps the smaller WOFF.
 */
export function unpackWoff(woff: Uint8Array): Uint8Array {
  const input = Buffer.from(woff.buffer, woff.byteOffset, woff.byteLength);
  if (input.toString('latin1', 0, 4) !== 'wOFF') return woff; // already a plain font
  const flavor = input.readUInt32BE(4);
  const numTables = input.readUInt16BE(12);
  const tables = Array.from({ length: numTables }, (_, i) => {
    const at = 44 + i * 20;
    const offset = input.readUInt32BE(at + 4);
    const compLength = input.readUInt32BE(at + 8);
    const origLength = input.readUInt32BE(at + 12);
    const raw = input.subarray(offset, offset + compLength);
    return {
      tag: input.subarray(at, at + 4),
      checksum: input.readUInt32BE(at + 16),
      data: compLength < origLength ? inflateSync(raw) : raw,
    };
  });
  let entrySelector = 0;
  while (2 ** (entrySelector + 1) <= numTables) entrySelector++;
  const searchRange = 2 ** entrySelector * 16;
  const headerSize = 12 + numTables * 16;
  const padded = (n: number) => (n + 3) & ~3;
  const output = Buffer.alloc(headerSize + tables.reduce((sum, t) => sum + padded(t.data.length), 0));
  output.writeUInt32BE(flavor, 0);
  output.writeUInt16BE(numTables, 4);
  output.writeUInt16BE(searchRange, 6);
  output.writeUInt16BE(entrySelector, 8);
  output.writeUInt16BE(numTables * 16 - searchRange, 10);
  let offset = headerSize;
  tables.forEach((table, i) => {
    const at = 12 + i * 16;
    table.tag.copy(output, at);
    output.writeUInt32BE(table.checksum, at + 4);
    output.writeUInt32BE(offset, at + 8);
    output.writeUInt32BE(table.data.length, at + 12);
    table.data.copy(output, offset);
    offset += padded(table.data.length);
  });
  return new Uint8Array(output.buffer, output.byteOffset, output.byteLength);
}
