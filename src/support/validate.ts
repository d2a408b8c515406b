/**
 * Validation with located messages: runs a zod schema and whole-document
 * rules over a parsed YAML file and reports every problem at once, each at
 * the file:line:column of the offending value (reports.yaml, datasets).
 */
import { suggest } from './suggest.ts';
import { z } from 'zod';
import { InputError } from './error.ts';
import { locate, type PathKey, type YamlSource } from '../dataset/load.ts';
import { messages, type Located } from './messages.ts';

/** Runs `schema` and then `checks` (on the raw value, so both kinds of problem are reported together). */
export function validateWith<S extends z.ZodType>(
  source: YamlSource,
  schema: S,
  checks: (raw: unknown) => Problem[] = () => [],
): z.infer<S> {
  const { data, issues } = parseLocated(source, schema);
  issues.push(...checks(source.value).map((problem) => at(source, problem.path, problem.message)));
  throwIfAny(source.file, issues);
  return data as z.infer<S>;
}

/** Runs `schema` over the document; the parsed value (when valid) and every issue, located. */
export function parseLocated<S extends z.ZodType>(source: YamlSource, schema: S): { data: z.infer<S> | undefined; issues: Located[] } {
  const result = schema.safeParse(source.value, { error: describeIssue });
  return { data: result.success ? result.data : undefined, issues: result.success ? [] : result.error.issues.flatMap((issue) => locateZodIssue(source, schema, issue)) };
}

/** Throws one InputError with every issue, sorted by file and position, if there are any. */
export function throwIfAny(file: string, issues: Located[]): void {
  if (issues.length === 0) return;
  const sorted = dedupe(issues).sort((a, b) => (a.file === b.file ? 0 : a.file === file ? -1 : b.file === file ? 1 : a.file.localeCompare(b.file)) || a.line - b.line || a.column - b.column);
  throw new InputError(file, sorted);
}

/** Plain-language zod issues for a value that is not the document itself (a CSV row): message and path only. */
export function zodMessages(schema: z.ZodType, value: unknown): { path: PathKey[]; message: string; key?: string }[] {
  const result = schema.safeParse(value, { error: describeIssue });
  if (result.success) return [];
  return result.error.issues.flatMap((issue) => {
    const path = issue.path.map((key) => (typeof key === 'symbol' ? String(key) : key));
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ path: [...path, key], message: messages.unknownKey(key, []), key }));
    if (!valueAt(value, path).found && path.length > 0) return [{ path, message: messages.missingField(String(path[path.length - 1])) }];
    return [{ path, message: issue.message }];
  });
}

/** A problem found by a whole-document rule, before it is located. */
export interface Problem {
  path: PathKey[];
  message: string;
}

/** A problem at `path` of the document, located. */
export function at(source: YamlSource, path: readonly PathKey[], message: string, options: { key?: boolean } = {}): Located {
  return { file: source.file, ...locate(source, path, options), path: path.join('.'), message };
}

function dedupe(issues: Located[]): Located[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.line}:${issue.column}:${issue.path}:${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Plain-language wording for zod's generic issues; schema-specific messages take precedence. */
function describeIssue(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === 'invalid_type') {
    const found = describeValue(issue.input);
    const expected = issue.expected === 'object' ? 'a mapping of fields' : issue.expected === 'array' ? 'a list' : issue.expected === 'string' ? 'text' : `a ${issue.expected}`;
    return `must be ${expected} (found ${found})`;
  }
  return undefined;
}

function describeValue(value: unknown): string {
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `text "${value.length > 40 ? `${value.slice(0, 40)}...` : value}"`;
  return `${typeof value} ${String(value)}`;
}

function valueAt(root: unknown, path: readonly PathKey[]): { found: boolean; value: unknown } {
  let node: unknown = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || !Object.prototype.hasOwnProperty.call(node, key)) return { found: false, value: undefined };
    node = (node as Record<PathKey, unknown>)[key];
  }
  return { found: true, value: node };
}

function locateZodIssue(source: YamlSource, schema: z.ZodType, issue: z.core.$ZodIssue): Located[] {
  const path = issue.path.map((key) => (typeof key === 'symbol' ? String(key) : key));
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeys(schema, path, source.value);
    return issue.keys.map((key) => at(source, [...path, key], messages.unknownKey(key, suggest(key, allowed)), { key: true }));
  }
  if (issue.code === 'invalid_key') {
    return [at(source, path, `key ${issue.issues[0]?.message ?? 'is not valid'}`, { key: true })];
  }
  if (!valueAt(source.value, path).found && path.length > 0) {
    return [at(source, path, messages.missingField(String(path[path.length - 1])))];
  }
  return [at(source, path, issue.message)];
}

/** Field names the schema allows at `path`, for "did you mean" hints: read from its JSON Schema (zod's public z.toJSONSchema). */
function allowedKeys(schema: z.ZodType, path: readonly PathKey[], root: unknown): string[] {
  const json = jsonSchemaOf(schema);
  let node: JsonSchema | undefined = json;
  const walked: PathKey[] = [];
  for (const key of path) {
    node = stepJson(resolveJson(node, json, valueAt(root, walked).value), key);
    walked.push(key);
    if (!node) return [];
  }
  const target = resolveJson(node, json, valueAt(root, walked).value);
  return target?.properties ? Object.keys(target.properties) : [];
}

interface JsonSchema {
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  const?: unknown;
  enum?: unknown[];
  type?: string | string[];
}

// Made on the first unknown key a schema meets (an error path), then kept with the schema.
const jsonSchemas = new WeakMap<z.ZodType, JsonSchema>();
function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  let json = jsonSchemas.get(schema);
  if (!json) jsonSchemas.set(schema, (json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema));
  return json;
}

/** Follows references and picks, in a union, the option that describes `value` (by a constant field it holds, else the first mapping). */
function resolveJson(node: JsonSchema | undefined, root: JsonSchema, value: unknown): JsonSchema | undefined {
  for (let depth = 0; node && depth < 32; depth++) {
    if (node.$ref) {
      const name = /^#\/\$defs\/(.+)$/.exec(node.$ref)?.[1];
      node = node.$ref === '#' ? root : name ? root.$defs?.[name] : undefined;
      continue;
    }
    const options = node.anyOf ?? node.oneOf ?? node.allOf;
    if (!options) return node;
    const record = value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
    const resolved = options.map((option) => resolveJson(option, root, value));
    const byConstant = record ? resolved.find((option) => Object.entries(option?.properties ?? {}).some(([key, field]) => field.const !== undefined && field.const === record[key])) : undefined;
    node = byConstant ?? (record ? resolved.find((option) => option?.properties) : undefined) ?? resolved[0];
  }
  return node;
}

function stepJson(node: JsonSchema | undefined, key: PathKey): JsonSchema | undefined {
  if (!node) return undefined;
  if (typeof key === 'number' && node.items) return node.items;
  const named = node.properties?.[String(key)];
  if (named) return named;
  return typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined;
}


/** Bidirectional controls can make text read differently from how it is stored. */
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/u;

/**
 * Refuses, at its location, any string the briefing's typeface cannot draw
 * (the PDF may not show missing glyphs) and any bidirectional control.
 */
export function checkCharacters(source: YamlSource, canDraw: (char: string) => boolean): void {
  const issues: Located[] = [];
  const walk = (node: unknown, path: PathKey[]) => {
    if (typeof node === 'string') {
      const problem = characterProblem(node, canDraw);
      if (problem) issues.push(at(source, path, problem));
    } else if (Array.isArray(node)) node.forEach((item, i) => walk(item, [...path, i]));
    else if (node && typeof node === 'object') for (const [key, value] of Object.entries(node)) walk(value, [...path, key]);
  };
  walk(source.value, []);
  if (issues.length > 0) throw new InputError(source.file, issues);
}

/** What is wrong with a string the editions must draw (a bidirectional control, a character no face has), or undefined. */
export function characterProblem(text: string, canDraw: (char: string) => boolean): string | undefined {
  const bidi = BIDI_CONTROLS.exec(text)?.[0];
  if (bidi) return messages.bidiControl(codePoint(bidi));
  const missing = [...text].find((char) => !canDraw(char));
  return missing ? messages.unsupportedCharacter(missing, codePoint(missing)) : undefined;
}

function codePoint(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}
