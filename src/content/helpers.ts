/**
 * Helpers: the only way data reaches the Markdown. Each formats a value,
 * escapes it and cites it; a misused helper records a located problem and
 * prints nothing, so one rendering reports every problem at once.
 */
import Handlebars from 'handlebars';
import type { View } from '../dataset/derive.ts';
import { enumValues, normalizeField } from '../dataset/declare.ts';
import type { EditionChange } from '../dataset/editions.ts';
import type { Quantity } from '../dataset/expression.ts';
import { isPeriod } from '../dataset/period.ts';
import type { Dataset } from '../dataset/schema.ts';
import { messages, type Located } from '../support/messages.ts';
import type { Formatter } from '../text/format.ts';
import type { ContentInput, TemplateFacts } from './briefing.ts';
import { createCitations, isFigureValue, type Citations } from './citations.ts';
import { codePath, createLiterals, normaliseSpace } from './markdown.ts';
import { compileText, MAIN, sliceLoc, type NamedTemplate } from './templates.ts';

// Placeholders the helpers write into the Markdown and finishTree replaces.
// They are links with schemes of our own: escaped data can never form a link,
// so data cannot forge one, and a template that did would fail the link check.
export const FIGURE_SCHEME = 'briefing-figure:';
export const REF_SCHEME = 'briefing-ref:';
export const CAPTION_SCHEME = 'briefing-caption:';

/** A `{{ref}}` to a chart, with the problem to report if the chart is never placed. */
export interface ChartRef {
  chartId: string;
  at: Located;
}

type HelperOptions = Handlebars.HelperOptions & { loc?: hbs.AST.SourceLocation };
type Helper = (args: unknown[], options: HelperOptions, say: (message: string) => string, source: string) => string;

/** What the helpers of one rendering share. */
interface Scope extends TemplateFacts {
  input: ContentInput;
  format: Formatter;
  literal: (value: string) => string;
  citations: Citations;
  refs: ChartRef[];
  locate: (options: HelperOptions, message: string) => Located;
}

/** The helpers bound to one build's data, and the Handlebars environment that renders the templates with them. */
export function createHelpers(input: ContentInput, format: Formatter, facts: TemplateFacts, templates: NamedTemplate[]) {
  const { literal, texts } = createLiterals();
  const problems: Located[] = [];
  const refs: ChartRef[] = [];
  // The templates being rendered, innermost last: tells helpers which file they are in, for their messages.
  const stack: NamedTemplate[] = [];
  const locate = (options: HelperOptions, message: string): Located => {
    const template = stack.at(-1);
    const start = options.loc?.start ?? { line: 1, column: 0 };
    return { file: template?.file ?? '', line: start.line, column: start.column + 1, path: '', message };
  };
  const citations = createCitations({ data: input.data, format, literal, resolve: facts.resolve });
  const scope: Scope = { ...facts, input, format, literal, citations, refs, locate };

  const { figure, count, cite } = createFigureHelpers(scope);
  let sourcesPlaced = false;
  const sourceList: Helper = (args, _options, say, source) => {
    if (args.length !== 0) return say(messages.templateHelperUsage(source, 'no arguments: {{source-list}} on a line of its own'));
    sourcesPlaced = true;
    return `\n\n${citations.sourceList()}\n\n`;
  };
  // In this order: messages list the helpers as they are here.
  const registry: Record<string, Helper> = { figure, count, ...createTextHelpers(scope), cite, 'source-list': sourceList, ...createChartHelpers(scope), ...createTableHelpers(scope), ...createChangeHelpers(scope) };
  const renderMain = createEnvironment(registry, templates, stack, locate, problems);

  return {
    names: [...Object.keys(registry), 'eq'],
    problems,
    refs,
    render: (main: NamedTemplate) => renderMain(main, facts.context),
    texts,
    footnoteDefinitions: citations.definitions,
    /** The source list, when the notes name a source and no template placed it ({{source-list}}). */
    unplacedSources: () => (!sourcesPlaced && citations.citesSources() ? citations.sourceList() : undefined),
  };
}

/** {{figure}}, {{count}} and {{cite}}: figures and records, each with its footnote. */
function createFigureHelpers({ format, paths, literal, citations }: Scope): Record<'figure' | 'count' | 'cite', Helper> {
  return {
    figure(args, options, say, source) {
      const [value] = args;
      if (args.length !== 1) return say(messages.templateHelperUsage(source, 'one figure from the dataset, e.g. {{figure metrics.revenue_2025}}'));
      if (!isFigureValue(value)) return say(messages.templateWrongKind(source, 'figures', describeValue(value)));
      const path = paths.get(value);
      if (!path) return say(messages.templateUntracked(source));
      const shown = format.figure(value, { words: options.hash?.words === true, signed: options.hash?.signed === true });
      return `${literal(options.hash?.capitalize === true ? capitalize(shown) : shown)}${citations.cite(path, value)}`;
    },
    count(args, options, say, source) {
      const [value] = args;
      const path = typeof value === 'object' && value !== null ? paths.get(value) : undefined;
      if (args.length !== 1 || !path || typeof value !== 'object' || value === null) return say(messages.templateHelperUsage(source, 'a collection, e.g. {{count orders}} or {{count orders words=true}}'));
      const entries = Array.isArray(value) ? value.map((_, i) => String(i)) : Object.keys(value);
      const shown = format.count(entries.length, { words: options.hash?.words === true });
      const reference = citations.citeCount(path, entries, Array.isArray(value));
      return `${literal(options.hash?.capitalize === true ? capitalize(shown) : shown)}${reference}`;
    },
    cite(args, _options, say, source) {
      const [value] = args;
      const path = typeof value === 'object' && value !== null ? paths.get(value) : undefined;
      if (args.length !== 1 || !path) return say(messages.templateUntracked(source));
      return citations.cite(path, value);
    },
  };
}

/**
 * {{label}}, {{text}} and {{name}}: words from the data, not cited (the
 * facts they go with are); {{period}} and {{date}}: cited like a figure.
 */
function createTextHelpers({ input, format, paths, literal, citations, resolve }: Scope): Record<string, Helper> {
  // The fact a period or date is cited by: the figure or timing it came from,
  // or, for a plain string, the dataset path the template wrote when it leads there.
  const citeOf = (value: unknown, source: string): string => {
    const tracked = typeof value === 'object' && value !== null ? paths.get(value) : undefined;
    if (tracked) return citations.cite(tracked, value);
    const written = /^\{\{~?\s*\S+\s+([A-Za-z_][\w-]*(?:\.[\w-]+)+)\s*~?\}\}$/.exec(source)?.[1];
    return written && resolve(written) === value ? citations.cite(written, value) : '';
  };
  return {
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
      return `${literal(format.period(period))}${citeOf(value, source)}`;
    },
    date(args, _options, say, source) {
      const [value] = args;
      if (args.length !== 1 || typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) {
        return say(messages.templateHelperUsage(source, 'a YYYY-MM-DD date, e.g. {{date edition.as_of}}'));
      }
      return `${literal(format.date(value))}${citeOf(value, source)}`;
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
  };
}

/** {{chart}} and {{ref}}: placeholders for a numbered figure and a reference to it, resolved by finishTree. */
function createChartHelpers({ input, refs, locate }: Scope): Record<string, Helper> {
  const chartIds = input.charts.map((chart) => chart.id);
  const placed = new Set<string>();
  return {
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
  };
}

/** {{table}}: a declared view as a numbered, captioned GFM table. */
function createTableHelpers(scope: Scope): Record<string, Helper> {
  let tables = 0;
  return {
    table(args, options, say, source) {
      const [name] = args;
      const caption = options.hash?.caption;
      if (args.length !== 1 || typeof name !== 'string' || typeof caption !== 'string') return say(messages.templateHelperUsage(source, 'a view name and a caption, e.g. {{table "orders-table" caption="The orders"}}'));
      const view = scope.input.derived.views[name];
      if (!view) return say(messages.templateUnknownView(name, Object.keys(scope.input.derived.views)));
      tables += 1;
      return renderTable(scope, view, `Table ${tables}. ${caption}`);
    },
  };
}

/** A view as a GFM table: figures formatted and cited, each record's footnote at the end of its row. */
function renderTable(scope: Scope, view: View, caption: string): string {
  const { literal, resolve, citations } = scope;
  const rows = view.rows.map((row) => {
    const cells = view.columns.map(({ field }) => tableCell(scope, row.values[field]));
    const record = row.path ? resolve(row.path) : undefined;
    // A table row (`generation.3`) is cited with its table; a record gets a footnote of its own.
    if (record && typeof record === 'object' && !row.table) cells[cells.length - 1] += citations.cite(row.path!, record);
    return cells;
  });
  // Rows of a table (`generation.3`) are cited once, with their table, at the end of the header.
  const tables = [...new Set(view.rows.flatMap((row) => (row.table ? [row.table] : [])))];
  const header = view.columns.map((column) => literal(column.label));
  for (const table of tables) {
    const rows = resolve(table);
    if (rows && typeof rows === 'object') header[header.length - 1] += citations.cite(table, rows);
  }
  const lines = [
    `| ${header.join(' | ')} |`,
    `| ${view.columns.map((column) => (column.align === 'right' ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ];
  return `\n\n[${literal(caption)}](${CAPTION_SCHEME}${view.name})\n\n${lines.join('\n')}\n\n`;
}

function tableCell(scope: Scope, value: unknown): string {
  const { literal } = scope;
  if (isQuantityValue(value)) return value.path ? citedQuantity(scope, value) : literal(String(value.value));
  if (value === undefined || value === null || value === '') return '—';
  if (typeof value === 'object' && !Array.isArray(value)) {
    const v = value as { kind?: string; label?: string; id?: string };
    return literal(String(v.kind === 'enum' ? v.label : v.kind === 'record' ? v.id : ''));
  }
  return literal(String(value));
}

/** A figure from the dataset (a view's cell), formatted by its unit and cited by its path. */
function citedQuantity({ format, literal, resolve, citations }: Scope, quantity: Quantity): string {
  const figure = resolve(quantity.path!);
  if (isFigureValue(figure)) return `${literal(format.figure(figure))}${citations.cite(quantity.path!, figure)}`;
  const written = typeof figure === 'number' ? figure : quantity.value;
  return literal(format.figure({ value: written, unit: quantity.unit ?? 'count', ...(quantity.scale ? { scale: quantity.scale } : {}) }));
}

/** {{editionChanges}}: what changed since the previous edition, as a list. */
function createChangeHelpers({ context, literal }: Scope): Record<string, Helper> {
  return {
    editionChanges(args, _options, say, source) {
      if (args.length !== 0) return say(messages.templateHelperUsage(source, 'no arguments: {{editionChanges}}'));
      return renderChanges(context.changes, literal);
    },
  };
}

function renderChanges(changes: EditionChange[], literal: (value: string) => string): string {
  const word = { added: 'added', removed: 'removed', changed: 'changed' } as const;
  const lines = changes.map((change) => {
    const what = `${literal(change.label)} (${codePath(change.path)})`;
    const single = (change.kind === 'added' ? change.after : change.before) ?? '';
    const value = change.kind === 'changed' ? `${literal(change.before ?? '')} → ${literal(change.after ?? '')}` : literal(single);
    // A removed entity's summary is its name, already shown as the label.
    const plain = change.kind === 'changed' ? `${normaliseSpace(change.before ?? '')} → ${normaliseSpace(change.after ?? '')}` : normaliseSpace(single);
    const repeatsLabel = plain === normaliseSpace(change.label);
    const shown = value && !repeatsLabel ? `: ${value}` : '';
    // The section is named by its declared label: "Orders, changed:".
    return `- **${literal(change.section)}, ${word[change.kind]}:** ${what}${shown}`;
  });
  return lines.length ? `\n\n${lines.join('\n')}\n\n` : '';
}

/** A Handlebars environment with the helpers and every partial registered; returns the function that renders the main template. */
function createEnvironment(
  registry: Record<string, Helper>,
  templates: NamedTemplate[],
  stack: NamedTemplate[],
  locate: (options: HelperOptions, message: string) => Located,
  problems: Located[],
): (main: NamedTemplate, context: unknown) => string {
  // Helpers and partials go to each render as runtime options: the compiled templates are shared by every build.
  const helpers: Record<string, Handlebars.HelperDelegate> = {};
  for (const [name, helper] of Object.entries(registry)) {
    helpers[name] = (...all: unknown[]) => {
      const options = all.pop() as HelperOptions;
      const template = stack.at(-1);
      const source = template && options.loc ? sliceLoc(template.text, options.loc) : `{{${name}}}`;
      const say = (message: string) => {
        problems.push(locate(options, message));
        return '';
      };
      return new Handlebars.SafeString(helper(all, options, say, source));
    };
  }
  // A value helper for conditions, e.g. {{#if (eq orders.o17.status "shipped")}}: enum values compare as their value.
  helpers.eq = (...all: unknown[]) => {
    all.pop();
    return all.length === 2 && all[0] === all[1];
  };
  const compiled = new Map(templates.map((template) => [template.partial, compileText(template.text)]));
  const run = (template: NamedTemplate, ctx: unknown, options?: Handlebars.RuntimeOptions): string => {
    stack.push(template);
    try {
      return compiled.get(template.partial)!(ctx, options);
    } finally {
      stack.pop();
    }
  };
  const included = new Set<string>([MAIN]);
  const partials: Record<string, Handlebars.TemplateDelegate> = {};
  for (const template of templates) {
    if (template.partial === MAIN) continue;
    partials[template.partial] = ((ctx: unknown, options?: Handlebars.RuntimeOptions) => {
      included.add(template.partial);
      return run(template, ctx, options);
    }) as Handlebars.TemplateDelegate;
  }
  return (main, context) => {
    const markdown = run(main, context, { helpers, partials });
    for (const template of templates) {
      if (!included.has(template.partial)) problems.push({ file: template.file, line: 1, column: 1, path: '', message: messages.templateUnusedPartial(template.partial) });
    }
    return markdown;
  };
}

function isQuantityValue(value: unknown): value is Quantity {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'quantity';
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** An enum field's display word, from the record's collection declaration. */
function enumLabel(data: Dataset, path: string, field: string, value: unknown): string | undefined {
  const [collection] = path.split('.');
  const fields = collection === 'entities' ? data.entity_fields : data.collections[collection ?? '']?.fields;
  const spec = fields?.[field] ? normalizeField(fields[field]!) : undefined;
  if (spec?.type !== 'enum' || typeof value !== 'string') return undefined;
  return enumValues(spec).get(value)?.label;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'missing (nothing at that path)';
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (isFigureValue(value)) return `a figure in ${value.unit}`;
  return typeof value === 'object' ? 'a record, not a single value' : `a ${typeof value}`;
}
