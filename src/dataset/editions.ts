/**
 * Editions: what changed between the previous edition's dataset and this one,
 * fact by fact, so the briefing's "What changed" section can list it.
 *
 * A fact is a record (an entity, a row of a collection...) or, inside a record that
 * both editions have, one field of it; a figure ({value, unit, ...}) counts as
 * one field, so a new value reads "40.1% -> 40.7%" rather than as a change to
 * `value`. The `edition` block itself is not compared: its date always moves.
 * Only editions of one report (the same `edition.id`) are compared.
 */
import { formatterFor } from './derive.ts';
import { evaluate, FormulaError, parseFormula, type RecordRef } from './expression.ts';
import { createScope } from './model.ts';
import type { Dataset } from './schema.ts';
import type { Formatter, FigureLike } from '../text/format.ts';

/** One added, removed or changed fact, with values formatted for the reader. */
export interface EditionChange {
  kind: 'added' | 'removed' | 'changed';
  /** The section the fact is in, by its declared label ("Orders", "Metrics"). */
  section: string;
  /** Dataset path, e.g. `metrics.revenue_2025` or `orders.o17.amount`. */
  path: string;
  /** The record's own name or label, e.g. "Revenue of the cloud segment". */
  label: string;
  /** Formatted old value (changed and removed facts). */
  before?: string;
  /** Formatted new value (changed and added facts). */
  after?: string;
}

type Plain = Record<string, unknown>;

/** The sections that hold facts, in the order the diff lists them: the core ones and the report's collections, as declared. */
function sectionsOf(previous: Dataset, current: Dataset): { name: string; label: string; records: (data: Dataset) => Record<string, Plain> }[] {
  const names = [...new Set([...Object.keys(current.collections), ...Object.keys(previous.collections)])];
  const records = (name: string) => (data: Dataset) => {
    const spec = data.collections[name];
    if (!spec) return {};
    return (spec.records ?? Object.fromEntries((spec.rows ?? []).map((row, i) => [String(i), row]))) as Record<string, Plain>;
  };
  return [
    { name: 'sources', label: 'Sources', records: (data) => data.sources as Record<string, Plain> },
    { name: 'entities', label: 'Entities', records: (data) => data.entities as Record<string, Plain> },
    ...names.map((name) => ({ name, label: (current.collections[name] ?? previous.collections[name])!.label, records: records(name) })),
    { name: 'metrics', label: 'Metrics', records: (data) => data.metrics as Record<string, Plain> },
    { name: 'derived', label: 'Derived figures', records: (data) => data.derived as Record<string, Plain> },
  ];
}

/** A record's name in the diff: its collection's `title` formula, else its name, label, title or description, else its id. */
function titler(data: Dataset): (section: string, id: string, record: Plain) => string {
  const scope = createScope(data, { ids: [], get: (id) => { throw new FormulaError(`derived.${id} is not available in a title`); } });
  return (section, id, record) => {
    const title = data.collections[section]?.title;
    const collection = title ? scope.root(section) : undefined;
    const datum = collection && typeof collection === 'object' && !Array.isArray(collection) && collection.kind === 'collection' ? collection.rows().find((row: RecordRef) => row.id === id) : undefined;
    if (title && datum) {
      try {
        const value = evaluate(parseFormula(title), scope, { datum }).value;
        if (typeof value === 'string') return value;
      } catch (error) {
        if (!(error instanceof FormulaError)) throw error;
      }
    }
    return nameRecord(id, record);
  };
}

/** Lists the facts added, removed and changed from `previous` to `current`, in dataset order. */
export function diffEditions(previous: Dataset, current: Dataset): EditionChange[] {
  const format = formatterFor(current);
  const [titleNow, titleThen] = [titler(current), titler(previous)];
  const changes: EditionChange[] = [];
  for (const section of sectionsOf(previous, current)) {
    const before = section.records(previous);
    const after = section.records(current);
    for (const id of unionKeys(before, after)) {
      const path = `${section.name}.${id}`;
      const old = before[id];
      const now = after[id];
      if (old === undefined && now !== undefined) {
        changes.push({ kind: 'added', section: section.label, path, label: titleNow(section.name, id, now), after: summarizeRecord(now, format) });
      } else if (old !== undefined && now === undefined) {
        changes.push({ kind: 'removed', section: section.label, path, label: titleThen(section.name, id, old), before: summarizeRecord(old, format) });
      } else if (old !== undefined && now !== undefined) {
        const label = titleNow(section.name, id, now);
        for (const change of diffFields(path, old, now, format)) changes.push({ ...change, section: section.label, label });
      }
    }
  }
  return changes;
}

function unionKeys(a: Plain, b: Plain): string[] {
  // Current order first, then whatever only the previous edition had.
  return [...new Set([...Object.keys(b), ...Object.keys(a)])];
}

function isFigure(value: unknown): value is FigureLike & Plain {
  return typeof value === 'object' && value !== null && typeof (value as Plain).value === 'number' && typeof (value as Plain).unit === 'string';
}

/** The fields of a figure that make up "the number"; the rest (source, note...) are compared as fields. */
const FIGURE_CORE = ['value', 'unit', 'scale', 'period'] as const;

function diffFields(path: string, old: unknown, now: unknown, format: Formatter): Omit<EditionChange, 'label' | 'section'>[] {
  if (isFigure(old) && isFigure(now)) {
    const changes: Omit<EditionChange, 'label' | 'section'>[] = [];
    const coreChanged = FIGURE_CORE.some((key) => !sameValue(old[key], now[key]));
    if (coreChanged) {
      // Show the period only when it is what moved, so "40.1% -> 40.7%" stays short.
      const showPeriod = old.period !== now.period;
      changes.push({ kind: 'changed', path, before: formatFigure(old, format, showPeriod), after: formatFigure(now, format, showPeriod) });
    }
    const rest = (record: Plain) => Object.fromEntries(Object.entries(record).filter(([key]) => !(FIGURE_CORE as readonly string[]).includes(key)));
    return [...changes, ...diffObjects(path, rest(old), rest(now), format)];
  }
  if (isPlainObject(old) && isPlainObject(now)) return diffObjects(path, old, now, format);
  if (sameValue(old, now)) return [];
  return [{ kind: 'changed', path, before: summarizeValue(old, format), after: summarizeValue(now, format) }];
}

function diffObjects(path: string, old: Plain, now: Plain, format: Formatter): Omit<EditionChange, 'label' | 'section'>[] {
  const changes: Omit<EditionChange, 'label' | 'section'>[] = [];
  for (const key of unionKeys(old, now)) {
    const at = `${path}.${key}`;
    if (old[key] === undefined && now[key] !== undefined) changes.push({ kind: 'added', path: at, after: summarizeValue(now[key], format) });
    else if (old[key] !== undefined && now[key] === undefined) changes.push({ kind: 'removed', path: at, before: summarizeValue(old[key], format) });
    else changes.push(...diffFields(at, old[key], now[key], format));
  }
  return changes;
}

function isPlainObject(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function formatFigure(figure: FigureLike & Plain, format: Formatter, withPeriod: boolean): string {
  const text = format.figure(figure);
  return withPeriod && typeof figure.period === 'string' ? `${text} (${format.period(figure.period)})` : text;
}

function summarizeValue(value: unknown, format: Formatter): string {
  if (isFigure(value)) return formatFigure(value, format, true);
  if (Array.isArray(value)) return value.map((item) => summarizeValue(item, format)).join(', ');
  if (isPlainObject(value)) {
    // A timing block reads best as the source's own words.
    if (typeof value.as_given === 'string') return value.as_given;
    return Object.entries(value)
      .map(([key, item]) => `${key}: ${summarizeValue(item, format)}`)
      .join('; ');
  }
  return String(value);
}

/** A record's human name: its name, label, title or description, else its id. */
function nameRecord(id: string, record: Plain): string {
  for (const key of ['name', 'label', 'title', 'description']) {
    if (typeof record[key] === 'string') return record[key];
  }
  return id;
}

/** What an added or removed record was, in a phrase: its figure, its text, its first figure, or its name. */
function summarizeRecord(record: Plain, format: Formatter): string {
  if (isFigure(record)) return formatFigure(record, format, true);
  if (typeof record.text === 'string') return record.text;
  const figure = Object.values(record).find(isFigure);
  if (figure) return formatFigure(figure, format, false);
  return nameRecord('', record) || summarizeValue(record, format);
}
