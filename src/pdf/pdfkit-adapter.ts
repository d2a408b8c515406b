/**
 * The pdfkit adapter: the one module that reaches pdfkit's internals, and
 * only when the installed pdfkit is the version it was written for
 * (PDFKIT_WRITTEN_FOR). Otherwise, or with BRIEFING_PUBLIC_APIS=1 (how the
 * benchmark measures what this buys and a test checks the fallback), every
 * function here takes pdfkit's public path, after a one-line warning.
 *
 * pdfkit made cheaper for the work a briefing gives it, without changing a
 * byte of what it writes. Only a document's own objects are changed (its
 * `_write`, `font` and `ref`, and methods of the objects those make), never
 * pdfkit's classes, and one private method is called (`_fragment`);
 * test/pdf/pdfkit-adapter-test.ts compares each change with pdfkit's own code on the
 * same input. Upgrading pdfkit means running that test first.
 *
 * 1. Bytes (`collectPdfBytes`). pdfkit turns every line it writes into its
 *    own Uint8Array: each content operator of a page (`addContent` ->
 *    `PDFReference.write`) and each line of the file (`_write`, which also
 *    pushes it through a Node stream). An 11-page briefing makes tens of
 *    thousands of tiny typed arrays, which cost more to allocate and collect
 *    than to fill. Here the lines stay strings and become bytes once per
 *    stream object and once for the file, with the same byte per character
 *    (`Buffer` 'latin1' keeps the low 8 bits, as pdfkit's conversion does),
 *    the same lengths and the same offsets. Streams are deflated with
 *    pdfkit's own call, remembered by content.
 * 2. Word layouts (`shareFaceLayouts`). pdfkit lays out text a word at a
 *    time and keeps each word's glyphs and scaled positions per document; here
 *    per parsed face, for every document of the process, since they depend on
 *    the face alone and pdfkit never changes one once made (its text drawing
 *    and svg-to-pdfkit only read them). A string's layout appends its
 *    words' layouts in place, where pdfkit's copies the whole so far at
 *    every word.
 * 3. Text runs (`drawTextRun`). A line's runs are drawn by pdfkit's own
 *    drawing step with the width the layout already measured, skipping what
 *    `doc.text` does around it for wrapping, which a measured line never
 *    needs.
 */
import { installedVersion, versionGate } from '../support/versions.ts';

/** The pdfkit release whose internals this module was written against and tested with. */
export const PDFKIT_WRITTEN_FOR = '0.20.2';

const gate = versionGate('pdfkit', PDFKIT_WRITTEN_FOR, () => installedVersion('pdfkit'));

/** Whether the internal path is used in this process: the right pdfkit, and BRIEFING_PUBLIC_APIS unset (warns once for another version). */
export function usesPdfkitInternals(): boolean {
  return gate.allows();
}

/** For tests: decide again (after BRIEFING_PUBLIC_APIS changed). */
export function resetPdfkitAdapter(): void {
  gate.reset();
}

import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { recent } from '../support/recent.ts';

// ---------------------------------------------------------------------------
// 1. Bytes

type Piece = string | Uint8Array;

/** The internals of pdfkit's document, references and fonts that this module takes over. */
interface RawReference {
  buffer: Piece[] | Uint8Array;
  data: { Length?: number; Filter?: string };
  compress: boolean;
  uncompressedLength: number;
  write(chunk: unknown): void;
  finalize(): void;
}
interface RawDocument {
  _offset: number;
  _write(data: unknown): void;
  ref(data?: unknown): RawReference;
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown;
}

/** Joins strings (one byte per character) and byte arrays, in order, into one array. */
function joinPieces(pieces: readonly Piece[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let text = '';
  for (const piece of pieces) {
    if (typeof piece === 'string') {
      text += piece;
      continue;
    }
    if (text) parts.push(Buffer.from(text, 'latin1'));
    text = '';
    parts.push(piece);
  }
  if (text) parts.push(Buffer.from(text, 'latin1'));
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/**
 * Deflated streams by their content. A --watch rebuild redraws every page but
 * changes a few, and every report of a batch embeds font subsets that are
 * mostly the same bytes, so most streams were compressed before, with
 * pdfkit's own call (zlib's default level): the output is the same bytes.
 */
const deflated = recent<Uint8Array>('pdf: deflated streams', 256, (bytes, key) => bytes.byteLength + key.length * 2);

function deflateRemembered(bytes: Uint8Array): Uint8Array {
  const key = `${bytes.length}:${createHash('sha1').update(bytes).digest('base64')}`;
  return deflated.get(key) ?? deflated.set(key, deflateSync(bytes));
}

/** pdfkit's `PDFReference.write`, keeping a string as a string. */
function writeToReference(this: RawReference, chunk: unknown): void {
  const piece = chunk instanceof Uint8Array ? chunk : `${chunk}\n`;
  const buffer = this.buffer as Piece[];
  this.uncompressedLength += piece.length;
  if (this.data.Length == null) this.data.Length = 0;
  buffer.push(piece);
  this.data.Length += piece.length;
  if (this.compress) this.data.Filter = 'FlateDecode';
}

/**
 * Takes over how `doc` turns what it writes into bytes; call it right after
 * `new PDFDocument(...)`. The returned function gives the whole file once the
 * document has ended.
 */
export function collectPdfBytes(doc: PDFKit.PDFDocument): () => Uint8Array {
  if (!usesPdfkitInternals()) {
    // The public path: the document is a readable stream of the file's bytes.
    const chunks: Uint8Array[] = [];
    doc.on('data', (chunk: Uint8Array) => chunks.push(chunk));
    return () => new Uint8Array(Buffer.concat(chunks));
  }
  const raw = doc as unknown as RawDocument;
  // What the constructor already wrote (the header) went through the stream.
  const head: Uint8Array[] = [];
  raw.on('data', (chunk) => head.push(chunk));
  const body: Piece[] = [];
  raw._write = function (data: unknown) {
    const piece = data instanceof Uint8Array ? data : `${data}\n`;
    body.push(piece);
    this._offset += piece.length;
  };
  const makeReference = raw.ref;
  raw.ref = function (data?: unknown) {
    const ref = makeReference.call(this, data);
    const finalize = ref.finalize;
    ref.write = writeToReference;
    ref.finalize = function () {
      const pieces = this.buffer as Piece[];
      if (pieces.length) {
        const bytes = joinPieces(pieces);
        // Compressed here, as pdfkit would (Filter and Length are pdfkit's), through the process's memory.
        this.buffer = [this.compress ? deflateRemembered(bytes) : bytes];
        this.compress = false;
      }
      finalize.call(this);
    };
    return ref;
  };
  return () => {
    const file = joinPieces([...head, ...body]);
    // A plain Uint8Array view (no copy), as the stage's type promises.
    return new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
  };
}

// ---------------------------------------------------------------------------
// 2. Word layouts

interface Run {
  glyphs: { id: number; advanceWidth: number; codePoints: number[] }[];
  positions: object[];
  advanceWidth: number;
}

/** pdfkit's per-document font object (EmbeddedFont): the parts used here. */
interface RawFace {
  font: object;
  layoutCache?: Record<string, Run>;
  subset: { includeGlyph(id: number): number };
  widths: number[];
  unicode: number[][];
  scale: number;
  layoutRun(text: string, features?: unknown): Run;
  layoutCached(text: string): Run;
  layout(text: string, features?: unknown, onlyWidth?: boolean): { glyphs: Run['glyphs'] | null; positions: object[] | null; advanceWidth: number };
  encode(text: string, features?: unknown): [string[], object[]];
}

const layoutsByFace = new WeakMap<object, Record<string, Run>>();
/** A word's width, summed once: a run's `advanceWidth` is a getter that adds up its positions on every read. */
const runWidths = new WeakMap<Run, number>();
const fastFaces = new WeakSet<RawFace>();
const HEX4: string[] = [];

/**
 * pdfkit's `EmbeddedFont.layout`: the string split after each space or tab,
 * each piece laid out (and kept) as a word, glyphs and positions joined in
 * order and widths summed in order.
 */
function layoutWords(this: RawFace, text: string, features?: unknown, onlyWidth?: boolean): ReturnType<RawFace['layout']> {
  if (features) return this.layoutRun(text, features);
  const glyphs: Run['glyphs'] | null = onlyWidth ? null : [];
  const positions: object[] | null = onlyWidth ? null : [];
  let advanceWidth = 0;
  let last = 0;
  const length = text.length;
  for (let index = 0; index <= length; index++) {
    const code = index < length ? text.charCodeAt(index) : -1;
    if (code !== 32 && code !== 9 && !(index === length && last < index)) continue;
    const run = this.layoutCached(text.slice(last, index + 1));
    if (glyphs && positions) {
      for (const glyph of run.glyphs) glyphs.push(glyph);
      for (const position of run.positions) positions.push(position);
    }
    let width = runWidths.get(run);
    if (width === undefined) runWidths.set(run, (width = run.advanceWidth));
    advanceWidth += width;
    last = index + 1;
  }
  return { glyphs, positions, advanceWidth };
}

/** pdfkit's `EmbeddedFont.encode`, with each glyph's four-digit hex code made once per process. */
function encodeGlyphs(this: RawFace, text: string, features?: unknown): [string[], object[]] {
  const { glyphs, positions } = this.layout(text, features) as { glyphs: Run['glyphs']; positions: object[] };
  const res: string[] = [];
  for (const glyph of glyphs) {
    const gid = this.subset.includeGlyph(glyph.id);
    res.push((HEX4[gid] ??= `0000${gid.toString(16)}`.slice(-4)));
    if (this.widths[gid] == null) this.widths[gid] = glyph.advanceWidth * this.scale;
    if (this.unicode[gid] == null) this.unicode[gid] = glyph.codePoints;
  }
  return [res, positions];
}

/**
 * From now on, every face `doc` selects shares its word layouts with the
 * same face in every other document, and lays out and encodes strings as
 * above. Call it once the faces are registered.
 */
export function shareFaceLayouts(doc: PDFKit.PDFDocument): void {
  if (!usesPdfkitInternals()) return;
  const raw = doc as unknown as { font(...args: unknown[]): unknown; _font?: RawFace };
  const selectFont = raw.font;
  raw.font = function (...args: unknown[]) {
    const result = selectFont.apply(this, args);
    const face = raw._font;
    if (face && !fastFaces.has(face)) {
      fastFaces.add(face);
      if (face.layoutCache) {
        let shared = layoutsByFace.get(face.font);
        if (!shared) layoutsByFace.set(face.font, (shared = face.layoutCache));
        face.layoutCache = shared;
      }
      face.layout = layoutWords;
      face.encode = encodeGlyphs;
    }
    return result;
  };
}

// ---------------------------------------------------------------------------
// 3. Text runs

/** JavaScript's `\s`, the whitespace pdfkit splits words on. */
function isSpace(code: number): boolean {
  return (
    code === 32 || (code >= 9 && code <= 13) || code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 || code === 0x2029 || code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff
  );
}

/** The number of words pdfkit counts in `text` (`text.trim().split(/\s+/)`, none if blank). */
export function countWords(text: string): number {
  let words = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const space = isSpace(text.charCodeAt(i));
    if (!space && !inWord) words++;
    inWord = !space;
  }
  return words;
}

/**
 * Draws one line of text at (x, y), its baseline at y, as
 * `doc.text(text, x, y, { lineBreak: false, baseline: 'alphabetic' })` does,
 * given its width (already measured with the current font and size). That
 * call copies its options, splits the text into lines, measures it twice and
 * counts its words before drawing it; with no wrapping, alignment, link or
 * decoration asked for, only the drawing (`_fragment`) writes anything.
 */
export function drawTextRun(doc: PDFKit.PDFDocument, text: string, x: number, y: number, width: number): void {
  if (!usesPdfkitInternals()) {
    doc.text(text, x, y, { lineBreak: false, baseline: 'alphabetic' });
    return;
  }
  const raw = doc as unknown as { x: number; y: number; _fragment(text: string, x: number, y: number, options: object): void };
  raw.x = x;
  raw.y = y;
  raw._fragment(text, x, y, { lineBreak: false, baseline: 'alphabetic', columns: 0, columnGap: 18, rotation: 0, textWidth: width, wordCount: countWords(text) });
  raw.x = x + width;
}

// ---------------------------------------------------------------------------
// 4. XMP

/**
 * Makes `doc` write `xml` as its XMP info block at doc.end(), replacing the
 * one pdfkit builds from the info dictionary (unescaped, without ModifyDate
 * or the PDF/UA identification): an own-instance override of `_addInfo`.
 * On the public path pdfkit's own block is kept (the file stays valid; its
 * XMP is pdfkit's).
 */
export function replaceXmpInfo(doc: PDFKit.PDFDocument, xml: string): void {
  if (!usesPdfkitInternals()) return;
  (doc as unknown as { _addInfo: () => void })._addInfo = () => doc.appendXML(xml);
}
