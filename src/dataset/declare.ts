/**
 * Declarations -> zod: the validator for the records of a report's own
 * collections and entities, built from the field declarations in its dataset
 * (docs/report-format.md, "Collections"), so a misspelt key, a wrong type, an
 * unknown enum value or a missing field is reported like any other problem.
 */
import { z } from 'zod';
import { collectionShape, entityBase, figureOf, refineCollection, finite, httpUrl, id, isoDate, metricOf, periodOf, SCALES, text, timingOf, type CollectionSpec, type FieldSpec, type FieldSpecObject } from './schema.ts';
import type { FiscalYear } from './period.ts';

/** A field declaration with the short form (`name: text`) expanded. */
export function normalizeField(spec: FieldSpec): FieldSpecObject {
  return typeof spec === 'string' ? { type: spec } : spec;
}

/** The enum's display word and note for each allowed value. */
export function enumValues(spec: FieldSpecObject): Map<string, { label: string; note?: string }> {
  return new Map(Object.entries(spec.values ?? {}).map(([value, word]) => [value, typeof word === 'string' ? { label: word } : word]));
}

const range = (schema: z.ZodNumber, spec: FieldSpecObject) => {
  let out = schema;
  if (spec.min !== undefined) out = out.min(spec.min, { message: `must be ${spec.min} or more` });
  if (spec.max !== undefined) out = out.max(spec.max, { message: `must be ${spec.max} or less` });
  return out;
};

/** The zod type of one field; in a table a figure is a plain number (its unit and scale are the column's). */
export function fieldSchema(raw: FieldSpec, fiscal: FiscalYear | undefined, table = false): z.ZodType {
  const spec = normalizeField(raw);
  const schema = baseSchema(spec, fiscal, table);
  return spec.optional ? schema.optional() : schema;
}

function baseSchema(spec: FieldSpecObject, fiscal: FiscalYear | undefined, table: boolean): z.ZodType {
  switch (spec.type) {
    case 'text':
      return text;
    case 'integer':
      return range(finite.int({ message: 'must be a whole number' }), spec);
    case 'number':
      return range(finite, spec);
    case 'boolean':
      return z.boolean({ message: 'must be true or false' });
    case 'date':
      return isoDate;
    case 'period':
      return periodOf(fiscal);
    case 'timing':
      return timingOf(fiscal);
    case 'url':
      return httpUrl;
    case 'ref':
      return id;
    case 'enum': {
      const allowed = [...enumValues(spec).keys()];
      return z.string({ message: `must be one of ${allowed.join(', ')}` }).refine((value) => allowed.includes(value), { message: `must be one of ${allowed.join(', ')}` });
    }
    case 'figure':
      return table ? range(finite, spec) : figureField(spec, fiscal);
    case 'list':
      return z.array(fieldSchema(spec.of ?? 'text', fiscal, table), { message: 'must be a list' });
  }
}

/** A figure field: the declared unit (or any currency) and scale are part of its type. */
function figureField(spec: FieldSpecObject, fiscal: FiscalYear | undefined): z.ZodType {
  let schema: z.ZodType = spec.min !== undefined || spec.max !== undefined ? figureOf(fiscal).extend({ value: range(finite, spec) }) : figureOf(fiscal);
  if (spec.unit && spec.unit !== 'currency') {
    const unit = spec.unit;
    schema = schema.refine((figure) => (figure as { unit: string }).unit === unit, { message: `unit must be ${unit}`, path: ['unit'] });
  }
  if (spec.scale) {
    const scale = spec.scale;
    schema = schema.refine((figure) => (figure as { scale?: string }).scale === scale, { message: `scale must be ${scale}`, path: ['scale'] });
  }
  return schema;
}

/** The shape of one record (every record names its source) or table row (the table names it). */
export function recordShape(fields: Record<string, FieldSpec>, fiscal: FiscalYear | undefined, table: boolean): z.ZodRawShape {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, spec] of Object.entries(fields)) shape[name] = fieldSchema(spec, fiscal, table);
  if (!table && !('source' in shape)) shape.source = id;
  return shape;
}

/** The collection's declaration schema with its records or inline rows checked against its fields. */
export function collectionSchema(spec: CollectionSpec, fiscal: FiscalYear | undefined): z.ZodType {
  const table = spec.records === undefined;
  const record = z.strictObject(recordShape(spec.fields, fiscal, table));
  return z
    .strictObject({
      ...collectionShape,
      records: z.record(id, record).optional(),
      rows: z.array(record).max(100_000, { message: 'must have at most 100,000 rows' }).optional(),
    })
    .superRefine(refineCollection);
}

/** Entities: the base fields plus those the report declares in `entity_fields`. */
export function entitySchema(entityFields: Record<string, FieldSpec>, fiscal: FiscalYear | undefined): z.ZodType {
  const declared: Record<string, z.ZodType> = {};
  for (const [name, spec] of Object.entries(entityFields)) declared[name] = fieldSchema(spec, fiscal);
  return z.record(id, z.strictObject({ ...entityBase, ...declared }));
}

/** Metrics, with periods read under the report's fiscal year. */
export function metricsSchema(fiscal: FiscalYear | undefined): z.ZodType {
  return z.record(id, metricOf(fiscal));
}

/** A CSV cell as the value its column's type expects; what cannot convert stays text, so zod reports it. */
export function coerceCell(raw: FieldSpec, cell: string): unknown {
  const spec = normalizeField(raw);
  const trimmed = cell.trim();
  if (trimmed === '') return undefined;
  if (spec.type === 'integer' || spec.type === 'number' || spec.type === 'figure') {
    return /^[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?$/i.test(trimmed) ? Number(trimmed) : cell;
  }
  if (spec.type === 'boolean') return trimmed === 'true' ? true : trimmed === 'false' ? false : cell;
  return cell;
}

export { SCALES };
