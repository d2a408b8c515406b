/**
 * Validate stage: YamlSource -> Dataset. Runs the zod schema and the rules
 * that need the whole document, and reports every problem at once, each at
 * the file:line:column of the offending value.
 */
import { z } from 'zod';
import { InputError } from './error.ts';
import { locate, type PathKey, type YamlSource } from './load.ts';
import { messages, type Located } from './messages.ts';
import { dataset, type Dataset } from './schema.ts';

/** Validates a parsed dataset; throws InputError with every problem found. */
export function validateDataset(source: YamlSource): Dataset {
  return validateWith(source, dataset, checkDatasetReferences);
}

/** Runs `schema` and then `checks` (on the raw value, so both kinds of problem are reported together). */
export function validateWith<S extends z.ZodType>(
  source: YamlSource,
  schema: S,
  checks: (raw: unknown) => Problem[] = () => [],
): z.infer<S> {
  const result = schema.safeParse(source.value, { error: describeIssue });
  const issues: Located[] = result.success ? [] : result.error.issues.flatMap((issue) => locateZodIssue(source, schema, issue));
  issues.push(...checks(source.value).map((problem) => at(source, problem.path, problem.message)));
  if (issues.length > 0) {
    throw new InputError(source.file, dedupe(issues).sort((a, b) => a.line - b.line || a.column - b.column));
  }
  return result.data as z.infer<S>;
}

/** A problem found by a whole-document rule, before it is located. */
export interface Problem {
  path: PathKey[];
  message: string;
}

function at(source: YamlSource, path: readonly PathKey[], message: string, options: { key?: boolean } = {}): Located {
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

/** Field names the schema allows at `path`, for "did you mean" hints. */
function allowedKeys(schema: z.ZodType, path: readonly PathKey[], root: unknown): string[] {
  let node: z.core.$ZodType | undefined = schema;
  const walked: PathKey[] = [];
  for (const key of path) {
    node = step(unwrap(node, valueAt(root, walked).value), key);
    walked.push(key);
    if (!node) return [];
  }
  const target = unwrap(node, valueAt(root, walked).value);
  return target?._zod.def.type === 'object' ? Object.keys((target as z.core.$ZodObject)._zod.def.shape) : [];
}

function unwrap(node: z.core.$ZodType | undefined, value: unknown): z.core.$ZodType | undefined {
  while (node) {
    const def = node._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;
    if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable') node = def.innerType as z.core.$ZodType;
    else if (def.type === 'pipe') node = def.in as z.core.$ZodType;
    else if (def.type === 'union') {
      // A discriminated union: pick the option whose literal matches the value, else the first.
      const options = def.options as z.core.$ZodType[];
      const discriminator = def.discriminator as string | undefined;
      const wanted = discriminator && value && typeof value === 'object' ? (value as Record<string, unknown>)[discriminator] : undefined;
      node =
        options.find((option) => {
          const shape = (option._zod.def as { shape?: Record<string, z.core.$ZodType> }).shape;
          const literal = shape && discriminator ? (shape[discriminator]?._zod.def as { values?: unknown[] } | undefined) : undefined;
          return literal?.values?.includes(wanted) ?? false;
        }) ?? options[0];
    } else return node;
  }
  return node;
}

function step(node: z.core.$ZodType | undefined, key: PathKey): z.core.$ZodType | undefined {
  const def = node?._zod.def as (z.core.$ZodTypeDef & Record<string, unknown>) | undefined;
  if (!def) return undefined;
  if (def.type === 'object') return (def.shape as Record<string, z.core.$ZodType>)[String(key)];
  if (def.type === 'record') return def.valueType as z.core.$ZodType;
  if (def.type === 'array') return def.element as z.core.$ZodType;
  return undefined;
}

/** The allowed names closest to a misspelt one first (edit distance), then the rest. */
function suggest(key: string, allowed: string[]): string[] {
  return [...allowed].sort((a, b) => distance(key, a) - distance(key, b) || a.localeCompare(b));
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

type Raw = Record<string, unknown>;

function entries(value: unknown): [string, Raw][] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value as Raw).filter((entry): entry is [string, Raw] => !!entry[1] && typeof entry[1] === 'object' && !Array.isArray(entry[1]));
}

function keysOf(value: unknown): string[] {
  return entries(value).map(([key]) => key);
}

/**
 * Whole-document rules, run on the raw value so that they report alongside
 * schema errors: every reference resolves, and stake, amount and valuation
 * agree where all three are given.
 */
export function checkDatasetReferences(raw: unknown): Problem[] {
  const root = (raw && typeof raw === 'object' ? raw : {}) as Raw;
  const problems: Problem[] = [];
  const known = {
    source: keysOf(root.sources),
    entity: keysOf(root.entities),
    layer: keysOf(root.layers),
    round: keysOf(root.rounds),
    metric: keysOf(root.metrics),
  };
  const ref = (kind: keyof typeof known, value: unknown, path: PathKey[]) => {
    if (typeof value === 'string' && !known[kind].includes(value)) problems.push({ path, message: messages.unknownReference(kind, value, known[kind]) });
  };

  // Every `source` field anywhere must name a source.
  const walk = (node: unknown, path: PathKey[]) => {
    if (Array.isArray(node)) node.forEach((item, i) => walk(item, [...path, i]));
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'source' && path[0] !== 'sources') ref('source', value, [...path, key]);
        else walk(value, [...path, key]);
      }
    }
  };
  walk(root, []);

  for (const [id, entity] of entries(root.entities)) ref('layer', entity.layer, ['entities', id, 'layer']);
  const layers = root.layers as Record<string, Raw | undefined> | undefined;
  for (const [id, deal] of entries(root.deals)) {
    ref('entity', deal.investor, ['deals', id, 'investor']);
    ref('entity', deal.counterparty, ['deals', id, 'counterparty']);
    ref('layer', deal.layer, ['deals', id, 'layer']);
    if (typeof deal.layer === 'string' && layers?.[deal.layer]?.in_ai_stack === false) {
      problems.push({ path: ['deals', id, 'layer'], message: messages.layerNotInStack(deal.layer) });
    }
    ref('round', deal.round, ['deals', id, 'round']);
    const round = typeof deal.round === 'string' ? (root.rounds as Record<string, Raw | undefined> | undefined)?.[deal.round] : undefined;
    if (round && typeof round.company === 'string' && round.company !== deal.counterparty) {
      problems.push({ path: ['deals', id, 'round'], message: messages.roundNotForCounterparty(String(deal.round), round.company, String(deal.counterparty)) });
    }
    problems.push(...checkStakeAgreement(deal, ['deals', id]));
  }
  for (const [id, round] of entries(root.rounds)) ref('entity', round.company, ['rounds', id, 'company']);
  for (const [id, metric] of entries(root.metrics)) ref('entity', metric.subject, ['metrics', id, 'subject']);
  for (const [id, claim] of entries(root.claims)) {
    if (Array.isArray(claim.subjects)) claim.subjects.forEach((subject, i) => ref('entity', subject, ['claims', id, 'subjects', i]));
  }
  for (const [id, spec] of entries(root.derived)) {
    for (const field of ['part', 'a', 'b'] as const) ref('metric', spec[field], ['derived', id, field]);
    if (Array.isArray(spec.of)) spec.of.forEach((metric, i) => ref('metric', metric, ['derived', id, 'of', i]));
    problems.push(...checkDerivedUnits(spec, root.metrics as Record<string, Raw | undefined> | undefined, ['derived', id]));
  }
  return problems;
}

/** A derived figure's inputs must be in units its operation can combine. */
function checkDerivedUnits(spec: Raw, metrics: Record<string, Raw | undefined> | undefined, path: PathKey[]): Problem[] {
  const unit = (metric: unknown) => (typeof metric === 'string' ? metrics?.[metric]?.unit : undefined);
  const inputs = spec.op === 'share' ? [spec.part, ...(Array.isArray(spec.of) ? spec.of : [])] : [spec.a, spec.b];
  const units = inputs.map(unit);
  if (units.some((u) => u === undefined)) return []; // unresolved inputs are reported as references
  if (spec.op === 'growth_ratio' && units.some((u) => u !== 'percent_change')) {
    return [{ path: [...path, 'op'], message: messages.derivedUnits('growth_ratio', 'needs two percent_change metrics', units as string[]) }];
  }
  if (new Set(units).size > 1) {
    return [{ path: [...path, 'op'], message: messages.derivedUnits(String(spec.op), 'needs inputs in one unit', units as string[]) }];
  }
  return [];
}

const SCALE = { million: 1e6, billion: 1e9 } as const;

/** Half a unit in the last written decimal place: the rounding a published figure carries. */
function halfUnit(value: number): number {
  const decimals = (String(value).split('.')[1] ?? '').length;
  return 0.5 * 10 ** -decimals;
}

function usd(figure: unknown): { value: number; dollars: number; scale: keyof typeof SCALE } | undefined {
  const f = figure as Raw | undefined;
  if (!f || typeof f.value !== 'number' || !Number.isFinite(f.value) || f.value <= 0) return undefined;
  if (f.scale !== 'million' && f.scale !== 'billion') return undefined;
  return { value: f.value, dollars: f.value * SCALE[f.scale], scale: f.scale };
}

function checkStakeAgreement(deal: Raw, path: PathKey[]): Problem[] {
  const amount = usd(deal.amount);
  const valuation = usd(deal.valuation);
  const stake = (deal.stake as Raw | undefined)?.value;
  if (!amount || !valuation || typeof stake !== 'number' || !(stake > 0 && stake <= 100)) return [];
  // Every input is rounded as published; the valuation must fall in the range the rounding allows.
  const da = halfUnit(amount.value) * SCALE[amount.scale];
  const ds = halfUnit(stake);
  const dv = halfUnit(valuation.value) * SCALE[valuation.scale];
  const low = (amount.dollars - da) / ((stake + ds) / 100) - dv;
  const high = (amount.dollars + da) / ((stake - ds) / 100) + dv;
  if (valuation.dollars >= low && valuation.dollars <= high) return [];
  const implied = amount.dollars / (stake / 100);
  const fmt = (dollars: number) => `$${(dollars / 1e6).toFixed(0)}m`;
  return [{ path: [...path, 'valuation', 'value'], message: messages.stakeMismatch(fmt(amount.dollars), stake, fmt(valuation.dollars), fmt(implied)) }];
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
      const bidi = BIDI_CONTROLS.exec(node)?.[0];
      const missing = bidi ? undefined : [...node].find((char) => !canDraw(char));
      const bad = bidi ?? missing;
      if (bad) issues.push(at(source, path, bidi ? messages.bidiControl(codePoint(bad)) : messages.unsupportedCharacter(bad, codePoint(bad))));
    } else if (Array.isArray(node)) node.forEach((item, i) => walk(item, [...path, i]));
    else if (node && typeof node === 'object') for (const [key, value] of Object.entries(node)) walk(value, [...path, key]);
  };
  walk(source.value, []);
  if (issues.length > 0) throw new InputError(source.file, issues);
}

function codePoint(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}
