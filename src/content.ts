/**
 * Content stage: Dataset + Derived + RenderedChart[] -> Briefing.
 * Handlebars templates emit Markdown once; it is parsed into an mdast tree
 * that both editions (html.ts, pdf.ts) render, so their words are the same.
 *
 *   templates/briefing/*.md.hbs ──Handlebars.parse──▶ AST
 *     ──checkTemplateFigures, checkTemplateAst──▶ Located[] (planted figures, raw values, unknown paths)
 *     ──render (helpers format, escape, cite)──▶ Markdown + footnote definitions
 *     ──fromMarkdown + GFM──▶ mdast Root
 *     ──finishTree──▶ figures numbered, cross-references resolved, links vetted, heading ids
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
import Handlebars from 'handlebars';
import type {
  Heading,
  Html,
  Link,
  Node,
  Paragraph,
  Parent,
  PhrasingContent,
  Root,
  RootContent,
  Text,
} from 'mdast';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmFromMarkdown } from 'mdast-util-gfm';
import { gfm } from 'micromark-extension-gfm';
// For the `hProperties` field of mdast node data that headings carry their ids in.
import type {} from 'mdast-util-to-hast';
import { formatterFor, type Derived, type DerivedFigure, type View } from './dataset/derive.ts';
import { enumValues, normalizeField } from './dataset/declare.ts';
import type { Quantity } from './dataset/expression.ts';
import { isPeriod } from './dataset/period.ts';
import type { Dataset, FieldSpec } from './dataset/schema.ts';
import { diffEditions, type EditionChange } from './editions.ts';
import { InputError } from './error.ts';
import type { Formatter } from './text/format.ts';
import { messages, type Located } from './messages.ts';
import { remembered } from './recent.ts';

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

/** What the content stage needs of a rendered chart (RenderedChart from charts.ts fits). */
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

/** The main template's partial name; every other template is a partial. */
const MAIN = 'briefing';
const TEMPLATE_EXTENSION = /\.md\.hbs$|\.hbs$/;

/** Block helpers Handlebars provides that templates may use; each/with change the scope. */
const BLOCK_HELPERS = ['if', 'unless', 'each', 'with'];
const SCOPING_BLOCKS = ['each', 'with'];

// Placeholders the helpers write into the Markdown and finishTree replaces.
// They are links with schemes of our own: escaped data can never form a link,
// so data cannot forge one, and a template that did would fail the link check.
const FIGURE_SCHEME = 'briefing-figure:';
const REF_SCHEME = 'briefing-ref:';
const CAPTION_SCHEME = 'briefing-caption:';

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

  // 1. Static checks on every template: syntax, planted figures, raw values, unknown names and paths.
  const helpers = createHelpers(input, format, context, templates);
  const problems = [...checkTemplateFigures(input.templates)];
  for (const template of templates) problems.push(...checkTemplateAst(template, context, helpers.names, templates));
  if (problems.length > 0) throw templateError(problems);

  // 2. Render: helpers format, escape and cite; problems they find are collected, not thrown one by one.
  const markdown = helpers.render(main);
  if (helpers.problems.length > 0) throw templateError(helpers.problems);

  // 3. Parse the Markdown (with footnote definitions appended) and 4. finish the tree.
  const written = `${markdown}\n\n${helpers.footnoteDefinitions().join('\n\n')}\n`;
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
type Context = Record<string, unknown> & { derived: Record<string, DerivedFigure>; previous: PreviousEdition; changes: EditionChange[] };

/** The dataset as templates see it: each collection's records (or rows) beside the core sections, under its own name. */
export function templateData(data: Dataset): Record<string, unknown> {
  const view: Record<string, unknown> = { edition: data.edition, sources: data.sources, entities: data.entities, metrics: data.metrics };
  for (const [name, spec] of Object.entries(data.collections)) view[name] = spec.records ?? spec.rows ?? [];
  return view;
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

// ---------------------------------------------------------------------------
// Static checks

interface FigurePattern {
  kind: string;
  pattern: RegExp;
}

// What counts as a hard-coded figure in prose: digits with a unit, a percent,
// a currency sign, a decimal, a year, a fiscal label ("FY25"), a plain integer
// or a count in digits ("36,000 people"). Counts in words come from the data
// through {{count}} and {{figure ... words=true}}.
const FIGURE_PATTERNS: FigurePattern[] = [
  { kind: 'amount of money', pattern: /[$€£¥]\s?\d[\d.,]*(?:\s?(?:bn|m|k|tn|billion|million|trillion|thousand)\b)?|\b\d[\d.,]*\s?(?:USD|EUR|CNY|RMB|yuan|dollars?)\b/gi },
  { kind: 'percentage', pattern: /\b\d[\d.,]*\s?(?:%|per ?cent\b|percentage points?\b|pp\b)/gi },
  {
    kind: 'number with a unit',
    pattern: /\b\d[\d.,]*\s?(?:bn|m|k|tn|billion|million|trillion|thousand|[kMGT]Wh|[kMGT]W|x|×|points?|weeks?|months?|days?|years?)(?![\p{L}\d])/giu,
  },
  { kind: 'fiscal period', pattern: /\b(?:FY|Q[1-4]\s?FY|H[12]\s?FY)\s?'?\d{2,4}\b/g },
  { kind: 'year', pattern: /\b(?:1[5-9]|2[01])\d{2}\b/g },
  { kind: 'decimal number', pattern: /\b\d+\.\d+\b/g },
  // Digits joined to a word by a hyphen name a thing ("10-K", "COVID-19"), not a quantity.
  { kind: 'number', pattern: /(?<![\p{L}\d]|\p{L}-)\d{1,3}(?:,\d{3})+(?:\s+\p{L}+)?|(?<![\p{L}\d]|\p{L}-)\d+(?!-\p{L})(?:\s+(?!\p{Lu})\p{L}+)?(?![\p{L}\d])/gu },
];

/** Finds hard-coded figures in the templates' own text (outside `{{ }}`), each at file:line:column. */
export function checkTemplateFigures(templates: TemplateSource[]): Located[] {
  const found: Located[] = [];
  for (const template of templates) {
    const ast = parseTemplate(template);
    if (!ast.program) continue; // the syntax error is reported by buildBriefing
    visitStatements(ast.program, (node) => {
      if (node.type !== 'ContentStatement') return;
      // A link's address is not prose: its digits are no figure.
      const text = (node as unknown as { original: string }).original.replace(/\]\([^)\s]*\)|<https?:[^>\s]*>/g, (link) => ' '.repeat(link.length));
      const taken: [number, number][] = [];
      for (const { kind, pattern } of FIGURE_PATTERNS) {
        for (const match of text.matchAll(pattern)) {
          const start = match.index;
          const end = start + match[0].length;
          // One report per figure: "$5bn" is an amount, not also a decimal or a unit.
          if (taken.some(([a, b]) => start < b && end > a)) continue;
          taken.push([start, end]);
          const at = advance(node.loc.start, text.slice(0, start));
          found.push({ file: template.file, line: at.line, column: at.column + 1, path: '', message: messages.templatePlantedFigure(kind, match[0].trim()) });
        }
      }
    });
  }
  return found.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}

/** The position after `text` when it starts at `start` (Handlebars positions: 1-based line, 0-based column). */
function advance(start: hbs.AST.Position, text: string): hbs.AST.Position {
  const lines = text.split('\n');
  return lines.length === 1 ? { line: start.line, column: start.column + text.length } : { line: start.line + lines.length - 1, column: lines.at(-1)!.length };
}

// Parsing and compiling a template depend only on its text, so both happen
// once per process: each report of a batch and each --watch rebuild reuses
// them (the helpers, which hold the data, are bound per build).
const parseText = remembered(256, (text): { program?: hbs.AST.Program; error?: string } => {
  try {
    return { program: Handlebars.parse(text) };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
});

/** What Handlebars.compile builds on a template's first call, made once per text (a syntax error throws, as compile's would). */
const compileText = remembered(256, (text): TemplateSpecification => {
  // Handlebars.compile's own steps, kept apart so the result outlives one environment.
  const env = Handlebars as unknown as {
    parse(text: string, options: object): hbs.AST.Program;
    Compiler: new () => { compile(ast: hbs.AST.Program, options: object): unknown };
    JavaScriptCompiler: new () => { compile(environment: unknown, options: object, context: undefined, asObject: true): TemplateSpecification };
  };
  const options = { data: true };
  const environment = new env.Compiler().compile(env.parse(text, options), options);
  return new env.JavaScriptCompiler().compile(environment, options, undefined, true);
});

/** The template's syntax tree (never modified by its users), or its syntax error at file:line. */
function parseTemplate(template: TemplateSource): { program?: hbs.AST.Program; problem?: Located } {
  const { program, error } = parseText(template.text);
  if (program) return { program };
  const message = error ?? '';
  const line = Number(/line (\d+)/.exec(message)?.[1] ?? 1);
  const detail = message.split('\n').at(-1) ?? message;
  return { problem: { file: template.file, line, column: 1, path: '', message: messages.templateSyntax(detail) } };
}

function visitStatements(program: hbs.AST.Program, visit: (node: hbs.AST.Statement, scoped: boolean) => void, scoped = false): void {
  for (const node of program.body) {
    visit(node, scoped);
    if (node.type === 'BlockStatement' || node.type === 'DecoratorBlock') {
      const block = node as hbs.AST.BlockStatement;
      const inner = scoped || SCOPING_BLOCKS.includes(block.path.original);
      if (block.program) visitStatements(block.program, visit, inner);
      if (block.inverse) visitStatements(block.inverse, visit, scoped);
    }
  }
}

interface NamedTemplate extends TemplateSource {
  partial: string;
}

/** Refuses what would let data bypass the helpers or silently print nothing: raw values, unknown helpers, partials and data paths. */
function checkTemplateAst(template: NamedTemplate, context: Context, helperNames: string[], templates: NamedTemplate[]): Located[] {
  const { program, problem } = parseTemplate(template);
  if (!program) return problem ? [problem] : [];
  const problems: Located[] = [];
  const at = (node: hbs.AST.Node, message: string) =>
    problems.push({ file: template.file, line: node.loc.start.line, column: node.loc.start.column + 1, path: '', message });
  const sourceOf = (node: hbs.AST.Node) => sliceLoc(template.text, node.loc);
  const partials = templates.map((t) => t.partial).filter((name) => name !== MAIN);

  const checkExpression = (node: hbs.AST.Expression, scoped: boolean): void => {
    if (node.type === 'SubExpression') {
      const sub = node as hbs.AST.SubExpression;
      if (!helperNames.includes(sub.path.original)) at(sub, messages.templateUnknownHelper(sub.path.original, helperNames));
      sub.params.forEach((param) => checkExpression(param, scoped));
      sub.hash?.pairs.forEach((pair) => checkExpression(pair.value, scoped));
      return;
    }
    if (node.type !== 'PathExpression' || scoped) return;
    const path = node as hbs.AST.PathExpression;
    // @data, `this` and ../ paths depend on the block they are in; only plain root paths are checked here.
    if (path.data || path.depth > 0 || path.parts.length === 0) return;
    let value: unknown = context;
    for (const part of path.parts) {
      if (typeof value !== 'object' || value === null || !Object.hasOwn(value, part)) {
        const known = typeof value === 'object' && value !== null ? Object.keys(value) : [];
        at(path, messages.templateMissingData(path.original, known));
        return;
      }
      value = (value as Record<string, unknown>)[part];
    }
  };

  checkStandalone(program, (node) => at(node, messages.templateNotStandalone(sourceOf(node))));
  visitStatements(program, (node, scoped) => {
    switch (node.type) {
      case 'ContentStatement':
      case 'CommentStatement':
        return;
      case 'MustacheStatement': {
        const mustache = node as hbs.AST.MustacheStatement;
        if (!mustache.escaped) return void at(node, messages.templateTripleStash(sourceOf(node)));
        const name = mustache.path.type === 'PathExpression' ? (mustache.path as hbs.AST.PathExpression).original : '';
        const isHelper = helperNames.includes(name);
        if (!isHelper) {
          const bare = mustache.params.length === 0 && !mustache.hash;
          return void at(node, bare ? messages.templateBareValue(sourceOf(node)) : messages.templateUnknownHelper(name, helperNames));
        }
        mustache.params.forEach((param) => checkExpression(param, scoped));
        mustache.hash?.pairs.forEach((pair) => checkExpression(pair.value, scoped));
        return;
      }
      case 'BlockStatement': {
        const block = node as hbs.AST.BlockStatement;
        if (!BLOCK_HELPERS.includes(block.path.original)) return void at(node, messages.templateUnknownBlock(block.path.original));
        block.params.forEach((param) => checkExpression(param, scoped));
        return;
      }
      case 'PartialStatement': {
        const partial = node as hbs.AST.PartialStatement;
        const name = partial.name.type === 'PathExpression' ? (partial.name as hbs.AST.PathExpression).original : '';
        if (!partials.includes(name)) at(node, messages.templateUnknownPartial(name || sourceOf(partial.name), partials));
        partial.params.forEach((param) => checkExpression(param, scoped));
        return;
      }
      default:
        at(node, messages.templateUnsupported(node.type));
    }
  });
  return problems;
}

/** Helpers whose output is a block of its own (a figure, a table, a list). */
const BLOCK_LEVEL_HELPERS = ['chart', 'table', 'editionChanges'];

/** Reports block-level helpers written inside a line, where their block would split a sentence or a list item. */
function checkStandalone(program: hbs.AST.Program, report: (node: hbs.AST.Node) => void): void {
  const text = (node: hbs.AST.Statement | undefined) => (node?.type === 'ContentStatement' ? (node as unknown as { original: string }).original : undefined);
  program.body.forEach((node, index) => {
    if (node.type === 'BlockStatement') {
      const block = node as hbs.AST.BlockStatement;
      if (block.program) checkStandalone(block.program, report);
      if (block.inverse) checkStandalone(block.inverse, report);
      return;
    }
    if (node.type !== 'MustacheStatement') return;
    const path = (node as hbs.AST.MustacheStatement).path;
    if (path.type !== 'PathExpression' || !BLOCK_LEVEL_HELPERS.includes((path as hbs.AST.PathExpression).original)) return;
    const before = index === 0 ? '\n' : text(program.body[index - 1]);
    const after = index === program.body.length - 1 ? '\n' : text(program.body[index + 1]);
    if (before === undefined || after === undefined || !/(?:^|\n)[ \t]*$/.test(before) || !/^[ \t]*(?:\n|$)/.test(after)) report(node);
  });
}

function sliceLoc(text: string, loc: hbs.AST.SourceLocation): string {
  const lines = text.split('\n');
  const offset = (pos: hbs.AST.Position) => lines.slice(0, pos.line - 1).reduce((sum, line) => sum + line.length + 1, 0) + pos.column;
  return text.slice(offset(loc.start), offset(loc.end));
}

// ---------------------------------------------------------------------------
// Markdown escaping

// Every ASCII punctuation character may be backslash-escaped in CommonMark,
// and an escaped one is always literal: no emphasis, link, code, HTML, heading,
// list marker, table pipe or footnote can start from it. Whitespace runs
// (newlines included) collapse, so data cannot start a new block either.
const ASCII_PUNCTUATION = /[!-/:-@[-`{-~]/g;

/** Escapes a data string so Markdown reads it as literal text. */
export function escapeMarkdown(value: string): string {
  return escapeAscii(normaliseSpace(value));
}

/** Control characters and whitespace runs become one space; no space at either end. */
function normaliseSpace(value: string): string {
  return value
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function escapeAscii(text: string): string {
  return text.replace(ASCII_PUNCTUATION, (char) => `\\${char}`);
}

// ---------------------------------------------------------------------------
// Literals: parsing the Markdown once per shape
//
// Parsing the rendered Markdown is most of the content stage, and a data edit
// or the next report of a batch changes only the literal text that came from
// the dataset (figures, names, notes), not the Markdown around it. So each
// literal of three or more characters is rendered as a token: its first
// character, U+E000, its number, U+E001, its last character. An ASCII letter
// or digit at either end is written as `a`, and ASCII punctuation is escaped,
// as escapeMarkdown would. Documents of the same shape then have the same
// source, parsed once (`parseShape`), and the tree gets the literals back.
//
// This gives the tree the direct parse gives, because nothing in an escaped
// literal is syntax: its middle only ever reads as text, and its two ends,
// which are all the surrounding syntax looks at (emphasis flanking, block
// starts), are kept or replaced by a character of the same class. The
// exception is GFM's autolinks (www., scheme://, e-mail addresses), which
// escapes do not stop: text that could hold one is never a token, a token
// must sit between characters that cannot continue one from the template
// (`TOKEN_NEIGHBOURS`), and every token must come back whole in a text node;
// otherwise the document is parsed directly, as escaped text.
// test/content-test.ts compares the two ways on every context it can think
// of and on random Markdown.

const TOKEN_OPEN = '\ue000';
const TOKEN_CLOSE = '\ue001';
/** A token as written in the Markdown source, with its ends: each an escaped ASCII punctuation character or one other character. */
const TOKEN_WRITTEN = /(?:\\[!-/:-@[-`{-~]|[^\\])\ue000(\d+)\ue001(?:\\[!-/:-@[-`{-~]|.)/gsu;
/** A token as it reads in a text node, escapes resolved. */
const TOKEN_READ = /.\ue000(\d+)\ue001./gsu;
/** Half a surrogate pair without the other half (written out: a Unicode property class costs milliseconds to compile). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** What may stand just before and just after a token for it to be used. */
const TOKEN_NEIGHBOURS = { before: /^$|[\s([“‘"'*_~|]$/u, after: /^(?:$|[\s)\][”’"'*_~|,;!?]|[.:](?:\s|$))/u };

export interface Literals {
  /** The Markdown for a data string: escaped if short, otherwise a token. */
  literal(value: string): string;
  /** Each token's text (whitespace normalised, not escaped), by number. */
  texts: string[];
}

/** A fresh set of literals for one rendering (exported for test/content-test.ts). */
export function createLiterals(): Literals {
  const texts: string[] = [];
  const end = (char: string) => (/^[A-Za-z0-9]$/.test(char) ? 'a' : escapeAscii(char));
  return {
    texts,
    literal(value) {
      const text = normaliseSpace(value);
      const chars = [...text];
      // GFM reads www., scheme:// and e-mail addresses as links even through escapes: such text is parsed as itself.
      // A lone surrogate could pair with a neighbour's across the token: also parsed as itself (validation refuses them anyway).
      if (chars.length < 3 || /www\.|[:@]/i.test(text) || LONE_SURROGATE.test(text)) return escapeAscii(text);
      texts.push(text);
      return `${end(chars[0]!)}${TOKEN_OPEN}${texts.length - 1}${TOKEN_CLOSE}${end(chars.at(-1)!)}`;
    },
  };
}

const MARKDOWN_OPTIONS = { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] };

/** The pristine tree of each recent document shape; callers get a copy. */
const parseShape = remembered(8, (source): Root => fromMarkdown(source, MARKDOWN_OPTIONS));

/** The Markdown with every token written out as escaped text: what escapeMarkdown alone gives. */
export function writeOut(markdown: string, texts: readonly string[]): string {
  // A token-shaped run that is not one of ours (private-use characters in a template) stays as written.
  return markdown.replace(TOKEN_WRITTEN, (run, number: string) => {
    const text = texts[Number(number)];
    return text === undefined ? run : escapeAscii(text);
  });
}

/**
 * Parses Markdown whose literals may be tokens: through the shape cache with
 * the literals put back when that is exact, directly otherwise. Positions in
 * the tree refer to the `source` returned.
 */
export function parseWithLiterals(markdown: string, texts: readonly string[]): { tree: Root; source: string } {
  const tokens = [...markdown.matchAll(TOKEN_WRITTEN)];
  const whole = tokens.length === texts.length && markdown.split(TOKEN_OPEN).length === texts.length + 1 && markdown.split(TOKEN_CLOSE).length === texts.length + 1;
  const apart = tokens.every(({ index, 0: token }) => {
    const after = index + token.length;
    return TOKEN_NEIGHBOURS.before.test(markdown.slice(Math.max(0, index - 2), index)) && TOKEN_NEIGHBOURS.after.test(markdown.slice(after, after + 2));
  });
  if (texts.length > 0 && whole && apart) {
    const tree = structuredClone(parseShape(markdown));
    if (restoreLiterals(tree, texts) === texts.length) return { tree, source: markdown };
  }
  const direct = writeOut(markdown, texts);
  return { tree: structuredClone(parseShape(direct)), source: direct };
}

/** Puts each literal back in place of its token, in text nodes only: how many it put back, or -1 if a token is elsewhere. */
function restoreLiterals(tree: Root, texts: readonly string[]): number {
  let count = 0;
  const visit = (node: Node): boolean => {
    if (node.type === 'text') {
      const text = node as Text;
      text.value = text.value.replace(TOKEN_READ, (_, number: string) => {
        count += 1;
        return texts[Number(number)]!;
      });
      return !text.value.includes(TOKEN_OPEN) && !text.value.includes(TOKEN_CLOSE);
    }
    const fields = node as unknown as Record<string, unknown>;
    for (const key of ['value', 'url', 'title', 'alt', 'label', 'identifier']) {
      const field = fields[key];
      if (typeof field === 'string' && (field.includes(TOKEN_OPEN) || field.includes(TOKEN_CLOSE))) return false;
    }
    return ((node as Parent).children ?? []).every(visit);
  };
  return visit(tree) ? count : -1;
}

/** A dataset path inside a code span: ids are slugs, so only these characters can occur. */
function codePath(path: string): string {
  return /^[a-z0-9_.-]+$/.test(path) ? `\`${path}\`` : escapeMarkdown(path);
}

// ---------------------------------------------------------------------------
// Helpers and rendering

interface ChartRef {
  chartId: string;
  at: Located;
}

type HelperOptions = Handlebars.HelperOptions & { loc?: hbs.AST.SourceLocation };
type Helper = (args: unknown[], options: HelperOptions, say: (message: string) => string, source: string) => string;

function createHelpers(input: ContentInput, format: Formatter, context: Context, templates: NamedTemplate[]) {
  const paths = indexPaths(context);
  const { literal, texts } = createLiterals();
  const problems: Located[] = [];
  const footnotes = new Map<string, string>();
  const refs: ChartRef[] = [];
  const placed = new Set<string>();
  const included = new Set<string>([MAIN]);
  const stack: NamedTemplate[] = [];
  const chartIds = input.charts.map((chart) => chart.id);
  let tables = 0;

  const notesFor = declaredNotes(input.data);
  const sourceOfFact = (path: string): string[] => {
    // The nearest `source` up the path, and the notes the report declares for
    // the fields of each record on the way ("according to two people briefed...").
    const parts = path.split('.');
    let source: string | undefined;
    const notes: string[] = [];
    for (let i = 1; i <= parts.length; i++) {
      const node = resolvePath(context, parts.slice(0, i).join('.')) as Record<string, unknown> | undefined;
      if (typeof node !== 'object' || node === null) continue;
      if (typeof node.source === 'string') source = node.source;
      for (const note of notesFor(parts.slice(0, i), node)) notes.push(literal(note));
      if (i === parts.length) {
        if (node.approximate === true) notes.push('Approximate as given in the source.');
        if (typeof node.note === 'string') notes.push(literal(node.note));
      }
    }
    if (!source) source = tableSource(input.data, parts[0] ?? '');
    return [source ? citeSource(source) : '', ...notes];
  };
  const citeSource = (id: string): string => {
    const source = input.data.sources[id];
    if (!source) return literal(id);
    const when = source.published.as_given;
    const details = [source.kind, when, source.author ? `by ${source.author}` : '', source.truncated ? 'truncated copy' : ''].filter(Boolean).map((detail) => literal(detail));
    // An angle-bracketed destination with <, > and \ escaped keeps any URL whole: it cannot close the link early.
    const title = source.url ? `[${literal(source.title)}](<${source.url.replace(/[<>\\]/g, (c) => `\\${c}`)}>)` : literal(source.title);
    return `${literal(source.publication)}, “${title}” (${details.join('; ')}).`;
  };
  const defineFootnote = (path: string, value: unknown): string => {
    if (!footnotes.has(path)) {
      const derived = isDerivedFigure(value) ? value : undefined;
      const source = /^sources\.([^.]+)$/.exec(path)?.[1];
      const body = derived
        ? describeDerived(derived)
        : source
          ? [citeSource(source), literal(input.data.sources[source]?.truncation ?? ''), `Dataset: ${codePath(path)}.`]
          : [...sourceOfFact(path), `Dataset: ${codePath(path)}.`];
      footnotes.set(path, body.filter(Boolean).join(' '));
    }
    return `[^${path}]`;
  };
  const describeDerived = (figure: DerivedFigure): string[] => {
    const inputs = figure.inputs.map((path) => {
      const value = resolvePath(context, path);
      const shown = isFigureValue(value) ? `${format.figure(value)}${typeof value.period === 'string' ? ` (${format.period(value.period)})` : ''}` : '';
      return shown ? `${codePath(path)} = ${literal(shown)}` : codePath(path);
    });
    const sources = figure.sources.map(citeSource);
    return [
      `Derived: ${literal(figure.label)}, ${literal(format.figure(figure))}.`,
      `Computed by the pipeline as ${literal(figure.formula)}, from ${inputs.join('; ')}.`,
      sources.length ? `Inputs from ${sources.join(' ')}` : '',
      `Dataset: ${codePath(figure.id)}.`,
    ];
  };

  /** A figure formatted by its unit, with its footnote. */
  const figureHelper: Helper = (args, options, say, source) => {
    const [value] = args;
    if (args.length !== 1) return say(messages.templateHelperUsage(source, 'one figure from the dataset, e.g. {{figure metrics.revenue_2025}}'));
    if (!isFigureValue(value)) return say(messages.templateWrongKind(source, 'figures', describeValue(value)));
    const path = paths.get(value);
    if (!path) return say(messages.templateUntracked(source));
    const shown = format.figure(value, { words: options.hash?.words === true, signed: options.hash?.signed === true });
    return `${literal(options.hash?.capitalize === true ? capitalize(shown) : shown)}${defineFootnote(path, value)}`;
  };

  const registry: Record<string, Helper> = {
    figure: figureHelper,
    count(args, options, say, source) {
      const [value] = args;
      const path = typeof value === 'object' && value !== null ? paths.get(value) : undefined;
      if (args.length !== 1 || !path || typeof value !== 'object' || value === null) return say(messages.templateHelperUsage(source, 'a collection, e.g. {{count orders}} or {{count orders words=true}}'));
      const entries = Array.isArray(value) ? value.map((_, i) => String(i)) : Object.keys(value);
      const shown = format.count(entries.length, { words: options.hash?.words === true });
      const label = `count.${path}`;
      if (!footnotes.has(label)) footnotes.set(label, countNote(path, entries, Array.isArray(value)));
      return `${literal(options.hash?.capitalize === true ? capitalize(shown) : shown)}[^${label}]`;
    },
    label(args, _options, say, source) {
      const [value, field] = args;
      const usage = 'a record and one of its enum fields, e.g. {{label orders.o17 "status"}}';
      if (args.length !== 2 || typeof value !== 'object' || value === null || typeof field !== 'string') return say(messages.templateHelperUsage(source, usage));
      const word = enumLabel(input.data, paths.get(value) ?? '', field, (value as Record<string, unknown>)[field]);
      return word === undefined ? say(messages.templateHelperUsage(source, usage)) : literal(word);
    },
    period(args, _options, say, source) {
      const [value] = args;
      // A figure or timing carries its period; a period field (a table's quarter) is one.
      const period = typeof value === 'string' ? value : typeof value === 'object' && value !== null ? (value as { period?: unknown }).period : undefined;
      if (args.length !== 1 || typeof period !== 'string' || !isPeriod(period, input.data.edition.fiscal_year)) {
        return say(messages.templateHelperUsage(source, 'a period, or a figure or timing with one, e.g. {{period metrics.revenue_2025}}'));
      }
      return literal(format.period(period));
    },
    date(args, _options, say, source) {
      const [value] = args;
      if (args.length !== 1 || typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) {
        return say(messages.templateHelperUsage(source, 'a YYYY-MM-DD date, e.g. {{date edition.as_of}}'));
      }
      return literal(format.date(value));
    },
    text(args, _options, say, source) {
      const [value] = args;
      if (args.length !== 1 || typeof value !== 'string') return say(messages.templateHelperUsage(source, `one text field, e.g. {{text entities.acme.role}}; got ${describeValue(value)}`));
      return literal(value);
    },
    name(args, options, say, source) {
      const [entity] = args;
      const record = entity as { name?: unknown; short_name?: unknown } | undefined;
      if (args.length !== 1 || typeof record?.name !== 'string' || typeof record.short_name !== 'string') {
        return say(messages.templateHelperUsage(source, 'an entity, e.g. {{name entities.acme}} or {{name entities.acme full=true}}'));
      }
      return literal(options.hash?.full === true ? record.name : record.short_name);
    },
    cite(args, _options, say, source) {
      const [value] = args;
      const path = typeof value === 'object' && value !== null ? paths.get(value) : undefined;
      if (args.length !== 1 || !path) return say(messages.templateUntracked(source));
      return defineFootnote(path, value);
    },
    chart(args, _options, say, source) {
      const [id] = args;
      if (args.length !== 1 || typeof id !== 'string') return say(messages.templateHelperUsage(source, 'a chart id in quotes, e.g. {{chart "revenue"}}'));
      if (!chartIds.includes(id) || !/^[a-z0-9-]+$/.test(id)) return say(messages.templateUnknownChart(id, chartIds));
      if (placed.has(id)) return say(messages.templateChartTwice(id));
      placed.add(id);
      return `\n\n[${id}](${FIGURE_SCHEME}${id})\n\n`;
    },
    ref(args, options, say, source) {
      const [id] = args;
      if (args.length !== 1 || typeof id !== 'string') return say(messages.templateHelperUsage(source, 'a chart id in quotes, e.g. {{ref "revenue"}}'));
      if (!chartIds.includes(id) || !/^[a-z0-9-]+$/.test(id)) return say(messages.templateUnknownChart(id, chartIds));
      refs.push({ chartId: id, at: locate(options, messages.templateRefUnplaced(id)) });
      return `[${id}](${REF_SCHEME}${id})`;
    },
    table(args, options, say, source) {
      const [name] = args;
      const caption = options.hash?.caption;
      if (args.length !== 1 || typeof name !== 'string' || typeof caption !== 'string') return say(messages.templateHelperUsage(source, 'a view name and a caption, e.g. {{table "orders-table" caption="The orders"}}'));
      const view = input.derived.views[name];
      if (!view) return say(messages.templateUnknownView(name, Object.keys(input.derived.views)));
      tables += 1;
      return renderTable(view, `Table ${tables}. ${caption}`);
    },
    editionChanges(args, _options, say, source) {
      if (args.length !== 0) return say(messages.templateHelperUsage(source, 'no arguments: {{editionChanges}}'));
      return renderChanges(context.changes);
    },
  };

  /** A view as a GFM table: figures formatted and cited, each record's footnote at the end of its row. */
  const renderTable = (view: View, caption: string): string => {
    const rows = view.rows.map((row) => {
      const cells = view.columns.map(({ field }) => tableCell(row.values[field]));
      const record = row.path ? resolvePath(context, row.path) : undefined;
      // A table row (`generation.3`) is cited with its table; a record gets a footnote of its own.
      if (record && typeof record === 'object' && !/\.\d+$/.test(row.path!)) cells[cells.length - 1] += defineFootnote(row.path!, record);
      return cells;
    });
    const lines = [
      `| ${view.columns.map((column) => literal(column.label)).join(' | ')} |`,
      `| ${view.columns.map((column) => (column.align === 'right' ? '---:' : '---')).join(' | ')} |`,
      ...rows.map((row) => `| ${row.join(' | ')} |`),
    ];
    return `\n\n[${literal(caption)}](${CAPTION_SCHEME}${view.name})\n\n${lines.join('\n')}\n\n`;
  };
  const tableCell = (value: unknown): string => {
    if (isQuantityValue(value)) return value.path ? citedQuantity(value) : literal(String(value.value));
    if (value === undefined || value === null || value === '') return '—';
    if (typeof value === 'object' && !Array.isArray(value)) {
      const v = value as { kind?: string; label?: string; id?: string };
      return literal(String(v.kind === 'enum' ? v.label : v.kind === 'record' ? v.id : ''));
    }
    return literal(String(value));
  };
  /** A figure from the dataset (a view's cell), formatted by its unit and cited by its path. */
  const citedQuantity = (quantity: Quantity): string => {
    const figure = resolvePath(context, quantity.path!);
    if (isFigureValue(figure)) return `${literal(format.figure(figure))}${defineFootnote(quantity.path!, figure)}`;
    const written = typeof figure === 'number' ? figure : quantity.value;
    return literal(format.figure({ value: written, unit: quantity.unit ?? 'count', ...(quantity.scale ? { scale: quantity.scale } : {}) }));
  };
  const countNote = (path: string, entries: string[], table: boolean): string => {
    const listed = !table && entries.length <= 12 ? ` (${entries.map((id) => codePath(id)).join(', ')})` : '';
    return `Counted by the pipeline: the entries of ${codePath(path)}${listed}. Dataset: ${codePath(path)}.`;
  };

  const renderChanges = (changes: EditionChange[]): string => {
    const word = { added: 'Added', removed: 'Removed', changed: 'Changed' } as const;
    const lines = changes.map((change) => {
      const what = `${literal(change.label)} (${codePath(change.path)})`;
      const single = (change.kind === 'added' ? change.after : change.before) ?? '';
      const value = change.kind === 'changed' ? `${literal(change.before ?? '')} → ${literal(change.after ?? '')}` : literal(single);
      // A removed entity's summary is its name, already shown as the label.
      const plain = change.kind === 'changed' ? `${normaliseSpace(change.before ?? '')} → ${normaliseSpace(change.after ?? '')}` : normaliseSpace(single);
      const repeatsLabel = plain === normaliseSpace(change.label);
      const shown = value && !repeatsLabel ? `: ${value}` : '';
      return `- **${word[change.kind]}:** ${what}${shown}`;
    });
    return lines.length ? `\n\n${lines.join('\n')}\n\n` : '';
  };

  const locate = (options: HelperOptions, message: string): Located => {
    const template = stack.at(-1);
    const start = options.loc?.start ?? { line: 1, column: 0 };
    return { file: template?.file ?? '', line: start.line, column: start.column + 1, path: '', message };
  };

  const hb = Handlebars.create();
  for (const [name, helper] of Object.entries(registry)) {
    hb.registerHelper(name, (...all: unknown[]) => {
      const options = all.pop() as HelperOptions;
      const template = stack.at(-1);
      const source = template && options.loc ? sliceLoc(template.text, options.loc) : `{{${name}}}`;
      const say = (message: string) => {
        problems.push(locate(options, message));
        return '';
      };
      return new hb.SafeString(helper(all, options, say, source));
    });
  }
  // A value helper for conditions, e.g. {{#if (eq orders.o17.status "shipped")}}: enum values compare as their value.
  hb.registerHelper('eq', (...all: unknown[]) => {
    all.pop();
    return all.length === 2 && all[0] === all[1];
  });
  const compiled = new Map(templates.map((template) => [template.partial, hb.template(compileText(template.text))]));
  const run = (template: NamedTemplate, ctx: unknown, options?: Handlebars.RuntimeOptions): string => {
    // The stack tells helpers which file they are in, for their messages.
    stack.push(template);
    try {
      return compiled.get(template.partial)!(ctx, options);
    } finally {
      stack.pop();
    }
  };
  for (const template of templates) {
    if (template.partial === MAIN) continue;
    hb.registerPartial(template.partial, ((ctx: unknown, options?: Handlebars.RuntimeOptions) => {
      included.add(template.partial);
      return run(template, ctx, options);
    }) as Handlebars.TemplateDelegate);
  }

  return {
    registry,
    names: [...Object.keys(registry), 'eq'],
    problems,
    refs,
    render(main: NamedTemplate): string {
      const markdown = run(main, context);
      for (const template of templates) {
        if (!included.has(template.partial)) problems.push({ file: template.file, line: 1, column: 1, path: '', message: messages.templateUnusedPartial(template.partial) });
      }
      return markdown;
    },
    texts,
    footnoteDefinitions: () => [...footnotes].map(([label, text]) => `[^${label}]: ${text}`),
  };
}

function isQuantityValue(value: unknown): value is Quantity {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'quantity';
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * The footnote notes a report declares for a record: a field's `note` when
 * the field is set ("{}" is its value), an enum value's `note` when it has
 * that value. Keyed by the record's template path (`orders.o17`).
 */
function declaredNotes(data: Dataset): (path: string[], node: Record<string, unknown>) => string[] {
  const fieldsOf = (path: string[]): Record<string, FieldSpec> | undefined => {
    if (path.length !== 2) return undefined;
    if (path[0] === 'entities') return data.entity_fields;
    const spec = data.collections[path[0]!];
    return spec?.records ? spec.fields : undefined;
  };
  return (path, node) => {
    const fields = fieldsOf(path);
    if (!fields) return [];
    const notes: string[] = [];
    for (const [name, raw] of Object.entries(fields)) {
      const spec = normalizeField(raw);
      const value = node[name];
      if (value === undefined) continue;
      if (spec.note && typeof value !== 'object') notes.push(spec.note.replaceAll('{}', String(value)));
      if (spec.type === 'enum') {
        const note = enumValues(spec).get(String(value))?.note;
        if (note) notes.push(note);
      }
    }
    return notes;
  };
}

/** A table's source: its rows name none of their own. */
function tableSource(data: Dataset, collection: string): string | undefined {
  return data.collections[collection]?.source;
}

/** An enum field's display word, from the record's collection declaration. */
function enumLabel(data: Dataset, path: string, field: string, value: unknown): string | undefined {
  const [collection] = path.split('.');
  const fields = collection === 'entities' ? data.entity_fields : data.collections[collection ?? '']?.fields;
  const spec = fields?.[field] ? normalizeField(fields[field]!) : undefined;
  if (spec?.type !== 'enum' || typeof value !== 'string') return undefined;
  return enumValues(spec).get(value)?.label;
}

function isFigureValue(value: unknown): value is { value: number; unit: string; scale?: 'thousand' | 'million' | 'billion'; period?: unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { value?: unknown }).value === 'number' && typeof (value as { unit?: unknown }).unit === 'string';
}

function isDerivedFigure(value: unknown): value is DerivedFigure {
  return isFigureValue(value) && typeof (value as { formula?: unknown }).formula === 'string' && Array.isArray((value as { inputs?: unknown }).inputs);
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'missing (nothing at that path)';
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (isFigureValue(value)) return `a figure in ${value.unit}`;
  return typeof value === 'object' ? 'a record, not a single value' : `a ${typeof value}`;
}

// ---------------------------------------------------------------------------
// Finishing the tree

interface Finished {
  outline: OutlineEntry[];
  problems: Located[];
}

/** Replaces placeholders by figures and numbered cross-references, vets links, and gives headings their ids. */
function finishTree(tree: Root, markdownOf: (node: Node) => string, charts: ChartMeta[], refs: ChartRef[], templates: NamedTemplate[]): Finished {
  const problems: Located[] = [];
  const chartsById = new Map(charts.map((chart) => [chart.id, chart]));
  // A problem found in the rendered Markdown is pointed at the first template containing the offending text.
  const inTemplates = (needle: string, message: string): Located => {
    for (const template of templates) {
      const index = needle ? template.text.indexOf(needle) : -1;
      if (index >= 0) {
        const before = template.text.slice(0, index).split('\n');
        return { file: template.file, line: before.length, column: before.at(-1)!.length + 1, path: '', message };
      }
    }
    return { file: templates.find((t) => t.partial === MAIN)?.file ?? '', line: 1, column: 1, path: '', message };
  };

  // 1. Figures: top-level paragraphs holding only a figure placeholder, numbered in order.
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
  for (const ref of refs) if (!numbers.has(ref.chartId)) problems.push(ref.at);

  // 2. Headings get unique ids; reserved prefixes keep them clear of figure, table and footnote ids.
  const ids = new Set([...numbers.keys()].map((id) => `fig-${id}`));
  const outline: OutlineEntry[] = [];
  const walk = (node: Node, visit: (node: Node, parent: Parent | undefined, index: number) => void, parent?: Parent, index = 0) => {
    visit(node, parent, index);
    const children = (node as Parent).children;
    if (children) for (let i = 0; i < children.length; i++) walk(children[i]!, visit, node as Parent, i);
  };
  walk(tree, (node) => {
    if (node.type !== 'heading') return;
    const heading = node as Heading;
    const text = plainText(heading.children);
    let slug = slugify(text);
    if (/^(?:fig|table|user-content|footnote)-/.test(slug)) slug = `section-${slug}`;
    let id = slug;
    for (let n = 2; ids.has(id); n++) id = `${slug}-${n}`;
    ids.add(id);
    heading.data = { ...heading.data, hProperties: { ...heading.data?.hProperties, id } };
    outline.push({ depth: heading.depth, id, text });
  });

  // 3. Links: cross-references become "Figure N"; autolinked data turns back into text; only http(s) and known anchors stay.
  walk(tree, (node, parent, index) => {
    switch (node.type) {
      case 'html': {
        const html = (node as Html).value;
        problems.push(inTemplates(html, messages.templateRawHtml(html)));
        return;
      }
      case 'image':
      case 'imageReference':
      case 'linkReference':
      case 'definition':
        problems.push(inTemplates(markdownOf(node).slice(0, 40), messages.templateNode(node.type)));
        return;
      case 'figure':
        return;
      case 'link':
        break;
      default:
        return;
    }
    const link = node as Link;
    if (link.url.startsWith(FIGURE_SCHEME)) {
      problems.push(inTemplates(`{{chart "${link.url.slice(FIGURE_SCHEME.length)}"}}`, messages.templateChartInline(link.url.slice(FIGURE_SCHEME.length))));
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
    problems.push(inTemplates(link.url, messages.templateLinkScheme(link.url)));
  });
  mergeText(tree);
  return { outline, problems };
}

function soleLink(node: RootContent): Link | undefined {
  if (node.type !== 'paragraph') return undefined;
  const children = (node as Paragraph).children;
  return children.length === 1 && children[0]!.type === 'link' ? (children[0] as Link) : undefined;
}

function sourceSlice(source: string, node: Node): string {
  const start = node.position?.start.offset;
  const end = node.position?.end.offset;
  return start === undefined || end === undefined ? '' : source.slice(start, end);
}

/** The text of inline content, as a reader sees it. */
export function plainText(nodes: readonly (PhrasingContent | RootContent)[]): string {
  return nodes
    .map((node) => {
      if (node.type === 'text' || node.type === 'inlineCode') return node.value;
      if (node.type === 'footnoteReference') return '';
      return 'children' in node ? plainText(node.children as PhrasingContent[]) : '';
    })
    .join('');
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

