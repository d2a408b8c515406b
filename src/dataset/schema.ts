/**
 * The dataset's one definition (docs/report-format.md). The core (edition,
 * units, sources, entities, metrics, declarations of collections, derived
 * figures, checks and views) is one zod schema; the records of the
 * collections a report declares are checked by the zod schema built from
 * their declarations (declare.ts), which `datasetSchema` plugs into the core.
 * Types come from here (`z.infer`); so does the JSON Schema editors use
 * (schema/dataset.schema.json, from `coreSchema`).
 */
import { z } from 'zod';
import { isPeriod, periodProblem, type FiscalYear } from './period.ts';

/** Ids are lowercase slugs so they are safe in paths, anchors and templates. */
export const id = z.string().regex(/^[a-z0-9]+(?:[-_][a-z0-9]+)*$/, {
  message: 'must be a lowercase id of letters, digits, "-" or "_" (for example "acme-corp")',
});

/** Field names are what formulas and templates write after a dot, so they are identifiers. */
export const fieldName = z.string().regex(/^[a-z][a-z0-9_]*$/, {
  message: 'must be a field name of lowercase letters, digits and "_", starting with a letter (for example "net_revenue")',
});

export const text = z.string().trim().min(1, { message: 'must not be empty' }).max(2000, {
  message: 'must be at most 2000 characters',
});

/** A period: one point or span (`2025`, `2026-Q1`, `FY2025-Q3`) or a range `FROM/TO`. */
export const periodOf = (fiscal?: FiscalYear) =>
  z.string({ message: 'must be text such as "2025" or 2026-Q1 (quote a bare year)' }).superRefine((value, ctx) => {
    if (!isPeriod(value, fiscal)) ctx.addIssue({ code: 'custom', message: `must be a period such as 2025, 2026-Q1, 2026-04, 2026-04-15, FY2025-Q3, or a range FROM/TO with FROM before TO${detail(periodProblem(value, fiscal))}` });
  });

const detail = (problem: string | undefined) => (problem ? ` (${problem})` : '');

/** A calendar date. YAML's own date type is turned off in load.ts, so this sees the text. */
export const isoDate = z.string().refine((value) => /^\d{4}-\d{2}-\d{2}$/.test(value) && isPeriod(value), {
  message: 'must be a calendar date written YYYY-MM-DD, for example 2026-11-29',
});

export const httpUrl = z.string().refine((value) => /^https?:\/\/[^\s]+$/i.test(value), {
  message: 'must be an http:// or https:// URL (other schemes such as javascript: or data: are refused)',
});

export const finite = z.number({
  error: (issue) => (typeof issue.input === 'number' ? 'must be a finite number (not .inf or .nan)' : 'must be a number'),
});

export const SCALES = ['thousand', 'million', 'billion'] as const;
export const scale = z.enum(SCALES, { message: `must be one of ${SCALES.join(', ')}` });

/** A formula in Vega's expression language; parsed and checked in derive.ts. */
const formula = text;

// ---------------------------------------------------------------------------
// Provenance and figures

/** The approximate wording of a date or span, kept as the source gave it. */
export const timingOf = (fiscal?: FiscalYear) =>
  z.strictObject({
    as_given: text,
    period: periodOf(fiscal).optional(),
    approximate: z.boolean(),
  });

/** A figure as written anywhere in the dataset; its unit is checked against the report's units in validate.ts. */
export const figureOf = (fiscal?: FiscalYear) =>
  z.strictObject({
    value: finite,
    unit: z.string().min(1, { message: 'must name a unit' }),
    scale: scale.optional(),
    period: periodOf(fiscal),
    source: id,
    approximate: z.boolean().optional(),
    note: text.optional(),
  });

const source = z.strictObject({
  publication: text,
  title: text,
  kind: text,
  published: timingOf(),
  author: text.optional(),
  url: httpUrl.optional(),
  truncated: z.boolean(),
  truncation: text.optional(),
  file: text.optional(),
  license: text.optional(),
});

/** What every entity has; a report adds fields with `entity_fields`. */
export const entityBase = {
  name: text,
  short_name: text,
  role: text.optional(),
  url: httpUrl.optional(),
  source: id,
};

export const metricOf = (fiscal?: FiscalYear) => figureOf(fiscal).extend({ label: text, subject: id.optional() });

// ---------------------------------------------------------------------------
// Declarations

export const FIELD_TYPES = ['text', 'integer', 'number', 'boolean', 'date', 'period', 'timing', 'url', 'enum', 'ref', 'figure', 'list'] as const;
const fieldType = z.enum(FIELD_TYPES, { message: `must be one of ${FIELD_TYPES.join(', ')}` });

const enumValue = z.union([text, z.strictObject({ label: text, note: text.optional() })], {
  message: 'must be the display word, or { label, note }',
});

export interface FieldSpecObject {
  type: (typeof FIELD_TYPES)[number];
  optional?: boolean;
  note?: string;
  label?: string;
  values?: Record<string, string | { label: string; note?: string }>;
  to?: string;
  unit?: string;
  scale?: (typeof SCALES)[number];
  of?: FieldSpec;
  min?: number;
  max?: number;
  /** In a CSV table: the header this field reads, when it is not the field's own name. */
  column?: string;
}
export type FieldSpec = (typeof FIELD_TYPES)[number] | FieldSpecObject;

/** A field's declaration: a type name, or an object with the type and its options. */
export const fieldSpec: z.ZodType<FieldSpec> = z.lazy(() =>
  z.union(
    [
      fieldType,
      z
        .strictObject({
          type: fieldType,
          optional: z.boolean().optional(),
          note: text.optional(),
          label: text.optional(),
          values: z.record(z.string().min(1), enumValue).optional(),
          to: id.optional(),
          unit: z.string().min(1).optional(),
          scale: scale.optional(),
          of: fieldSpec.optional(),
          min: finite.optional(),
          max: finite.optional(),
          column: z.string().min(1).optional(),
        })
        .superRefine((spec, ctx) => {
          const need = (key: keyof FieldSpecObject, why: string) => {
            if (spec[key] === undefined) ctx.addIssue({ code: 'custom', path: [], message: `a field of type ${spec.type} needs "${key}" (${why})` });
          };
          if (spec.type === 'enum') need('values', 'the allowed values and their display words');
          if (spec.type === 'ref') need('to', 'the collection its ids come from, e.g. entities');
          if (spec.type === 'list') need('of', 'the type of each item, e.g. { type: ref, to: entities }');
        }),
    ],
    { message: `must be a field type (${FIELD_TYPES.join(', ')}) or { type: ..., ... }` },
  ),
);

const fields = z.record(fieldName, fieldSpec).refine((value) => Object.keys(value).length > 0, { message: 'must declare at least one field' });

/** Loose here: each record is checked against its collection's declared fields (declare.ts). */
const anyRecord = z.record(z.string(), z.unknown());

/** A collection's declaration; its records stay loose here (declare.ts checks them against `fields`). */
export const collectionShape = {
  label: text,
  title: formula.optional(),
  fields,
  records: z.record(id, anyRecord).optional(),
  rows: z.array(anyRecord).optional(),
  csv: text.optional(),
  source: id.optional(),
};

/** Rules across a collection's keys: one kind of records; a table names its source. */
export function refineCollection(spec: { records?: unknown; rows?: unknown; csv?: string; source?: string }, ctx: z.RefinementCtx): void {
  const given = (['records', 'rows', 'csv'] as const).filter((key) => spec[key] !== undefined);
  if (given.length !== 1) {
    ctx.addIssue({ code: 'custom', path: [], message: `needs exactly one of records (by id), rows (an inline table) or csv (a table file beside the dataset)${given.length ? `; found ${given.join(' and ')}` : ''}` });
  }
  if ((spec.rows || spec.csv) && !spec.source) ctx.addIssue({ code: 'custom', path: [], message: 'a table needs "source": the id of the source its rows come from' });
  if (spec.csv && !/^[^/\\]+\.csv$/i.test(spec.csv)) ctx.addIssue({ code: 'custom', path: ['csv'], message: "must be the name of a .csv file in the dataset's own folder, e.g. revenue.csv" });
}

export const collectionSpec = z.strictObject(collectionShape).superRefine(refineCollection);

const unitSpec = z.strictObject({
  symbol: text.optional(),
  singular: text,
  plural: text,
  precision: z.number().int({ message: 'must be a whole number' }).min(0).max(6, { message: 'must be 0 to 6' }).optional(),
});

export const DERIVED_SCALES = ['auto', ...SCALES] as const;

const derivedSpec = z.strictObject({
  label: text,
  unit: z.string().min(1, { message: 'must name the unit of the result' }),
  scale: z.enum(DERIVED_SCALES, { message: `must be one of ${DERIVED_SCALES.join(', ')}` }).optional(),
  formula,
  note: text.optional(),
});

const tolerance = z.union([z.literal('rounding'), z.string().regex(/^\d+(?:\.\d+)?%$/), z.number().min(0)], {
  message: 'must be rounding, a relative tolerance such as "2%", or an absolute number in the unit',
});

const checkSpec = z.strictObject({
  label: text,
  for_each: id.optional(),
  where: formula.optional(),
  assert: formula,
  tolerance: tolerance.optional(),
});

const viewField = z.union([formula, z.strictObject({ formula, label: text.optional(), align: z.enum(['left', 'right']).optional() })], {
  message: 'must be a formula, or { formula, label, align }',
});

const viewSpec = z.strictObject({
  from: id,
  where: formula.optional(),
  sort: z.union([formula, z.strictObject({ by: formula, order: z.enum(['ascending', 'descending']).optional() })]).optional(),
  fields: z.record(fieldName, viewField).refine((value) => Object.keys(value).length > 0, { message: 'must compute at least one field' }),
});

const fiscalYear = z.strictObject({
  start_month: z.number().int({ message: 'must be a whole number' }).min(1).max(12, { message: 'must be a month, 1 to 12' }),
  named_by: z.enum(['start', 'end'], { message: 'must be start or end (the calendar year that names the fiscal year)' }),
});

const edition = z.strictObject({
  id,
  title: text,
  subtitle: text,
  as_of: isoDate,
  language: z.string().regex(/^[a-z]{2,3}(?:-[A-Z]{2})?$/, { message: 'must be a language tag such as en or en-GB' }),
  author: text,
  keywords: z.array(text).min(1, { message: 'must list at least one keyword' }),
  fiscal_year: fiscalYear.optional(),
});

const byId = <T extends z.ZodType>(record: T) =>
  z.record(id, record).refine((value) => Object.keys(value).length > 0, { message: 'must have at least one entry' });

/** The core schema with entities, metrics and collection records given by `parts` (loose in the core, declared in the full schema). */
function datasetWith<E extends z.ZodType, M extends z.ZodType, C extends z.ZodType>(parts: { entities: E; metrics: M; collections: C }) {
  return z.strictObject({
    $schema: z.string().optional(),
    edition,
    units: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, { message: 'must be a unit name of letters, digits and "_"' }), unitSpec).default({}),
    sources: byId(source),
    entity_fields: z.record(fieldName, fieldSpec).default({}),
    entities: parts.entities,
    metrics: parts.metrics,
    collections: parts.collections,
    derived: z.record(id, derivedSpec).default({}),
    checks: z.record(id, checkSpec).default({}),
    views: z.record(id, viewSpec).default({}),
  });
}

/** The format with records left loose: what the JSON Schema is made from, and the first pass of validation. */
export const coreSchema = datasetWith({
  entities: z.record(id, z.looseObject(entityBase)).default({}),
  metrics: z.record(id, metricOf()).default({}),
  collections: z.record(id, collectionSpec).default({}),
});

/** The full schema: the core with each collection's records checked by `records` (built by declare.ts). */
export function datasetSchema(parts: { entities: z.ZodType; metrics: z.ZodType; collections: z.ZodType }) {
  return datasetWith(parts);
}

export type Dataset = z.infer<typeof coreSchema>;
export type CollectionSpec = z.infer<typeof collectionSpec>;
export type DerivedSpec = Dataset['derived'][string];
export type CheckSpec = Dataset['checks'][string];
export type ViewSpec = Dataset['views'][string];
export type UnitSpec = Dataset['units'][string];
export type Source = Dataset['sources'][string];
export type Metric = Dataset['metrics'][string];
export type Figure = z.infer<ReturnType<typeof figureOf>>;

/** Top-level names a collection may not take: templates and formulas see collections beside these. */
export const RESERVED_NAMES = ['edition', 'units', 'sources', 'entity_fields', 'entities', 'metrics', 'collections', 'derived', 'checks', 'views', 'previous', 'changes', 'datum'] as const;
