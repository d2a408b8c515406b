/**
 * Finishing the tree: the parsed Markdown becomes the content the editions
 * render, with figures numbered, cross-references resolved, links vetted and
 * headings given their ids (the CONTRACT in briefing.ts).
 */
import { plainText } from '../support/text.ts';
import type { Heading, Html, Link, ListItem, Node, Paragraph, Parent, PhrasingContent, Root, RootContent, Text } from 'mdast';
// For the `hProperties` field of mdast node data that headings carry their ids in.
import type {} from 'mdast-util-to-hast';
import { messages, type Located } from '../support/messages.ts';
import type { ChartMeta, OutlineEntry } from './briefing.ts';
import { CAPTION_SCHEME, FIGURE_SCHEME, REF_SCHEME, type ChartRef } from './helpers.ts';
import { ANCHOR_SCHEME } from './citations.ts';
import { MAIN, type NamedTemplate } from './templates.ts';

interface Finished {
  outline: OutlineEntry[];
  problems: Located[];
}

/** Locates a problem by a piece of the rendered Markdown (see locateIn). */
type Locator = (needle: string, message: string) => Located;

/** Replaces placeholders by figures and numbered cross-references, vets links, and gives headings their ids. */
export function finishTree(tree: Root, markdownOf: (node: Node) => string, charts: ChartMeta[], refs: ChartRef[], templates: NamedTemplate[]): Finished {
  const problems: Located[] = [];
  // 1. Figures: top-level paragraphs holding only a figure placeholder, numbered in order.
  const numbers = placeFigures(tree, charts);
  for (const ref of refs) if (!numbers.has(ref.chartId)) problems.push(ref.at);
  // 2. Headings get unique ids; reserved prefixes keep them clear of figure, table and footnote ids.
  const ids = new Set([...numbers.keys()].map((id) => `fig-${id}`));
  anchorListItems(tree, ids);
  const outline = identifyHeadings(tree, ids);
  // 3. Links: cross-references become "Figure N"; autolinked data turns back into text; only http(s) and known anchors stay.
  resolveLinks(tree, { numbers, ids, markdownOf, report: (problem) => problems.push(problem), inTemplates: locateIn(templates) });
  mergeText(tree);
  return { outline, problems };
}

/** A problem found in the rendered Markdown is pointed at the first template containing the offending text. */
function locateIn(templates: NamedTemplate[]): Locator {
  return (needle, message) => {
    for (const template of templates) {
      const index = needle ? template.text.indexOf(needle) : -1;
      if (index >= 0) {
        const before = template.text.slice(0, index).split('\n');
        return { file: template.file, line: before.length, column: before.at(-1)!.length + 1, path: '', message };
      }
    }
    return { file: templates.find((t) => t.partial === MAIN)?.file ?? '', line: 1, column: 1, path: '', message };
  };
}

/** Turns figure placeholders into numbered figure nodes and caption placeholders into table captions; returns each chart's number. */
function placeFigures(tree: Root, charts: ChartMeta[]): Map<string, number> {
  const chartsById = new Map(charts.map((chart) => [chart.id, chart]));
  const numbers = new Map<string, number>();
  const blocks: RootContent[] = [];
  for (const [index, node] of tree.children.entries()) {
    const placeholder = soleLink(node);
    if (placeholder?.url.startsWith(CAPTION_SCHEME)) {
      // A caption placeholder labels the table right after it and is dropped.
      const next = tree.children[index + 1];
      if (next?.type === 'table') next.data = { ...next.data, caption: plainText(placeholder.children), identifier: `table-${placeholder.url.slice(CAPTION_SCHEME.length)}` };
      continue;
    }
    if (!placeholder?.url.startsWith(FIGURE_SCHEME)) {
      blocks.push(node);
      continue;
    }
    const chartId = placeholder.url.slice(FIGURE_SCHEME.length);
    const chart = chartsById.get(chartId)!;
    numbers.set(chartId, numbers.size + 1);
    blocks.push({
      type: 'figure',
      chartId,
      number: numbers.size,
      identifier: `fig-${chartId}`,
      caption: chart.caption,
      source: chart.source,
      alt: chart.description,
      ...(chart.title ? { title: chart.title } : {}),
    });
  }
  tree.children = blocks;
  return numbers;
}

/** List items opening with an anchor placeholder (the source list's entries) take its id, which joins `ids`. */
function anchorListItems(tree: Root, ids: Set<string>): void {
  walk(tree, (node) => {
    if (node.type !== 'listItem') return;
    const item = node as ListItem;
    const first = item.children[0];
    const link = first?.type === 'paragraph' ? first.children[0] : undefined;
    if (link?.type !== 'link' || !link.url.startsWith(ANCHOR_SCHEME)) return;
    const id = link.url.slice(ANCHOR_SCHEME.length);
    (first as Paragraph).children.shift();
    ids.add(id);
    item.data = { ...item.data, hProperties: { ...item.data?.hProperties, id } };
  });
}

/** Gives every heading an id unique among `ids` (which it adds them to); returns the outline. */
function identifyHeadings(tree: Root, ids: Set<string>): OutlineEntry[] {
  const outline: OutlineEntry[] = [];
  walk(tree, (node) => {
    if (node.type !== 'heading') return;
    const heading = node as Heading;
    const text = plainText(heading.children);
    let slug = slugify(text);
    if (/^(?:fig|table|user-content|footnote|source)-/.test(slug)) slug = `section-${slug}`;
    let id = slug;
    for (let n = 2; ids.has(id); n++) id = `${slug}-${n}`;
    ids.add(id);
    heading.data = { ...heading.data, hProperties: { ...heading.data?.hProperties, id } };
    outline.push({ depth: heading.depth, id, text });
  });
  return outline;
}

interface LinkCheck {
  /** Each placed chart's figure number. */
  numbers: Map<string, number>;
  /** Every anchor id in the document. */
  ids: Set<string>;
  markdownOf: (node: Node) => string;
  report: (problem: Located) => void;
  inTemplates: Locator;
}

/** Refuses raw HTML, images and reference-style links; resolves or vets every link. */
function resolveLinks(tree: Root, check: LinkCheck): void {
  const { markdownOf, report, inTemplates } = check;
  walk(tree, (node, parent, index) => {
    switch (node.type) {
      case 'html': {
        const html = (node as Html).value;
        report(inTemplates(html, messages.templateRawHtml(html)));
        return;
      }
      case 'image':
      case 'imageReference':
      case 'linkReference':
      case 'definition':
        report(inTemplates(markdownOf(node).slice(0, 40), messages.templateNode(node.type)));
        return;
      case 'link':
        resolveLink(node as Link, parent, index, check);
        return;
      default:
        return;
    }
  });
}

function resolveLink(link: Link, parent: Parent | undefined, index: number, { numbers, ids, markdownOf, report, inTemplates }: LinkCheck): void {
  if (link.url.startsWith(FIGURE_SCHEME)) {
    report(inTemplates(`{{chart "${link.url.slice(FIGURE_SCHEME.length)}"}}`, messages.templateChartInline(link.url.slice(FIGURE_SCHEME.length))));
    return;
  }
  if (link.url.startsWith(REF_SCHEME)) {
    const chartId = link.url.slice(REF_SCHEME.length);
    link.url = `#fig-${chartId}`;
    link.children = [{ type: 'text', value: `Figure ${numbers.get(chartId) ?? '?'}` }];
    return;
  }
  // GFM turns bare URLs and e-mail addresses in text into links; in the
  // briefing a link is written [text](url), so these come from data and go back to text.
  const written = markdownOf(link);
  if (parent && !written.startsWith('[') && !written.startsWith('<')) {
    parent.children.splice(index, 1, { type: 'text', value: plainText(link.children) } as never);
    return;
  }
  if (/^https?:\/\/\S+$/i.test(link.url)) return;
  if (link.url.startsWith('#') && ids.has(link.url.slice(1))) return;
  report(inTemplates(link.url, messages.templateLinkScheme(link.url)));
}

/** Visits every node depth first, with its parent and its index there. */
function walk(node: Node, visit: (node: Node, parent: Parent | undefined, index: number) => void, parent?: Parent, index = 0): void {
  visit(node, parent, index);
  const children = (node as Parent).children;
  if (children) for (let i = 0; i < children.length; i++) walk(children[i]!, visit, node as Parent, i);
}

function soleLink(node: RootContent): Link | undefined {
  if (node.type !== 'paragraph') return undefined;
  const children = (node as Paragraph).children;
  return children.length === 1 && children[0]!.type === 'link' ? (children[0] as Link) : undefined;
}

/** The Markdown a node was parsed from. */
export function sourceSlice(source: string, node: Node): string {
  const start = node.position?.start.offset;
  const end = node.position?.end.offset;
  return start === undefined || end === undefined ? '' : source.slice(start, end);
}


function slugify(text: string): string {
  const slug = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
  return slug || 'section';
}

/** Joins neighbouring text nodes (left apart where links were turned back into text). */
function mergeText(node: Node): void {
  const parent = node as Parent;
  if (!parent.children) return;
  const merged: Node[] = [];
  for (const child of parent.children) {
    const last = merged.at(-1);
    if (last?.type === 'text' && child.type === 'text') {
      (last as Text).value += (child as Text).value;
      if (last.position && child.position) last.position = { start: last.position.start, end: child.position.end };
    } else {
      merged.push(child);
      mergeText(child);
    }
  }
  parent.children = merged as Parent['children'];
}
