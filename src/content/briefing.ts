/**
 * Content stage: Dataset + Derived + RenderedChart[] -> Briefing.
 * Handlebars templates emit Markdown once; it is parsed into an mdast tree
 * that both editions (html.ts, pdf.ts) render, so their words are the same.
 *
 *   templates/briefing/*.md.hbs ──Handlebars.parse──▶ AST                                     (templates.ts)
 *     ──checkTemplateFigures, checkTemplateAst──▶ Located[] (planted figures, raw values, unknown paths)
 *     ──render (helpers format, escape, cite)──▶ Markdown + footnote definitions              (helpers.ts, citations.ts)
 *     ──fromMarkdown + GFM──▶ mdast Root                                                      (markdown.ts)
 *     ──finishTree──▶ figures numbered, cross-references resolved, links vetted, heading ids  (tree.ts)
 *     ──▶ Briefing {meta, tree, outline}
 *
 * Templates: `briefing.md.hbs` is the main template; every other file in
 * templates/briefing/ is a partial, named by its file name without `.md.hbs`
 * (`key-points.md.hbs` is `{{> key-points}}`). The main template sets the
 * order of sections. A partial that is never included is an error.
 *
 * Data reaches the Markdown only through helpers, which format figures,
 * escape text for Markdown and attach the citation footnote. A bare
 * `{{path}}` or `{{{path}}}` is refused before rendering, so nothing from the
 * dataset can become emphasis, a link or raw HTML. Helpers:
 *   {{figure f}}  any figure, formatted by its unit, + its footnote (words=true,
 *                 signed=true, capitalize=true)
 *   {{count c}}   the number of entries of a collection, cited (words=true)
 *   {{period f}}  the period of a figure or timing ("2025", "Q1 2026"), not cited:
 *                 the figure it dates carries the citation
 *   {{label r "field"}}  an enum field's display word
 *   {{date s}}    a YYYY-MM-DD date ("29 November 2026")
 *   {{name e}} / {{name e full=true}}  an entity's short or full name
 *   {{text s}}    any dataset string, escaped
 *   {{cite x}}    the footnote for a record (a claim, an order) without printing it
 *   {{chart "id"}} a numbered figure; {{ref "id"}} "Figure N", linked
 *   {{table "view" caption="..."}}  a declared view as a GFM table, figures cited
 *   {{#if (eq path "value")}}  a condition on a field's value
 *   {{editionChanges}}  the "what changed" list (editions.ts)
 * Footnotes are one per fact, labelled by its dataset path, and say where the
 * fact comes from; a derived figure's footnote gives its formula and inputs.
 *
 * The title block (title, subtitle, as-of date, author) is `meta`; the
 * editions set it as their header and cover, so the tree starts at the first
 * section (h2) and does not repeat it.
 *
 * CONTRACT (shared with html.ts and pdf.ts):
 * - Headings carry their anchor id in `heading.data.hProperties.id`.
 * - A chart is a `figure` node (below) at block level, numbered in order.
 * - Cross-references are `link` nodes whose url is `#<anchor>` (a figure's
 *   `identifier` or a heading id).
 * - Citations are GFM footnotes: `footnoteReference` in the text and
 *   `footnoteDefinition` nodes at the end of the root.
 * - A table may carry `data.caption` ("Table 1. ...") and `data.identifier`.
 * - Links are http(s) or `#anchor`; there are no `html` or image nodes.
 */
import type { Node, Root } from 'mdast';
import { formatterFor, type Derived, type DerivedFigure } from '../dataset/derive.ts';
import type { Dataset } from '../dataset/schema.ts';
import { diffEditions, type EditionChange } from '../dataset/editions.ts';
import { InputError } from '../support/error.ts';
import { messages, type Located } from '../support/messages.ts';
import { createHelpers } from './helpers.ts';
import { parseWithLiterals, writeOut } from './markdown.ts';
import { checkTemplateAst, checkTemplateFigures, MAIN } from './templates.ts';
import { finishTree, sourceSlice } from './tree.ts';

/** A numbered chart placed in the content. */
export interface FigureNode extends Node {
  type: 'figure';
  /** Chart id, as in templates/charts/<chartId>.vl.json. */
  chartId: string;
  /** 1-based, in order of appearance. */
  number: number;
  /** Anchor id, e.g. `fig-revenue`. */
  identifier: string;
  caption: string;
  /** Source line, e.g. "Source: Vector, ...". */
  source: string;
  /** Alt text: the chart's data in words. */
  alt: string;
  /** The chart's title, if it has one. */
  title?: string;
}

declare module 'mdast' {
  interface TableData {
    /** Shown as the table's caption, e.g. "Table 1. Revenue by segment". */
    caption?: string;
    /** Anchor id, e.g. `table-revenue`. */
    identifier?: string;
  }
  interface RootContentMap {
    figure: FigureNode;
  }
  interface BlockContentMap {
    figure: FigureNode;
  }
}

export interface BriefingMeta {
  title: string;
  subtitle: string;
  /** YYYY-MM-DD */
  asOf: string;
  /** Human date, e.g. "29 November 2026". */
  asOfLabel: string;
  author: string;
  keywords: string[];
  /** BCP 47 tag, e.g. "en". */
  language: string;
  /** One-sentence description for metadata. */
  subject: string;
}

export interface OutlineEntry {
  depth: number;
  id: string;
  text: string;
}

/** The content both editions render. */
export interface Briefing {
  meta: BriefingMeta;
  tree: Root;
  outline: OutlineEntry[];
}

// ---------------------------------------------------------------------------
// Inputs

/** One template file. */
export interface TemplateSource {
  /** File name, e.g. `key-points.md.hbs`; a partial's name is this without `.md.hbs`. */
  name: string;
  /** Repo-relative path, for messages. */
  file: string;
  text: string;
}

/** What the content stage needs of a rendered chart (RenderedChart from charts/render.ts fits). */
export interface ChartMeta {
  id: string;
  title: string;
  description: string;
  caption: string;
  source: string;
}

export interface ContentInput {
  data: Dataset;
  derived: Derived;
  charts: ChartMeta[];
  /** Every file in templates/briefing/, in any order. */
  templates: TemplateSource[];
  /** The latest earlier edition's dataset, if there is one. */
  previous?: { file: string; data: Dataset };
}

/** A template's partial name is its file name without this. */
const TEMPLATE_EXTENSION = /\.md\.hbs$|\.hbs$/;

// ---------------------------------------------------------------------------
// The stage

/** Renders the templates with the dataset into the briefing's one content tree; throws InputError listing every problem, located. */
export function buildBriefing(input: ContentInput): Briefing {
  const format = formatterFor(input.data);
  const templates = input.templates.map((template) => ({ ...template, partial: template.name.replace(TEMPLATE_EXTENSION, '') }));
  const main = templates.find((template) => template.partial === MAIN);
  const directory = input.templates[0]?.file.replace(/[^/]*$/, '') ?? 'templates/briefing/';
  if (!main) {
    const file = `${directory}${MAIN}.md.hbs`;
    throw new InputError(file, [{ file, line: 1, column: 1, path: '', message: messages.templateMainMissing(file) }]);
  }
  const changes = input.previous ? diffEditions(input.previous.data, input.data) : [];
  const context = createContext(input, changes);
  const facts: TemplateFacts = { context, paths: indexPaths(context), resolve: (path) => resolvePath(context, path) };

  // 1. Static checks on every template: syntax, planted figures, raw values, unknown names and paths.
  const helpers = createHelpers(input, format, facts, templates);
  const problems = [...checkTemplateFigures(input.templates)];
  for (const template of templates) problems.push(...checkTemplateAst(template, context, helpers.names, templates));
  if (problems.length > 0) throw templateError(problems);

  // 2. Render: helpers format, escape and cite; problems they find are collected, not thrown one by one.
  const markdown = helpers.render(main);
  if (helpers.problems.length > 0) throw templateError(helpers.problems);

  // 3. Parse the Markdown (with footnote definitions appended) and 4. finish the tree.
  // A briefing whose notes name sources lists them in full once; the templates may place the list, else it closes the text.
  const sourceList = helpers.unplacedSources();
  const body = sourceList ? `${markdown}\n\n## ${messages.sourceListHeading()}\n\n${sourceList}` : markdown;
  const written = `${body}\n\n${helpers.footnoteDefinitions().join('\n\n')}\n`;
  const { tree, source } = parseWithLiterals(written, helpers.texts);
  const finished = finishTree(tree, (node) => writeOut(sourceSlice(source, node), helpers.texts), input.charts, helpers.refs, templates);
  if (finished.problems.length > 0) throw templateError(finished.problems);

  const edition = input.data.edition;
  const asOfLabel = format.date(edition.as_of);
  return {
    meta: {
      title: edition.title,
      subtitle: edition.subtitle,
      asOf: edition.as_of,
      asOfLabel,
      author: edition.author,
      keywords: [...edition.keywords],
      language: edition.language,
      subject: `${edition.title}: ${edition.subtitle}. An analyst briefing as of ${asOfLabel}.`,
    },
    tree,
    outline: finished.outline,
  };
}

function templateError(problems: Located[]): InputError {
  const sorted = [...problems].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
  const files = new Set(sorted.map((problem) => problem.file));
  const file = files.size === 1 ? sorted[0]!.file : (sorted[0]?.file.replace(/[^/]*$/, '') ?? 'templates/briefing/');
  return new InputError(file, sorted);
}

// ---------------------------------------------------------------------------
// Template context: the dataset as templates see it

interface PreviousEdition {
  exists: boolean;
  as_of: string;
  file: string;
}

/** What templates see: the core sections, each collection by its own name, the computed figures and the previous edition. */
export type Context = Record<string, unknown> & { derived: Record<string, DerivedFigure>; previous: PreviousEdition; changes: EditionChange[] };

/** The dataset as templates see it: each collection's records (or rows) beside the core sections, under its own name. */
export function templateData(data: Dataset): Record<string, unknown> {
  const view: Record<string, unknown> = { edition: data.edition, sources: data.sources, entities: data.entities, metrics: data.metrics };
  for (const [name, spec] of Object.entries(data.collections)) view[name] = spec.records ?? spec.rows ?? [];
  return view;
}

/** The template context with the two look-ups the helpers cite by; made here so the helpers need nothing from this file at run time. */
export interface TemplateFacts {
  context: Context;
  /** The dotted path of every object in the dataset and the derived figures. */
  paths: Map<object, string>;
  /** The value at a dotted path of the context. */
  resolve: (path: string) => unknown;
}

function createContext(input: ContentInput, changes: EditionChange[]): Context {
  // The dataset's own `derived` section holds only the formulas; templates see the computed figures.
  const previous: PreviousEdition = input.previous
    ? { exists: true, as_of: input.previous.data.edition.as_of, file: input.previous.file }
    : { exists: false, as_of: '', file: '' };
  return { ...templateData(input.data), derived: input.derived.figures, previous, changes };
}

/** Maps every object in the dataset and the derived figures to its dotted path, so a helper given a value knows which fact to cite. */
function indexPaths(context: Context): Map<object, string> {
  const paths = new Map<object, string>();
  const walk = (value: unknown, path: string) => {
    if (typeof value !== 'object' || value === null || paths.has(value)) return;
    paths.set(value, path);
    for (const [key, child] of Object.entries(value)) walk(child, path ? `${path}.${key}` : key);
  };
  const { previous: _previous, changes: _changes, ...facts } = context;
  for (const [key, value] of Object.entries(facts)) walk(value, key);
  return paths;
}

function resolvePath(root: unknown, path: string): unknown {
  let node: unknown = root;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
