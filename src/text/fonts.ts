/**
 * The briefing's typeface: Source Sans 3 from npm (@fontsource), the same
 * files for chart text metrics, the PDF's embedded fonts and the HTML's
 * inline @font-face, so every machine renders the same.
 */
import { noteStore, trackMap } from '../support/recent.ts';
import { createRequire } from 'node:module';
import { CliError } from '../support/error.ts';
import { messages } from '../support/messages.ts';
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

/** Absolute paths of the font files inside node_modules; a missing one is a CliError naming it. */
export function fontPaths(): Record<FaceKey, string> {
  const require = createRequire(import.meta.url);
  const resolve = (file: string) => {
    const specifier = `@fontsource/source-sans-3/files/${file}`;
    try {
      return require.resolve(specifier);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') throw new CliError(messages.fontMissing(specifier));
      throw error;
    }
  };
  return Object.fromEntries(FACE_KEYS.map((key) => [key, resolve(FACE_FILES[key])])) as Record<FaceKey, string>;
}

/** True when the bytes start like a font file this project can read (WOFF, TrueType or OpenType). */
export function isFontFile(bytes: Uint8Array): boolean {
  const magic = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(4, bytes.byteLength)).toString('latin1');
  return magic === 'wOFF' || magic === 'OTTO' || magic === 'true' || magic === '\x00\x01\x00\x00';
}

/** Characters outside the embedded Latin subset, with the nearest text it has (the PDF sets these). */
export const GLYPH_FALLBACK: Readonly<Record<string, string>> = {
  '\u2192': '->',
  '\u2190': '<-',
  '\u2248': '~',
  '\u2264': '<=',
  '\u2265': '>=',
  '\u2260': '!=',
  '\u21a9': '\u2191',
  '\u2009': ' ',
  '\u202f': '\u00a0',
  '\u2713': 'yes',
  '\u2717': 'no',
};

/** Characters that are dropped rather than drawn (soft hyphens, zero-width joiners). */
export const IGNORABLE_CHARACTERS = /[\u00ad\u200b\u200c\u200d\ufeff]/g;

/**
 * Which characters every face can draw, directly or through GLYPH_FALLBACK,
 * so validation can refuse text the PDF could not set before any stage runs.
 */
export function createCoverage(bytes: FontBytes): (char: string) => boolean {
  const faces = Object.values(openFaces(bytes));
  const direct = (char: string) => faces.every((face) => face.hasGlyphForCodePoint(char.codePointAt(0) ?? 0));
  // Every string of every dataset is checked character by character, and the
  // faces never change, so each character is looked up once per process.
  const known = new Map<string, boolean>();
  return (char) => {
    let drawable = known.get(char);
    if (drawable === undefined) {
      const fallback = GLYPH_FALLBACK[char];
      const ignorable = IGNORABLE_CHARACTERS.test(char);
      IGNORABLE_CHARACTERS.lastIndex = 0;
      drawable = char === '\n' || ignorable || direct(char) || (fallback !== undefined && [...fallback].every(direct));
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
    faces = Object.fromEntries(FACE_KEYS.map((key) => [key, rememberRuns(fontkit().create(Buffer.from(bytes[key])))])) as Record<FaceKey, FontkitFont>;
    facesByBytes.set(bytes, faces);
  }
  return faces;
}

/** Text widths from the real font files, in the same units as the font size. */
export interface FontMetrics {
  /** Advance width of `text` set in `face` at `size` (px or pt), with the font's kerning as pdfkit and browsers apply it. */
  measure(text: string, size: number, face: FaceKey): number;
}

/** Measures text with the shared faces; widths are cached per face and string. */
export function createFontMetrics(bytes: FontBytes): FontMetrics {
  const faces = openFaces(bytes);
  // Widths per em, so one layout serves every size; charts repeat the same labels often.
  const cache = trackMap('fonts: chart text widths', new Map<string, number>(), 120);
  return {
    measure(text, size, face) {
      const key = `${face}\u0000${text}`;
      let em = cache.get(key);
      if (em === undefined) {
        const font = faces[face];
        em = font.layout(text).advanceWidth / font.unitsPerEm;
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
