/**
 * The validated dataset as formulas see it (expression.ts's Scope): figures
 * become quantities in base units that know their path and source,
 * references lead to the record they name, enum values carry their display
 * word. Nothing here knows any report: it reads the declarations.
 */
import type { CollectionRef, EnumValue, Quantity, RecordRef, Scope, Value } from './expression.ts';
import { enumValues, normalizeField } from './declare.ts';
import type { Dataset, FieldSpec } from './schema.ts';

/** The fields of a metric (metricOf in schema.ts). */
const METRIC_FIELDS = ['label', 'subject', 'value', 'unit', 'scale', 'period', 'source', 'approximate', 'note'];

export const SCALE_FACTORS = { thousand: 1e3, million: 1e6, billion: 1e9 } as const;
/** Units that are written out of 100 and enter formulas as fractions. */
export const PER_HUNDRED = ['percent', 'percent_change', 'percentage_points'] as const;

type Raw = Record<string, unknown>;
const isRaw = (value: unknown): value is Raw => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Half a unit in the last written decimal place: the rounding a published figure carries. */
function halfUnit(value: number): number {
  const decimals = (String(value).split('.')[1] ?? '').replace(/e.*$/, '').length;
  return 0.5 * 10 ** -decimals;
}

/** A figure as a quantity: the scale applied, per-hundred units as fractions, its rounding as bounds. */
export function toQuantity(value: number, unit: string, scale: keyof typeof SCALE_FACTORS | undefined, where: { path?: string; source?: string; get?: (key: string) => Value; fields?: () => string[] }): Quantity {
  const perHundred = (PER_HUNDRED as readonly string[]).includes(unit);
  const factor = perHundred ? 0.01 : scale ? SCALE_FACTORS[scale] : 1;
  const half = halfUnit(value) * factor;
  return {
    kind: 'quantity',
    value: value * factor,
    dim: perHundred || unit === 'count' ? '' : unit,
    lo: value * factor - half,
    hi: value * factor + half,
    unit,
    ...(scale ? { scale } : {}),
    ...where,
  };
}

/** A quantity's number as the report writes it: a figure from the dataset out of 100 or in its scale; a computed one in base units. */
export function writtenValue(quantity: Quantity): number {
  if (!quantity.unit) return quantity.value;
  const factor = (PER_HUNDRED as readonly string[]).includes(quantity.unit) ? 0.01 : quantity.scale ? SCALE_FACTORS[quantity.scale] : 1;
  return quantity.value / factor;
}

/** A collection as formulas see it: named fields, rows by id (records) or by position (table rows). */
export interface CollectionModel {
  name: string;
  fields: Record<string, FieldSpec>;
  /** Dataset path of each row in templates and footnotes: `orders.o17`, `generation.3`. */
  rows: { id: string; path: string; value: Raw }[];
  /** The table's source (rows of a table name none of their own). */
  source?: string;
  /** True for a table (rows by position), false for records by id. */
  table: boolean;
}

/** Every collection of the dataset by name, entities included, in declaration order. */
export function listCollections(data: Dataset): CollectionModel[] {
  const out: CollectionModel[] = [];
  const entityFields: Record<string, FieldSpec> = { name: 'text', short_name: 'text', role: { type: 'text', optional: true }, url: { type: 'url', optional: true }, ...data.entity_fields };
  out.push({ name: 'entities', fields: entityFields, rows: Object.entries(data.entities).map(([id, value]) => ({ id, path: `entities.${id}`, value: value as Raw })), table: false });
  for (const [name, spec] of Object.entries(data.collections)) {
    const rows = spec.records
      ? Object.entries(spec.records).map(([id, value]) => ({ id, path: `${name}.${id}`, value }))
      : (spec.rows ?? []).map((value, index) => ({ id: String(index), path: `${name}.${index}`, value }));
    out.push({ name, fields: spec.fields, rows, table: !spec.records, ...(spec.source ? { source: spec.source } : {}) });
  }
  return out;
}

/** Builds the Scope over a dataset; `derived` gives the quantity of a derived figure by id (computed on demand). */
export function createScope(data: Dataset, derived: { ids: string[]; get(id: string): Quantity }, call?: Scope['call']): Scope {
  const collections = new Map(listCollections(data).map((collection) => [collection.name, collection]));
  const refs = new Map<string, RecordRef>();
  const recordOf = (collection: CollectionModel, row: CollectionModel['rows'][number]): RecordRef => {
    let ref = refs.get(row.path);
    if (!ref) {
      ref = makeRecord(row.path, row.id, row.value, collection.fields, collection.source, (to, id) => lookup(to, id));
      refs.set(row.path, ref);
    }
    return ref;
  };
  const collectionRef = (collection: CollectionModel): CollectionRef => ({
    kind: 'collection',
    path: collection.name,
    rows: () => collection.rows.map((row) => recordOf(collection, row)),
    fields: () => Object.keys(collection.fields),
  });
  const lookup = (to: string, id: string): Value => {
    if (to === 'sources') return sourceRecord(data, id);
    if (to === 'metrics') return metricQuantity(data, id, lookup);
    const collection = collections.get(to);
    const row = collection?.rows.find((r) => r.id === id);
    return collection && row ? recordOf(collection, row) : id;
  };
  const roots: Record<string, () => Value> = {
    edition: () => plainRecord('edition', data.edition as Raw),
    sources: () => fixedRecord('sources', Object.keys(data.sources), (id) => sourceRecord(data, id)),
    metrics: () => fixedRecord('metrics', Object.keys(data.metrics), (id) => metricQuantity(data, id, lookup)),
    derived: () => fixedRecord('derived', derived.ids, (id) => derived.get(id)),
  };
  for (const collection of collections.values()) roots[collection.name] = () => collectionRef(collection);
  return {
    root: (name) => (Object.hasOwn(roots, name) ? roots[name]!() : undefined),
    names: () => Object.keys(roots),
    ...(call ? { call } : {}),
  };
}

/** A record whose fields are typed by their declarations. */
function makeRecord(path: string, id: string, value: Raw, fields: Record<string, FieldSpec>, tableSource: string | undefined, lookup: (to: string, id: string) => Value): RecordRef {
  const source = typeof value.source === 'string' ? value.source : tableSource;
  const names = [...new Set([...Object.keys(fields), 'id', 'source'])];
  return {
    kind: 'record',
    path,
    id,
    ...(source ? { source } : {}),
    fields: () => names,
    get(key) {
      if (key === 'id') return id;
      if (key === 'source') return source;
      const spec = fields[key];
      return spec ? typedValue(value[key], spec, `${path}.${key}`, source, lookup) : undefined;
    },
  };
}

function typedValue(value: unknown, raw: FieldSpec, path: string, source: string | undefined, lookup: (to: string, id: string) => Value): Value {
  if (value === undefined || value === null) return undefined;
  const spec = normalizeField(raw);
  switch (spec.type) {
    case 'figure': {
      if (typeof value === 'number') return toQuantity(value, spec.unit ?? 'count', spec.scale, { path, ...(source ? { source } : {}) });
      const figure = value as { value: number; unit: string; scale?: keyof typeof SCALE_FACTORS; source: string };
      return toQuantity(figure.value, figure.unit, figure.scale, { path, source: figure.source, ...fieldAccess(path, figure as unknown as Raw) });
    }
    case 'ref':
      return lookup(spec.to ?? '', String(value));
    case 'enum': {
      const word = enumValues(spec).get(String(value));
      return { kind: 'enum', value: String(value), label: word?.label ?? String(value) } satisfies EnumValue;
    }
    case 'list':
      return Array.isArray(value) ? value.map((item, i) => typedValue(item, spec.of ?? 'text', `${path}.${i}`, source, lookup)) : undefined;
    case 'timing':
      return plainRecord(path, value as Raw);
    default:
      return value as Value;
  }
}

/** The other fields of a figure or record (period, label, note...), as plain values. */
function fieldAccess(path: string, record: Raw): { get: (key: string) => Value; fields: () => string[] } {
  return { get: (key) => plainValue(record[key], `${path}.${key}`), fields: () => Object.keys(record) };
}

function plainValue(value: unknown, path: string): Value {
  if (isRaw(value)) return plainRecord(path, value);
  if (Array.isArray(value)) return value.map((item, i) => plainValue(item, `${path}.${i}`));
  return value as Value;
}

function plainRecord(path: string, record: Raw): RecordRef {
  return { kind: 'record', path, id: path.split('.').at(-1) ?? path, ...fieldAccess(path, record) };
}

function fixedRecord(path: string, ids: string[], get: (id: string) => Value): RecordRef {
  return { kind: 'record', path, id: path, fields: () => ids, get: (key) => (ids.includes(key) ? get(key) : undefined) };
}

function sourceRecord(data: Dataset, id: string): Value {
  const source = data.sources[id];
  return source ? plainRecord(`sources.${id}`, source as Raw) : id;
}

function metricQuantity(data: Dataset, id: string, lookup: (to: string, id: string) => Value): Value {
  const metric = data.metrics[id];
  if (!metric) return undefined;
  const path = `metrics.${id}`;
  const access = fieldAccess(path, metric as Raw);
  return toQuantity(metric.value, metric.unit, metric.scale, {
    path,
    source: metric.source,
    // Every field a metric may have, set or not: an absent optional one reads as not set, not as misspelt.
    fields: () => METRIC_FIELDS,
    get: (key) => (key === 'subject' && metric.subject ? lookup('entities', metric.subject) : access.get(key)),
  });
}
