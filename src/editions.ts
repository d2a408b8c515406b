/**
 * Editions: what changed between the previous edition's dataset and this one,
 * fact by fact, so the briefing's "What changed" section can list it.
 *
 * A fact is a record (an entity, a deal, a claim...) or, inside a record that
 * both editions have, one field of it; a figure ({value, unit, ...}) counts as
 * one field, so a new value reads "40.1% -> 40.7%" rather than as a change to
 * `value`. The `edition` block itself is not compared: its date always moves.
 */
import { createFormatter, type Formatter, type FigureLike } from './format.ts';
import type { Dataset } from './schema.ts';

/** One added, removed or changed fact, with values formatted for the reader. */
export interface EditionChange {
  kind: 'added' | 'removed' | 'changed';
  /** Dataset path, e.g. `metrics.share_q1_2026` or `deals.vnet.amount`. */
  path: string;
  /** The record's own name or label, e.g. "Share of the global battery market". */
  label: string;
  /** Formatted old value (changed and removed facts). */
  before?: string;
  /** Formatted new value (changed and added facts). */
  after?: string;
}

/** The sections of a dataset that hold facts, in the order the diff lists them. */
const SECTIONS = ['sources', 'layers', 'entities', 'deals', 'rounds', 'metrics', 'claims', 'derived'] as const;

type Plain = Record<string, unknown>;

/** Lists the facts added, removed and changed from `previous` to `current`, in dataset order. */
export function diffEditions(previous: Dataset, current: Dataset): EditionChange[] {
  const format = createFormatter(current.edition.language);
  const nameOf = (entity: unknown) =>
    typeof entity === 'string' ? (current.entities[entity]?.name ?? previous.entities[entity]?.name ?? entity) : '';
  const labelRecord = (section: string, id: string, record: Plain): string => {
    // Deals and rounds have no name of their own; they are known by their counterparty.
    if (section === 'deals') return `Deal with ${nameOf(record.counterparty)}`;
    if (section === 'rounds') return `Funding round of ${nameOf(record.company)}`;
    if (section === 'claims') return 'Claim';
    return nameRecord(id, record);
  };
  const changes: EditionChange[] = [];
  for (const section of SECTIONS) {
    const before = previous[section] as Record<string, Plain>;
    const after = current[section] as Record<string, Plain>;
    for (const id of unionKeys(before, after)) {
      const path = `${section}.${id}`;
      const old = before[id];
      const now = after[id];
      if (old === undefined && now !== undefined) {
        changes.push({ kind: 'added', path, label: labelRecord(section, id, now), after: summarizeRecord(now, format) });
      } else if (old !== undefined && now === undefined) {
        changes.push({ kind: 'removed', path, label: labelRecord(section, id, old), before: summarizeRecord(old, format) });
      } else if (old !== undefined && now !== undefined) {
        const label = labelRecord(section, id, now);
        for (const change of diffFields(path, old, now, format)) changes.push({ ...change, label });
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

function diffFields(path: string, old: unknown, now: unknown, format: Formatter): Omit<EditionChange, 'label'>[] {
  if (isFigure(old) && isFigure(now)) {
    const changes: Omit<EditionChange, 'label'>[] = [];
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

function diffObjects(path: string, old: Plain, now: Plain, format: Formatter): Omit<EditionChange, 'label'>[] {
  const changes: Omit<EditionChange, 'label'>[] = [];
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

/** What an added or removed record was, in a phrase: its figure, text or name. */
function summarizeRecord(record: Plain, format: Formatter): string {
  if (isFigure(record)) return formatFigure(record, format, true);
  if (typeof record.text === 'string') return record.text;
  if (isFigure(record.amount)) return formatFigure(record.amount, format, false);
  if (typeof record.status === 'string') return record.status;
  return nameRecord('', record) || summarizeValue(record, format);
}
