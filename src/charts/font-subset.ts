/**
 * A web font cut down to the characters a chart draws: fontkit's public
 * createSubset() for the glyphs, completed with the tables a browser needs
 * to use a font on its own, which fontkit (writing for PDF embedding, where
 * the PDF maps characters itself) leaves out:
 *
 *   glyf subset (fontkit: head hhea maxp loca glyf hmtx cvt prep fpgm)
 *     + cmap (our characters -> subset glyphs) + name, OS/2 (copied)
 *     + post (version 3: no glyph names) + kern (the pairs the text sets)
 *     ─▶ one TrueType file, tables sorted, checksums set
 *
 * Kerning: the original's GPOS refers to the full font's glyph ids, so it is
 * not copied; instead every adjacent pair the chart's text contains gets its
 * adjustment as fontkit lays it out (the same layout the chart measurer
 * used), in a 'kern' table, which browsers apply when a font has no GPOS.
 * The Latin faces have no ligatures, so each character is its cmap glyph.
 * Same font and text, same bytes.
 */

/** The slice of a fontkit font used here (fontkit ships no type declarations). */
export interface SubsettableFont {
  layout(text: string): { positions: { xAdvance: number }[] };
  glyphForCodePoint(codePoint: number): { id: number; advanceWidth: number };
  createSubset(): { includeGlyph(glyphId: number): number; encode(): Uint8Array };
}

/** The tables of an sfnt file by tag. */
function readTables(sfnt: Uint8Array): Map<string, Uint8Array> {
  const view = new DataView(sfnt.buffer, sfnt.byteOffset, sfnt.byteLength);
  const tables = new Map<string, Uint8Array>();
  for (let i = 0; i < view.getUint16(4); i++) {
    const at = 12 + i * 16;
    const tag = String.fromCharCode(...sfnt.subarray(at, at + 4));
    tables.set(tag, sfnt.subarray(view.getUint32(at + 8), view.getUint32(at + 8) + view.getUint32(at + 12)));
  }
  return tables;
}

/** Big-endian writer for the tables built here. */
function bytes(size: number): { view: DataView; out: Uint8Array } {
  const out = new Uint8Array(size);
  return { view: new DataView(out.buffer), out };
}

/** cmap with a format 4 subtable (BMP) and, when needed, format 12 (beyond it); one segment per character, which is small for a chart's few dozen. */
function buildCmap(map: ReadonlyMap<number, number>): Uint8Array {
  const codes = [...map.keys()].sort((a, b) => a - b);
  const bmp = codes.filter((code) => code < 0xffff);
  const astral = codes.filter((code) => code > 0xffff);
  const segments = bmp.length + 1;
  const format4 = 16 + segments * 8;
  const format12 = astral.length ? 16 + astral.length * 12 : 0;
  const header = 4 + (astral.length ? 2 : 1) * 8;
  const { view, out } = bytes(header + format4 + format12);
  view.setUint16(2, astral.length ? 2 : 1);
  view.setUint16(4, 3), view.setUint16(6, 1), view.setUint32(8, header);
  if (astral.length) view.setUint16(12, 3), view.setUint16(14, 10), view.setUint32(16, header + format4);
  let at = header;
  const searchRange = 2 * 2 ** Math.floor(Math.log2(segments));
  [4, format4, 0, segments * 2, searchRange, Math.log2(searchRange / 2), segments * 2 - searchRange].forEach((value, i) => view.setUint16(at + i * 2, value));
  const ends = at + 14;
  const starts = ends + segments * 2 + 2;
  const deltas = starts + segments * 2;
  [...bmp, 0xffff].forEach((code, i) => {
    view.setUint16(ends + i * 2, code);
    view.setUint16(starts + i * 2, code);
    // idRangeOffset stays 0: glyph = (code + delta) mod 65536; the last segment maps 0xFFFF to glyph 0.
    view.setUint16(deltas + i * 2, code === 0xffff ? 1 : (map.get(code)! - code + 0x10000) & 0xffff);
  });
  if (astral.length) {
    at = header + format4;
    view.setUint16(at, 12), view.setUint32(at + 4, format12), view.setUint32(at + 12, astral.length);
    astral.forEach((code, i) => {
      view.setUint32(at + 16 + i * 12, code), view.setUint32(at + 20 + i * 12, code), view.setUint32(at + 24 + i * 12, map.get(code)!);
    });
  }
  return out;
}

/** kern version 0, one horizontal format 0 subtable: pairs (subset glyph ids) sorted as the format requires. */
function buildKern(pairs: ReadonlyMap<number, number>): Uint8Array | undefined {
  const sorted = [...pairs].filter(([, value]) => value !== 0).sort((a, b) => a[0] - b[0]);
  if (sorted.length === 0) return undefined;
  const count = Math.min(sorted.length, 10_000); // the subtable's length field is 16-bit
  const { view, out } = bytes(4 + 14 + count * 6);
  view.setUint16(2, 1);
  const searchRange = 6 * 2 ** Math.floor(Math.log2(count));
  [0, 14 + count * 6, 0x0001, count, searchRange, Math.log2(searchRange / 6), count * 6 - searchRange].forEach((value, i) => view.setUint16(4 + i * 2, value));
  sorted.slice(0, count).forEach(([key, value], i) => {
    view.setUint32(18 + i * 6, key);
    view.setInt16(22 + i * 6, Math.max(-0x8000, Math.min(0x7fff, value)));
  });
  return out;
}

function checksum(data: Uint8Array): number {
  const padded = new Uint8Array((data.length + 3) & ~3);
  padded.set(data);
  const view = new DataView(padded.buffer);
  let sum = 0;
  for (let i = 0; i < padded.length; i += 4) sum = (sum + view.getUint32(i)) >>> 0;
  return sum;
}

/** One TrueType file of `tables`, sorted by tag, with table checksums and head.checkSumAdjustment. */
function writeSfnt(tables: Map<string, Uint8Array>): Uint8Array {
  const tags = [...tables.keys()].sort();
  const head = 12 + tags.length * 16;
  const size = tags.reduce((total, tag) => total + ((tables.get(tag)!.length + 3) & ~3), head);
  const { view, out } = bytes(size);
  const entrySelector = Math.floor(Math.log2(tags.length));
  [0x0001, 0x0000, tags.length, 16 * 2 ** entrySelector, entrySelector, tags.length * 16 - 16 * 2 ** entrySelector].forEach((value, i) => view.setUint16(i * 2, value));
  let offset = head;
  let headAt = 0;
  tags.forEach((tag, i) => {
    const data = tables.get(tag)!;
    out.set([...tag].map((c) => c.charCodeAt(0)), 12 + i * 16);
    view.setUint32(16 + i * 16, checksum(data)), view.setUint32(20 + i * 16, offset), view.setUint32(24 + i * 16, data.length);
    out.set(data, offset);
    if (tag === 'head') headAt = offset;
    offset += (data.length + 3) & ~3;
  });
  view.setUint32(headAt + 8, (0xb1b0afba - checksum(out)) >>> 0);
  return out;
}

/**
 * `sfnt` (a TrueType face; `font` is it opened by fontkit) cut down to the
 * characters of `texts`, kerned as fontkit kerns each adjacent pair in them.
 */
export function subsetFont(sfnt: Uint8Array, font: SubsettableFont, texts: readonly string[]): Uint8Array {
  const original = readTables(sfnt);
  if (!original.has('glyf')) return sfnt; // a CFF face: fontkit subsets it as a bare CFF table, so it is embedded whole
  const subset = font.createSubset();
  const cmap = new Map<number, number>();
  const glyphOf = (codePoint: number) => {
    let id = cmap.get(codePoint);
    if (id === undefined) cmap.set(codePoint, (id = subset.includeGlyph(font.glyphForCodePoint(codePoint).id)));
    return id;
  };
  const pairs = new Map<number, number>();
  for (const text of texts) {
    const chars = [...text];
    chars.forEach((char, i) => {
      const left = glyphOf(char.codePointAt(0)!);
      const next = chars[i + 1];
      if (next === undefined) return;
      const key = left * 0x10000 + glyphOf(next.codePointAt(0)!);
      if (pairs.has(key)) return;
      const run = font.layout(char + next);
      pairs.set(key, run.positions.length === 2 ? Math.round(run.positions[0]!.xAdvance - font.glyphForCodePoint(char.codePointAt(0)!).advanceWidth) : 0);
    });
  }
  const tables = readTables(subset.encode());
  // head's table checksum is taken with checkSumAdjustment zeroed; writeSfnt sets it last.
  const head = tables.get('head')!.slice();
  head.fill(0, 8, 12);
  tables.set('head', head);
  tables.set('cmap', buildCmap(cmap));
  for (const tag of ['name', 'OS/2']) if (original.has(tag)) tables.set(tag, original.get(tag)!);
  const post = new Uint8Array(32);
  post.set(original.get('post')?.subarray(0, 32) ?? []);
  new DataView(post.buffer).setUint32(0, 0x00030000);
  tables.set('post', post);
  const kern = buildKern(pairs);
  if (kern) tables.set('kern', kern);
  return writeSfnt(tables);
}
