/**
 * Chart data: Dataset + Derived -> rows by data name. Every number a chart
 * shows comes from the dataset: a spec names a view, collection or table and
 * gets its rows, each with `source`, the citation its source line shows.
 */
import { formatterFor, type Derived } from '../dataset/derive.ts';
import type { Value } from '../dataset/expression.ts';
import { writtenValue } from '../dataset/model.ts';
import type { Dataset } from '../dataset/schema.ts';

type Row = Record<string, unknown>;

/** "Example Weekly, “Title of the article” (c. April–June 2026)": a source as a chart's source line names it. */
export function citeForChart(data: Dataset, sourceId: string): string {
  const source = data.sources[sourceId];
  if (!source) return sourceId;
  const format = formatterFor(data);
  const published = source.published.period
    ? `${source.published.approximate ? 'c. ' : ''}${format.period(source.published.period)}`
    : source.published.as_given;
  return `${source.publication}, “${source.title}” (${published})`;
}

/** A formula's value as a chart reads it: a figure as its written number, a reference as its id. */
function plain(value: Value): unknown {
  if (value === undefined) return null;
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value !== 'object' || value === null) return value;
  switch (value.kind) {
    case 'quantity':
      return writtenValue(value);
    case 'enum':
      return value.value;
    case 'record':
      return value.id;
    case 'collection':
      return value.path;
  }
}

/** A stored value as a chart reads it: a figure as its written number. */
function plainStored(value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value) && typeof (value as Row).value === 'number' && typeof (value as Row).unit === 'string') return (value as Row).value;
  return value;
}

/**
 * Rows for every name a chart may ask for: each view, collection and table
 * of the dataset, plus `entities` and `metrics`. Each row carries `source`,
 * the citation its chart's source line shows.
 */
export function bindChartData(data: Dataset, derived: Derived): Record<string, Row[]> {
  const cite = (id: unknown) => (typeof id === 'string' ? citeForChart(data, id) : undefined);
  const rows: Record<string, Row[]> = {};
  const stored = (id: string | undefined, value: Row, tableSource?: string): Row => {
    const row: Row = id === undefined ? {} : { id };
    for (const [key, field] of Object.entries(value)) row[key] = plainStored(field);
    const source = cite(value.source ?? tableSource);
    if (source) row.source = source;
    return row;
  };
  rows.entities = Object.entries(data.entities).map(([id, entity]) => stored(id, entity as Row));
  rows.metrics = Object.entries(data.metrics).map(([id, metric]) => stored(id, metric as Row));
  for (const [name, spec] of Object.entries(data.collections)) {
    rows[name] = spec.records ? Object.entries(spec.records).map(([id, record]) => stored(id, record)) : (spec.rows ?? []).map((row) => stored(undefined, row, spec.source));
  }
  for (const [name, view] of Object.entries(derived.views)) {
    rows[name] = view.rows.map((row) => {
      const out: Row = {};
      for (const [field, value] of Object.entries(row.values)) out[field] = plain(value);
      if (!('source' in out) && row.source) out.source = cite(row.source);
      return out;
    });
  }
  return rows;
}

