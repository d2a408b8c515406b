/**
 * Derive stage: Dataset -> Derived. Every figure a report computes rather
 * than quotes is made here from the formulas its dataset declares, with the
 * formula and the dataset paths of its inputs so the editions can cite them;
 * the declared checks are run; the declared views are filled with rows for
 * charts and tables. Problems are returned with their dataset path, located
 * by the caller.
 */
import type { PathKey } from './load.ts';
import { messages } from '../support/messages.ts';
import { createFormatter, type Formatter } from '../text/format.ts';
import { comparisonSides, describeFormula, evaluate, FormulaError, NO_FUNCTION, parseFormula, type Formula, type Quantity, type RecordRef, type Scope, type Tolerance, type Value } from './expression.ts';
import { createScope, listCollections, PER_HUNDRED, SCALE_FACTORS, toQuantity, writtenValue, type CollectionModel } from './model.ts';
import type { CheckSpec, Dataset, DerivedSpec, ViewSpec } from './schema.ts';

/** A computed figure with what it was computed from. */
export interface DerivedFigure {
  /** Where templates find it: `derived.<id>`. */
  id: string;
  label: string;
  /** As shown: out of 100 for percents, in `scale` for money and scaled units. */
  value: number;
  unit: string;
  scale?: keyof typeof SCALE_FACTORS;
  /** The formula, for the footnote ("a ÷ (b + c)"). */
  formula: string;
  /** Dataset paths of the inputs (a table's rows as the table's name). */
  inputs: string[];
  /** Source ids of the inputs. */
  sources: string[];
  note?: string;
}

/** One row of a view: its computed values, the record it came from and its source. */
export interface ViewRow {
  path?: string;
  source?: string;
  /** Set when the row is a table's (cited with its table, not on its own): the table's name. */
  table?: string;
  values: Record<string, Value>;
}

export interface View {
  name: string;
  /** Column headings and alignment by field, for tables. */
  columns: { field: string; label: string; align?: 'left' | 'right' }[];
  rows: ViewRow[];
}

export interface Derived {
  /** The declared derived figures, by id. */
  figures: Record<string, DerivedFigure>;
  /** The declared views, by name. */
  views: Record<string, View>;
}

/** A problem at a dataset path (`derived.x.formula`, `collections.orders.records.o17`), or at a table row. */
export interface DeriveProblem {
  path: PathKey[];
  message: string;
  /** For a table row: the collection and row index, so the CSV line can be named. */
  row?: { collection: string; index: number };
}

/** Computes every derived figure, runs every check and fills every view. */
export function deriveDataset(data: Dataset): { derived: Derived; problems: DeriveProblem[] } {
  const format = formatterFor(data);
  const problems: DeriveProblem[] = [];
  // Rows of these are cited as their table: a footnote names the table, not fifty rows.
  const tables = new Set(Object.entries(data.collections).flatMap(([name, spec]) => (spec.records ? [] : [name])));
  const figures: Record<string, DerivedFigure> = {};
  const computing = new Set<string>();
  const quantities = new Map<string, Quantity>();
  const scope: Scope = createScope(
    data,
    {
      ids: Object.keys(data.derived),
      get(id) {
        const known = quantities.get(id);
        if (known) return known;
        if (computing.has(id)) throw new FormulaError(messages.formulaCycle(id, [...computing]));
        computing.add(id);
        try {
          const figure = computeDerived(id, data.derived[id]!, scope, format, tables);
          figures[id] = figure;
          // A derived figure used by another is an input like any figure; its rounding is what it is shown with.
          const fields = ['label', 'unit', 'formula'];
          const quantity = toQuantity(figure.value, figure.unit, figure.scale, {
            path: figure.id,
            ...(figure.sources[0] ? { source: figure.sources[0] } : {}),
            fields: () => fields,
            get: (key) => (fields.includes(key) ? (figure[key as keyof DerivedFigure] as Value) : undefined),
          });
          quantities.set(id, quantity);
          return quantity;
        } finally {
          computing.delete(id);
        }
      },
    },
    hostFunctions(format),
  );
  const derivedRoot = scope.root('derived') as RecordRef;
  for (const id of Object.keys(data.derived)) {
    try {
      derivedRoot.get(id);
    } catch (error) {
      problems.push({ path: ['derived', id, 'formula'], message: formulaMessage(error) });
    }
  }
  const collections = new Map(listCollections(data).map((collection) => [collection.name, collection]));
  for (const [id, check] of Object.entries(data.checks)) problems.push(...runCheck(id, check, scope, collections, format));
  const views: Record<string, View> = {};
  for (const [name, spec] of Object.entries(data.views)) {
    const filled = fillView(name, spec, scope, tables);
    if ('problem' in filled) problems.push(filled.problem);
    else views[name] = filled;
  }
  return { derived: { figures, views }, problems };
}

/** The report's one formatter: its language, its declared units and its fiscal year. */
export function formatterFor(data: Dataset): Formatter {
  return createFormatter({ language: data.edition.language, units: data.units, ...(data.edition.fiscal_year ? { fiscalYear: data.edition.fiscal_year } : {}) });
}

function formulaMessage(error: unknown): string {
  if (error instanceof FormulaError) return messages.formulaProblem(error.message);
  throw error;
}

// ---------------------------------------------------------------------------
// Derived figures

function computeDerived(id: string, spec: DerivedSpec, scope: Scope, format: Formatter, tables: Set<string>): DerivedFigure {
  const formula = parseFormula(spec.formula);
  const { value, inputs } = evaluate(formula, scope);
  if (!isQuantity(value) && typeof value !== 'number') throw new FormulaError(messages.formulaNotFigure(describeValue(value, format)));
  const quantity = isQuantity(value) ? value : { kind: 'quantity' as const, value, dim: '', lo: value, hi: value };
  const shown = inUnit(quantity, spec.unit, spec.scale ?? 'auto');
  // Figures far beyond any real quantity (a division by a near-zero input) are no answer to print.
  if (!Number.isFinite(shown.value)) throw new FormulaError(messages.formulaNotFinite);
  // A count of records reads no figure: its input is the collection it counts.
  const read = [...inputs, ...collectionsNamed(formula.text, scope).filter((counted) => !inputs.some((input) => input.path.startsWith(`${counted.path}.`)) || new RegExp(`count\\(\\s*${counted.path}\\s*[,)]`).test(formula.text))];
  const paths = collapseInputs(read.map((input) => input.path), tables);
  return {
    id: `derived.${id}`,
    label: spec.label,
    ...shown,
    unit: spec.unit,
    formula: describeFormula(formula),
    inputs: paths,
    sources: [...new Set(read.flatMap((input) => (input.source ? [input.source] : [])))],
    ...(spec.note ? { note: spec.note } : {}),
  };
}

/** The collections a formula counts (`count(orders)`, `count(orders, ...)`), as inputs with their rows' sources. */
function collectionsNamed(text: string, scope: Scope): { path: string; source?: string }[] {
  const names = scope.names().filter((name) => new RegExp(`count\\(\\s*${name}\\s*[,)]`).test(text));
  return names.flatMap((name) => {
    const rows = rowsOf(scope, name);
    if (rows.length === 0) return [];
    const sources = [...new Set(rows.flatMap((row) => (row.source ? [row.source] : [])))];
    return sources.length ? sources.map((source) => ({ path: name, source })) : [{ path: name }];
  });
}

/** The quantity in the declared unit: per-hundred units need a unitless result; others their own unit. */
function inUnit(quantity: Quantity, unit: string, scale: DerivedSpec['scale'] & string): { value: number; scale?: keyof typeof SCALE_FACTORS } {
  if ((PER_HUNDRED as readonly string[]).includes(unit) || unit === 'count') {
    if (quantity.dim !== '') throw new FormulaError(messages.formulaUnit(unit, quantity.dim));
    return { value: unit === 'count' ? quantity.value : quantity.value * 100 };
  }
  if (quantity.dim !== unit) throw new FormulaError(messages.formulaUnit(unit, quantity.dim || 'no unit'));
  const chosen = scale === 'auto' ? autoScale(quantity.value) : scale;
  return chosen ? { value: quantity.value / SCALE_FACTORS[chosen], scale: chosen } : { value: quantity.value };
}

/** The largest scale that keeps the number at 1 or more: $1,542m reads as $1.54bn. */
function autoScale(value: number): keyof typeof SCALE_FACTORS | undefined {
  const size = Math.abs(value);
  return size >= 1e9 ? 'billion' : size >= 1e6 ? 'million' : size >= 1e3 ? 'thousand' : undefined;
}

/** A table's rows are cited as the table: a footnote lists paths, not fifty rows. */
function collapseInputs(paths: string[], tables: Set<string>): string[] {
  return [...new Set(paths.map((path) => (tables.has(path.split('.')[0]!) ? path.split('.')[0]! : path)))];
}

const isQuantity = (value: Value): value is Quantity => typeof value === 'object' && value !== null && !Array.isArray(value) && value.kind === 'quantity';

// ---------------------------------------------------------------------------
// Checks

function parseTolerance(value: CheckSpec['tolerance']): Tolerance {
  if (value === undefined) return { kind: 'exact' };
  if (value === 'rounding') return { kind: 'rounding' };
  if (typeof value === 'number') return { kind: 'absolute', value };
  return { kind: 'relative', value: Number(value.slice(0, -1)) / 100 };
}

function runCheck(id: string, spec: CheckSpec, scope: Scope, collections: Map<string, CollectionModel>, format: Formatter): DeriveProblem[] {
  let assert: Formula;
  let where: Formula | undefined;
  try {
    assert = parseFormula(spec.assert);
    where = spec.where ? parseFormula(spec.where) : undefined;
  } catch (error) {
    return [{ path: ['checks', id, spec.where && !safeParse(spec.where) ? 'where' : 'assert'], message: formulaMessage(error) }];
  }
  const tolerance = parseTolerance(spec.tolerance);
  const collection = spec.for_each ? collections.get(spec.for_each) : undefined;
  const rows: (RecordRef | undefined)[] = collection ? rowsOf(scope, collection.name) : [undefined];
  const problems: DeriveProblem[] = [];
  rows.forEach((datum, index) => {
    const at = datum && collection ? rowPath(collection, index) : { path: ['checks', id, 'assert'] as PathKey[] };
    try {
      if (where && !truthy(evaluate(where, scope, { ...(datum ? { datum } : {}) }).value)) return;
      if (truthy(evaluate(assert, scope, { ...(datum ? { datum } : {}), tolerance }).value)) return;
      problems.push({ ...at, message: messages.checkFailed(id, spec.label, explainFailure(assert, scope, datum, format), String(spec.tolerance ?? 'exact')) });
    } catch (error) {
      problems.push({ path: ['checks', id, 'assert'], message: `${datum ? `${datum.path}: ` : ''}${formulaMessage(error)}` });
    }
  });
  return problems;
}

function safeParse(text: string): boolean {
  try {
    parseFormula(text);
    return true;
  } catch {
    return false;
  }
}

function rowsOf(scope: Scope, name: string): RecordRef[] {
  const root = scope.root(name);
  return root && typeof root === 'object' && !Array.isArray(root) && root.kind === 'collection' ? root.rows() : [];
}

/** Where a record lives in the dataset file (a table row is named by its collection and index). */
function rowPath(collection: CollectionModel, index: number): Pick<DeriveProblem, 'path' | 'row'> {
  const row = collection.rows[index]!;
  if (collection.name === 'entities') return { path: ['entities', row.id] };
  if (collection.table) return { path: ['collections', collection.name, 'rows', index], row: { collection: collection.name, index } };
  return { path: ['collections', collection.name, 'records', row.id] };
}

/** "datum.total = $942m, datum.price * datum.units = $1.2bn" for a failed comparison. */
function explainFailure(assert: Formula, scope: Scope, datum: RecordRef | undefined, format: Formatter): string {
  const sides = comparisonSides(assert);
  if (!sides) return `${assert.text} is false`;
  const show = (side: Formula) => `${side.text} = ${describeValue(evaluate(side, scope, datum ? { datum } : {}).value, format)}`;
  return `${show(sides.left)}, ${show(sides.right)}`;
}

function truthy(value: Value): boolean {
  return !(value === undefined || value === null || value === false || value === 0 || value === '');
}

// ---------------------------------------------------------------------------
// Views

function fillView(name: string, spec: ViewSpec, scope: Scope, tables: Set<string>): View | { problem: DeriveProblem } {
  const fields = Object.entries(spec.fields).map(([field, value]) => ({ field, ...(typeof value === 'string' ? { formula: value } : value) }));
  const columns = fields.map(({ field, label, align }) => ({ field, label: label ?? field, ...(align ? { align } : {}) }));
  let at: PathKey[] = ['views', name, 'from'];
  try {
    const rows = spec.from === 'metrics' ? metricRows(scope) : rowsOf(scope, spec.from);
    at = ['views', name, 'where'];
    const where = spec.where ? parseFormula(spec.where) : undefined;
    const chosen = where ? rows.filter((datum) => truthy(evaluate(where, scope, { datum }).value)) : rows;
    at = ['views', name, 'sort'];
    const sorted = sortRows(chosen, spec.sort, scope);
    const parsed = fields.map(({ field, formula }) => ({ field, formula: (at = ['views', name, 'fields', field], parseFormula(formula)) }));
    const out = sorted.map((datum) => {
      const values: Record<string, Value> = {};
      for (const { field, formula } of parsed) {
        at = ['views', name, 'fields', field];
        const value = evaluate(formula, scope, { datum }).value;
        if ((isQuantity(value) && !Number.isFinite(value.value)) || (typeof value === 'number' && !Number.isFinite(value))) throw new FormulaError(messages.formulaNotFinite);
        values[field] = value;
      }
      return { path: datum.path, ...(datum.source ? { source: datum.source } : {}), ...(tables.has(spec.from) ? { table: spec.from } : {}), values };
    });
    return { name, columns, rows: out };
  } catch (error) {
    return { problem: { path: at, message: formulaMessage(error) } };
  }
}

/** Metrics as rows (each a record with its figure as `value`), so a view can pick some of them. */
function metricRows(scope: Scope): RecordRef[] {
  const metrics = scope.root('metrics') as RecordRef;
  return metrics.fields().map((id) => {
    const quantity = metrics.get(id) as Quantity;
    const names = [...new Set(['id', 'value', ...(quantity.fields?.() ?? [])])];
    return {
      kind: 'record',
      path: `metrics.${id}`,
      id,
      ...(quantity.source ? { source: quantity.source } : {}),
      fields: () => names,
      get: (key: string) => (key === 'id' ? id : key === 'value' ? quantity : quantity.get?.(key)),
    } satisfies RecordRef;
  });
}

function sortRows(rows: RecordRef[], sort: ViewSpec['sort'], scope: Scope): RecordRef[] {
  if (sort === undefined) return rows;
  const by = parseFormula(typeof sort === 'string' ? sort : sort.by);
  const sign = typeof sort === 'object' && sort.order === 'descending' ? -1 : 1;
  const keyed = rows.map((datum) => ({ datum, key: sortKey(evaluate(by, scope, { datum }).value) }));
  keyed.sort((a, b) => sign * (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map(({ datum }) => datum);
}

function sortKey(value: Value): number | string {
  if (isQuantity(value)) return value.value;
  if (typeof value === 'number' || typeof value === 'string') return value;
  if (value && typeof value === 'object' && !Array.isArray(value)) return value.kind === 'enum' ? value.value : value.kind === 'record' ? value.id : '';
  return '';
}

// ---------------------------------------------------------------------------
// Values in words, and the functions formulas may call beyond the built-in ones

/** A quantity as the report shows it: a figure from the dataset by its own unit; a computed one by its dimension. */
export function formatQuantity(quantity: Quantity, format: Formatter, options: { signed?: boolean } = {}): string {
  if (quantity.unit) return format.figure({ value: writtenValue(quantity), unit: quantity.unit, ...(quantity.scale ? { scale: quantity.scale } : {}) }, options);
  if (quantity.dim === '') return `${options.signed && quantity.value > 0 ? '+' : ''}${format.number(quantity.value, 4)}`;
  const scale = autoScale(quantity.value);
  return format.figure({ value: scale ? quantity.value / SCALE_FACTORS[scale] : quantity.value, unit: quantity.dim, ...(scale ? { scale } : {}) }, options);
}

function describeValue(value: Value, format: Formatter): string {
  if (isQuantity(value)) return formatQuantity(value, format);
  if (value === undefined || value === null) return 'not set';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return value.kind === 'enum' ? value.value : value.kind === 'record' ? value.id : value.path;
  return JSON.stringify(value);
}

function hostFunctions(format: Formatter): Scope['call'] {
  return (name, args) => {
    if (name === 'format') {
      const [value, option] = args;
      if (!isQuantity(value)) throw new FormulaError(messages.formulaFormatArgument(describeValue(value, format)));
      const shown = option === 'abs' ? { ...value, value: Math.abs(value.value) } : value;
      return formatQuantity(shown, format, { signed: option === 'signed' });
    }
    if (name === 'capitalize') {
      const [value] = args;
      return typeof value === 'string' ? value.charAt(0).toUpperCase() + value.slice(1) : value;
    }
    if (name === 'period') {
      const [value] = args;
      const period = isQuantity(value) ? value.get?.('period') : value && typeof value === 'object' && !Array.isArray(value) && value.kind === 'record' ? value.get('period') : value;
      if (typeof period !== 'string') throw new FormulaError(messages.formulaPeriodArgument(describeValue(value, format)));
      return format.period(period);
    }
    return NO_FUNCTION;
  };
}
