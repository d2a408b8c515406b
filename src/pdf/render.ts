/**
 * PDF stage: Briefing + RenderedChart[] + FontBytes + PdfOptions -> PDF bytes.
 *
 *   mdast tree --measure--> Box[]        every line, table row and figure with its height
 *              --paginate--> Placed[][]  boxes on pages; section page numbers now known
 *              --draw------> pdfkit      text, vector charts, tags, links, outline, furniture
 *
 * Layout is computed before anything is drawn, so the contents page can print
 * correct page numbers and every footer "Page N of M" in a single drawing
 * pass, and so the paginator can keep headings with their text, figures with
 * their captions, avoid widows and orphans and repeat table headers, which
 * pdfkit's own flowing text cannot do.
 *
 * The file is tagged (PDF/UA-1 structure) and identifies itself as PDF/A-2a:
 * fonts embedded and subset, an sRGB output intent, XMP metadata mirroring
 * the info dictionary, and no raster images (charts are vectors) unless
 * the report allows them (raster_images: allow), when a chart's PNG and JPEG
 * images are embedded from the bytes the orchestrator read.
 */
import { noteStore, trackMap } from '../support/recent.ts';
import { escapeXml, plainText } from '../support/text.ts';
import pkg from '../../package.json' with { type: 'json' };
import PDFDocument from 'pdfkit';
import type {
  Blockquote,
  Code,
  FootnoteDefinition,
  Heading,
  List,
  ListItem,
  Nodes,
  PhrasingContent,
  Root,
  RootContent,
  Table,
} from 'mdast';
import type { RenderedChart } from '../charts/render.ts';
import type { Briefing, FigureNode } from '../content/briefing.ts';
import { IGNORABLE_CHARACTERS, splitByFace, type FaceKey, type FontBytes } from '../text/fonts.ts';
import { CliError } from '../support/error.ts';
import { messages } from '../support/messages.ts';
import { collectPdfBytes, drawTextRun, replaceXmpInfo } from './pdfkit-adapter.ts';
import { drawSvg, PX_TO_PT, registerFonts, useFace } from '../charts/svg-pdf.ts';

export interface PdfOptions {
  paper: 'a4' | 'letter';
  /** CreationDate and ModDate; the caller passes the as-of date or SOURCE_DATE_EPOCH, never the clock. */
  creationDate: Date;
  /** Where the HTML edition is published: named on the first page. */
  htmlUrl?: string;
  /** Image bytes by the href a chart's SVG names, when the report allows raster images; without it any image is refused. */
  images?: ReadonlyMap<string, Uint8Array>;
}

type Doc = PDFKit.PDFDocument;
type StructElement = PDFKit.PDFStructureElement;

// ---------------------------------------------------------------------------
// Design: page, colour and type

const PAPER: Record<PdfOptions['paper'], readonly [number, number]> = {
  a4: [595.28, 841.89],
  letter: [612, 792],
};

const COLOR = {
  ink: '#1b1f24',
  navy: '#0b2545',
  link: '#1d4e89',
  muted: '#55606e',
  rule: '#c5ccd6',
  hairline: '#dde2e8',
  tint: '#edf1f6',
  white: '#ffffff',
} as const;

interface TextStyle {
  face: FaceKey;
  size: number;
  leading: number;
  color: string;
}

const TEXT = {
  body: { face: 'regular', size: 10.5, leading: 15.5, color: COLOR.ink },
  quote: { face: 'italic', size: 10.5, leading: 15.5, color: COLOR.muted },
  code: { face: 'regular', size: 9, leading: 12.5, color: COLOR.ink },
  h1: { face: 'bold', size: 26, leading: 31, color: COLOR.white },
  h2: { face: 'bold', size: 15, leading: 19, color: COLOR.navy },
  h3: { face: 'bold', size: 11.5, leading: 15, color: COLOR.navy },
  h4: { face: 'boldItalic', size: 10.5, leading: 15, color: COLOR.navy },
  caption: { face: 'regular', size: 9.5, leading: 13, color: COLOR.ink },
  source: { face: 'italic', size: 8, leading: 10.5, color: COLOR.muted },
  table: { face: 'regular', size: 8.5, leading: 11.5, color: COLOR.ink },
  note: { face: 'regular', size: 8.5, leading: 12, color: COLOR.ink },
  toc: { face: 'regular', size: 10.5, leading: 15, color: COLOR.ink },
  furniture: { face: 'regular', size: 7.5, leading: 10, color: COLOR.muted },
} as const satisfies Record<string, TextStyle>;

/** Page geometry in points, y growing downwards from the top edge as pdfkit draws. */
interface Geometry {
  width: number;
  height: number;
  top: number;
  bottom: number;
  /** Full text area: headings, figures, tables, contents. */
  wide: Frame;
  /** Reading column, about 70 characters of body text. */
  body: Frame;
}

interface Frame {
  x: number;
  width: number;
}

/** Source Sans 3 sets about 0.4 em per character, so 10.5 pt text runs 70 characters in about 300 pt. */
const BODY_MEASURE = 300;
const SIDE_MARGIN = 62;

function computeGeometry(paper: PdfOptions['paper']): Geometry {
  const [width, height] = PAPER[paper];
  const wide = { x: SIDE_MARGIN, width: width - 2 * SIDE_MARGIN };
  // The reading column sits to the right; the left rail stays open, as in a
  // research note, and wide material (figures, tables) spans both.
  const body = { x: wide.x + wide.width - BODY_MEASURE, width: BODY_MEASURE };
  return { width, height, top: 80, bottom: height - 70, wide, body };
}

// ---------------------------------------------------------------------------
// Inline text: runs, pieces and lines

type LinkTarget = { url: string; label: string } | { dest: string; label: string };

interface Style {
  face: FaceKey;
  /** A face of the fallback chain (its pdfkit name) for characters `face` lacks; absent for the face itself. */
  font?: string;
  size: number;
  color: string;
  link?: LinkTarget;
  sup?: boolean;
  strike?: boolean;
  /** Inline code: set on a tint. */
  code?: boolean;
  /** Named destination placed where this text is drawn (footnote back-links). */
  anchor?: string;
}

/** A run of text in one style; spaces inside are break opportunities. */
interface Piece {
  text: string;
  style: Style;
  /** A hard line break (Markdown `break`). */
  hard?: boolean;
}

interface Frag {
  text: string;
  style: Style;
  x: number;
  width: number;
}

interface Line {
  frags: Frag[];
  width: number;
}

// ---------------------------------------------------------------------------
// Boxes and the structure tree

/** A structure element, created in the PDF only when its first content is drawn, so tree order is reading order. */
interface Tag {
  type: string;
  parent: Tag | null;
  alt?: string;
  scope?: 'Column' | 'Row';
  id?: string;
  elem?: StructElement;
}

/** An unbreakable vertical slice of the page: a line, a table row, a figure. */
interface Box {
  height: number;
  /** Space above, dropped at the top of a page. */
  spaceBefore: number;
  /** No page break between this box and the next. */
  keepWithNext: boolean;
  breakBefore?: boolean;
  /** May be moved below following text when it does not fit (figures). */
  float?: boolean;
  /** Starts a section (not a subsection): figures waiting for room are placed before it. */
  section?: boolean;
  /** Drawn (as an artifact) above this box when it starts a page: the table header. */
  repeatHeader?: Box;
  /** Named destination at this box, recorded with its page for the contents. */
  dest?: string;
  draw(r: Renderer, y: number, gap: number): void;
}

interface Placed {
  box: Box;
  y: number;
  gap: number;
}

interface Renderer {
  doc: Doc;
}

/** What building boxes needs to know about the whole briefing. */
interface Context {
  doc: Doc;
  geometry: Geometry;
  /** Anchor id -> named destination; simple names keep the name tree sorted the same in every locale. */
  dests: Map<string, string>;
  /** Link reference definitions, by normalised identifier. */
  definitions: Map<string, string>;
  /** Footnote identifier -> note number, in order of first reference. */
  noteNumbers: Map<string, number>;
  /** Footnotes whose first reference has been laid out (it carries the back-link anchor). */
  noteAnchored: Set<string>;
  charts: Map<string, RenderedChart>;
  /** Filled after pagination: destination -> 1-based page. */
  destPages: Map<string, number>;
  /** Word widths by face (or fallback face), size and text. */
  measureCache: Map<string, Map<number, Map<string, number>>>;
  /** The faces' bytes, for the fallback chain. */
  fonts: FontBytes;
  /** Faces selected in this document so far (see selectInOrder). */
  selected: Set<string>;
  /** The briefing title: a top-level heading repeating it is already on the cover. */
  title: string;
  /** Where the HTML edition is published, for the cover. */
  htmlUrl?: string;
  /** The charts' image bytes by href (PdfOptions.images); absent, charts must be vectors. */
  images?: ReadonlyMap<string, Uint8Array>;
  /** Depth of the tree's section headings, set as H2 under the cover's H1. */
  sectionDepth: number;
}

// ---------------------------------------------------------------------------
// Entry point

/** Lays out and draws the briefing as a tagged, reproducible PDF (A4 or US Letter). */
export async function renderPdf(
  briefing: Briefing,
  charts: RenderedChart[],
  fonts: FontBytes,
  options: PdfOptions,
): Promise<Uint8Array> {
  const { meta } = briefing;
  const geometry = computeGeometry(options.paper);
  const date = options.creationDate;

  // 1. Document: tagged, PDF/A-2a, and no default font: pdfkit would
  //    otherwise load Helvetica, which must not appear. (Passing our regular
  //    face instead makes pdfkit re-parse the font on every switch to it,
  //    because it then finds the face under its PostScript name first.)
  const doc = new PDFDocument({
    size: [geometry.width, geometry.height],
    margin: 0,
    autoFirstPage: false,
    pdfVersion: '1.7',
    subset: 'PDF/A-2a',
    tagged: true,
    lang: meta.language,
    displayTitle: true,
    font: null as unknown as string,
    info: {
      Title: meta.title,
      Author: meta.author,
      Subject: meta.subject,
      Keywords: meta.keywords.join(', '),
      Creator: pkg.name,
      Producer: 'PDFKit',
      // pdfkit hashes the info dictionary into the file /ID, so fixed dates make the ID reproducible.
      CreationDate: date,
      ModDate: date,
    },
  });
  const bytes = collectPdfBytes(doc);
  registerFonts(doc, fonts);
  writeXmp(doc, briefing, date);
  const done = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });

  // 2. Measure: the tree becomes boxes
  const ctx = createContext(doc, geometry, briefing, charts, fonts, options);
  const documentTag: Tag = { type: 'Document', parent: null };
  const root = documentTag.elem = doc.struct('Document');
  doc.addStructure(root);
  const tocEntries = collectTocEntries(briefing, ctx);
  const boxes = [
    ...buildCover(briefing, ctx, documentTag),
    ...buildToc(tocEntries, ctx, documentTag),
    ...buildBody(briefing.tree, ctx, documentTag),
    ...buildNotes(briefing.tree, ctx, documentTag),
  ];

  // 3. Paginate, then record where each destination landed
  const pages = paginate(boxes, geometry);
  pages.forEach((page, index) => {
    for (const placed of page) if (placed.box.dest) ctx.destPages.set(placed.box.dest, index + 1);
  });

  // 4. Draw page by page; furniture on every page but the cover
  const renderer: Renderer = { doc };
  pages.forEach((page, index) => {
    doc.addPage({ size: [geometry.width, geometry.height], margin: 0 });
    if (index > 0) drawFurniture(doc, fonts, geometry, meta.title, meta.asOfLabel, index + 1, pages.length);
    for (const placed of page) placed.box.draw(renderer, placed.y, placed.gap);
  });

  // 5. Bookmarks for every section and subsection, nested by depth
  addOutline(doc, tocEntries, ctx);

  root.end();
  doc.end();
  await done;
  return bytes();
}

/**
 * Word widths depend only on the font, size and text, so they are kept for
 * the life of the process: a --watch rebuild or the next report of a batch
 * measures only words it has not seen.
 */
const widthsByFonts = new WeakMap<FontBytes, Map<string, Map<number, Map<string, number>>>>();

function widthCache(fonts: FontBytes): Map<string, Map<number, Map<string, number>>> {
  let cache = widthsByFonts.get(fonts);
  if (!cache) widthsByFonts.set(fonts, (cache = new Map()));
  return cache;
}

function createContext(doc: Doc, geometry: Geometry, briefing: Briefing, charts: RenderedChart[], fonts: FontBytes, { htmlUrl, images }: Pick<PdfOptions, 'htmlUrl' | 'images'>): Context {
  const ctx: Context = {
    doc,
    geometry,
    dests: new Map(),
    definitions: new Map(),
    noteNumbers: new Map(),
    noteAnchored: new Set(),
    charts: new Map(charts.map((chart) => [chart.id, chart])),
    destPages: new Map(),
    measureCache: widthCache(fonts),
    fonts,
    selected: new Set(),
    title: briefing.meta.title,
    htmlUrl,
    ...(images ? { images } : {}),
    sectionDepth: 6,
  };
  const footnotes = new Set<string>();
  visit(briefing.tree, (node) => {
    if (node.type === 'footnoteDefinition') footnotes.add(node.identifier);
    if (node.type === 'heading' && !isTitleHeading(ctx, node)) ctx.sectionDepth = Math.min(ctx.sectionDepth, node.depth);
  });
  // Every anchor a cross-reference may point at, in document order.
  visit(briefing.tree, (node) => {
    if (node.type === 'heading') registerDest(ctx, headingId(node));
    if (node.type === 'figure') registerDest(ctx, node.identifier);
    if (node.type === 'listItem' && itemId(node)) registerDest(ctx, itemId(node)!);
    if (node.type === 'table') {
      const id = tableLabel(node).identifier;
      if (id) registerDest(ctx, id);
    }
    if (node.type === 'definition') ctx.definitions.set(node.identifier.toLowerCase(), node.url);
    if (node.type === 'footnoteReference') {
      const id = node.identifier;
      if (footnotes.has(id) && !ctx.noteNumbers.has(id)) ctx.noteNumbers.set(id, ctx.noteNumbers.size + 1);
    }
  });
  registerDest(ctx, NOTES_ID);
  return ctx;
}

const NOTES_ID = 'notes';
/** 8.5 pt notes set about 95 characters in 360 pt, as 10.5 pt text sets 70 in BODY_MEASURE. */
const NOTES_MEASURE = 360;

function registerDest(ctx: Context, id: string): string {
  let name = ctx.dests.get(id);
  if (!name) {
    name = `d${String(ctx.dests.size + 1).padStart(4, '0')}`;
    ctx.dests.set(id, name);
  }
  return name;
}

function noteDest(ctx: Context, number: number): string {
  return registerDest(ctx, `\u0000note-${number}`);
}

function noteRefDest(ctx: Context, number: number): string {
  return registerDest(ctx, `\u0000noteref-${number}`);
}

// ---------------------------------------------------------------------------
// Metadata


/**
 * pdfkit writes XMP from the info dictionary but leaves values unescaped, has
 * no ModifyDate (PDF/A needs XMP and info to agree) and knows one subset at a
 * time. This document's XMP is therefore written here, replacing pdfkit's
 * info block (its PDF/A identification and packet wrapper are kept), with the
 * PDF/UA identification and the extension schema PDF/A requires for it.
 */
function writeXmp(doc: Doc, briefing: Briefing, date: Date): void {
  const { meta } = briefing;
  const iso = `${date.toISOString().split('.')[0]}Z`;
  const keywords = meta.keywords.join(', ');
  const xml = `
<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
  <xmp:CreateDate>${iso}</xmp:CreateDate>
  <xmp:ModifyDate>${iso}</xmp:ModifyDate>
  <xmp:MetadataDate>${iso}</xmp:MetadataDate>
  <xmp:CreatorTool>${pkg.name}</xmp:CreatorTool>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <dc:format>application/pdf</dc:format>
  <dc:title><rdf:Alt><rdf:li xml:lang="x-default">${escapeXml(meta.title)}</rdf:li></rdf:Alt></dc:title>
  <dc:creator><rdf:Seq><rdf:li>${escapeXml(meta.author)}</rdf:li></rdf:Seq></dc:creator>
  <dc:description><rdf:Alt><rdf:li xml:lang="x-default">${escapeXml(meta.subject)}</rdf:li></rdf:Alt></dc:description>
  <dc:subject><rdf:Bag>${meta.keywords.map((k) => `<rdf:li>${escapeXml(k)}</rdf:li>`).join('')}</rdf:Bag></dc:subject>
  <dc:language><rdf:Bag><rdf:li>${escapeXml(meta.language)}</rdf:li></rdf:Bag></dc:language>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
  <pdf:Producer>PDFKit</pdf:Producer>
  <pdf:Keywords>${escapeXml(keywords)}</pdf:Keywords>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/">
  <pdfuaid:part>1</pdfuaid:part>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
  <pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">
    <pdfaSchema:schema>PDF/UA Universal Accessibility Schema</pdfaSchema:schema>
    <pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>
    <pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>
    <pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">
      <pdfaProperty:name>part</pdfaProperty:name>
      <pdfaProperty:valueType>Integer</pdfaProperty:valueType>
      <pdfaProperty:category>internal</pdfaProperty:category>
      <pdfaProperty:description>Indicates which part of ISO 14289 the file conforms to</pdfaProperty:description>
    </rdf:li></rdf:Seq></pdfaSchema:property>
  </rdf:li></rdf:Bag></pdfaExtension:schemas>
</rdf:Description>`;
  replaceXmpInfo(doc, xml);
}

// ---------------------------------------------------------------------------
// Measuring text


function setFont(doc: Doc, style: { face: FaceKey; font?: string; size: number }): void {
  (style.font ? useFace(doc, style.font) : doc.font(style.face)).fontSize(style.size);
}


/**
 * pdfkit numbers fonts (F1, F2, ...) in the order a document first selects
 * them. Widths are cached for the process, so measuring selects a face only
 * when the cache is cold; selecting each face when the layout first meets it
 * keeps the numbering, and so the bytes, the same in a cold and a warm build.
 */
function selectInOrder(ctx: Context, name: string): void {
  if (ctx.selected.has(name)) return;
  ctx.selected.add(name);
  useFace(ctx.doc, name);
}

/**
 * `text` as pieces of `style`, each run in the face of the fallback chain that
 * draws it; ignorable characters (soft hyphens, zero-width spaces) dropped. A
 * character no face has is an error, as PDF/A forbids missing glyphs.
 */
function facePieces(ctx: Context, text: string, style: Style): Piece[] {
  const cleaned = text.replace(IGNORABLE_CHARACTERS, '');
  if (/[^\n]/.test(cleaned)) selectInOrder(ctx, style.face);
  const runs = splitByFace(ctx.fonts, style.face, cleaned, (char) => {
    throw new CliError(messages.pdfMissingGlyph(char, text));
  });
  return runs.map((run) => {
    if (run.face.name === style.face) return { text: run.text, style };
    selectInOrder(ctx, run.face.name);
    return { text: run.text, style: { ...style, font: run.face.name } };
  });
}

function measure(ctx: Context, text: string, style: { face: FaceKey; font?: string; size: number }): number {
  // Maps by face and size, so no key string is built for every word.
  let sizes = ctx.measureCache.get(style.font ?? style.face);
  if (!sizes) ctx.measureCache.set(style.font ?? style.face, (sizes = new Map()));
  let widths = sizes.get(style.size);
  if (!widths) sizes.set(style.size, (widths = trackMap('pdf: word widths', new Map<string, number>(), 100)));
  let width = widths.get(text);
  if (width === undefined) {
    setFont(ctx.doc, style);
    width = ctx.doc.widthOfString(text);
    widths.set(text, width);
    noteStore();
  }
  return width;
}

function sameStyle(a: Style, b: Style): boolean {
  return (
    a.face === b.face &&
    a.font === b.font &&
    a.size === b.size &&
    a.color === b.color &&
    a.link === b.link &&
    a.sup === b.sup &&
    a.strike === b.strike &&
    a.code === b.code &&
    a.anchor === b.anchor
  );
}

type Item = { kind: 'word'; parts: Piece[]; width: number } | { kind: 'space'; style: Style } | { kind: 'break' };

function tokenize(ctx: Context, pieces: Piece[]): Item[] {
  const items: Item[] = [];
  for (const piece of pieces) {
    if (piece.hard) {
      items.push({ kind: 'break' });
      continue;
    }
    // A label and its number ("Figure 2", "Table 1") never part at a line end.
    const tied = piece.text.replace(/[ \t\r\n]+/g, ' ').replace(/\b(Figure|Table|Note|Section|page|p\.|No\.) (?=\d)/g, '$1\u00a0');
    for (const run of facePieces(ctx, tied, piece.style)) {
      for (const part of run.text.split(/( )/)) {
        if (part === '') continue;
        const last = items.at(-1);
        if (part === ' ') {
          if (last?.kind !== 'space') items.push({ kind: 'space', style: run.style });
        } else {
          const width = measure(ctx, part, run.style);
          if (last?.kind === 'word') {
            last.parts.push({ text: part, style: run.style });
            last.width += width;
          } else {
            items.push({ kind: 'word', parts: [{ text: part, style: run.style }], width });
          }
        }
      }
    }
  }
  return items;
}

/** Greedy line breaking (ragged right, no hyphenation), with over-long words such as URLs broken after a slash or dot. */
function breakLines(ctx: Context, pieces: Piece[], width: number): Line[] {
  const lines: Line[] = [];
  let parts: Piece[] = [];
  let used = 0;
  let space: Style | null = null;
  const finish = () => {
    lines.push(toLine(ctx, parts));
    parts = [];
    used = 0;
    space = null;
  };
  for (const item of tokenize(ctx, pieces)) {
    if (item.kind === 'break') {
      finish();
    } else if (item.kind === 'space') {
      if (parts.length) space = item.style;
    } else {
      const spaceWidth = space ? measure(ctx, ' ', space) : 0;
      if (parts.length && used + spaceWidth + item.width > width) finish();
      if (!parts.length && item.width > width) {
        const chunks = splitWord(ctx, item.parts, width);
        for (const chunk of chunks.slice(0, -1)) lines.push(toLine(ctx, chunk));
        parts = chunks.at(-1) ?? [];
        used = parts.reduce((sum, part) => sum + measure(ctx, part.text, part.style), 0);
      } else {
        if (parts.length && space) {
          parts.push({ text: ' ', style: space });
          used += spaceWidth;
        }
        parts.push(...item.parts);
        used += item.width;
      }
      space = null;
    }
  }
  if (parts.length || !lines.length) finish();
  return lines;
}

function splitWord(ctx: Context, parts: Piece[], width: number): Piece[][] {
  const chars = parts.flatMap((part) => [...part.text].map((text) => ({ text, style: part.style })));
  const chunks: Piece[][] = [];
  let current: Piece[] = [];
  let used = 0;
  for (const char of chars) {
    const w = measure(ctx, char.text, char.style);
    if (current.length && used + w > width) {
      // Prefer to break after a URL separator in the later part of the line.
      let cut = current.length;
      for (let i = current.length - 1; i > current.length / 2; i--) {
        if (/[/.\-?&=_]/.test(current[i]?.text ?? '')) {
          cut = i + 1;
          break;
        }
      }
      chunks.push(current.slice(0, cut));
      current = current.slice(cut);
      used = current.reduce((sum, piece) => sum + measure(ctx, piece.text, piece.style), 0);
    }
    current.push(char);
    used += w;
  }
  chunks.push(current);
  return chunks.map(mergePieces);
}

function mergePieces(pieces: Piece[]): Piece[] {
  const merged: Piece[] = [];
  for (const piece of pieces) {
    const last = merged.at(-1);
    if (last && sameStyle(last.style, piece.style)) last.text += piece.text;
    else merged.push({ ...piece });
  }
  return merged;
}

function toLine(ctx: Context, parts: Piece[]): Line {
  const frags: Frag[] = [];
  let x = 0;
  for (const piece of mergePieces(parts)) {
    const width = measure(ctx, piece.text, piece.style);
    frags.push({ text: piece.text, style: piece.style, x, width });
    x += width;
  }
  return { frags, width: x };
}

// ---------------------------------------------------------------------------
// mdast inline content -> pieces

function withFace(style: Style, change: 'bold' | 'italic'): Style {
  const bold = style.face === 'bold' || style.face === 'boldItalic' || change === 'bold';
  const italic = style.face === 'italic' || style.face === 'boldItalic' || change === 'italic';
  return { ...style, face: bold ? (italic ? 'boldItalic' : 'bold') : italic ? 'italic' : 'regular' };
}


function inlinePieces(ctx: Context, nodes: readonly PhrasingContent[], style: Style): Piece[] {
  const pieces: Piece[] = [];
  nodes.forEach((node, index) => {
    switch (node.type) {
      case 'text':
        pieces.push(...linkifyText(node.value, style));
        break;
      case 'html':
        // Raw HTML is shown as written, never interpreted (as in the HTML edition).
        pieces.push({ text: node.value, style });
        break;
      case 'inlineCode':
        pieces.push({ text: node.value, style: { ...style, code: true } });
        break;
      case 'emphasis':
        pieces.push(...inlinePieces(ctx, node.children, withFace(style, 'italic')));
        break;
      case 'strong':
        pieces.push(...inlinePieces(ctx, node.children, withFace(style, 'bold')));
        break;
      case 'delete':
        pieces.push(...inlinePieces(ctx, node.children, { ...style, strike: true }));
        break;
      case 'break':
        pieces.push({ text: '\n', style, hard: true });
        break;
      case 'link':
        pieces.push(...linkPieces(ctx, node.url, node.children, style));
        break;
      case 'linkReference': {
        const url = ctx.definitions.get(node.identifier.toLowerCase());
        pieces.push(...(url ? linkPieces(ctx, url, node.children, style) : inlinePieces(ctx, node.children, style)));
        break;
      }
      case 'image':
      case 'imageReference':
        // No raster images in this edition: the alt text stands in.
        if (node.alt) pieces.push({ text: node.alt, style: withFace(style, 'italic') });
        break;
      case 'footnoteReference': {
        const number = ctx.noteNumbers.get(node.identifier);
        if (number === undefined) break;
        const previous = nodes[index - 1];
        const sup: Style = { ...style, face: 'regular', size: style.size * 0.68, color: COLOR.link, sup: true };
        // Adjacent markers would read as one number ("12"), so they are separated.
        if (previous?.type === 'footnoteReference') pieces.push({ text: ',', style: { ...sup, link: undefined } });
        const first = !ctx.noteAnchored.has(node.identifier);
        ctx.noteAnchored.add(node.identifier);
        pieces.push({
          text: String(number),
          style: {
            ...sup,
            link: { dest: noteDest(ctx, number), label: `Note ${number}` },
            anchor: first ? noteRefDest(ctx, number) : undefined,
          },
        });
        break;
      }
      default:
        // Any phrasing node a future parser adds still shows its words.
        if ('children' in node) pieces.push(...inlinePieces(ctx, (node as { children: PhrasingContent[] }).children, style));
        else if ('value' in node) pieces.push({ text: String((node as { value: unknown }).value), style });
    }
  });
  return pieces;
}

function linkPieces(ctx: Context, url: string, children: readonly PhrasingContent[], style: Style): Piece[] {
  const label = plainText(children as PhrasingContent[]) || url;
  let link: LinkTarget | undefined;
  if (url.startsWith('#')) {
    const dest = ctx.dests.get(decodeURIComponent(url.slice(1)));
    if (dest) link = { dest, label };
  } else if (/^(https?|mailto):/i.test(url)) {
    link = { url, label };
  }
  // A link to nowhere, or a scheme a reader should not follow, keeps its words only.
  if (!link) return inlinePieces(ctx, children, style);
  return inlinePieces(ctx, children, { ...style, color: COLOR.link, link });
}

const URL_PATTERN = /https?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]]/g;

/** Bare URLs in plain strings (figure sources) become links too. */
function linkifyText(text: string, style: Style): Piece[] {
  if (style.link) return [{ text, style }];
  const pieces: Piece[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const start = match.index ?? 0;
    if (start > last) pieces.push({ text: text.slice(last, start), style });
    pieces.push({ text: match[0], style: { ...style, color: COLOR.link, link: { url: match[0], label: match[0] } } });
    last = start + match[0].length;
  }
  if (last < text.length) pieces.push({ text: text.slice(last), style });
  return pieces;
}

function baseStyle(text: TextStyle): Style {
  return { face: text.face, size: text.size, color: text.color };
}

// ---------------------------------------------------------------------------
// Drawing lines with tags and links

function materialize(doc: Doc, tag: Tag): StructElement {
  if (tag.elem) return tag.elem;
  const parent = tag.parent ? materialize(doc, tag.parent) : null;
  const options: Record<string, unknown> = {};
  if (tag.alt !== undefined) options.alt = tag.alt;
  if (tag.scope) options.scope = tag.scope;
  const elem = doc.struct(tag.type, options as PDFKit.Mixins.StructureElementOptions);
  // PDF/UA asks for an ID on every Note.
  if (tag.id) (elem as unknown as { dictionary: { data: Record<string, unknown> } }).dictionary.data.ID = new String(tag.id);
  if (parent) parent.add(elem);
  else doc.addStructure(elem);
  tag.elem = elem;
  return elem;
}

/** Baseline of text of `size` in a line box of `leading`: optically centred on the x-height. */
function baselineIn(leading: number, size: number): number {
  return leading / 2 + size * 0.34;
}

function drawFrag(doc: Doc, frag: Frag, x: number, baseline: number, lineSize: number): void {
  const { style } = frag;
  setFont(doc, style);
  doc.fillColor(style.color);
  const y = style.sup ? baseline - lineSize * 0.36 : baseline;
  drawTextRun(doc, frag.text, x + frag.x, y, frag.width);
  if (style.strike) {
    const lineY = y - style.size * 0.3;
    doc.save().moveTo(x + frag.x, lineY).lineTo(x + frag.x + frag.width, lineY).lineWidth(0.6).strokeColor(style.color).stroke().restore();
  }
  if (style.anchor) doc.addNamedDestination(style.anchor, 'XYZ', x + frag.x, y - lineSize * 1.2, null as unknown as number);
}

function annotationOptions(structParent: StructElement, label: string): PDFKit.Mixins.AnnotationOption {
  return { structParent, Contents: new String(label) } as unknown as PDFKit.Mixins.AnnotationOption;
}

/** Draws one line of text as content of `tag`; each link becomes a Link element holding its text and annotation. */
function drawLine(r: Renderer, line: Line, x: number, top: number, text: TextStyle, tag: Tag): void {
  const { doc } = r;
  const baseline = top + baselineIn(text.leading, text.size);
  const parent = materialize(doc, tag);
  const code = line.frags.filter((frag) => frag.style.code);
  if (code.length) {
    // Behind the text and outside its marked content: a tint is decoration.
    artifact(doc, () => {
      for (const frag of code) doc.save().roundedRect(x + frag.x - 1.5, baseline - frag.style.size * 0.8, frag.width + 3, frag.style.size * 1.05, 1.5).fill(COLOR.tint).restore();
    });
  }
  let i = 0;
  while (i < line.frags.length) {
    const link = line.frags[i]?.style.link;
    let j = i + 1;
    while (j < line.frags.length && line.frags[j]?.style.link === link) j++;
    const group = line.frags.slice(i, j);
    if (link) {
      const elem = doc.struct('Link');
      parent.add(elem);
      const content = doc.markStructureContent('Link');
      for (const frag of group) drawFrag(doc, frag, x, baseline, text.size);
      doc.endMarkedContent();
      elem.add(content);
      const first = group[0] as Frag;
      const last = group.at(-1) as Frag;
      const left = x + first.x;
      const width = last.x + last.width - first.x;
      const options = annotationOptions(elem, link.label);
      if ('url' in link) doc.link(left, top, width, text.leading, link.url, options);
      else doc.goTo(left, top, width, text.leading, link.dest, options);
      elem.end();
    } else {
      const content = doc.markStructureContent(tag.type);
      for (const frag of group) drawFrag(doc, frag, x, baseline, text.size);
      doc.endMarkedContent();
      parent.add(content);
    }
    i = j;
  }
}

function artifact(doc: Doc, draw: () => void, type: 'Layout' | 'Pagination' = 'Layout'): void {
  doc.markContent('Artifact', { type });
  draw();
  doc.endMarkedContent();
}

// ---------------------------------------------------------------------------
// Paragraph-like blocks

interface ParagraphOptions {
  spaceBefore: number;
  align?: 'left' | 'center' | 'right';
  /** Heading lines: never the last thing on a page. */
  keepAll?: boolean;
  dest?: string;
}

/** One box per line, with widow and orphan control: a paragraph never leaves one line alone on a page. */
function paragraphBoxes(ctx: Context, pieces: Piece[], frame: Frame, text: TextStyle, tag: Tag, options: ParagraphOptions): Box[] {
  const lines = breakLines(ctx, pieces, frame.width);
  return lines.map((line, index) => {
    const offset =
      options.align === 'right' ? frame.width - line.width : options.align === 'center' ? (frame.width - line.width) / 2 : 0;
    return {
      height: text.leading,
      spaceBefore: index === 0 ? options.spaceBefore : 0,
      keepWithNext: Boolean(options.keepAll) || (lines.length > 1 && (index === 0 || index === lines.length - 2)),
      dest: index === 0 ? options.dest : undefined,
      draw: (r, y) => {
        if (index === 0 && options.dest) r.doc.addNamedDestination(options.dest, 'XYZ', frame.x, y - 6, null as unknown as number);
        drawLine(r, line, frame.x + offset, y, text, tag);
      },
    };
  });
}

/** Wraps boxes so each also draws `decorate` behind itself, covering the gap above when there is one. */
function decorateBoxes(boxes: Box[], decorate: (r: Renderer, y: number, height: number) => void): Box[] {
  return boxes.map((box, index) => ({
    ...box,
    draw: (r, y, gap) => {
      const above = index === 0 ? 0 : gap;
      decorate(r, y - above, box.height + above);
      box.draw(r, y, gap);
    },
  }));
}

// ---------------------------------------------------------------------------
// Block content

const SPACE = { paragraph: 7, list: 7, item: 3, spreadItem: 6, table: 12, figure: 16, quote: 9, code: 9, rule: 8 } as const;

function buildBody(tree: Root, ctx: Context, parent: Tag): Box[] {
  const boxes = buildBlocks(ctx, tree.children, ctx.geometry.body, TEXT.body, parent, 'body');
  const first = boxes[0];
  if (first) first.breakBefore = true;
  return boxes;
}

type Region = 'body' | 'nested';

function buildBlocks(ctx: Context, nodes: readonly RootContent[], frame: Frame, text: TextStyle, parent: Tag, region: Region): Box[] {
  const boxes: Box[] = [];
  let afterHeading = false;
  for (const node of nodes) {
    const built = buildBlock(ctx, node, frame, text, parent, region);
    const first = built[0];
    if (!first) continue;
    // The first block of a container, or text right under a heading, takes no extra space.
    if (!boxes.length && region === 'nested') first.spaceBefore = 0;
    if (afterHeading) first.spaceBefore = Math.min(first.spaceBefore, 2);
    afterHeading = node.type === 'heading';
    boxes.push(...built);
  }
  return boxes;
}

function buildBlock(ctx: Context, node: RootContent, frame: Frame, text: TextStyle, parent: Tag, region: Region): Box[] {
  switch (node.type) {
    case 'paragraph':
      return paragraphBoxes(ctx, inlinePieces(ctx, node.children, baseStyle(text)), frame, text, { type: 'P', parent }, {
        spaceBefore: SPACE.paragraph,
      });
    case 'heading':
      if (isTitleHeading(ctx, node)) return [];
      return headingBoxes(ctx, node, headingLevel(ctx, node), parent, region, frame);
    case 'list':
      return listBoxes(ctx, node, frame, text, parent);
    case 'blockquote':
      return quoteBoxes(ctx, node, frame, parent);
    case 'code':
      return codeBoxes(ctx, node, frame, parent);
    case 'table':
      return tableBoxes(ctx, node, region === 'body' ? ctx.geometry.wide : frame, parent);
    case 'figure':
      return [figureBox(ctx, node, region === 'body' ? ctx.geometry.wide : frame, parent)];
    case 'thematicBreak':
      return [ruleBox(frame)];
    case 'html':
      return paragraphBoxes(ctx, [{ text: node.value, style: baseStyle(text) }], frame, text, { type: 'P', parent }, {
        spaceBefore: SPACE.paragraph,
      });
    case 'definition':
    case 'footnoteDefinition':
      // Definitions only resolve references; footnotes are set as notes at the end.
      return [];
    default: {
      // Block types outside GFM (from plugins) still show their text.
      const value = 'value' in node ? String(node.value) : 'children' in node ? plainText(node.children as PhrasingContent[]) : '';
      if (!value) return [];
      return paragraphBoxes(ctx, [{ text: value, style: baseStyle(text) }], frame, text, { type: 'P', parent }, {
        spaceBefore: SPACE.paragraph,
      });
    }
  }
}

function headingId(node: Heading): string {
  const id = (node.data as { hProperties?: { id?: unknown } } | undefined)?.hProperties?.id;
  return typeof id === 'string' && id ? id : `heading-${plainText(node.children).toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
}

function isTitleHeading(ctx: Context, node: Heading): boolean {
  return node.depth === 1 && plainText(node.children).trim() === ctx.title.trim();
}

/** 2 for a section, 3 for a subsection, whatever depth the tree starts its sections at. */
function headingLevel(ctx: Context, node: Heading): number {
  return Math.min(6, node.depth - ctx.sectionDepth + 2);
}

function headingBoxes(ctx: Context, node: Heading, depth: number, parent: Tag, region: Region, frame: Frame): Box[] {
  const style: TextStyle = depth <= 2 ? TEXT.h2 : depth === 3 ? TEXT.h3 : TEXT.h4;
  // Sections span the full width with a rule above; subsections sit in the reading column.
  const target = region === 'body' && depth <= 2 ? ctx.geometry.wide : frame;
  const dest = ctx.dests.get(headingId(node));
  const pieces = inlinePieces(ctx, node.children, baseStyle(style));
  const tag: Tag = { type: `H${depth}`, parent };
  const boxes = paragraphBoxes(ctx, pieces, target, style, tag, {
    spaceBefore: depth <= 2 ? 26 : depth === 3 ? 16 : 10,
    keepAll: true,
    dest,
  });
  const first = boxes[0];
  if (!first) return boxes;
  first.section = depth <= 2;
  if (depth <= 2) {
    // A rule over the section, drawn in the space above the heading.
    const padding = 9;
    const draw = first.draw;
    first.height += padding;
    first.draw = (r, y, gap) => {
      artifact(r.doc, () => {
        r.doc.save().rect(target.x, y, target.width, 1.2).fill(COLOR.navy).restore();
      });
      draw(r, y + padding, gap);
    };
  }
  const last = boxes.at(-1) as Box;
  last.height += depth <= 2 ? 5 : 2;
  return boxes;
}

function listBoxes(ctx: Context, list: List, frame: Frame, text: TextStyle, parent: Tag): Box[] {
  const listTag: Tag = { type: 'L', parent };
  const indent = list.ordered ? 20 : 14;
  const bodyFrame = { x: frame.x + indent, width: frame.width - indent };
  const depth = listDepth(parent);
  const boxes: Box[] = [];
  list.children.forEach((item: ListItem, index) => {
    const itemTag: Tag = { type: 'LI', parent: listTag };
    const label =
      item.checked === true || item.checked === false
        ? item.checked
          ? '[x]'
          : '[ ]'
        : list.ordered
          ? `${(list.start ?? 1) + index}.`
          : depth % 2 === 0
            ? '\u2022'
            : '\u2013';
    const body = buildBlocks(ctx, item.children, bodyFrame, text, { type: 'LBody', parent: itemTag }, 'nested');
    const first = body[0];
    if (!first) return;
    first.spaceBefore = index === 0 && depth === 0 ? SPACE.list : list.spread ? SPACE.spreadItem : SPACE.item;
    // An item with an id (a source list entry) is a link target.
    const dest = itemId(item) ? ctx.dests.get(itemId(item)!) : undefined;
    if (dest) first.dest = dest;
    const draw = first.draw;
    const labelLine = toLine(ctx, facePieces(ctx, label, { ...baseStyle(text), color: COLOR.navy }));
    first.draw = (r, y, gap) => {
      if (dest) r.doc.addNamedDestination(dest, 'XYZ', frame.x, y - 6, null as unknown as number);
      // The label comes first in the item, as it reads.
      drawLine(r, labelLine, list.ordered ? frame.x + indent - 5 - labelLine.width : frame.x + 2, y, text, { type: 'Lbl', parent: itemTag });
      draw(r, y, gap);
    };
    boxes.push(...body);
  });
  return boxes;
}

/** The id finishTree gave a list item, if any. */
function itemId(item: ListItem): string | undefined {
  const id = (item.data as { hProperties?: { id?: unknown } } | undefined)?.hProperties?.id;
  return typeof id === 'string' ? id : undefined;
}

function listDepth(tag: Tag | null): number {
  let depth = 0;
  for (let t = tag; t; t = t.parent) if (t.type === 'L') depth++;
  return depth;
}

function quoteBoxes(ctx: Context, node: Blockquote, frame: Frame, parent: Tag): Box[] {
  const inset = 14;
  const inner = { x: frame.x + inset, width: frame.width - inset };
  const boxes = buildBlocks(ctx, node.children, inner, TEXT.quote, { type: 'BlockQuote', parent }, 'nested');
  const first = boxes[0];
  if (first) first.spaceBefore = SPACE.quote;
  return decorateBoxes(boxes, (r, y, height) =>
    artifact(r.doc, () => r.doc.save().rect(frame.x, y + 2, 2, height - 4).fill(COLOR.navy).restore()),
  );
}

function codeBoxes(ctx: Context, node: Code, frame: Frame, parent: Tag): Box[] {
  const pad = 8;
  const inner = { x: frame.x + pad, width: frame.width - 2 * pad };
  const tag: Tag = { type: 'Code', parent };
  const style = baseStyle(TEXT.code);
  const lines: Line[] = [];
  for (const source of node.value.split('\n')) {
    // Indentation matters in code, so each source line is broken only where it must be.
    const pieces = facePieces(ctx, source.replace(/\t/g, '    '), style);
    const chunks = pieces.some((piece) => piece.text) ? splitWord(ctx, pieces, inner.width) : [[{ text: '', style }]];
    for (const chunk of chunks) lines.push(toLine(ctx, chunk));
  }
  const boxes: Box[] = lines.map((line, index) => ({
    height: TEXT.code.leading + (index === 0 ? pad / 2 : 0) + (index === lines.length - 1 ? pad / 2 : 0),
    spaceBefore: index === 0 ? SPACE.code : 0,
    keepWithNext: lines.length > 1 && (index === 0 || index === lines.length - 2),
    draw: (r, y) => {
      if (line.frags.some((frag) => frag.text.length)) drawLine(r, line, inner.x, y + (index === 0 ? pad / 2 : 0), TEXT.code, tag);
    },
  }));
  return decorateBoxes(boxes, (r, y, height) => artifact(r.doc, () => r.doc.save().rect(frame.x, y, frame.width, height).fill(COLOR.tint).restore()));
}

function ruleBox(frame: Frame): Box {
  return {
    height: 12,
    spaceBefore: SPACE.rule,
    keepWithNext: false,
    draw: (r, y) =>
      artifact(r.doc, () => {
        const width = Math.min(72, frame.width);
        r.doc.save().moveTo(frame.x, y + 6).lineTo(frame.x + width, y + 6).lineWidth(0.8).strokeColor(COLOR.rule).stroke().restore();
      }),
  };
}

// ---------------------------------------------------------------------------
// Tables

interface TableLabel {
  caption?: string;
  identifier?: string;
}

function tableLabel(node: Table): TableLabel {
  const data = (node.data ?? {}) as { caption?: unknown; identifier?: unknown };
  return {
    caption: typeof data.caption === 'string' && data.caption ? data.caption : undefined,
    identifier: typeof data.identifier === 'string' && data.identifier ? data.identifier : undefined,
  };
}

const TABLE_PAD = { x: 5, y: 4 };

function tableBoxes(ctx: Context, node: Table, frame: Frame, parent: Tag): Box[] {
  const tableTag: Tag = { type: 'Table', parent };
  const rows = node.children;
  const columns = Math.max(...rows.map((row) => row.children.length));
  const align = Array.from({ length: columns }, (_, i) => node.align?.[i] ?? 'left');
  const headStyle: TextStyle = { ...TEXT.table, face: 'bold', color: COLOR.navy };
  const cellPieces = rows.map((row, r) =>
    Array.from({ length: columns }, (_, c) => {
      const cell = row.children[c];
      return cell ? inlinePieces(ctx, cell.children, baseStyle(r === 0 ? headStyle : TEXT.table)) : [];
    }),
  );
  const widths = tableColumnWidths(ctx, cellPieces, columns, frame);
  const label = tableLabel(node);
  const boxes: Box[] = label.caption ? tableCaptionBoxes(ctx, label, frame, tableTag) : [];
  const table = { frame, widths, align, headStyle, hasCaption: Boolean(label.caption), rowCount: rows.length };
  const tags = { row: tableTag, head: { type: 'THead', parent: tableTag } as Tag, body: { type: 'TBody', parent: tableTag } as Tag };
  let header: Box | undefined;
  cellPieces.forEach((row, r) => {
    const box = tableRowBox(ctx, row, r, table, tags, header);
    if (r === 0) header = { ...box, spaceBefore: 0, draw: (rr, y) => box.drawAs(rr, y, false) };
    boxes.push(box);
  });
  (boxes.at(-1) as Box).keepWithNext = false;
  return boxes;
}

/** Column widths: each column's longest word at least, the rest shared by how much text it holds. */
function tableColumnWidths(ctx: Context, cellPieces: Piece[][][], columns: number, frame: Frame): number[] {
  const natural = Array<number>(columns).fill(0);
  const minimum = Array<number>(columns).fill(0);
  for (const row of cellPieces) {
    row.forEach((pieces, c) => {
      let lineWidth = 0;
      for (const item of tokenize(ctx, pieces)) {
        if (item.kind === 'word') {
          minimum[c] = Math.max(minimum[c] ?? 0, Math.min(item.width, frame.width / columns));
          lineWidth += item.width;
        } else if (item.kind === 'space') lineWidth += measure(ctx, ' ', item.style);
      }
      natural[c] = Math.max(natural[c] ?? 0, lineWidth);
    });
  }
  const available = frame.width - columns * 2 * TABLE_PAD.x;
  return distributeWidths(natural, minimum, available).map((w) => w + 2 * TABLE_PAD.x);
}

/** The table's caption, its number set like a figure's ("Table 1." in bold). */
function tableCaptionBoxes(ctx: Context, label: ReturnType<typeof tableLabel>, frame: Frame, tableTag: Tag): Box[] {
  const dest = label.identifier ? ctx.dests.get(label.identifier) : undefined;
  // The content stage numbers its captions ("Table 1. Revenue by segment").
  const [, number = '', rest = label.caption ?? ''] = /^(Table\s+\d+[.:]?\s+)?([\s\S]*)$/.exec(label.caption ?? '') ?? [];
  const captionPieces = (
    [
      { text: number, style: { ...baseStyle(TEXT.caption), face: 'bold', color: COLOR.navy } },
      { text: rest, style: baseStyle(TEXT.caption) },
    ] satisfies Piece[]
  ).filter((piece) => piece.text);
  const caption = paragraphBoxes(ctx, captionPieces, frame, TEXT.caption, { type: 'Caption', parent: tableTag }, {
    spaceBefore: SPACE.table,
    keepAll: true,
    dest,
  });
  (caption.at(-1) as Box).height += 4;
  return caption;
}

interface TableLayout {
  frame: Frame;
  widths: number[];
  align: (string | null)[];
  headStyle: TextStyle;
  hasCaption: boolean;
  rowCount: number;
}

/** One row as a box: its lines broken per cell, drawn tagged (or as an artifact, for a repeated header). */
function tableRowBox(ctx: Context, row: Piece[][], r: number, table: TableLayout, tags: { head: Tag; body: Tag }, header: Box | undefined): Box & { drawAs: (rr: Renderer, y: number, tagged: boolean) => void } {
  const { frame, widths, align } = table;
  const isHead = r === 0;
  const text = isHead ? table.headStyle : TEXT.table;
  const rowTag: Tag = { type: 'TR', parent: isHead ? tags.head : tags.body };
  const cells = row.map((pieces, c) => {
    const width = (widths[c] ?? 0) - 2 * TABLE_PAD.x;
    return { lines: breakLines(ctx, pieces, width), width };
  });
  const height = Math.max(...cells.map((cell) => cell.lines.length)) * text.leading + 2 * TABLE_PAD.y;
  const drawAs = (rr: Renderer, y: number, tagged: boolean) => {
    const { doc } = rr;
    artifact(doc, () => {
      if (isHead) doc.save().rect(frame.x, y, frame.width, height).fill(COLOR.tint).restore();
      const ruleColor = isHead ? COLOR.navy : COLOR.hairline;
      doc.save().moveTo(frame.x, y + height).lineTo(frame.x + frame.width, y + height).lineWidth(isHead ? 0.9 : 0.5).strokeColor(ruleColor).stroke().restore();
      if (isHead) doc.save().moveTo(frame.x, y).lineTo(frame.x + frame.width, y).lineWidth(0.9).strokeColor(COLOR.navy).stroke().restore();
    });
    let x = frame.x;
    cells.forEach((cell, c) => {
      const cellTag: Tag = { type: isHead ? 'TH' : 'TD', parent: rowTag, scope: isHead ? 'Column' : undefined };
      const a = align[c];
      cell.lines.forEach((line, l) => {
        const offset = a === 'right' ? cell.width - line.width : a === 'center' ? (cell.width - line.width) / 2 : 0;
        const top = y + TABLE_PAD.y + l * text.leading;
        if (!line.frags.length) return;
        if (tagged) drawLine(rr, line, x + TABLE_PAD.x + offset, top, text, cellTag);
        else artifact(doc, () => drawUntagged(doc, line, x + TABLE_PAD.x + offset, top, text), 'Pagination');
      });
      // An empty cell is still a cell of the table's grid.
      if (tagged && !cell.lines.some((line) => line.frags.length)) materialize(doc, cellTag);
      x += widths[c] ?? 0;
    });
  };
  return {
    height,
    spaceBefore: isHead && !table.hasCaption ? SPACE.table : 0,
    keepWithNext: isHead || r === 1 || r === table.rowCount - 2,
    repeatHeader: isHead ? undefined : header,
    draw: (rr, y) => drawAs(rr, y, true),
    drawAs,
  };
}

/** Shares `available` among columns: at least each minimum, the rest in proportion to what each would like beyond it. */
function distributeWidths(natural: number[], minimum: number[], available: number): number[] {
  const totalNatural = natural.reduce((a, b) => a + b, 0);
  if (totalNatural <= available) {
    // Room for every cell on one line: spread the slack evenly so the table fills the measure.
    const slack = (available - totalNatural) / natural.length;
    return natural.map((w) => w + slack);
  }
  const totalMin = minimum.reduce((a, b) => a + b, 0);
  const want = natural.map((w, i) => Math.max(0, w - (minimum[i] ?? 0)));
  const totalWant = want.reduce((a, b) => a + b, 0) || 1;
  const spare = Math.max(0, available - totalMin);
  return minimum.map((m, i) => m + (spare * (want[i] ?? 0)) / totalWant);
}

/** Text drawn outside the structure tree (a repeated table header). */
function drawUntagged(doc: Doc, line: Line, x: number, top: number, text: TextStyle): void {
  const baseline = top + baselineIn(text.leading, text.size);
  for (const frag of line.frags) drawFrag(doc, { ...frag, style: { ...frag.style, anchor: undefined } }, x, baseline, text.size);
}

// ---------------------------------------------------------------------------
// Figures

/** Caption above, vector chart, source below: one box, so they never part; it may float below following text. */
function figureBox(ctx: Context, node: FigureNode, frame: Frame, parent: Tag): Box {
  const chart = ctx.charts.get(node.chartId);
  if (!chart) throw new Error(messages.pdfChartMissing(node.chartId, [...ctx.charts.keys()]));
  // Div > [Caption, Figure]: the caption (with the source line) stays outside
  // the Figure, whose Alt text would otherwise hide it from screen readers.
  const groupTag: Tag = { type: 'Div', parent };
  const captionTag: Tag = { type: 'Caption', parent: groupTag };
  const figureTag: Tag = { type: 'Figure', parent: groupTag, alt: node.alt || chart.description };
  const captionLines = breakLines(
    ctx,
    [
      { text: `Figure ${node.number}. `, style: { ...baseStyle(TEXT.caption), face: 'bold', color: COLOR.navy } },
      { text: node.caption, style: baseStyle(TEXT.caption) },
    ],
    frame.width,
  );
  const sourceLines = node.source ? breakLines(ctx, linkifyText(node.source, baseStyle(TEXT.source)), frame.width) : [];
  // Natural size keeps chart text at the size it was designed for; only a chart wider than the frame or taller than half a page shrinks.
  const naturalWidth = chart.width * PX_TO_PT;
  const naturalHeight = chart.height * PX_TO_PT;
  const maxHeight = (ctx.geometry.bottom - ctx.geometry.top) * 0.55;
  const scale = Math.min(1, frame.width / naturalWidth, maxHeight / naturalHeight);
  const width = naturalWidth * scale;
  const height = naturalHeight * scale;
  const captionHeight = captionLines.length * TEXT.caption.leading;
  const gap = 6;
  const sourceHeight = sourceLines.length * TEXT.source.leading;
  const dest = ctx.dests.get(node.identifier);
  return {
    height: captionHeight + gap + height + (sourceLines.length ? gap + sourceHeight : 0) + 4,
    spaceBefore: SPACE.figure,
    keepWithNext: false,
    float: true,
    dest,
    draw: (r, y) => {
      const { doc } = r;
      if (dest) doc.addNamedDestination(dest, 'XYZ', frame.x, y - 6, null as unknown as number);
      artifact(doc, () => doc.save().moveTo(frame.x, y - 4).lineTo(frame.x + frame.width, y - 4).lineWidth(0.5).strokeColor(COLOR.rule).stroke().restore());
      captionLines.forEach((line, i) => drawLine(r, line, frame.x, y + i * TEXT.caption.leading, TEXT.caption, captionTag));
      const chartTop = y + captionHeight + gap;
      const figure = materialize(doc, figureTag);
      // The bounding box lets PDF/UA tools and reflow place the figure.
      (figure as unknown as { dictionary: { data: Record<string, unknown> } }).dictionary.data.A = {
        O: 'Layout',
        Placement: 'Block',
        BBox: [frame.x, ctx.geometry.height - chartTop - height, frame.x + width, ctx.geometry.height - chartTop],
      };
      const content = doc.markStructureContent('Figure');
      drawSvg(doc, chart.svg, frame.x, chartTop, { width, height, images: ctx.images ?? 'refuse' });
      doc.endMarkedContent();
      figure.add(content);
      const sourceTop = chartTop + height + gap;
      sourceLines.forEach((line, i) => drawLine(r, line, frame.x, sourceTop + i * TEXT.source.leading, TEXT.source, captionTag));
    },
  };
}

// ---------------------------------------------------------------------------
// Cover, contents and notes

function buildCover(briefing: Briefing, ctx: Context, parent: Tag): Box[] {
  const { meta } = briefing;
  const { geometry } = ctx;
  const frame = geometry.wide;
  const kicker = toLine(ctx, [{ text: 'ANALYST BRIEFING', style: { face: 'bold', size: 8.5, color: '#b9c7da' } }]);
  const titleLines = breakLines(ctx, [{ text: meta.title, style: baseStyle(TEXT.h1) }], frame.width * 0.85);
  const subtitleStyle: TextStyle = { face: 'regular', size: 13.5, leading: 18, color: COLOR.navy };
  const subtitleLines = meta.subtitle ? breakLines(ctx, [{ text: meta.subtitle, style: baseStyle(subtitleStyle) }], frame.width * 0.85) : [];
  const datelineStyle: TextStyle = { face: 'regular', size: 10, leading: 14, color: COLOR.muted };
  const dateline = breakLines(
    ctx,
    [
      { text: 'As of ', style: baseStyle(datelineStyle) },
      { text: meta.asOfLabel, style: { ...baseStyle(datelineStyle), face: 'bold', color: COLOR.ink } },
      ...(meta.author ? [{ text: ` \u00b7 ${meta.author}`, style: baseStyle(datelineStyle) }] : []),
      ...(ctx.htmlUrl
        ? [
            { text: ' \u00b7 HTML edition: ', style: baseStyle(datelineStyle) },
            { text: ctx.htmlUrl, style: { ...baseStyle(datelineStyle), color: COLOR.link, link: { url: ctx.htmlUrl, label: `HTML edition: ${ctx.htmlUrl}` } } },
          ]
        : []),
    ],
    frame.width,
  );
  const bandTop = 0;
  const titleTop = 92;
  const bandHeight = titleTop + titleLines.length * TEXT.h1.leading + 30;
  const subtitleTop = bandHeight + 22;
  const datelineTop = subtitleTop + subtitleLines.length * subtitleStyle.leading + 10;
  const end = datelineTop + dateline.length * datelineStyle.leading + 8;
  return [
    {
      height: end - geometry.top,
      spaceBefore: 0,
      keepWithNext: false,
      draw: (r) => {
        const { doc } = r;
        artifact(doc, () => {
          doc.save().rect(0, bandTop, geometry.width, bandHeight).fill(COLOR.navy).restore();
          doc.save().rect(frame.x, bandHeight - 14, 36, 3).fill('#8fb3e0').restore();
        });
        drawLine(r, kicker, frame.x, 52, { ...TEXT.body, size: 8.5, leading: 12 }, { type: 'P', parent });
        const h1: Tag = { type: 'H1', parent };
        titleLines.forEach((line, i) => drawLine(r, line, frame.x, titleTop + i * TEXT.h1.leading, TEXT.h1, h1));
        const sub: Tag = { type: 'P', parent };
        subtitleLines.forEach((line, i) => drawLine(r, line, frame.x, subtitleTop + i * subtitleStyle.leading, subtitleStyle, sub));
        const date: Tag = { type: 'P', parent };
        dateline.forEach((line, i) => drawLine(r, line, frame.x, datelineTop + i * datelineStyle.leading, datelineStyle, date));
      },
    },
  ];
}

interface TocEntry {
  depth: number;
  text: string;
  dest: string;
}

/** Sections and subsections from the outline (the two levels below the title), plus the notes. */
function collectTocEntries(briefing: Briefing, ctx: Context): TocEntry[] {
  const outline = briefing.outline.filter((entry) => entry.text !== briefing.meta.title || entry.depth > 1);
  const top = Math.min(...outline.map((entry) => entry.depth));
  const entries: TocEntry[] = [];
  for (const entry of outline) {
    const dest = ctx.dests.get(entry.id);
    if (!dest || entry.depth > top + 1) continue;
    entries.push({ depth: entry.depth - top + 1, text: entry.text, dest });
  }
  if (ctx.noteNumbers.size) entries.push({ depth: 1, text: 'Notes', dest: ctx.dests.get(NOTES_ID) as string });
  return entries;
}

function buildToc(entries: TocEntry[], ctx: Context, parent: Tag): Box[] {
  if (!entries.length) return [];
  const frame = ctx.geometry.wide;
  const heading = paragraphBoxes(ctx, [{ text: 'Contents', style: baseStyle(TEXT.h2) }], frame, TEXT.h2, { type: 'H2', parent }, {
    spaceBefore: 22,
    keepAll: true,
  });
  (heading.at(-1) as Box).height += 6;
  const tocTag: Tag = { type: 'TOC', parent };
  const numberWidth = 28;
  const boxes = entries.map((entry, index): Box => {
    const section = entry.depth === 1;
    const style: TextStyle = section ? { ...TEXT.toc, face: 'bold', color: COLOR.navy } : { ...TEXT.toc, size: 10, color: COLOR.ink };
    const indent = section ? 0 : 16;
    const link: LinkTarget = { dest: entry.dest, label: entry.text };
    const titleLines = breakLines(ctx, [{ text: entry.text, style: { ...baseStyle(style), link } }], frame.width - indent - numberWidth - 24);
    const height = titleLines.length * style.leading + (section ? 4 : 1);
    const next = entries[index + 1];
    return {
      height,
      spaceBefore: section && index > 0 ? 5 : 0,
      // A section's first subsection stays with it.
      keepWithNext: section && next?.depth === 2,
      draw: (r, y) => {
        const { doc } = r;
        const itemTag: Tag = { type: 'TOCI', parent: tocTag };
        const top = y + (section ? 2 : 0);
        titleLines.forEach((line, i) => drawLine(r, line, frame.x + indent, top + i * style.leading, style, itemTag));
        const lastLine = titleLines.at(-1) as Line;
        const lastTop = top + (titleLines.length - 1) * style.leading;
        const page = String(ctx.destPages.get(entry.dest) ?? '');
        const numberLine = toLine(ctx, [{ text: page, style: { ...baseStyle(style), link } }]);
        const baseline = lastTop + baselineIn(style.leading, style.size);
        // Dot leaders guide the eye from title to number; they are decoration, not text.
        artifact(doc, () => {
          const from = frame.x + indent + lastLine.width + 6;
          const to = frame.x + frame.width - numberLine.width - 6;
          doc.save().fillColor(COLOR.rule);
          for (let x = to - 1; x > from; x -= 4) doc.circle(x, baseline - 1, 0.55).fill();
          doc.restore();
        });
        drawLine(r, numberLine, frame.x + frame.width - numberLine.width, lastTop, style, itemTag);
      },
    };
  });
  return [...heading, ...boxes];
}

function buildNotes(tree: Root, ctx: Context, parent: Tag): Box[] {
  const definitions = new Map<string, FootnoteDefinition>();
  visit(tree, (node) => {
    if (node.type === 'footnoteDefinition' && !definitions.has(node.identifier)) definitions.set(node.identifier, node);
  });
  const numbered = [...ctx.noteNumbers.entries()].filter(([id]) => definitions.has(id));
  if (!numbered.length) return [];
  // Notes are set smaller than the text, so their column reaches into the
  // left rail: the same characters a line as the reading column.
  const { body } = ctx.geometry;
  const frame = { x: body.x + body.width - NOTES_MEASURE, width: NOTES_MEASURE };
  const boxes = headingBoxes(
    ctx,
    { type: 'heading', depth: 2, children: [{ type: 'text', value: 'Notes' }], data: { hProperties: { id: NOTES_ID } } } as Heading,
    2,
    parent,
    'body',
    frame,
  );
  const indent = 18;
  const inner = { x: frame.x + indent, width: frame.width - indent };
  for (const [id, number] of numbered) {
    const definition = definitions.get(id) as FootnoteDefinition;
    const noteTag: Tag = { type: 'Note', parent, id: `note-${number}` };
    const body = buildBlocks(ctx, definition.children, inner, TEXT.note, noteTag, 'nested');
    const first = body[0];
    if (!first) continue;
    first.spaceBefore = 3;
    first.dest = noteDest(ctx, number);
    const draw = first.draw;
    const backLink: LinkTarget = { dest: noteRefDest(ctx, number), label: `Back to the text of note ${number}` };
    const label = toLine(ctx, [{ text: `${number}.`, style: { face: 'bold', size: TEXT.note.size, color: COLOR.link, link: backLink } }]);
    first.draw = (r, y, gap) => {
      r.doc.addNamedDestination(noteDest(ctx, number), 'XYZ', frame.x, y - 4, null as unknown as number);
      drawLine(r, label, inner.x - 5 - label.width, y, TEXT.note, noteTag);
      draw(r, y, gap);
    };
    boxes.push(...body);
  }
  return boxes;
}

// ---------------------------------------------------------------------------
// Pagination

function chains(boxes: Box[]): Box[][] {
  const result: Box[][] = [];
  let current: Box[] = [];
  for (const box of boxes) {
    current.push(box);
    if (!box.keepWithNext) {
      result.push(current);
      current = [];
    }
  }
  if (current.length) result.push(current);
  return result;
}

/**
 * Places boxes on pages. A chain of boxes joined by keep-with-next moves to
 * the next page whole when it does not fit; a figure that does not fit waits
 * for the next page while the text after it fills this one, but never past
 * the next section; a table row starting a page brings its header with it.
 */
function paginate(boxes: Box[], geometry: Geometry): Placed[][] {
  const pages: Placed[][] = [[]];
  let y = geometry.top;
  const full = geometry.bottom - geometry.top;
  let pending: Box[] = [];
  const page = () => pages[pages.length - 1] as Placed[];
  const place = (box: Box) => {
    const gap = page().length ? box.spaceBefore : 0;
    page().push({ box, y: y + gap, gap });
    y += gap + box.height;
  };
  const newPage = (next?: Box) => {
    pages.push([]);
    y = geometry.top;
    const floats = pending;
    pending = [];
    floats.forEach(place);
    if (next?.repeatHeader) place(next.repeatHeader);
  };
  const fits = (chain: Box[]) => {
    let height = 0;
    chain.forEach((box, i) => (height += (i === 0 && !page().length ? 0 : box.spaceBefore) + box.height));
    return y + height <= geometry.bottom;
  };
  for (const chain of chains(boxes)) {
    const first = chain[0] as Box;
    if (first.breakBefore && page().length) newPage(first);
    else if (pending.length && (first.section || first.float)) newPage(first);
    if (fits(chain)) {
      chain.forEach(place);
      continue;
    }
    if (chain.length === 1 && first.float && page().length) {
      pending.push(first);
      continue;
    }
    const height = chain.reduce((sum, box) => sum + box.height + box.spaceBefore, 0);
    if (page().length && height <= full) {
      newPage(first);
      chain.forEach(place);
      continue;
    }
    // Taller than a page: break inside the chain wherever it must.
    for (const box of chain) {
      if (page().length && y + box.spaceBefore + box.height > geometry.bottom) newPage(box);
      place(box);
    }
  }
  if (pending.length) newPage();
  return pages.filter((p, i) => p.length || i === 0);
}

// ---------------------------------------------------------------------------
// Page furniture and outline

/** Draws one line of furniture text from x on the baseline y, each run in the face of the chain that draws it. */
function drawPlainText(doc: Doc, fonts: FontBytes, text: string, x: number, y: number, style: { face: FaceKey; size: number }): void {
  let at = x;
  for (const run of splitByFace(fonts, style.face, text)) {
    setFont(doc, { ...style, font: run.face.name === style.face ? undefined : run.face.name });
    doc.text(run.text, at, y, { lineBreak: false, baseline: 'alphabetic' });
    at += doc.widthOfString(run.text);
  }
}

function drawFurniture(doc: Doc, fonts: FontBytes, geometry: Geometry, title: string, dateLabel: string, page: number, pages: number): void {
  const { wide } = geometry;
  const style = TEXT.furniture;
  artifact(
    doc,
    () => {
      doc.fillColor(COLOR.navy);
      drawPlainText(doc, fonts, title, wide.x, 44, { face: 'bold', size: style.size });
      doc.save().moveTo(wide.x, 52).lineTo(wide.x + wide.width, 52).lineWidth(0.5).strokeColor(COLOR.rule).stroke().restore();
      const footerY = geometry.height - 40;
      doc.save().moveTo(wide.x, footerY - 12).lineTo(wide.x + wide.width, footerY - 12).lineWidth(0.5).strokeColor(COLOR.rule).stroke().restore();
      doc.fillColor(style.color);
      drawPlainText(doc, fonts, `Edition of ${dateLabel}`, wide.x, footerY, style);
      setFont(doc, style);
      const label = `Page ${page} of ${pages}`;
      doc.text(label, wide.x + wide.width - doc.widthOfString(label), footerY, { lineBreak: false, baseline: 'alphabetic' });
    },
    'Pagination',
  );
}

function addOutline(doc: Doc, entries: TocEntry[], ctx: Context): void {
  type Item = { addItem(title: string, options?: { pageNumber?: number }): Item; outlineData: Record<string, unknown> };
  const root = doc.outline as unknown as Item;
  let section: Item | undefined;
  for (const entry of entries) {
    const page = ctx.destPages.get(entry.dest);
    if (page === undefined) continue;
    const parent = entry.depth === 1 || !section ? root : section;
    const item = parent.addItem(entry.text, { pageNumber: page - 1 });
    // The named destination lands on the heading itself, not the top of its page.
    item.outlineData.Dest = new String(entry.dest);
    if (entry.depth === 1) section = item;
  }
}

// ---------------------------------------------------------------------------
// Tree helpers

function visit(node: Nodes, fn: (node: Nodes) => void): void {
  fn(node);
  if ('children' in node) for (const child of node.children) visit(child, fn);
}
