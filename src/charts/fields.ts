/**
 * The field check: a field an encoding reads must be in the data its view
 * reads (the `data` in scope, before any transform) or be made by a
 * transform in scope, or by Vega-Lite itself (`sum_people`,
 * `bin_maxbins_10_x`, `month_date`: seen in the rendered view's data).
 *
 *   spec ──walk views──▶ EncodedField[] (field, where, the scopes it is read in)
 *     ──fields the rendered view's data already has──▶ the rest
 *     ──input fields of each scope ∪ transform outputs──▶ first unknown field, or none
 *
 * Where the fields in scope cannot be known (no rows, a pivot, an unknown
 * data format) nothing is claimed: the check only refuses what is surely wrong.
 */
import * as vega from 'vega';

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The data and transforms a view sees: its own, or inherited from the views around it. */
export interface FieldScope {
  data: unknown;
  transforms: readonly Json[];
}

/** A `field` an encoding reads, where, and the scopes it is read in (one for a unit; a layer's shared encoding is read in each layer). */
export interface EncodedField {
  field: string;
  where: string;
  scopes: readonly FieldScope[];
}

/** Where the rows of a spec's data come from. */
export interface FieldSources {
  /** Rows of a data source bound by name (the build's, or the spec's own `datasets`). */
  named(name: string): readonly unknown[] | undefined;
  /** Text of a data file, through the chart loader (its fence applies). */
  read(url: string): Promise<string>;
}

export interface UnknownField {
  field: string;
  where: string;
  /** The fields the view could read: its input and what its transforms make. */
  known: string[];
}

const CHILDREN = ['layer', 'concat', 'hconcat', 'vconcat'] as const;

/** Every `field` an encoding reads, anywhere in the spec, with the scopes it is read in. */
export function encodedFields(spec: unknown): EncodedField[] {
  const out: EncodedField[] = [];
  walk(spec, '', { data: undefined, transforms: [] }, out);
  return out;
}

/** Walks one view; returns the scopes of the units under it (its own when it is a unit). */
function walk(node: unknown, path: string, inherited: FieldScope, out: EncodedField[]): FieldScope[] {
  if (!isObject(node)) return [];
  const transforms = Array.isArray(node.transform) ? node.transform.filter(isObject) : [];
  const scope: FieldScope = { data: 'data' in node ? node.data : inherited.data, transforms: [...inherited.transforms, ...transforms] };
  const below: EncodedField[] = [];
  const units: FieldScope[] = [];
  for (const key of CHILDREN) {
    const children = node[key];
    if (Array.isArray(children)) children.forEach((child, i) => units.push(...walk(child, `${path}${key}[${i}].`, scope, below)));
  }
  if (isObject(node.spec)) units.push(...walk(node.spec, `${path}spec.`, scope, below));
  const scopes = units.length ? units : [scope];
  const visit = (def: unknown, where: string) => {
    if (Array.isArray(def)) def.forEach((d, i) => visit(d, `${where}[${i}]`));
    else if (isObject(def)) {
      // A field may also be {"repeat": "row"}: filled by Vega-Lite from the repeat, so not ours to check.
      if (typeof def.field === 'string') out.push({ field: def.field, where, scopes });
      if (def.condition) visit(def.condition, `${where}.condition`);
    }
  };
  if (isObject(node.encoding)) for (const [channel, def] of Object.entries(node.encoding)) visit(def, `${path}encoding.${channel}`);
  out.push(...below);
  return scopes;
}

/** The data field a field path reads: "a.b" reads a's b, "a\\.b" is the field "a.b", "a[0]" reads a. */
export function fieldRoot(field: string): string {
  return vega.splitAccessPath(field)[0] ?? field;
}

/**
 * The first field no scope it is read in can have, or undefined. `seen` are
 * the fields of the rendered view's data (Vega-Lite's own derived names
 * among them); only fields outside it cost a look at the input.
 */
export async function findUnknownField(fields: readonly EncodedField[], seen: ReadonlySet<string>, sources: FieldSources): Promise<UnknownField | undefined> {
  const inScope = new Map<FieldScope, Promise<Set<string> | undefined>>();
  const reader = createInputReader(sources);
  for (const { field, where, scopes } of fields) {
    const root = fieldRoot(field);
    if (seen.has(root)) continue;
    const known = new Set<string>();
    let found = false;
    for (const scope of scopes) {
      if (!inScope.has(scope)) inScope.set(scope, scopeFields(scope, reader));
      const fieldsHere = await inScope.get(scope)!;
      if (!fieldsHere || fieldsHere.has(root)) found = true;
      else for (const name of fieldsHere) known.add(name);
    }
    if (!found) return { field, where, known: [...known].sort() };
  }
  return undefined;
}

type InputReader = (data: unknown) => Promise<Set<string> | undefined>;

async function scopeFields(scope: FieldScope, input: InputReader): Promise<Set<string> | undefined> {
  const fields = await input(scope.data);
  if (!fields) return undefined;
  const all = new Set(fields);
  for (const transform of scope.transforms) {
    const made = transformOutputs(transform);
    if (!made) return undefined;
    for (const name of made) all.add(name);
  }
  return all;
}

/** Reads each data source's fields once per check. */
function createInputReader(sources: FieldSources): InputReader {
  const memo = new Map<string, Promise<Set<string> | undefined>>();
  return (data) => {
    const key = JSON.stringify(data) ?? 'undefined';
    let fields = memo.get(key);
    if (!fields) memo.set(key, (fields = inputFields(data, sources)));
    return fields;
  };
}

// Vega's built-in readers; also the extensions Vega-Lite picks a format by (compile/data/source.ts).
const FORMATS = new Set(['json', 'csv', 'tsv', 'dsv', 'topojson']);

async function inputFields(data: unknown, sources: FieldSources): Promise<Set<string> | undefined> {
  if (!isObject(data)) return undefined;
  if (isObject(data.sequence)) return new Set([typeof data.sequence.as === 'string' ? data.sequence.as : 'data']);
  if (Array.isArray(data.values)) return rowFields(data.values);
  const text = typeof data.values === 'string' ? data.values : undefined;
  const url = typeof data.url === 'string' ? data.url : undefined;
  if (text === undefined && url === undefined) {
    const rows = typeof data.name === 'string' ? sources.named(data.name) : undefined;
    // graticule, sphere: generated shapes whose fields Vega-Lite names, not the author.
    return rows ? rowFields(rows) : undefined;
  }
  const format = isObject(data.format) ? data.format : {};
  const type = formatType(format, url);
  // Arrow and other formats registered with vega elsewhere: not read here.
  if (!type) return undefined;
  try {
    return textFields(text ?? (await sources.read(url!)), format, type);
  } catch {
    // Vega has read this data already and reported any failure; the check only claims what it can know.
    return undefined;
  }
}

/** Fields of parsed data, as Vega reads them (a row that is not an object becomes {data: value}). */
function rowFields(rows: readonly unknown[]): Set<string> | undefined {
  if (!rows.length) return undefined;
  const fields = new Set<string>();
  for (const row of rows) {
    if (isObject(row)) for (const key of Object.keys(row)) fields.add(key);
    else fields.add('data');
  }
  return fields;
}

/** The format Vega will read data in: the spec's, else (for a URL) Vega-Lite's pick by extension, else JSON; undefined for one not read here. */
function formatType(format: Json, url: string | undefined): string | undefined {
  // Vega-Lite's own test, as it compiles the spec: case and query string included.
  const extension = url ? /(?:\.([^.]+))?$/.exec(url)?.[1] : undefined;
  const type = typeof format.type === 'string' ? format.type : extension && FORMATS.has(extension) ? extension : 'json';
  return FORMATS.has(type) ? type : undefined;
}

/** Parses data text with Vega's own reader; for delimited text only the header and first record, which name every column. */
function textFields(text: string, format: Json, type: string): Set<string> | undefined {
  const delimited = type === 'csv' || type === 'tsv' || type === 'dsv';
  const second = delimited ? text.indexOf('\n', text.indexOf('\n') + 1) : -1;
  const head = second >= 0 ? text.slice(0, second) : text;
  // Field names do not depend on how values parse, and a bad date should not fail a check vega already passed.
  const { parse: _parse, ...shape } = format;
  return rowFields(vega.read(head, { ...shape, type } as vega.Format) as unknown[]);
}

const names = (value: unknown, fallback: readonly string[] = []): string[] =>
  typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [...fallback];

/**
 * The fields a Vega-Lite transform adds, by the names Vega-Lite gives them;
 * undefined when they cannot be known from the spec (a pivot's come from the data).
 */
function transformOutputs(t: Json): string[] | undefined {
  const each = (list: unknown) => (Array.isArray(list) ? list.flatMap((d) => (isObject(d) ? names(d.as) : [])) : []);
  if ('filter' in t || 'sample' in t || 'extent' in t || 'impute' in t) return [];
  if ('calculate' in t || 'timeUnit' in t) return names(t.as);
  if ('aggregate' in t) return each(t.aggregate);
  if ('joinaggregate' in t) return each(t.joinaggregate);
  if ('window' in t) return each(t.window);
  if ('bin' in t || 'stack' in t) {
    if (typeof t.as === 'string') return [t.as, `${t.as}_end`];
    return names(t.as, typeof t.stack === 'string' ? [`${t.stack}_start`, `${t.stack}_end`] : []);
  }
  if ('fold' in t) return names(t.as, ['key', 'value']);
  if ('flatten' in t) return names(t.as, names(t.flatten));
  if ('density' in t) return names(t.as, ['value', 'density']);
  if ('quantile' in t) return names(t.as, ['prob', 'value']);
  if ('loess' in t || 'regression' in t) return [...names(t.as), ...(t.params ? ['coef', 'rSquared'] : [])];
  if ('lookup' in t) return lookupOutputs(t);
  return undefined;
}

/** A lookup adds its `as` names, else the `from` fields it names; a whole record goes under `as` (Vega-Lite's fallback name: "_lookup"). */
function lookupOutputs(t: Json): string[] {
  if (t.as !== undefined) return names(t.as);
  const from = isObject(t.from) ? t.from : {};
  return Array.isArray(from.fields) ? names(from.fields) : ['_lookup'];
}
