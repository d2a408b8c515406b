import type { Link, Nodes, Root } from 'mdast';
import { getDocument, OPS, type PDFDocumentProxy } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RenderedChart } from '../../src/charts/render.ts';
import type { Briefing, FigureNode } from '../../src/content/briefing.ts';
import type { FontBytes } from '../../src/text/fonts.ts';
import { messages } from '../../src/support/messages.ts';
import { renderPdf, type PdfOptions } from '../../src/pdf/render.ts';
import {
  buildFixtureBriefing,
  buildFixtureCharts,
  FIXTURE_FIGURES,
  hasRealEdition,
  loadRealEdition,
  paragraphTexts,
  readFixtureFonts,
} from '../fixtures/pdf/fixture.ts';

const fonts = readFixtureFonts();
const OPTIONS: PdfOptions = { paper: 'a4', creationDate: new Date('2026-11-29T00:00:00Z') };

// ---------------------------------------------------------------------------
// Reading a PDF back with pdfjs

async function open(bytes: Uint8Array): Promise<PDFDocumentProxy> {
  // pdfjs takes ownership of the buffer it is given, so it gets a copy.
  return getDocument({ data: bytes.slice(), disableFontFace: true, verbosity: 0 }).promise;
}

interface StructNode {
  role?: string;
  alt?: string;
  type?: string;
  id?: string;
  children?: StructNode[];
}

interface PageText {
  /** Text of each marked-content sequence, by id. */
  byId: Map<string, string>;
  /** Text outside artifacts, figures and captions, in content order. */
  flow: string;
  /** Text inside artifacts (running header and footer, repeated table headers). */
  artifacts: string;
  /** Tags of the marked-content sequences that hold text, in order. */
  tags: string[];
  struct: StructNode;
}

interface TextItemLike {
  str?: string;
  type?: string;
  tag?: string;
  id?: string | null;
}

async function readPage(pdf: PDFDocumentProxy, number: number): Promise<PageText> {
  const page = await pdf.getPage(number);
  const content = await page.getTextContent({ includeMarkedContent: true });
  const byId = new Map<string, string>();
  const stack: { tag: string; id: string | null }[] = [];
  const tags: string[] = [];
  let flow = '';
  let artifacts = '';
  for (const item of content.items as TextItemLike[]) {
    if (item.type === 'beginMarkedContentProps' || item.type === 'beginMarkedContent') {
      stack.push({ tag: item.tag ?? '', id: item.id ?? null });
      continue;
    }
    if (item.type === 'endMarkedContent') {
      stack.pop();
      continue;
    }
    const str = item.str ?? '';
    if (!str) continue;
    const inner = stack.at(-1);
    if (inner?.id) byId.set(inner.id, (byId.get(inner.id) ?? '') + str);
    if (inner && str.trim()) tags.push(inner.tag);
    const tagsOpen = stack.map((entry) => entry.tag);
    if (tagsOpen.includes('Artifact')) artifacts += `${str} `;
    else if (!tagsOpen.includes('Figure') && !tagsOpen.includes('Caption')) flow += `${str} `;
  }
  return { byId, flow, artifacts, tags, struct: (await page.getStructTree()) as StructNode };
}

async function readAll(pdf: PDFDocumentProxy): Promise<PageText[]> {
  const pages: PageText[] = [];
  for (let n = 1; n <= pdf.numPages; n++) pages.push(await readPage(pdf, n));
  return pages;
}

function walk(node: StructNode, fn: (node: StructNode) => void): void {
  fn(node);
  for (const child of node.children ?? []) walk(child, fn);
}

function structText(node: StructNode, byId: Map<string, string>): string {
  if (node.type === 'content' && node.id) return byId.get(node.id) ?? '';
  return (node.children ?? []).map((child) => structText(child, byId)).join('');
}

const squash = (text: string) => text.replace(/\s+/g, '');
/** Letter-only words: footnote markers and page numbers do not break a match. */
const words = (text: string) => text.match(/[A-Za-z]+/g) ?? [];

/** Page (1-based) on which each heading of the given role starts, from the structure tree. */
function headingPages(pages: PageText[], roles: string[]): Map<string, number> {
  const found = new Map<string, number>();
  pages.forEach((page, index) => {
    walk(page.struct, (node) => {
      if (!node.role || !roles.includes(node.role)) return;
      const text = structText(node, page.byId).trim();
      if (text && !found.has(squash(text))) found.set(squash(text), index + 1);
    });
  });
  return found;
}

async function destinationPage(pdf: PDFDocumentProxy, dest: unknown): Promise<number> {
  const explicit = typeof dest === 'string' ? await pdf.getDestination(dest) : (dest as unknown[]);
  if (!explicit) throw new Error(`unresolved destination ${String(dest)}`);
  return (await pdf.getPageIndex(explicit[0] as { num: number; gen: number })) + 1;
}

function visitMdast(node: Nodes, fn: (node: Nodes) => void): void {
  fn(node);
  if ('children' in node) for (const child of node.children) visitMdast(child, fn);
}

function textOf(node: Nodes): string {
  if ('value' in node && typeof node.value === 'string') return node.value;
  if ('children' in node) return (node.children as Nodes[]).map(textOf).join('');
  return '';
}

/** Every http(s) URL the content links to: links, resolved references, bare URLs in figure sources. */
function expectedUrls(tree: Root): string[] {
  const urls = new Set<string>();
  const definitions = new Map<string, string>();
  visitMdast(tree, (node) => {
    if (node.type === 'definition') definitions.set(node.identifier.toLowerCase(), node.url);
  });
  visitMdast(tree, (node) => {
    if (node.type === 'link' && /^https?:/.test(node.url)) urls.add(node.url);
    if (node.type === 'linkReference') {
      const url = definitions.get(node.identifier.toLowerCase());
      if (url) urls.add(url);
    }
    if (node.type === 'figure') for (const match of node.source.matchAll(/https?:\/\/\S+[^\s.,;)]/g)) urls.add(match[0]);
  });
  return [...urls];
}

// ---------------------------------------------------------------------------

interface Edition {
  briefing: Briefing;
  charts: RenderedChart[];
  fonts: FontBytes;
}

/** The checks every edition must pass, whatever its content; expectations come from the content tree. */
function describeEdition(name: string, load: () => Promise<Edition>, skip = false): void {
  describe.skipIf(skip)(name, () => {
    let edition: Edition;
    let briefing: Briefing;
    let bytes: Uint8Array;
    let pdf: PDFDocumentProxy;
    let pages: PageText[];
    let raw: string;

    beforeAll(async () => {
      edition = await load();
      briefing = edition.briefing;
      bytes = await renderPdf(briefing, edition.charts, edition.fonts, OPTIONS);
      pdf = await open(bytes);
      pages = await readAll(pdf);
      raw = Buffer.from(bytes).toString('latin1');
    });

    const figures = () => {
      const found: FigureNode[] = [];
      visitMdast(briefing.tree, (node) => {
        if (node.type === 'figure') found.push(node);
      });
      return found;
    };
    /** The contents lists sections and subsections (the two top outline levels), then the notes. */
    const tocOutline = () => {
      const top = Math.min(...briefing.outline.map((entry) => entry.depth));
      const entries = briefing.outline.filter((entry) => entry.depth <= top + 1).map((entry) => ({ ...entry, depth: entry.depth - top }));
      const hasNotes = briefing.tree.children.some((node) => node.type === 'footnoteDefinition');
      return hasNotes ? [...entries, { depth: 0, id: 'notes', text: 'Notes' }] : entries;
    };


    it('numbers every page but the cover "Page N of M", M being the page count', () => {
      expect(pdf.numPages).toBeGreaterThan(2);
      expect(pages[0]?.artifacts).not.toMatch(/Page \d+ of/);
      pages.slice(1).forEach((page, index) => {
        expect(page.artifacts).toContain(`Page ${index + 2} of ${pdf.numPages}`);
        expect(page.artifacts).toContain(briefing.meta.title);
        expect(page.artifacts).toContain(briefing.meta.asOfLabel);
      });
    });

    it('sets A4 pages by default', async () => {
      for (let n = 1; n <= pdf.numPages; n++) {
        const [x0 = 0, y0 = 0, x1 = 0, y1 = 0] = (await pdf.getPage(n)).view;
        expect([x1 - x0, y1 - y0]).toEqual([595.28, 841.89]);
      }
    });

    it('shows the title block and as-of date on the cover', () => {
      const cover = squash(pages[0]?.flow ?? '');
      expect(cover).toContain(squash(briefing.meta.title));
      expect(cover).toContain(squash(briefing.meta.subtitle));
      expect(cover).toContain(squash(`As of ${briefing.meta.asOfLabel}`));
    });

    it('shows every section heading and every figure caption', () => {
      const all = squash(pages.map((page) => page.flow).join(''));
      for (const entry of briefing.outline) expect(all).toContain(squash(entry.text));
      const captions = pages.map((page) => {
        let text = '';
        walk(page.struct, (node) => {
          if (node.role === 'Caption') text += structText(node, page.byId);
        });
        return text;
      });
      expect(figures().length).toBeGreaterThan(0);
      for (const figure of figures()) {
        expect(squash(captions.join(''))).toContain(squash(`Figure ${figure.number}. ${figure.caption}`));
      }
    });

    it('contains every paragraph of the content tree, in reading order', () => {
      const stream = words(pages.map((page) => page.flow).join(' ')).join(' ');
      for (const paragraph of paragraphTexts(briefing.tree)) {
        const expected = words(paragraph).join(' ');
        if (expected) expect(stream).toContain(expected);
      }
    });

    it('prints in the contents the page on which each section starts', () => {
      const starts = headingPages(pages, ['H2', 'H3']);
      const cover = pages[0] as PageText;
      const toc: StructNode[] = [];
      walk(cover.struct, (node) => {
        if (node.role === 'TOCI') toc.push(node);
      });
      const expected = tocOutline().map((entry) => entry.text);
      expect(toc).toHaveLength(expected.length);
      toc.forEach((item, index) => {
        const text = structText(item, cover.byId);
        const match = /^(.*?)(\d+)$/.exec(text.trim());
        expect(match?.[1]?.trim()).toBe(expected[index]);
        expect(Number(match?.[2])).toBe(starts.get(squash(expected[index] as string)));
      });
    });

    it('links each contents entry to its section', async () => {
      const starts = headingPages(pages, ['H2', 'H3']);
      const cover = await (await pdf.getPage(1)).getAnnotations();
      const links = cover.filter((a) => a.subtype === 'Link' && a.dest);
      expect(links.length).toBeGreaterThanOrEqual(briefing.outline.length + 1);
      for (const link of links) expect([...starts.values()]).toContain(await destinationPage(pdf, link.dest));
    });

    it('has a bookmark for every section and subsection, nested, pointing at its page', async () => {
      const outline = await pdf.getOutline();
      const starts = headingPages(pages, ['H2', 'H3']);
      const flat: { title: string; depth: number; dest: unknown }[] = [];
      const collect = (items: typeof outline, depth: number) => {
        for (const item of items) {
          flat.push({ title: item.title, depth, dest: item.dest });
          collect(item.items, depth + 1);
        }
      };
      collect(outline, 0);
      expect(flat.map(({ title, depth }) => ({ title, depth }))).toEqual(tocOutline().map(({ text, depth }) => ({ title: text, depth })));
      for (const item of flat) expect(await destinationPage(pdf, item.dest)).toBe(starts.get(squash(item.title)));
    });

    it('links every footnote marker to its note and back', async () => {
      let references = 0;
      const notes = new Set<string>();
      visitMdast(briefing.tree, (node) => {
        if (node.type === 'footnoteReference') references++;
        if (node.type === 'footnoteReference') notes.add(node.identifier);
      });
      const notesPage = headingPages(pages, ['H2']).get('Notes') as number;
      // A note starts where its Note element begins with its number ("3."), the back-link.
      const notePages: number[] = [];
      pages.forEach((page, index) => {
        walk(page.struct, (node) => {
          const first = node.role === 'Note' ? node.children?.[0] : undefined;
          const label = first?.role === 'Link' ? /^(\d+)\.$/.exec(structText(first, page.byId).trim()) : null;
          if (label) notePages[Number(label[1]) - 1] = index + 1;
        });
      });
      const footnoteLinks: number[] = [];
      const backLinks: number[] = [];
      for (let n = 1; n <= pdf.numPages; n++) {
        for (const annotation of await (await pdf.getPage(n)).getAnnotations()) {
          if (annotation.subtype !== 'Link' || !annotation.dest) continue;
          const target = await destinationPage(pdf, annotation.dest);
          const contents = String(annotation.contentsObj?.str ?? '');
          const note = /^Note (\d+)$/.exec(contents);
          if (note) footnoteLinks.push(target);
          if (note) expect(target).toBe(notePages[Number(note[1]) - 1]);
          if (/^Back to the text of note \d+$/.test(contents)) backLinks.push(target);
          if (/^Note \d+$/.test(contents)) expect(n).toBeLessThan(notesPage + 1);
        }
      }
      expect(footnoteLinks).toHaveLength(references);
      for (const target of footnoteLinks) expect(target).toBeGreaterThanOrEqual(notesPage);
      // Each note links back to its first reference.
      expect(backLinks).toHaveLength(notes.size);
      for (const target of backLinks) expect(target).toBeLessThanOrEqual(notesPage);
    });

    it('makes every source URL a live link annotation', async () => {
      const urls = new Set<string>();
      for (let n = 1; n <= pdf.numPages; n++) {
        for (const annotation of await (await pdf.getPage(n)).getAnnotations()) if (annotation.url) urls.add(annotation.url);
      }
      const expected = expectedUrls(briefing.tree);
      for (const url of expected) expect(urls).toContain(url);
    });

    it('links cross-references ("Figure 1") to the page of their figure', async () => {
      const anchors: string[] = [];
      visitMdast(briefing.tree, (node) => {
        if (node.type === 'link' && (node as Link).url.startsWith('#fig-')) anchors.push(textOf(node));
      });
      expect(anchors.length).toBeGreaterThan(0);
      const figurePages = new Map<string, number>();
      pages.forEach((page, index) => {
        walk(page.struct, (node) => {
          if (node.role !== 'Caption') return;
          const label = /^Figure \d+/.exec(structText(node, page.byId))?.[0];
          if (label && !figurePages.has(label)) figurePages.set(label, index + 1);
        });
      });
      let checked = 0;
      for (let n = 1; n <= pdf.numPages; n++) {
        for (const annotation of await (await pdf.getPage(n)).getAnnotations()) {
          const label = String(annotation.contentsObj?.str ?? '');
          if (!anchors.includes(label)) continue;
          expect(await destinationPage(pdf, annotation.dest)).toBe(figurePages.get(label));
          checked++;
        }
      }
      // A link that wraps onto a second line has one annotation per line.
      expect(checked).toBeGreaterThanOrEqual(anchors.length);
    });

    it('embeds every font it uses, and only the four Source Sans 3 faces', () => {
      const descriptors = raw.match(/\/Type \/FontDescriptor[\s\S]*?>>/g) ?? [];
      expect(descriptors.length).toBeGreaterThanOrEqual(2);
      for (const descriptor of descriptors) expect(descriptor).toMatch(/\/FontFile[23]? /);
      const baseFonts = new Set([...raw.matchAll(/\/BaseFont \/([A-Z]{6}\+)?([\w-]+)/g)].map((m) => m[2]));
      expect([...baseFonts].every((name) => /^SourceSans3-(Regular|Italic|Bold|BoldItalic)$/.test(name ?? ''))).toBe(true);
      expect(raw).not.toMatch(/Helvetica|Times-Roman|Courier/);
      expect(raw).not.toContain('/Subtype /Type1');
    });

    it('contains no raster image', async () => {
      expect(raw).not.toMatch(/\/Subtype\s*\/Image/);
      const imageOps = new Set([OPS.paintImageXObject, OPS.paintInlineImageXObject, OPS.paintImageMaskXObject]);
      for (let n = 1; n <= pdf.numPages; n++) {
        const list = await (await pdf.getPage(n)).getOperatorList();
        expect(list.fnArray.filter((op) => imageOps.has(op))).toEqual([]);
      }
    });

    it('tags figures with their alt text, headings and paragraphs', () => {
      const roles = new Map<string, number>();
      const alts: string[] = [];
      for (const page of pages) {
        walk(page.struct, (node) => {
          if (node.role) roles.set(node.role, (roles.get(node.role) ?? 0) + 1);
          if (node.role === 'Figure') alts.push(node.alt ?? '');
        });
      }
      const chartsById = new Map(edition.charts.map((chart) => [chart.id, chart]));
      expect(alts).toEqual(figures().map((figure) => figure.alt || chartsById.get(figure.chartId)?.description));
      for (const alt of alts) expect(alt.length).toBeGreaterThan(10);
      for (const role of ['Document', 'H1', 'H2', 'P', 'Caption', 'TOC', 'TOCI']) expect(roles.get(role), role).toBeGreaterThan(0);
    });

    it('draws nothing outside marked content: every mark is tagged or an artifact', async () => {
      const names = new Map(Object.entries(OPS).map(([name, op]) => [op, name]));
      for (let n = 1; n <= pdf.numPages; n++) {
        const list = await (await pdf.getPage(n)).getOperatorList();
        let depth = 0;
        const outside: string[] = [];
        for (const op of list.fnArray) {
          const name = names.get(op) ?? '';
          if (name === 'beginMarkedContent' || name === 'beginMarkedContentProps') depth++;
          else if (name === 'endMarkedContent') depth--;
          else if (depth === 0 && /^(showText|showSpacedText|nextLineShowText|fill|eoFill|stroke|closeStroke|fillStroke|eoFillStroke|closeFillStroke|closeEOFillStroke|paint)/.test(name)) outside.push(name);
        }
        expect({ page: n, outside, depth }).toEqual({ page: n, outside: [], depth: 0 });
      }
    });

    it('never ends a page with a heading', () => {
      for (const page of pages.slice(1)) expect(['H2', 'H3', 'H4']).not.toContain(page.tags.at(-1));
    });

    it('writes title, author, subject, keywords, language and XMP with PDF/A and PDF/UA identification', async () => {
      const { info, metadata } = (await pdf.getMetadata()) as unknown as {
        info: Record<string, string>;
        metadata: { get(name: string): unknown } | null;
      };
      expect(info.Title).toBe(briefing.meta.title);
      expect(info.Author).toBe(briefing.meta.author);
      expect(info.Subject).toBe(briefing.meta.subject);
      expect(info.Keywords).toBe(briefing.meta.keywords.join(', '));
      expect(info.Language).toBe('en');
      expect(info.CreationDate).toBe('D:20261129000000Z');
      expect(info.ModDate).toBe('D:20261129000000Z');
      expect(metadata?.get('dc:title')).toBe(briefing.meta.title);
      expect(raw).toContain('<pdfaid:part>2</pdfaid:part>');
      expect(raw).toContain('<pdfaid:conformance>A</pdfaid:conformance>');
      expect(raw).toContain('<pdfuaid:part>1</pdfuaid:part>');
      expect(raw).toContain('<xmp:ModifyDate>2026-11-29T00:00:00Z</xmp:ModifyDate>');
      expect(raw).toMatch(/\/DisplayDocTitle true/);
      expect(raw).toMatch(/\/Marked true/);
    });

    it('is byte-identical when rendered twice', async () => {
      const again = await renderPdf(structuredClone(briefing), edition.charts, edition.fonts, OPTIONS);
      expect(Buffer.compare(Buffer.from(again), Buffer.from(bytes))).toBe(0);
    });
  });
}

describeEdition('renderPdf on the fixture briefing', async () => ({ briefing: buildFixtureBriefing(), charts: buildFixtureCharts(), fonts }));

// The real briefing: dataset -> charts -> content, as the build runs them, once the templates exist.
describeEdition('renderPdf on the real briefing', loadRealEdition, !hasRealEdition());

// The notes in short form: how much paper they take, and where their source links lead.
describe.skipIf(!hasRealEdition())('renderPdf on the real briefing: the notes', () => {
  let pdf: PDFDocumentProxy;
  let briefing: Briefing;
  beforeAll(async () => {
    const edition = await loadRealEdition();
    briefing = edition.briefing;
    pdf = await open(await renderPdf(briefing, edition.charts, edition.fonts, OPTIONS));
  });

  /** Each page's text items outside artifacts, with their baselines (pdf units, from the page's foot). */
  const lines = async (n: number) => {
    const content = await (await pdf.getPage(n)).getTextContent({ includeMarkedContent: true });
    const found: { str: string; y: number }[] = [];
    let artifact = 0;
    for (const item of content.items as (TextItemLike & { transform?: number[] })[]) {
      if (item.type === 'beginMarkedContentProps' || item.type === 'beginMarkedContent') artifact += item.tag === 'Artifact' || artifact ? 1 : 0;
      else if (item.type === 'endMarkedContent') artifact = Math.max(0, artifact - 1);
      else if (!artifact && item.str?.trim()) found.push({ str: item.str, y: item.transform![5]! });
    }
    return found;
  };

  it('run to at most 1.5 A4 pages, from the notes heading to the last note', async () => {
    // A4 in points, and the text block computeGeometry gives it (80 pt top, 70 pt bottom margin).
    const height = 841.89;
    const block = height - 80 - 70;
    let first: { page: number; y: number } | undefined;
    for (let n = 1; n <= pdf.numPages && !first; n++) {
      const heading = (await lines(n)).find((item) => item.str === 'Notes');
      // The contents page lists "Notes" too; the heading is the last page's or a later one's, followed by note 1.
      if (heading && (await lines(n)).some((item) => item.str === '1.' && item.y < heading.y)) first = { page: n, y: heading.y };
    }
    expect(first, 'the notes heading').toBeDefined();
    const last = await lines(pdf.numPages);
    const end = Math.min(...last.map((item) => item.y));
    const pages = ((pdf.numPages - first!.page) * block + (first!.y - end)) / block;
    expect(pages).toBeGreaterThan(0.3);
    expect(pages).toBeLessThanOrEqual(1.5);
  });

  it('describe the source in full once in the whole PDF', async () => {
    let text = '';
    for (let n = 1; n <= pdf.numPages; n++) text += `${(await lines(n)).map((item) => item.str).join(' ')} `;
    // The full description (kind, date as given, state of the copy); figure source lines name the title and period only.
    expect(text.replace(/\s+/g, ' ').split('news analysis; undated; internal references place it in spring 2026; truncated copy').length - 1).toBe(1);
  });

  it('link each short source to the page of its entry in the source list', async () => {
    const entryPage = new Map<string, number>();
    for (let n = 1; n <= pdf.numPages; n++) if ((await lines(n)).some((item) => item.str.includes(briefing.meta.title) === false && item.str.includes('CATL closes the loop on AI compute'))) entryPage.set('vector', n);
    expect(entryPage.get('vector')).toBeDefined();
    let links = 0;
    for (let n = 1; n <= pdf.numPages; n++) {
      for (const annotation of await (await pdf.getPage(n)).getAnnotations()) {
        if (!/^Vector \(\d{4}\)$/.test(String(annotation.contentsObj?.str ?? ''))) continue;
        expect(await destinationPage(pdf, annotation.dest)).toBe(entryPage.get('vector'));
        links++;
      }
    }
    expect(links).toBeGreaterThan(20);
  });
});

describe('renderPdf on the fixture: constructs the real briefing may not use', () => {
  const briefing = buildFixtureBriefing();
  let pages: PageText[];
  let pdf: PDFDocumentProxy;

  beforeAll(async () => {
    pdf = await open(await renderPdf(briefing, buildFixtureCharts(), fonts, OPTIONS));
    pages = await readAll(pdf);
  });

  it('tags lists, tables, notes, quotes and code, and gives each figure its own alt text', () => {
    const roles = new Set<string>();
    const alts: string[] = [];
    for (const page of pages) {
      walk(page.struct, (node) => {
        if (node.role) roles.add(node.role);
        if (node.role === 'Figure') alts.push(node.alt ?? '');
      });
    }
    for (const role of ['H3', 'L', 'LI', 'Lbl', 'LBody', 'Table', 'THead', 'TBody', 'TR', 'TH', 'TD', 'Note', 'Link', 'BlockQuote', 'Code']) {
      expect(roles, role).toContain(role);
    }
    expect(alts).toEqual(Object.values(FIXTURE_FIGURES).map((figure) => figure.alt));
  });

  it('links the URLs of links, autolinks, references and figure sources', async () => {
    const urls = new Set<string>();
    for (let n = 1; n <= pdf.numPages; n++) {
      for (const annotation of await (await pdf.getPage(n)).getAnnotations()) if (annotation.url) urls.add(annotation.url);
    }
    expect([...urls].sort()).toEqual(expectedUrls(briefing.tree).sort());
    expect(urls.size).toBeGreaterThanOrEqual(4);
  });

  it('repeats the table header on each page the table continues on', () => {
    const header = 'Counterparty';
    const tablePages = pages.filter((page) => {
      let cells = 0;
      walk(page.struct, (node) => {
        if (node.role === 'TD') cells++;
      });
      return cells > 0;
    });
    expect(tablePages.length).toBeGreaterThan(1);
    // The first page has the header as TH; later ones as an artifact.
    for (const page of tablePages.slice(1)) expect(page.artifacts).toContain(header);
  });
});

describe('renderPdf options and errors', () => {
  it('names the HTML edition on the first page, linked, when the report gives its address', async () => {
    const url = 'https://example.com/briefings/fixture.html';
    const pdf = await open(await renderPdf(buildFixtureBriefing(), buildFixtureCharts(), fonts, { ...OPTIONS, htmlUrl: url }));
    const first = await pdf.getPage(1);
    const words = (await first.getTextContent()).items.map((item) => ('str' in item ? item.str : '')).join('');
    expect(words).toContain(`HTML edition: ${url}`);
    expect((await first.getAnnotations()).map((a) => a.url)).toContain(url);
    const plain = await open(await renderPdf(buildFixtureBriefing(), buildFixtureCharts(), fonts, OPTIONS));
    expect((await (await plain.getPage(1)).getTextContent()).items.map((item) => ('str' in item ? item.str : '')).join('')).not.toContain('HTML edition');
  });

  it('sets US Letter pages (612 x 792 pt) with --paper letter', async () => {
    const pdf = await open(await renderPdf(buildFixtureBriefing(), buildFixtureCharts(), fonts, { ...OPTIONS, paper: 'letter' }));
    for (let n = 1; n <= pdf.numPages; n++) {
      const [x0 = 0, y0 = 0, x1 = 0, y1 = 0] = (await pdf.getPage(n)).view;
      expect([x1 - x0, y1 - y0]).toEqual([612, 792]);
    }
  });

  it('takes its dates from the options: another date gives another file ID', async () => {
    const a = Buffer.from(await renderPdf(buildFixtureBriefing(), buildFixtureCharts(), fonts, OPTIONS)).toString('latin1');
    const b = Buffer.from(
      await renderPdf(buildFixtureBriefing(), buildFixtureCharts(), fonts, { ...OPTIONS, creationDate: new Date('2027-01-02T03:04:05Z') }),
    ).toString('latin1');
    const id = (text: string) => /\/ID \[(<[0-9a-f]+>)/.exec(text)?.[1];
    expect(id(a)).toBeDefined();
    expect(id(a)).not.toBe(id(b));
    expect(b.includes('(D:20270102030405Z)')).toBe(true);
  });

  it('refuses a figure whose chart was not rendered', async () => {
    await expect(renderPdf(buildFixtureBriefing(), buildFixtureCharts().slice(1), fonts, OPTIONS)).rejects.toThrow(
      messages.pdfChartMissing('deals', ['share']),
    );
  });

  it('draws arrows and relations the face lacks from the fallback chain, embedded, and refuses characters no face has', async () => {
    const arrow = buildFixtureBriefing('## Flows\n\nCash \u2192 stakes \u2264 value \u2192 returns \u2248 \u221e.\n');
    const bytes = await renderPdf(arrow, [], fonts, OPTIONS);
    const pdf = await open(bytes);
    expect(squash((await readPage(pdf, 2)).flow)).toContain('Cash\u2192stakes\u2264value\u2192returns\u2248\u221e.');
    const embedded = [...Buffer.from(bytes).toString('latin1').matchAll(/\/BaseFont \/[A-Z]{6}\+([\w-]+)/g)].map((m) => m[1]);
    expect(embedded).toContain('NotoSansMath-Regular');
    expect(Buffer.from(await renderPdf(arrow, [], fonts, OPTIONS)).equals(Buffer.from(bytes))).toBe(true);
    const text = 'CATL (\u5b81\u5fb7\u65f6\u4ee3) in Chinese.';
    await expect(renderPdf(buildFixtureBriefing(`## Name\n\n${text}\n`), [], fonts, OPTIONS)).rejects.toThrow(
      messages.pdfMissingGlyph('\u5b81', text),
    );
  });
});
