/**
 * Templates: Handlebars parsing and compiling, remembered per text, and the
 * static checks run on every template before anything is rendered.
 */
import Handlebars from 'handlebars';
import { messages, type Located } from '../support/messages.ts';
import { remembered } from '../support/recent.ts';
import type { TemplateSource } from './briefing.ts';

/** The main template's partial name; every other template is a partial. */
export const MAIN = 'briefing';

/** A template with its partial name (its file name without `.md.hbs`). */
export interface NamedTemplate extends TemplateSource {
  partial: string;
}

/** Block helpers Handlebars provides that templates may use; each/with change the scope. */
const BLOCK_HELPERS = ['if', 'unless', 'each', 'with'];
const SCOPING_BLOCKS = ['each', 'with'];

/** Helpers whose output is a block of its own (a figure, a table, a list). */
const BLOCK_LEVEL_HELPERS = ['chart', 'table', 'editionChanges'];

// ---------------------------------------------------------------------------
// Parsing and compiling

// Parsing and compiling a template depend only on its text, so both happen
// once per process: each report of a batch and each --watch rebuild reuses
// them (the helpers, which hold the data, are bound per build).
const parseText = remembered('content: parsed templates', 256, (text): { program?: hbs.AST.Program; error?: string } => {
  try {
    return { program: Handlebars.parse(text) };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}, (_ast, text) => text.length * 30);

// One environment compiles every template, with no helpers or partials of
// its own: each build passes its helpers (bound to its data) and partials at
// render time, so a template's compiled code outlives one build.
const COMPILER = Handlebars.create();

/** A template compiled once per text through Handlebars' public compile (it compiles on its first call and keeps the code). */
export const compileText = remembered('content: compiled templates', 256, (text): Handlebars.TemplateDelegate => COMPILER.compile(text, { data: true }), (_template, text) => text.length * 20);

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

/** The source text a node was parsed from. */
export function sliceLoc(text: string, loc: hbs.AST.SourceLocation): string {
  const lines = text.split('\n');
  const offset = (pos: hbs.AST.Position) => lines.slice(0, pos.line - 1).reduce((sum, line) => sum + line.length + 1, 0) + pos.column;
  return text.slice(offset(loc.start), offset(loc.end));
}

// ---------------------------------------------------------------------------
// Planted figures

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
      if (node.type === 'ContentStatement') found.push(...findPlantedFigures(template, node));
    });
  }
  return found.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}

/** The hard-coded figures in one run of template text, one report per figure. */
function findPlantedFigures(template: TemplateSource, node: hbs.AST.Statement): Located[] {
  const found: Located[] = [];
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
  return found;
}

/** The position after `text` when it starts at `start` (Handlebars positions: 1-based line, 0-based column). */
function advance(start: hbs.AST.Position, text: string): hbs.AST.Position {
  const lines = text.split('\n');
  return lines.length === 1 ? { line: start.line, column: start.column + text.length } : { line: start.line + lines.length - 1, column: lines.at(-1)!.length };
}

// ---------------------------------------------------------------------------
// What a template may hold

/** One template's check: what it may name, and where its problems go. */
interface AstCheck {
  /** The template context, for checking root data paths. */
  context: Record<string, unknown>;
  helperNames: string[];
  partials: string[];
  at(node: hbs.AST.Node, message: string): void;
  sourceOf(node: hbs.AST.Node): string;
}

/** Refuses what would let data bypass the helpers or silently print nothing: raw values, unknown helpers, partials and data paths. */
export function checkTemplateAst(template: NamedTemplate, context: Record<string, unknown>, helperNames: string[], templates: NamedTemplate[]): Located[] {
  const { program, problem } = parseTemplate(template);
  if (!program) return problem ? [problem] : [];
  const problems: Located[] = [];
  const check: AstCheck = {
    context,
    helperNames,
    partials: templates.map((t) => t.partial).filter((name) => name !== MAIN),
    at: (node, message) => problems.push({ file: template.file, line: node.loc.start.line, column: node.loc.start.column + 1, path: '', message }),
    sourceOf: (node) => sliceLoc(template.text, node.loc),
  };
  checkStandalone(program, (node) => check.at(node, messages.templateNotStandalone(check.sourceOf(node))));
  visitStatements(program, (node, scoped) => checkStatement(check, node, scoped));
  return problems;
}

function checkStatement(check: AstCheck, node: hbs.AST.Statement, scoped: boolean): void {
  const { at, sourceOf, helperNames } = check;
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
      mustache.params.forEach((param) => checkExpression(check, param, scoped));
      mustache.hash?.pairs.forEach((pair) => checkExpression(check, pair.value, scoped));
      return;
    }
    case 'BlockStatement': {
      const block = node as hbs.AST.BlockStatement;
      if (!BLOCK_HELPERS.includes(block.path.original)) return void at(node, messages.templateUnknownBlock(block.path.original));
      block.params.forEach((param) => checkExpression(check, param, scoped));
      return;
    }
    case 'PartialStatement': {
      const partial = node as hbs.AST.PartialStatement;
      const name = partial.name.type === 'PathExpression' ? (partial.name as hbs.AST.PathExpression).original : '';
      if (!check.partials.includes(name)) at(node, messages.templateUnknownPartial(name || sourceOf(partial.name), check.partials));
      partial.params.forEach((param) => checkExpression(check, param, scoped));
      return;
    }
    default:
      at(node, messages.templateUnsupported(node.type));
  }
}

function checkExpression(check: AstCheck, node: hbs.AST.Expression, scoped: boolean): void {
  if (node.type === 'SubExpression') {
    const sub = node as hbs.AST.SubExpression;
    if (!check.helperNames.includes(sub.path.original)) check.at(sub, messages.templateUnknownHelper(sub.path.original, check.helperNames));
    sub.params.forEach((param) => checkExpression(check, param, scoped));
    sub.hash?.pairs.forEach((pair) => checkExpression(check, pair.value, scoped));
    return;
  }
  if (node.type !== 'PathExpression' || scoped) return;
  const path = node as hbs.AST.PathExpression;
  // @data, `this` and ../ paths depend on the block they are in; only plain root paths are checked here.
  if (path.data || path.depth > 0 || path.parts.length === 0) return;
  let value: unknown = check.context;
  for (const part of path.parts) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, part)) {
      const known = typeof value === 'object' && value !== null ? Object.keys(value) : [];
      check.at(path, messages.templateMissingData(path.original, known));
      return;
    }
    value = (value as Record<string, unknown>)[part];
  }
}

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
