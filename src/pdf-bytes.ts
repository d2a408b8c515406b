/**
 * The bytes of a pdfkit document, gathered without pdfkit's per-line copies.
 *
 * pdfkit turns every line it writes into its own Uint8Array: each content
 * operator of a page (`addContent` -> `PDFReference.write`) and each line of
 * the file (`_write`, which also pushes it through a Node stream). An
 * 11-page briefing makes tens of thousands of tiny typed arrays, which cost
 * more to allocate and collect than to fill. Here the same lines are kept as
 * strings and turned into bytes once per stream object and once for the
 * file, with the same byte for each character (`Buffer` 'latin1' keeps the
 * low 8 bits, as pdfkit's own conversion does), the same lengths and the
 * same offsets, so the file is byte-for-byte the one pdfkit writes
 * (test/pdf-bytes-test.ts compares the two).
 *
 * Only this document's own objects are touched: its `_write`, and `write` and
 * `finalize` on each reference it makes from here on (page contents, fonts,
 * structure). pdfkit's classes stay as they are.
 */
type Piece = string | Uint8Array;

/** The internals of pdfkit's document and references that this module takes over. */
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
      if (pieces.length) this.buffer = [joinPieces(pieces)];
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
