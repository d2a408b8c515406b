/**
 * HTML stage: Briefing + RenderedChart[] + FontBytes -> one self-contained
 * HTML string (CSS, fonts and chart SVG inline; nothing fetched).
 *
 * The mdast tree becomes hast through mdast-util-to-hast (with a handler for
 * our `figure` nodes), is reshaped into the page's semantics (a section per
 * h2, captioned and scoped tables, a table of contents) and is serialised by
 * hast-util-to-html. Raw HTML is never passed through: Markdown `html` nodes
 * render as text, and only http(s) and resolvable `#` links survive.
 */
import type { Element, ElementContent, Properties, Root, RootContent, Text } from 'hast';
import { fromHtml } from 'hast-util-from-html';
import { toHtml } from 'hast-util-to-html';
import type { Html, Nodes, TableData } from 'mdast';
import { toHast, type State } from 'mdast-util-to-hast';
import type { RenderedChart } from '../charts/render.ts';
import type { Briefing, FigureNode, OutlineEntry } from '../content/briefing.ts';
import { FACE_KEYS, FONT_FAMILY, type FaceKey, type FontBytes } from '../text/fonts.ts';
import { messages } from '../support/messages.ts';
import { remembered } from '../support/recent.ts';

/**
 * Ids of the page's own parts. Heading slugs (content/tree.ts) never hold an
 * underscore, so these cannot clash with a section's id.
 */
const PAGE_IDS = { main: 'briefing_main', title: 'briefing_title', toc: 'briefing_contents' } as const;

/** A PDF edition the same build writes, which the HTML edition links to. */
export interface PdfEditionLink {
  /** Relative to the HTML file. */
  href: string;
  paper: 'a4' | 'letter';
  bytes: number;
}

export interface HtmlOptions {
  pdfs?: PdfEditionLink[];
}

/** Renders the briefing as one self-contained, script-free HTML page. */
export function renderHtml(briefing: Briefing, charts: RenderedChart[], fonts: FontBytes, options: HtmlOptions = {}): string {
  const { meta } = briefing;
  // 1. mdast -> hast, with figures and footnotes
  const chartsById = new Map(charts.map((chart) => [chart.id, chart]));
  const switches = new Set<number>();
  const content = toHast(briefing.tree, {
    handlers: {
      figure: (state: State, node: FigureNode) => renderFigure(state, node, chartsById, switches),
      html: (state: State, node: Html) => renderHtmlAsText(state, node),
    },
    // The prefix content/tree.ts keeps heading ids clear of.
    clobberPrefix: 'user-content-',
    footnoteLabel: 'Notes',
    footnoteLabelTagName: 'h2',
    footnoteLabelProperties: { className: ['notes-title'] },
    footnoteBackLabel: (referenceIndex, rereferenceIndex) =>
      `Back to the text, note ${referenceIndex + 1}${rereferenceIndex > 1 ? `, citation ${rereferenceIndex}` : ''}`,
    // The arrow comes from CSS, so a link's visible text is only the use
    // number, which its label contains (axe: label-content-name-mismatch).
    footnoteBackContent: (_, rereferenceIndex) => (rereferenceIndex > 1 ? [element('sup', {}, [text(String(rereferenceIndex))])] : []),
  }) as Root;

  // 2. reshape: tables, links, sections
  const tables = collectTableLabels(briefing.tree);
  let tableIndex = 0;
  transformElements(content, (node) => {
    if (node.tagName === 'table') return wrapTable(node, tables[tableIndex], ++tableIndex);
    if (node.tagName === 'img') return imageAsText(node);
    if (node.tagName === 'td' || node.tagName === 'th') moveAlignToClass(node);
    return node;
  });
  placeNotes(content);
  separateCitations(content);
  const body = groupSections(content.children);
  const article = element('article', { ariaLabelledBy: [PAGE_IDS.title] }, body);
  const hasNotes = body.some((node) => node.type === 'element' && node.properties.dataFootnotes !== undefined);
  const toc = renderToc(briefing.outline, hasNotes);
  const ids = collectIds(article);
  neutraliseLinks(article, ids);
  neutraliseLinks(toc, ids);

  // 3. the page around it
  const page: Root = {
    type: 'root',
    children: [
      { type: 'doctype' },
      element('html', { lang: meta.language }, [
        element('head', {}, [
          element('meta', { charSet: 'utf-8' }),
          element('meta', { name: 'viewport', content: 'width=device-width, initial-scale=1' }),
          element('meta', { httpEquiv: ['Content-Security-Policy'], content: CONTENT_SECURITY_POLICY }),
          element('meta', { name: 'referrer', content: 'no-referrer' }),
          element('meta', { name: 'color-scheme', content: 'light dark' }),
          element('title', {}, [text(meta.subtitle ? `${meta.title}: ${meta.subtitle}` : meta.title)]),
          element('meta', { name: 'description', content: meta.subject }),
          element('meta', { name: 'keywords', content: meta.keywords.join(', ') }),
          element('meta', { name: 'author', content: meta.author }),
          element('style', {}, [text(renderFontFaces(fonts) + STYLESHEET + renderChartSwitches(switches))]),
        ]),
        element('body', {}, [
          element('a', { className: ['skip-link'], href: `#${PAGE_IDS.main}` }, [text('Skip to the briefing')]),
          renderMasthead(briefing, options.pdfs ?? []),
          element('div', { className: ['layout'] }, [
            toc,
            element('main', { id: PAGE_IDS.main }, [article]),
          ]),
        ]),
      ]),
    ],
  };
  return toHtml(page) + '\n';
}

// ---------------------------------------------------------------------------
// Head: security policy, fonts

/** No script, no request: styles and fonts are inline, images are data. `--serve` adds its reload client beside this, never instead. */
export const CONTENT_SECURITY_POLICY = ["default-src 'none'", "style-src 'unsafe-inline'", 'font-src data:', 'img-src data:', "base-uri 'none'", "form-action 'none'"].join('; ');

const FACE_CSS: Record<FaceKey, { weight: number; style: string }> = {
  regular: { weight: 400, style: 'normal' },
  italic: { weight: 400, style: 'italic' },
  bold: { weight: 700, style: 'normal' },
  boldItalic: { weight: 700, style: 'italic' },
};

function renderFontFaces(fonts: FontBytes): string {
  return FACE_KEYS.map((key) => {
    const { weight, style } = FACE_CSS[key];
    const data = Buffer.from(fonts[key]).toString('base64');
    return `@font-face{font-family:"${FONT_FAMILY}";font-style:${style};font-weight:${weight};font-display:swap;src:url(data:font/woff;base64,${data}) format("woff")}\n`;
  }).join('');
}

// ---------------------------------------------------------------------------
// Page furniture

const PAPER_NAMES = { a4: 'A4', letter: 'US Letter' } as const;

/** "PDF, A4, 412 KB" for each PDF edition, linked. */
function pdfLinks(pdfs: PdfEditionLink[]): ElementContent[] {
  if (!pdfs.length) return [];
  const links = pdfs.flatMap((pdf, i) => [
    ...(i ? [text(' · ')] : []),
    element('a', { href: pdf.href, type: 'application/pdf' }, [text(`PDF, ${PAPER_NAMES[pdf.paper]}, ${Math.max(1, Math.round(pdf.bytes / 1024)).toLocaleString('en-US')} KB`)]),
  ]);
  return [element('p', { className: ['editions'] }, [text('Also as '), ...links])];
}

function renderMasthead(briefing: Briefing, pdfs: PdfEditionLink[]): Element {
  const { meta } = briefing;
  return element('header', { className: ['masthead'] }, [
    element('div', { className: ['masthead-inner'] }, [
      element('div', { className: ['masthead-text'] }, [
        element('p', { className: ['kicker'] }, [text('Analyst briefing')]),
        element('h1', { id: PAGE_IDS.title }, [text(meta.title)]),
        ...(meta.subtitle ? [element('p', { className: ['subtitle'] }, [text(meta.subtitle)])] : []),
        element('p', { className: ['dateline'] }, [
          text('As of '),
          element('time', { dateTime: meta.asOf }, [text(meta.asOfLabel)]),
          ...(meta.author ? [text(` · ${meta.author}`)] : []),
        ]),
        ...pdfLinks(pdfs),
      ]),
    ]),
  ]);
}

function renderToc(outline: OutlineEntry[], hasNotes: boolean): Element {
  const top = Math.min(...outline.map((entry) => entry.depth));
  const items: Element[] = [];
  for (const entry of outline) {
    const link = element('a', { href: `#${entry.id}` }, [text(entry.text)]);
    const parent = items.at(-1);
    if (entry.depth === top || !parent) {
      items.push(element('li', {}, [link]));
    } else if (entry.depth === top + 1) {
      let list = parent.children.find((child): child is Element => child.type === 'element' && child.tagName === 'ol');
      if (!list) parent.children.push((list = element('ol', {}, [])));
      list.children.push(element('li', {}, [link]));
    }
    // Deeper levels stay out of the contents: they would crowd a phone screen.
  }
  if (hasNotes) items.push(element('li', {}, [element('a', { href: '#footnote-label' }, [text('Notes')])]));
  return element('nav', { className: ['toc'], ariaLabelledBy: [PAGE_IDS.toc] }, [
    element('h2', { id: PAGE_IDS.toc }, [text('Contents')]),
    element('ol', {}, items),
  ]);
}

// ---------------------------------------------------------------------------
// Content handlers

function renderHtmlAsText(state: State, node: Html): Text {
  // Raw HTML in the Markdown is shown, never interpreted.
  const result: Text = { type: 'text', value: node.value };
  state.patch(node, result);
  return result;
}

function renderFigure(state: State, node: FigureNode, chartsById: Map<string, RenderedChart>, switches: Set<number>): Element {
  const chart = chartsById.get(node.chartId);
  if (!chart) throw new Error(messages.htmlChartMissing(node.chartId, [...chartsById.keys()]));
  const card = renderChartCard(chart, node);
  if (chart.narrow) switches.add(narrowBelow(chart));
  const caption: ElementContent[] = [
    element('p', { className: ['figure-caption'] }, [
      element('span', { className: ['figure-label'] }, [text(`Figure ${node.number}.`)]),
      text(` ${node.caption}`),
    ]),
  ];
  if (node.source) caption.push(element('p', { className: ['figure-source'] }, [text(node.source)]));
  const result = element('figure', { id: node.identifier, className: ['chart'] }, [
    card,
    element('figcaption', {}, caption),
  ]);
  state.patch(node, result);
  return result;
}

/**
 * The chart's card: its drawing, or with a narrow layout both drawings, of
 * which the stylesheet shows one (renderChartSwitches); the other is
 * display:none, so neither assistive technology nor print sees two charts.
 */
function renderChartCard(chart: RenderedChart, figure: FigureNode): Element {
  if (!chart.narrow) return element('div', { className: ['chart-card'] }, [embedSvg(chart.svg, chart, figure, `${figure.identifier}-`)]);
  const wide = embedSvg(chart.svg, chart, figure, `${figure.identifier}-`);
  const narrow = embedSvg(chart.narrow.svg, chart, figure, `${figure.identifier}-narrow-`);
  const classes = (svg: Element) => (Array.isArray(svg.properties.className) ? svg.properties.className : []);
  wide.properties.className = [...classes(wide), 'chart-wide'];
  narrow.properties.className = [...classes(narrow), 'chart-narrow'];
  return element('div', { className: ['chart-card', `narrow-below-${narrowBelow(chart)}`] }, [wide, narrow]);
}

/** The smallest text a chart may draw, in CSS px, before its narrow layout takes over. */
const MIN_TEXT_PX = 11;

/**
 * The card width (CSS px) below which the narrow drawing is shown: where the
 * wide one, scaled down to the card, would draw its smallest text under
 * MIN_TEXT_PX.
 */
function narrowBelow(chart: RenderedChart): number {
  const sizes = [...chart.svg.matchAll(/font-size="([\d.]+)(?:px)?"/g)].map(([, size]) => Number(size));
  const smallest = sizes.length ? Math.min(...sizes) : MIN_TEXT_PX;
  return Math.ceil((chart.width * MIN_TEXT_PX) / Math.max(smallest, 1));
}

/**
 * One container query per width at which a chart changes layout: below it,
 * the card shows its narrow drawing. Only where the card is narrow, so
 * print (which shows the wide one, see the stylesheet) and desktops are as before.
 */
function renderChartSwitches(widths: ReadonlySet<number>): string {
  return [...widths]
    .sort((a, b) => a - b)
    .map((width) => `@container (max-width:${width - 0.02}px){.narrow-below-${width}>.chart-wide{display:none}.narrow-below-${width}>.chart-narrow{display:block}}\n`)
    .join('');
}

/**
 * Parses the chart's SVG into hast so it is serialised like the rest of the
 * page, and keeps only drawing: no scripts, handlers, foreign content or
 * references outside the SVG. Ids get the figure's prefix (`prefix`), because every
 * chart's renderer numbers its clip paths from 1 and ids must be unique.
 */
function embedSvg(source: string, chart: RenderedChart, figure: FigureNode, prefix: string): Element {
  const cleaned = cleanSvg(`${prefix}\n${source}`);
  if (!cleaned) throw new Error(messages.htmlChartNotSvg(chart.id));
  const svg = structuredClone(cleaned);
  // The figure's own words name and describe the chart; the graphic's
  // insides are presentational under role="img".
  svg.children = svg.children.filter((child) => !(child.type === 'element' && (child.tagName === 'title' || child.tagName === 'desc')));
  svg.children.unshift(
    element('title', { id: `${prefix}title` }, [text(figure.title || chart.title || figure.caption)]),
    element('desc', { id: `${prefix}desc` }, [text(figure.alt || chart.description)]),
  );
  svg.properties.role = 'img';
  svg.properties.ariaLabelledBy = [`${prefix}title`];
  svg.properties.ariaDescribedBy = [`${prefix}desc`];
  return svg;
}

/**
 * A chart's SVG (after its id prefix and a newline) parsed and cleaned, or
 * undefined if it holds no <svg>. Remembered: a --watch rebuild re-renders
 * one chart, and the other figures' SVG is the same text as last time.
 */
const cleanSvg = remembered('html: cleaned chart SVG', 16, (key): Element | undefined => {
  const split = key.indexOf('\n');
  const parsed = fromHtml(key.slice(split + 1), { fragment: true });
  const svg = parsed.children.find((child): child is Element => child.type === 'element' && child.tagName === 'svg');
  if (svg) cleanSvgNode(svg, key.slice(0, split), true);
  return svg;
}, (_svg, key) => key.length * 12);

const SVG_DROPPED = new Set(['script', 'foreignObject', 'foreignobject', 'iframe', 'style', 'image', 'use', 'feImage', 'feimage']);
/** An image the build inlined (a report that allows raster images): PNG or JPEG bytes in the page, no request. */
const INLINE_IMAGE = /^data:image\/(?:png|jpeg);base64,[A-Za-z0-9+/]+={0,2}$/;
const HREF = /^(?:href|xlink:?href)$/i;

/** True for an <image> whose only source is an inlined PNG or JPEG, the one image a chart may keep. */
function isInlineImage(node: Element): boolean {
  const hrefs = Object.entries(node.properties).filter(([name]) => HREF.test(name));
  return node.tagName === 'image' && hrefs.length > 0 && hrefs.every(([, value]) => typeof value === 'string' && INLINE_IMAGE.test(value));
}
const LOCAL_URL = /url\(\s*(['"]?)#([^'")\s]+)\1\s*\)/g;

function cleanSvgNode(node: Element, prefix: string, isRoot: boolean): void {
  const kept: Properties = {};
  for (const [name, value] of Object.entries(node.properties)) {
    if (/^on/i.test(name)) continue;
    if (!isRoot && (name === 'role' || /^aria/i.test(name))) continue;
    if (name === 'id' && typeof value === 'string') {
      kept.id = prefix + value;
      continue;
    }
    if (HREF.test(name)) {
      if (typeof value === 'string' && value.startsWith('#')) kept[name] = `#${prefix}${value.slice(1)}`;
      else if (node.tagName === 'image' && typeof value === 'string' && INLINE_IMAGE.test(value)) kept[name] = value;
      continue;
    }
    if (typeof value === 'string' && /url\(/i.test(value)) {
      const local = value.replace(LOCAL_URL, (_, _quote, id: string) => `url(#${prefix}${id})`);
      // Anything still pointing outside the SVG would be a request.
      if (/url\(\s*['"]?[^#'"\s]/i.test(local)) continue;
      kept[name] = local;
      continue;
    }
    kept[name] = value;
  }
  node.properties = kept;
  node.children = cleanSvgChildren(node.children, prefix);
}

function cleanSvgChildren(nodes: ElementContent[], prefix: string): ElementContent[] {
  const children: ElementContent[] = [];
  for (const child of nodes) {
    if (child.type === 'comment') continue;
    if (child.type !== 'element') {
      children.push(child);
    } else if (SVG_DROPPED.has(child.tagName) && !isInlineImage(child)) {
      continue;
    } else if (child.tagName === 'a') {
      // Keep a link's drawing, drop the link.
      children.push(...cleanSvgChildren(child.children, prefix));
    } else {
      cleanSvgNode(child, prefix, false);
      children.push(child);
    }
  }
  return children;
}

// ---------------------------------------------------------------------------
// Reshaping the converted tree

/** Caption and anchor of each table (content/tree.ts sets them on `data`), in document order. */
function collectTableLabels(node: Nodes): TableData[] {
  if (node.type === 'table') return [node.data ?? {}];
  return 'children' in node ? node.children.flatMap((child) => collectTableLabels(child)) : [];
}

/** Adds a caption and header scopes and puts the table in a scroll box, so a wide table scrolls by itself, not the page. */
function wrapTable(table: Element, label: TableData | undefined, index: number): Element {
  const captionId = `table_${index}_caption`;
  if (label?.identifier) table.properties.id = label.identifier;
  for (const part of table.children) {
    if (part.type !== 'element') continue;
    for (const row of part.children) {
      if (row.type !== 'element' || row.tagName !== 'tr') continue;
      const cells = row.children.filter((cell): cell is Element => cell.type === 'element');
      cells.forEach((cell, column) => {
        if (part.tagName === 'thead') {
          cell.properties.scope = 'col';
        } else if (column === 0) {
          // The first column names the row (the record, the metric).
          cell.tagName = 'th';
          cell.properties.scope = 'row';
        }
      });
    }
  }
  // The span keeps a long caption within the screen when the table is wider and scrolls.
  const captionText = element('span', { className: ['caption-text'] }, [text(label?.caption || `Table ${index}`)]);
  table.children.unshift(element('caption', { id: captionId }, [captionText]));
  return element('div', { className: ['table-scroll'], role: 'region', tabIndex: 0, ariaLabelledBy: [captionId] }, [table]);
}

function moveAlignToClass(cell: Element): void {
  // The align attribute is obsolete in HTML; a class keeps the alignment.
  const align = cell.properties.align;
  if (typeof align !== 'string') return;
  delete cell.properties.align;
  cell.properties.className = [`align-${align}`];
}

function imageAsText(image: Element): Element {
  // An image would be a request; show its alt text instead.
  const alt = typeof image.properties.alt === 'string' ? image.properties.alt : '';
  return element('span', { className: ['image-alt'] }, [text(alt)]);
}

/**
 * Notes in place, with no script: each marker becomes a button that opens
 * its note in a popover beside the text (the `popovertarget` attribute), and
 * the full list stays at the end, for print and for readers who want it.
 * The button keeps the marker's id, so the list's back-links still land on it.
 */
function placeNotes(content: Root): void {
  const notes = collectNotes(content);
  const placed = new Set<string>();
  const visit = (node: Element | Root) => {
    for (const child of node.children) {
      if (child.type !== 'element') continue;
      const ref = child.tagName === 'sup' ? child.children.find((c): c is Element => c.type === 'element' && c.properties.dataFootnoteRef !== undefined) : undefined;
      const target = typeof ref?.properties.href === 'string' ? ref.properties.href.slice(1) : '';
      const note = notes.get(target);
      if (!ref || !note) {
        visit(child);
        continue;
      }
      const number = textOf(ref);
      const popover = `note-pop-${target.replace(/^user-content-fn-/, '')}`;
      const button = element('button', { type: 'button', id: ref.properties.id, className: ['note-ref'], popoverTarget: popover, dataFootnoteRef: '', ariaLabel: `Note ${number}` }, [text(number)]);
      // The popover sits in the marker's <sup>, so adjacent markers stay neighbours ("1,2").
      const pop = placed.has(popover) ? [] : [element('span', { id: popover, popover: 'auto', className: ['note-pop'] }, [element('strong', {}, [text(`Note ${number}. `)]), ...note, text(' '), element('a', { href: `#${target}`, className: ['note-pop-list'] }, [text('In the notes')])])];
      placed.add(popover);
      child.children = child.children.flatMap((c) => (c === ref ? [button, ...pop] : [c]));
    }
  };
  visit(content);
}

/** Each footnote's text as phrasing content (its paragraphs run on, without the back-links), by the list item's id. */
function collectNotes(content: Root): Map<string, ElementContent[]> {
  const notes = new Map<string, ElementContent[]>();
  const walk = (node: Element | Root) => {
    for (const child of node.children) {
      if (child.type !== 'element') continue;
      if (child.tagName === 'li' && typeof child.properties.id === 'string' && child.properties.id.startsWith('user-content-fn-')) {
        const paragraphs = child.children.filter((c): c is Element => c.type === 'element' && c.tagName === 'p');
        const inline = paragraphs.flatMap((p, i) => [...(i ? [text(' ')] : []), ...structuredClone(p.children).filter((c) => !(c.type === 'element' && c.properties.dataFootnoteBackref !== undefined))]);
        notes.set(child.properties.id, trimEnd(inline));
      } else walk(child);
    }
  };
  walk(content);
  return notes;
}

/** Drops the trailing space a removed back-link leaves. */
function trimEnd(nodes: ElementContent[]): ElementContent[] {
  const last = nodes.at(-1);
  if (last?.type === 'text') last.value = last.value.trimEnd();
  return nodes;
}

function textOf(node: Element): string {
  return node.children.map((c) => (c.type === 'text' ? c.value : c.type === 'element' ? textOf(c) : '')).join('');
}

/** Puts a comma between adjacent citation numbers, so [^a][^b] reads 1,2 rather than 12. */
function separateCitations(node: Element | Root): void {
  const isCitation = (child: ElementContent | RootContent | undefined): child is Element =>
    child?.type === 'element' &&
    child.tagName === 'sup' &&
    child.children.some((c) => c.type === 'element' && c.properties.dataFootnoteRef !== undefined);
  node.children.forEach((child, index) => {
    if (isCitation(child) && isCitation(node.children[index - 1])) child.children.unshift(text(','));
    if (child.type === 'element') separateCitations(child);
  });
}

/** One section per h2, from the heading to the next h2; footnotes keep their own section. */
function groupSections(nodes: RootContent[]): ElementContent[] {
  const out: ElementContent[] = [];
  let section: Element | undefined;
  for (const node of nodes) {
    if (node.type === 'doctype') continue;
    if (node.type === 'element' && node.tagName === 'section') {
      section = undefined;
      if (node.properties.dataFootnotes !== undefined) node.properties.ariaLabelledBy = ['footnote-label'];
      out.push(node);
    } else if (node.type === 'element' && node.tagName === 'h2') {
      const id = node.properties.id;
      section = element('section', typeof id === 'string' ? { ariaLabelledBy: [id] } : {}, [node]);
      out.push(section);
    } else if (section) {
      section.children.push(node);
    } else {
      out.push(node);
    }
  }
  return out;
}

function collectIds(root: Element): Set<string> {
  const ids = new Set<string>(Object.values(PAGE_IDS));
  walk(root, (node) => {
    if (typeof node.properties.id === 'string') ids.add(node.properties.id);
  });
  return ids;
}

/**
 * Only http(s) links and links to an anchor on the page stay links; the
 * content stage validates URLs, and this keeps a slip from reaching readers.
 */
function neutraliseLinks(root: Element, ids: Set<string>): void {
  walk(root, (node) => {
    if (node.tagName !== 'a') return;
    const href = typeof node.properties.href === 'string' ? node.properties.href : '';
    const local = href.startsWith('#') && ids.has(decodeFragment(href.slice(1)));
    if (local || /^https?:\/\/[^\s]/i.test(href)) return;
    node.tagName = 'span';
    node.properties = { className: ['link-removed'] };
  });
}

function decodeFragment(fragment: string): string {
  try {
    return decodeURIComponent(fragment);
  } catch (error) {
    if (error instanceof URIError) return fragment;
    throw error;
  }
}

// ---------------------------------------------------------------------------
// hast helpers

function element(tagName: string, properties: Properties = {}, children: ElementContent[] = []): Element {
  return { type: 'element', tagName, properties, children };
}

function text(value: string): Text {
  return { type: 'text', value };
}

function walk(node: Element | Root, visit: (node: Element) => void): void {
  for (const child of node.children) {
    if (child.type !== 'element') continue;
    visit(child);
    walk(child, visit);
  }
}

/** Replaces elements bottom-up with what `transform` returns. */
function transformElements(node: Element | Root, transform: (node: Element) => Element): void {
  node.children = node.children.map((child) => {
    if (child.type !== 'element') return child;
    transformElements(child, transform);
    return transform(child);
  }) as typeof node.children;
}

// ---------------------------------------------------------------------------
// Stylesheet. Colours meet WCAG 2.1 AA (4.5:1 for text) in both schemes;
// charts sit on a white card in dark mode, as they are drawn for white.

const STYLESHEET = `
:root{
  color-scheme:light dark;
  --bg:#ffffff;--surface:#f3f5f9;--text:#1a2130;--muted:#4a5567;--rule:#d4dae4;
  --accent:#1c3461;--link:#1d4d99;--mark:#fff4cc;
  --mast-bg:#15294d;--mast-text:#ffffff;--mast-muted:#c7d3ea;
  --card:#ffffff;--card-rule:#d4dae4;--shade:rgba(20,35,60,.22);
  --font:"${FONT_FAMILY}",system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
}
@media (prefers-color-scheme:dark){
  :root{
    --bg:#0f1521;--surface:#182133;--text:#e5e9f0;--muted:#adb8ca;--rule:#2e3a52;
    --accent:#a9c4f2;--link:#9cc3ff;--mark:#3b3413;
    --mast-bg:#0b1a33;--mast-text:#f2f5fa;--mast-muted:#b9c7e0;
    --card:#ffffff;--card-rule:#3a4762;--shade:rgba(170,195,240,.3);
  }
}
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--text);font-family:var(--font);font-size:1.125rem;line-height:1.6;
  font-kerning:normal;overflow-wrap:break-word}
a{color:var(--link);text-decoration-thickness:1px;text-underline-offset:.15em}
a:hover{text-decoration-thickness:2px}
:focus-visible{outline:3px solid var(--link);outline-offset:2px;border-radius:2px}
.skip-link{position:absolute;left:.75rem;top:-3rem;z-index:1;padding:.5rem .9rem;background:var(--bg);color:var(--link);font-weight:700}
.skip-link:focus{top:.75rem}

.masthead{background:var(--mast-bg);color:var(--mast-text);padding:2.25rem 0 2rem}
/* The masthead and the page share one grid, so the title lines up with the text. */
.masthead-inner,.layout{max-width:76.5rem;margin:0 auto;padding-left:1.25rem;padding-right:1.25rem}
.masthead-text{max-width:46rem}
.masthead .editions{margin:.6rem 0 0;font-size:.95rem}
.masthead .editions a{color:var(--mast-text)}
.kicker{margin:0 0 .6rem;font-size:.85rem;font-weight:700;letter-spacing:.12em;text-transform:uppercase;color:var(--mast-muted)}
.masthead h1{margin:0;font-size:clamp(1.9rem,1.3rem + 2.6vw,3rem);line-height:1.12;letter-spacing:-.01em;font-weight:700}
.subtitle{margin:.7rem 0 0;font-size:clamp(1.1rem,1rem + .5vw,1.35rem);line-height:1.4;color:var(--mast-muted)}
.dateline{margin:1.2rem 0 0;font-size:.95rem;color:var(--mast-muted)}
.dateline time{color:var(--mast-text);font-weight:700}

.layout{display:grid;grid-template-columns:minmax(0,1fr);gap:0 3.5rem;padding-bottom:4rem}
.toc{margin:1.75rem 0 0;padding:1rem 1.25rem 1.1rem;background:var(--surface);border-radius:6px;font-size:1rem;line-height:1.4}
.toc h2{margin:0 0 .5rem;font-size:.8rem;font-weight:700;letter-spacing:.12em;text-transform:uppercase;color:var(--muted);border:0;padding:0}
.toc ol{margin:0;padding:0;list-style:none}
.toc ol ol{margin:.3rem 0 .2rem .9rem;font-size:.95rem}
.toc li{margin:.35rem 0}
.toc a{color:var(--text);text-decoration:none;display:inline-block}
.toc a:hover{color:var(--link);text-decoration:underline}
main{min-width:0}
article{max-width:46rem}
@media (min-width:62rem){
  .masthead-inner{display:grid;grid-template-columns:14rem minmax(0,1fr);gap:0 3.5rem}
  .masthead-text{grid-column:2}
  .layout{grid-template-columns:14rem minmax(0,1fr)}
  .toc{position:sticky;top:0;align-self:start;max-height:100vh;overflow-y:auto;margin-top:2.25rem;background:none;padding:.25rem 0 0;border-radius:0}
  .toc>ol>li{border-left:2px solid var(--rule);padding-left:.8rem;margin:0;padding-top:.3rem;padding-bottom:.3rem}
}

article>:first-child{margin-top:2rem}
/* The opening section (the key points) reads as a summary box. */
article>section:first-child{padding:1.25rem 1.5rem .4rem;background:var(--surface);border-left:4px solid var(--accent);border-radius:0 6px 6px 0}
article>section:first-child>h2{margin:0 0 .75rem;font-size:1rem;letter-spacing:.1em;text-transform:uppercase}
article p,article li{max-width:70ch}
p{margin:0 0 1rem}
h2,h3,h4{color:var(--accent);line-height:1.25;font-weight:700}
article h2{margin:2.75rem 0 1rem;padding-top:1.1rem;border-top:1px solid var(--rule);font-size:clamp(1.4rem,1.2rem + .8vw,1.7rem);letter-spacing:-.005em}
article section:first-child>h2{border-top:0;padding-top:0}
article h3{margin:2rem 0 .6rem;font-size:1.22rem}
article h4{margin:1.5rem 0 .5rem;font-size:1.05rem}
ul,ol{padding-left:1.4rem;margin:0 0 1rem}
li{margin:.3rem 0}
li>p{margin:0 0 .4rem}
strong{font-weight:700}
blockquote{margin:1.5rem 0;padding:.2rem 0 .2rem 1.1rem;border-left:3px solid var(--accent);color:var(--muted)}
hr{border:0;border-top:1px solid var(--rule);margin:2.5rem 0}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:.88em}
.link-removed{text-decoration:underline dotted}

figure{margin:2rem 0 2.25rem}
.chart-card{background:var(--card);border:1px solid var(--card-rule);border-radius:6px;padding:1rem;overflow:hidden;container-type:inline-size}
.chart-card svg{display:block;max-width:100%;height:auto;margin:0 auto}
/* A chart with a narrow layout carries both drawings; the container queries after this sheet pick one. */
.chart-card>.chart-narrow{display:none}
figcaption{margin-top:.7rem;font-size:.98rem;line-height:1.45}
figcaption p{margin:0 0 .25rem;max-width:none}
.figure-label{font-weight:700;color:var(--accent)}
.figure-source{font-size:.9rem;color:var(--muted)}

.table-scroll{margin:1.75rem 0 2rem;overflow-x:auto;max-width:100%;
  /* Shadows at an edge with more table beyond it: the covers scroll with the content and uncover them. */
  background:linear-gradient(to right,var(--bg) 40%,transparent) left/2rem 100% no-repeat local,
    linear-gradient(to left,var(--bg) 40%,transparent) right/2rem 100% no-repeat local,
    radial-gradient(farthest-side at 0 50%,var(--shade),transparent) left/.8rem 100% no-repeat scroll,
    radial-gradient(farthest-side at 100% 50%,var(--shade),transparent) right/.8rem 100% no-repeat scroll}
table{border-collapse:collapse;width:100%;font-size:1rem;line-height:1.4;font-variant-numeric:tabular-nums lining-nums}
caption{caption-side:top;text-align:left;font-weight:700;color:var(--accent);padding:0 0 .6rem}
.caption-text{display:inline-block;max-width:calc(100vw - 2.5rem)}
th,td{padding:.55rem .75rem;border-bottom:1px solid var(--rule);vertical-align:top;text-align:left}
thead th{border-bottom:2px solid var(--accent);font-size:.88rem;letter-spacing:.03em;text-transform:uppercase;color:var(--muted);white-space:nowrap}
tbody th{font-weight:700}
tbody tr:nth-child(even){background:var(--surface)}
.align-right{text-align:right}
.align-center{text-align:center}
.table-scroll:focus-visible{outline-offset:4px}

sup{line-height:0;font-size:.72em}
[data-footnote-ref]{padding:0 .1em;font-weight:700}
.note-ref{font:inherit;font-weight:700;color:var(--link);background:none;border:0;padding:0 .15em;margin:0;cursor:pointer;text-decoration:underline;text-underline-offset:.15em}
.note-ref:focus-visible{outline:2px solid var(--link);outline-offset:1px}
.note-pop{font-weight:400;font-style:normal;text-transform:none;letter-spacing:normal;max-width:min(26rem,calc(100vw - 2rem));margin:.35rem;padding:.7rem .85rem;border:1px solid var(--rule);border-radius:.4rem;background:var(--bg);color:var(--text);font-size:.9rem;line-height:1.45;text-align:left;overflow-wrap:anywhere;box-shadow:0 .3rem 1.2rem rgb(0 0 0/.18)}
@supports (position-area:bottom){.note-pop{position-area:bottom span-right;position-try-fallbacks:flip-inline,flip-block;inset:auto;margin:.35rem 0}}
.note-pop-list{display:inline-block;margin-left:.3rem;white-space:nowrap}
.footnotes{margin-top:3rem;font-size:.95rem;line-height:1.5}
.footnotes h2{font-size:1.25rem}
.footnotes ol{padding-left:1.6rem}
.footnotes li{overflow-wrap:anywhere}
.footnotes li:target,[data-footnote-ref]:target{background:var(--mark)}
[data-footnote-backref]{text-decoration:none;margin-left:.3rem;white-space:nowrap}
[data-footnote-backref]::before{content:"\\2191"}

@media (max-width:30rem){
  body{font-size:1.0625rem}
  .masthead{padding:1.6rem 0 1.5rem}
  .masthead-inner,.layout{padding-left:1rem;padding-right:1rem}
  /* Charts take the full screen width on a phone: every pixel helps their labels. */
  figure{margin-left:-1rem;margin-right:-1rem}
  .chart-card{padding:.5rem .25rem;border-radius:0;border-left:0;border-right:0}
  figcaption{padding:0 1rem}
  article>section:first-child{padding:1rem 1rem .2rem;margin-left:-1rem;margin-right:-1rem;border-radius:0}
  th,td{padding:.45rem .55rem}
}

@media print{
  :root{color-scheme:light;--bg:#fff;--surface:#f2f2f2;--text:#000;--muted:#333;--rule:#999;--accent:#000;--link:#000;
    --mast-bg:#fff;--mast-text:#000;--mast-muted:#333;--card:#fff;--card-rule:#bbb}
  @page{margin:18mm 16mm}
  body{font-size:10.5pt;line-height:1.45}
  .skip-link,.toc{display:none}
  .masthead{padding:0 0 10pt;border-bottom:2pt solid #000}
  .masthead-inner,.layout{display:block;max-width:none;padding:0}
  article{max-width:none}
  a{text-decoration:none}
  article a[href^="http"]::after{content:" <" attr(href) ">";font-size:.85em;overflow-wrap:anywhere}
  h2,h3,h4{break-after:avoid}
  figure,.table-scroll,tr{break-inside:avoid}
  .table-scroll{overflow:visible;background:none}
  .chart-card{border:0;padding:0}
  /* Paper keeps the full-width chart, whatever width the page was laid out at. */
  .chart-card>.chart-wide{display:block!important}
  .chart-card>.chart-narrow{display:none!important}
  p,li{orphans:3;widows:3}
}
`;
