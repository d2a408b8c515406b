/**
 * Validate stage: YamlSource + CSV texts -> Dataset. The core schema gives
 * the declarations; the schema built from them (declare.ts) checks every
 * record; CSV tables are checked cell by cell; then the rules that need the
 * whole document (references, units). Every problem is reported at once, at
 * its file:line:column: the dataset's, or a CSV file's.
 */
import { remembered } from '../support/recent.ts';
import { z } from 'zod';
import { InputError } from '../support/error.ts';
import type { PathKey, YamlSource } from './load.ts';
import { messages, type Located } from '../support/messages.ts';
import { at, characterProblem, parseLocated, throwIfAny, zodMessages } from '../support/validate.ts';
import { BUILT_IN_UNITS, isCurrency } from '../text/format.ts';
import { parseCsv, type CsvTable } from './csv.ts';
import { coerceCell, collectionSchema, fieldSchema, entitySchema, metricsSchema, normalizeField } from './declare.ts';
import type { FiscalYear } from './period.ts';
import { collectionSpec, coreSchema, datasetSchema, fieldSpec, RESERVED_NAMES, type CollectionSpec, type Dataset, type FieldSpec } from './schema.ts';

/** A CSV file a table names, as read by the orchestrator (undefined: not found). */
export type ReadTable = (name: string) => { file: string; text: string } | undefined;

/** Where a table row's cells are, for problems found after validation (a failing check on a row). */
export interface TableOrigin {
  file: string;
  /** Line of each row, in order. */
  lines: number[];
  /** Column of each declared field in the header. */
  columns: Record<string, number>;
}

export interface ValidDataset {
  data: Dataset;
  /** The CSV origin of each table read from a file, by collection name. */
  tables: Record<string, TableOrigin>;
}

type Raw = Record<string, unknown>;
const isRaw = (value: unknown): value is Raw => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Validates a parsed dataset and its tables; throws InputError with every problem found. */
export function validateDataset(source: YamlSource, readTable: ReadTable, options: { canDraw?: (char: string) => boolean } = {}): ValidDataset {
  const raw = isRaw(source.value) ? source.value : {};
  const declared = readDeclarations(raw);
  const { data, issues } = parseLocated(source, schemaFor(JSON.stringify(declared)));
  const tables: Record<string, TableOrigin> = {};
  const problems: Located[] = [...issues];
  for (const [name, spec] of Object.entries(declared.collections)) {
    if (spec.csv === undefined) continue;
    const table = readCsvTable(source, name, spec, declared.fiscal, readTable, problems, options.canDraw);
    if (!table) continue;
    tables[name] = table.origin;
    if (data) ((data as Dataset).collections[name] as CollectionSpec).rows = table.rows;
  }
  problems.push(...checkDocument(source, raw, declared));
  throwIfAny(source.file, problems);
  return { data: data as Dataset, tables };
}

interface Declarations {
  fiscal?: FiscalYear;
  collections: Record<string, CollectionSpec>;
  entityFields: Record<string, FieldSpec>;
  units: string[];
}

/** The declarations that parse on their own: enough to check the records of every well-declared collection. */
function readDeclarations(raw: Raw): Declarations {
  const fiscal = coreSchema.shape.edition.shape.fiscal_year.safeParse(isRaw(raw.edition) ? raw.edition.fiscal_year : undefined);
  const collections: Record<string, CollectionSpec> = {};
  for (const [name, value] of Object.entries(isRaw(raw.collections) ? raw.collections : {})) {
    const parsed = collectionSpec.safeParse(value);
    if (parsed.success) collections[name] = parsed.data;
  }
  const entityFields: Record<string, FieldSpec> = {};
  for (const [name, value] of Object.entries(isRaw(raw.entity_fields) ? raw.entity_fields : {})) {
    const parsed = fieldSpec.safeParse(value);
    if (parsed.success) entityFields[name] = parsed.data;
  }
  return { fiscal: fiscal.success ? fiscal.data : undefined, collections, entityFields, units: Object.keys(isRaw(raw.units) ? raw.units : {}) };
}

// The validator depends only on the declarations, which a data edit rarely touches: a --watch
// rebuild or the next edition of a report reuses it.
const schemaFor = remembered('dataset: record validators', 8, (key): z.ZodType => fullSchema(JSON.parse(key) as Declarations), (_schema, key) => key.length * 50);

function fullSchema(declared: Declarations): z.ZodType {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, spec] of Object.entries(declared.collections)) shape[name] = collectionSchema(spec, declared.fiscal);
  // Collections whose declaration does not parse are checked as declarations only (their problems are reported).
  const collections = z.object(shape).catchall(collectionSpec);
  return datasetSchema({
    entities: entitySchema(declared.entityFields, declared.fiscal).default({}),
    metrics: metricsSchema(declared.fiscal).default({}),
    collections: collections.default({}),
  });
}

/** A problem the derive stage found, at its place: a CSV row's line, else the dataset's file:line:column. */
export function locateProblem(source: YamlSource, tables: Record<string, TableOrigin>, problem: { path: PathKey[]; message: string; row?: { collection: string; index: number } }): Located {
  const origin = problem.row ? tables[problem.row.collection] : undefined;
  if (!origin || !problem.row) return at(source, problem.path, problem.message);
  return { file: origin.file, line: origin.lines[problem.row.index] ?? 1, column: 1, path: `row ${problem.row.index + 1}`, message: problem.message };
}

// ---------------------------------------------------------------------------
// CSV tables

function readCsvTable(source: YamlSource, name: string, spec: CollectionSpec, fiscal: FiscalYear | undefined, readTable: ReadTable, problems: Located[], canDraw?: (char: string) => boolean) {
  const read = readTable(spec.csv!);
  if (!read) {
    problems.push(at(source, ['collections', name, 'csv'], messages.tableMissing(spec.csv!)));
    return undefined;
  }
  let table: CsvTable;
  try {
    table = parseCsv(read.file, read.text);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    problems.push(...error.issues);
    return undefined;
  }
  const columns = checkHeader(table, spec, problems);
  const record = z.strictObject(Object.fromEntries(Object.entries(spec.fields).map(([field, decl]) => [field, fieldSchema(decl, fiscal, true)])));
  const rows: Raw[] = [];
  table.rows.forEach((row, index) => {
    const value: Raw = {};
    for (const [field, column] of Object.entries(columns)) {
      const cell = row.cells[column];
      if (!cell) continue;
      value[field] = coerceCell(spec.fields[field]!, cell.value);
      // A cell the editions cannot draw is refused at its line and column, as a dataset string is.
      const problem = canDraw ? characterProblem(cell.value, canDraw) : undefined;
      if (problem) problems.push({ file: table.file, line: cell.line, column: cell.column, path: `${name}[${index}].${field}`, message: problem });
    }
    for (const problem of zodMessages(record, value)) {
      const field = String(problem.path[0] ?? '');
      const cell = row.cells[columns[field] ?? -1];
      problems.push({ file: table.file, line: cell?.line ?? row.line, column: cell?.column ?? 1, path: `${name}[${index}].${field}`, message: problem.message });
    }
    rows.push(value);
  });
  const header = Object.fromEntries(Object.entries(columns).map(([field, column]) => [field, table.header[column]!.column]));
  return { rows, origin: { file: table.file, lines: table.rows.map((row) => row.line), columns: header } };
}


/** Every declared field needs a column (unless optional); every column must be declared. */
function checkHeader(table: CsvTable, spec: CollectionSpec, problems: Located[]): Record<string, number> {
  const columns: Record<string, number> = {};
  // A field reads the column of its own name, or the one its `column` names (a CSV header that is no field name).
  const byColumn = new Map(Object.entries(spec.fields).map(([field, decl]) => [normalizeField(decl).column ?? field, field]));
  table.header.forEach((cell, index) => {
    const field = byColumn.get(cell.value);
    if (field) columns[field] = index;
    else problems.push({ file: table.file, line: cell.line, column: cell.column, path: 'header', message: messages.tableUnknownColumn(cell.value, [...byColumn.keys()]) });
  });
  for (const [field, decl] of Object.entries(spec.fields)) {
    if (!(field in columns) && !normalizeField(decl).optional) {
      problems.push({ file: table.file, line: 1, column: 1, path: 'header', message: messages.tableMissingColumn(normalizeField(decl).column ?? field) });
    }
  }
  return columns;
}

// ---------------------------------------------------------------------------
// Whole-document rules: references and units

function keysOf(value: unknown): string[] {
  return isRaw(value) ? Object.keys(value) : [];
}

function checkDocument(source: YamlSource, raw: Raw, declared: Declarations): Located[] {
  const problems: Located[] = [];
  const say = (path: PathKey[], message: string, key = false) => problems.push(at(source, path, message, { key }));
  const known = knownIds(raw);
  for (const name of keysOf(raw.collections)) {
    if ((RESERVED_NAMES as readonly string[]).includes(name)) say(['collections', name], messages.collectionReserved(name, RESERVED_NAMES), true);
    else if (!/^[a-z][a-z0-9_-]*$/.test(name)) say(['collections', name], messages.collectionName(name), true);
  }
  checkSources(raw, known.sources ?? [], say);
  const units = new Set(declared.units);
  const unitKnown = (unit: unknown) => typeof unit === 'string' && ((BUILT_IN_UNITS as readonly string[]).includes(unit) || isCurrency(unit) || units.has(unit));
  const checkFigure = (figure: unknown, path: PathKey[]) => {
    if (!isRaw(figure) || typeof figure.unit !== 'string') return;
    if (!unitKnown(figure.unit)) say([...path, 'unit'], messages.unknownUnit(figure.unit, [...BUILT_IN_UNITS, ...units]));
    else problems.push(...checkRange(figure, path).map((p) => at(source, p.path, p.message)));
  };
  for (const [id, metric] of Object.entries(isRaw(raw.metrics) ? raw.metrics : {})) {
    checkFigure(metric, ['metrics', id]);
    if (isRaw(metric) && metric.subject !== undefined) checkRef(metric.subject, 'entities', known, ['metrics', id, 'subject'], say);
  }
  for (const [id, entity] of Object.entries(isRaw(raw.entities) ? raw.entities : {})) {
    if (isRaw(entity)) checkFields(entity, declared.entityFields, ['entities', id], known, say, checkFigure);
  }
  for (const [name, spec] of Object.entries(declared.collections)) {
    if ('source' in spec.fields) say(['collections', name, 'fields', 'source'], messages.fieldSourceReserved, true);
    for (const [field, decl] of Object.entries(spec.fields)) {
      const unit = normalizeField(decl).unit;
      if (unit && unit !== 'currency' && !unitKnown(unit)) say(['collections', name, 'fields', field, 'unit'], messages.unknownUnit(unit, [...BUILT_IN_UNITS, ...units]));
      if (normalizeField(decl).type === 'figure' && spec.records === undefined && !unit) say(['collections', name, 'fields', field], messages.tableFigureUnit(field));
      const to = normalizeField(decl).to;
      if (to && !(to in known)) say(['collections', name, 'fields', field, 'to'], messages.unknownReference('collection', to, Object.keys(known)));
    }
    const records = isRaw(raw.collections) && isRaw(raw.collections[name]) ? (raw.collections[name] as Raw).records : undefined;
    for (const [id, record] of Object.entries(isRaw(records) ? records : {})) {
      if (isRaw(record)) checkFields(record, spec.fields, ['collections', name, 'records', id], known, say, checkFigure);
    }
  }
  for (const [id, spec] of Object.entries(isRaw(raw.derived) ? raw.derived : {})) {
    if (isRaw(spec) && typeof spec.unit === 'string' && !unitKnown(spec.unit)) say(['derived', id, 'unit'], messages.unknownUnit(spec.unit, [...BUILT_IN_UNITS, ...units]));
  }
  const collectionNames = [...Object.keys(declared.collections), 'entities', 'metrics'];
  for (const [id, spec] of Object.entries(isRaw(raw.checks) ? raw.checks : {})) {
    if (isRaw(spec) && typeof spec.for_each === 'string' && !collectionNames.includes(spec.for_each)) say(['checks', id, 'for_each'], messages.unknownReference('collection', spec.for_each, collectionNames));
  }
  for (const [id, spec] of Object.entries(isRaw(raw.views) ? raw.views : {})) {
    if (isRaw(spec) && typeof spec.from === 'string' && !collectionNames.includes(spec.from)) say(['views', id, 'from'], messages.unknownReference('collection', spec.from, collectionNames));
    if (collectionNames.includes(id)) say(['views', id], messages.viewNameTaken(id), true);
  }
  return problems;
}

/** The ids each kind of record has, by the name a `ref` field's `to` uses. */
function knownIds(raw: Raw): Record<string, string[]> {
  const known: Record<string, string[]> = { sources: keysOf(raw.sources), entities: keysOf(raw.entities), metrics: keysOf(raw.metrics) };
  for (const [name, spec] of Object.entries(isRaw(raw.collections) ? raw.collections : {})) {
    if (isRaw(spec) && isRaw(spec.records)) known[name] = Object.keys(spec.records);
  }
  return known;
}

type Say = (path: PathKey[], message: string, key?: boolean) => void;

/** What one record of a collection is called in a message: "entities" -> "entity", "rounds" -> "round". */
function singular(name: string): string {
  return name.endsWith('ies') ? `${name.slice(0, -3)}y` : name.endsWith('s') ? name.slice(0, -1) : name;
}

function checkRef(value: unknown, to: string, known: Record<string, string[]>, path: PathKey[], say: Say): void {
  const ids = known[to];
  if (typeof value === 'string' && ids && !ids.includes(value)) say(path, messages.unknownReference(singular(to), value, ids));
}

/** References and figures inside one record, by its declared fields. */
function checkFields(record: Raw, fields: Record<string, FieldSpec>, path: PathKey[], known: Record<string, string[]>, say: Say, checkFigure: (figure: unknown, path: PathKey[]) => void): void {
  for (const [field, decl] of Object.entries(fields)) {
    const spec = normalizeField(decl);
    const value = record[field];
    const item = spec.type === 'list' ? normalizeField(spec.of ?? 'text') : spec;
    const values = spec.type === 'list' && Array.isArray(value) ? value.map((v, i) => [v, [...path, field, i]] as const) : [[value, [...path, field]] as const];
    for (const [v, at] of values) {
      if (item.type === 'ref' && item.to) checkRef(v, item.to, known, [...at], say);
      if (item.type === 'figure') checkFigure(v, [...at]);
    }
  }
}

/** Every `source` field anywhere must name a source. */
function checkSources(raw: Raw, sources: string[], say: Say): void {
  const walk = (node: unknown, path: PathKey[]) => {
    if (Array.isArray(node)) node.forEach((item, i) => walk(item, [...path, i]));
    else if (isRaw(node)) {
      for (const [key, value] of Object.entries(node)) {
        const at = [...path, key];
        if (isDeclaration(at)) continue;
        if (key === 'source' && typeof value === 'string') {
          if (!sources.includes(value)) say(at, messages.unknownReference('source', value, sources));
        } else walk(value, at);
      }
    }
  };
  walk(raw, []);
}

/** Sections that declare shapes, units and formulas (or are the sources themselves): a `source` there names no source. */
const DECLARATIONS = new Set<PathKey>(['sources', 'units', 'entity_fields', 'derived', 'checks', 'views']);
function isDeclaration(path: PathKey[]): boolean {
  return (path.length === 1 && DECLARATIONS.has(path[0]!)) || (path.length === 3 && path[0] === 'collections' && path[2] === 'fields');
}

/** The ranges built-in units carry: a share is 0 to 100; nothing shrinks by more than all of it. */
function checkRange(figure: Raw, path: PathKey[]): { path: PathKey[]; message: string }[] {
  const value = figure.value;
  if (typeof value !== 'number') return [];
  const factor = typeof figure.scale === 'string' ? ({ thousand: 1e3, million: 1e6, billion: 1e9 } as Record<string, number>)[figure.scale] ?? 1 : 1;
  if (!Number.isFinite(value * factor) || (value !== 0 && Math.abs(value) < 1e-300)) return [{ path: [...path, 'value'], message: messages.figureOutOfRange }];
  if (figure.unit === 'percent' && !(value >= 0 && value <= 100)) return [{ path: [...path, 'value'], message: messages.percentRange }];
  if (figure.unit === 'percent_change' && !(value > -100)) return [{ path: [...path, 'value'], message: messages.changeRange }];
  if (figure.scale !== undefined && ['percent', 'percent_change', 'percentage_points'].includes(String(figure.unit))) {
    return [{ path: [...path, 'scale'], message: messages.scaleNotAllowed(String(figure.unit)) }];
  }
  return [];
}
