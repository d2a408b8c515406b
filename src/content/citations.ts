/**
 * Citations: the footnote text for each fact the helpers print. One footnote
 * per fact, labelled by its dataset path: a quoted fact names its source in
 * short form ("Vector (2026)", linked to the source list, where each source
 * is described in full once) and the notes the report declares, a derived
 * figure gives its formula and inputs, a count lists what it counted.
 */
import type { DerivedFigure } from '../dataset/derive.ts';
import { enumValues, normalizeField } from '../dataset/declare.ts';
import type { Dataset, FieldSpec } from '../dataset/schema.ts';
import type { Formatter } from '../text/format.ts';
import { codePath } from './markdown.ts';

// A list item's anchor: a link with a scheme of our own at the start of the
// item, which finishTree turns into the item's id (escaped data cannot forge it).
export const ANCHOR_SCHEME = 'briefing-anchor:';

/** The id of a source's entry in the source list. */
export const sourceAnchor = (id: string) => `source-${id.replace(/[^A-Za-z0-9_-]/g, '-')}`;

/** What the footnotes of one rendering are written from. */
export interface CitationsOptions {
  data: Dataset;
  format: Formatter;
  /** The Markdown for a data string (the rendering's literals). */
  literal: (value: string) => string;
  /** The value at a dotted path of the template context. */
  resolve: (path: string) => unknown;
}

/** The footnotes of one rendering, each defined on its first citation. */
export interface Citations {
  /** The footnote reference for the fact at `path` (`value` is what is there). */
  cite(path: string, value: unknown): string;
  /** The footnote reference for the number of entries of the collection at `path`. */
  citeCount(path: string, entries: string[], table: boolean): string;
  /** Every footnote as a Markdown definition, in order of first citation. */
  definitions(): string[];
  /** The source list as Markdown: each of the dataset's sources described in full, once. */
  sourceList(): string;
  /** Whether any footnote names a source (so the briefing needs its source list). */
  citesSources(): boolean;
}

interface Sources extends CitationsOptions {
  notesFor: (path: string[], node: Record<string, unknown>) => string[];
}

/** What the notes are written with: the sources, and the short form of each (which records that one was named). */
interface Cited extends Sources {
  short: (id: string) => string;
}

/** The footnotes for one rendering, in order of first citation. */
export function createCitations(options: CitationsOptions): Citations {
  const sources: Sources = { ...options, notesFor: declaredNotes(options.data) };
  const { data, literal } = options;
  const footnotes = new Map<string, string>();
  let named = false;
  const cited = { ...sources, short: (id: string) => ((named = true), shortSource(sources, id)) };
  return {
    cite(path, value) {
      if (!footnotes.has(path)) {
        const derived = isDerivedFigure(value) ? value : undefined;
        const source = /^sources\.([^.]+)$/.exec(path)?.[1];
        const body = derived
          ? describeDerived(cited, derived)
          : source
            ? [`${cited.short(source)}.`, `Dataset: ${codePath(path)}.`]
            : [...sourceOfFact(cited, path), `Dataset: ${codePath(path)}.`];
        footnotes.set(path, body.filter(Boolean).join(' '));
      }
      return `[^${path}]`;
    },
    citeCount(path, entries, table) {
      const label = `count.${path}`;
      if (!footnotes.has(label)) footnotes.set(label, countNote(path, entries, table));
      return `[^${label}]`;
    },
    definitions: () => [...footnotes].map(([label, text]) => `[^${label}]: ${text}`),
    sourceList: () => Object.keys(data.sources).map((id) => `- [](${ANCHOR_SCHEME}${sourceAnchor(id)})${describeSource(sources, id)}`).join('\n'),
    citesSources: () => named,
  };
}

/** "Vector (2026)": the author, or else the publication, and the year the source is dated to ("n.d." when it is not). */
function authorDate(source: Dataset['sources'][string]): string {
  return `${source.author ?? source.publication} (${/^\d{4}/.exec(source.published.period ?? '')?.[0] ?? 'n.d.'})`;
}

/** A source in short, author-date form, linked to its entry in the source list: "Vector (2026)". */
function shortSource({ data, literal }: Sources, id: string): string {
  const source = data.sources[id];
  if (!source) return literal(id);
  return `[${literal(authorDate(source))}](#${sourceAnchor(id)})`;
}

/** A source described in full: short form, linked title, kind, date as given, author, and what is missing from the copy. */
function describeSource({ data, literal }: Sources, id: string): string {
  const source = data.sources[id]!;
  const details = [source.kind, source.published.as_given, source.author ? `by ${source.author}` : '', source.author ? `in ${source.publication}` : '', source.truncated ? 'truncated copy' : ''].filter(Boolean).map((detail) => literal(detail));
  // An angle-bracketed destination with <, > and \ escaped keeps any URL whole: it cannot close the link early.
  const title = source.url ? `[${literal(source.title)}](<${source.url.replace(/[<>\\]/g, (c) => `\\${c}`)}>)` : literal(source.title);
  const truncation = source.truncation ? ` ${literal(source.truncation)}` : '';
  return `${literal(authorDate(source))}. “${title}” (${details.join('; ')}).${truncation} Dataset: ${codePath(`sources.${id}`)}.`;
}

/** A quoted fact's citation and notes. */
function sourceOfFact(sources: Cited, path: string): string[] {
  const { data, literal, resolve, notesFor } = sources;
  // The nearest `source` up the path, and the notes the report declares for
  // the fields of each record on the way ("according to two people briefed...").
  const parts = path.split('.');
  let source: string | undefined;
  const notes: string[] = [];
  for (let i = 1; i <= parts.length; i++) {
    const node = resolve(parts.slice(0, i).join('.')) as Record<string, unknown> | undefined;
    if (typeof node !== 'object' || node === null) continue;
    if (typeof node.source === 'string') source = node.source;
    for (const note of notesFor(parts.slice(0, i), node)) notes.push(literal(note));
    if (i === parts.length) {
      if (node.approximate === true) notes.push('Approximate as given in the source.');
      if (typeof node.note === 'string') notes.push(literal(node.note));
    }
  }
  if (!source) source = tableSource(data, parts[0] ?? '');
  return [source ? `${sources.short(source)}.` : '', ...notes];
}

/** A derived figure's footnote: its value, formula, inputs and their sources. */
function describeDerived(sources: Cited, figure: DerivedFigure): string[] {
  const { format, literal, resolve } = sources;
  const inputs = figure.inputs.map((path) => {
    const value = resolve(path);
    const shown = isFigureValue(value) ? `${format.figure(value)}${typeof value.period === 'string' ? ` (${format.period(value.period)})` : ''}` : '';
    return shown ? `${codePath(path)} = ${literal(shown)}` : codePath(path);
  });
  const cited = figure.sources.map((id) => sources.short(id));
  return [
    `Derived: ${literal(figure.label)}, ${literal(format.figure(figure))}.`,
    `Computed as ${literal(figure.formula)}, from ${inputs.join('; ')}.`,
    cited.length ? `Inputs from ${cited.join(', ')}.` : '',
    `Dataset: ${codePath(figure.id)}.`,
  ];
}

function countNote(path: string, entries: string[], table: boolean): string {
  const listed = !table && entries.length <= 12 ? ` (${entries.map((id) => codePath(id)).join(', ')})` : '';
  return `Counted by the pipeline: the entries of ${codePath(path)}${listed}. Dataset: ${codePath(path)}.`;
}

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

/** Whether a value is a figure: a number with a unit. */
export function isFigureValue(value: unknown): value is { value: number; unit: string; scale?: 'thousand' | 'million' | 'billion'; period?: unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { value?: unknown }).value === 'number' && typeof (value as { unit?: unknown }).unit === 'string';
}

function isDerivedFigure(value: unknown): value is DerivedFigure {
  return isFigureValue(value) && typeof (value as { formula?: unknown }).formula === 'string' && Array.isArray((value as { inputs?: unknown }).inputs);
}
