/**
 * Report formulas: Vega's expression language, parsed by vega-expression and
 * interpreted here over the dataset's value model. Nothing is compiled to
 * JavaScript, so a formula reaches only what its Scope hands it (no globals,
 * prototypes or `constructor`), and units and rounding bounds are carried
 * through every operation.
 *
 *   text --parseFormula--> Formula --evaluate(scope)--> Outcome { value, inputs }
 */
import { suggest } from '../support/suggest.ts';
import type { BinaryExpression, CallExpression, Expression, MemberExpression, Node } from 'estree';
import { parseExpression } from 'vega-expression';
import { messages } from '../support/messages.ts';

export interface Quantity {
  kind: 'quantity';
  /** In base units: scale applied (600 million USD -> 600e6); percent, percent_change and percentage_points as fractions (40.7 -> 0.407). */
  value: number;
  /** '' for no unit (fractions, counts, plain numbers); an ISO currency code or a declared unit id otherwise. */
  dim: string;
  /** Bounds from the rounding of the written inputs (a literal or computed-from-exact value has lo === hi === value). */
  lo: number;
  hi: number;
  /** Set when the quantity is a figure read from the dataset: its dotted path and source id, for citations. */
  path?: string;
  source?: string;
  /** The unit and scale as written ('percent', 'USD', 'TWh', 'count'...; 'million'...), for format() by the host. */
  unit?: string;
  scale?: 'thousand' | 'million' | 'billion';
  /** Other fields of the record the figure is (a metric's label, period, subject), if any. */
  get?(key: string): Value;
  fields?(): string[];
}
export interface EnumValue {
  kind: 'enum';
  value: string;
  label: string;
}
export interface RecordRef {
  kind: 'record';
  /** Dotted dataset path, e.g. `orders.o17` or `generation.3` (a table row). */
  path: string;
  id: string;
  /** A declared field's value (undefined when an optional field is absent). */
  get(key: string): Value;
  /** The field names this record may have (declared), for error messages and to tell a misspelt field from an absent one. */
  fields(): string[];
  source?: string;
}
export interface CollectionRef {
  kind: 'collection';
  /** e.g. `orders` */
  path: string;
  rows(): RecordRef[];
  fields(): string[];
  /** Set by member access `orders.amount`: the column an aggregate reads. */
  field?: string;
}
export type Value = number | string | boolean | null | undefined | Quantity | EnumValue | RecordRef | CollectionRef | Value[];

/** What `Scope.call` returns for a name it does not know. */
export const NO_FUNCTION = Symbol('NO_FUNCTION');

export interface Scope {
  /** The value of a root name (`metrics`, `orders`, `derived`, `entities`...), or undefined when there is no such name. */
  root(name: string): Value;
  /** Root names, for "did you mean" in errors. */
  names(): string[];
  /** Host functions (the report layer adds format(), period() ...): called with evaluated arguments. Return NO_FUNCTION for "no such function". */
  call?(name: string, args: Value[]): Value | typeof NO_FUNCTION;
  /** The host functions' names, for "did you mean" in errors. */
  functions?(): string[];
}

export type Tolerance = { kind: 'exact' } | { kind: 'rounding' } | { kind: 'relative'; value: number } | { kind: 'absolute'; value: number };

export interface Formula {
  text: string;
  /** The ESTree node vega-expression returned. */
  ast: unknown;
}
export interface Input {
  path: string;
  source?: string;
}
export interface Outcome {
  value: Value;
  inputs: Input[];
}
export interface EvaluateOptions {
  datum?: RecordRef;
  tolerance?: Tolerance;
}

/** A formula that does not parse or cannot be evaluated; `column` (1-based) is set for syntax errors. */
export class FormulaError extends Error {
  constructor(
    message: string,
    readonly column?: number,
  ) {
    super(message);
    this.name = 'FormulaError';
  }
}

const LIMITS = { length: 2000, depth: 200 };
const COMPARISONS = new Set(['==', '===', '!=', '!==', '<', '<=', '>', '>=']);
const PERCENT_UNITS = new Set(['percent', 'percent_change', 'percentage_points']);
const SCALES = new Map([
  ['thousand', 1e3],
  ['million', 1e6],
  ['billion', 1e9],
]);
const AGGREGATES = new Set(['sum', 'mean', 'min', 'max', 'count']);
const EOF_MESSAGE = 'Unexpected end of input';

// ---------------------------------------------------------------- parsing

/** Parses; throws FormulaError (with the 1-based column in the formula text) on a syntax error. */
export function parseFormula(text: string): Formula {
  if (text.length > LIMITS.length) throw new FormulaError(messages.formulaTooLong(text.length, LIMITS.length));
  try {
    return { text, ast: parseExpression(text) };
  } catch (error) {
    // The parser recurses per nesting level; a pathological formula overflows the stack.
    if (error instanceof RangeError) throw new FormulaError(messages.formulaTooDeep(LIMITS.depth));
    if (!(error instanceof Error)) throw error;
    const column = syntaxColumn(text, error.message);
    throw new FormulaError(messages.formulaSyntax(syntaxDetail(error.message), column), column);
  }
}

/**
 * vega-expression reports an index for some errors only, and then the end of
 * the offending token; so find the first token after which no completion of
 * the text can parse (a prefix that fails other than by ending early). Once
 * a prefix fails so, every longer one does, so a binary search finds it.
 */
function syntaxColumn(text: string, message: string): number {
  if (message === EOF_MESSAGE) return text.trimEnd().length + 1;
  const tokens = tokenize(text).filter((token) => token.kind !== 'space');
  let low = 0;
  let high = tokens.length - 1;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (viablePrefix(text.slice(0, tokens[middle]!.end))) low = middle + 1;
    else high = middle;
  }
  return (tokens[low]?.start ?? 0) + 1;
}

function viablePrefix(prefix: string): boolean {
  try {
    parseExpression(prefix);
    return true;
  } catch (error) {
    return error instanceof Error && error.message === EOF_MESSAGE;
  }
}

function syntaxDetail(message: string): string {
  if (message === 'Disabled.') return messages.formulaDisabled;
  if (message.startsWith('Unexpect token after expression')) return messages.formulaTrailing;
  return message.replace('ILLEGAL', '(an unclosed quote or a character formulas do not use)');
}

interface Token {
  kind: 'space' | 'string' | 'name' | 'number' | 'op';
  text: string;
  start: number;
  end: number;
}

const TOKEN = new RegExp(
  [
    String.raw`(?<space>\s+)`,
    String.raw`(?<string>'(?:[^'\\]|\\[\s\S])*'|"(?:[^"\\]|\\[\s\S])*")`,
    String.raw`(?<name>[\p{ID_Start}$_][\p{ID_Continue}$\u200C\u200D]*)`,
    String.raw`(?<number>0[xX][\da-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)`,
    // Longest operators first, then any other single character.
    String.raw`(?<op>===|!==|==|!=|<=|>=|>>>|>>|<<|&&|\|\||\+\+|--|[\s\S])`,
  ].join('|'),
  'uy',
);

/** The formula's tokens, enough to tell operators from string contents (the AST has no positions). */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  for (let match = TOKEN.exec(text); match; match = TOKEN.exec(text)) {
    const groups = match.groups ?? {};
    const kind = (['space', 'string', 'name', 'number', 'op'] as const).find((k) => groups[k] !== undefined) ?? 'op';
    tokens.push({ kind, text: match[0], start: match.index, end: match.index + match[0].length });
  }
  return tokens;
}

/** For an assertion `a == b` (also ===, !=, !==, <, <=, >, >=): the two sides as formulas of their own (text sliced from the source), else undefined. */
export function comparisonSides(formula: Formula): { operator: string; left: Formula; right: Formula } | undefined {
  const ast = formula.ast as Expression;
  if (ast.type !== 'BinaryExpression' || !COMPARISONS.has(ast.operator)) return undefined;
  const tokens = unwrapParentheses(tokenize(formula.text).filter((t) => t.kind !== 'space'));
  const from = tokens[0]?.start ?? 0;
  const to = tokens.at(-1)?.end ?? formula.text.length;
  // The root operator is the last one whose two slices parse back to the root's own operands.
  for (const token of tokens.toReversed()) {
    if (token.text !== ast.operator) continue;
    const left = sliceFormula(formula.text.slice(from, token.start), ast.left);
    const right = sliceFormula(formula.text.slice(token.end, to), ast.right);
    if (left && right) return { operator: ast.operator, left, right };
  }
  return undefined;
}

function unwrapParentheses(tokens: Token[]): Token[] {
  while (tokens[0]?.text === '(' && closingIndex(tokens) === tokens.length - 1) tokens = tokens.slice(1, -1);
  return tokens;
}

function closingIndex(tokens: Token[]): number {
  let depth = 0;
  for (const [i, token] of tokens.entries()) {
    if (token.text === '(') depth++;
    if (token.text === ')' && --depth === 0) return i;
  }
  return -1;
}

function sliceFormula(text: string, expected: Node): Formula | undefined {
  try {
    const ast = parseExpression(text.trim());
    return JSON.stringify(ast) === JSON.stringify(expected) ? { text: text.trim(), ast } : undefined;
  } catch {
    // Not a whole operand: the operator found sits inside one side.
    return undefined;
  }
}

/** The formula for a footnote: the source text with `/` as ÷, `*` as ×, binary `-` as − (U+2212), outside string literals; whitespace normalised. */
export function describeFormula(formula: Formula): string {
  let out = '';
  let gap = false;
  let previous: Token | undefined;
  for (const token of tokenize(formula.text)) {
    if (token.kind === 'space') {
      gap = true;
      continue;
    }
    const symbol = footnoteSymbol(token, previous);
    if ((gap || symbol) && out) out += ' ';
    out += symbol ?? token.text;
    gap = symbol !== undefined;
    previous = token;
  }
  return out;
}

function footnoteSymbol(token: Token, previous: Token | undefined): string | undefined {
  if (token.text === '/') return '÷';
  if (token.text === '*') return '×';
  // A minus after an operand subtracts; anywhere else it negates and stays a hyphen-minus.
  const afterOperand = previous !== undefined && (previous.kind !== 'op' || previous.text === ')' || previous.text === ']');
  return token.text === '-' && afterOperand ? '\u2212' : undefined;
}

// ---------------------------------------------------------------- evaluating

interface Context {
  scope: Scope;
  datum: RecordRef | undefined;
  tolerance: Tolerance;
  inputs: Map<string, Input>;
  /** Inside isValid(): a member of an unset value is itself unset, not an error. */
  lenient: boolean;
  depth: number;
}

/** An evaluated argument, with its node for messages. */
interface Arg {
  value: Value;
  node: Node;
}

/** A number or quantity as arithmetic sees it; `plain` when it came from JS numbers only. */
interface Num {
  value: number;
  dim: string;
  lo: number;
  hi: number;
  plain: boolean;
}

/** Evaluates; throws FormulaError on unit mismatch, unknown names/fields, wrong argument types. `datum` binds inside aggregate conditions and can be given by the caller (views, for_each checks). */
export function evaluate(formula: Formula, scope: Scope, options: EvaluateOptions = {}): Outcome {
  const context: Context = {
    scope,
    datum: options.datum,
    tolerance: options.tolerance ?? { kind: 'exact' },
    inputs: new Map(),
    lenient: false,
    depth: 0,
  };
  const value = evaluateNode(formula.ast as Node, context);
  return { value, inputs: [...context.inputs.values()] };
}

function evaluateNode(node: Node, context: Context): Value {
  if (++context.depth > LIMITS.depth) throw new FormulaError(messages.formulaTooDeep(LIMITS.depth));
  try {
    return evaluateKind(node, context);
  } finally {
    context.depth--;
  }
}

function evaluateKind(node: Node, context: Context): Value {
  switch (node.type) {
    case 'Literal':
      if ('regex' in node || typeof node.value === 'bigint') throw new FormulaError(messages.formulaUnsupported('a regular expression'));
      return node.value as Value;
    case 'Identifier':
      return evaluateName(node.name, context);
    case 'MemberExpression':
      return evaluateMember(node, context);
    case 'CallExpression':
      return evaluateCall(node, context);
    case 'ArrayExpression':
      return node.elements.map((element) => (element ? evaluateNode(element, context) : undefined));
    case 'UnaryExpression':
      return evaluateUnary(node.operator, { value: evaluateNode(node.argument, context), node: node.argument });
    case 'BinaryExpression':
      return evaluateBinary(node, context);
    case 'LogicalExpression': {
      const left = evaluateNode(node.left, context);
      if (node.operator === '&&') return truthy(left) ? evaluateNode(node.right, context) : left;
      if (node.operator === '||') return truthy(left) ? left : evaluateNode(node.right, context);
      throw new FormulaError(messages.formulaUnsupported(`the operator ${node.operator}`));
    }
    case 'ConditionalExpression':
      return evaluateNode(truthy(evaluateNode(node.test, context)) ? node.consequent : node.alternate, context);
    case 'ObjectExpression':
      throw new FormulaError(messages.formulaUnsupported('an object literal {...}'));
    default:
      throw new FormulaError(messages.formulaUnsupported(node.type));
  }
}

function evaluateName(name: string, context: Context): Value {
  if (name === 'datum') {
    if (!context.datum) throw new FormulaError(messages.formulaNoDatum);
    return context.datum;
  }
  const value = context.scope.root(name);
  if (value === undefined) throw new FormulaError(messages.formulaUnknownName(name, suggest(name, context.scope.names())));
  return noteInput(context, value);
}

/** Records a figure read from the dataset as an input, once, in first-read order. */
function noteInput(context: Context, value: Value): Value {
  if (Array.isArray(value)) value.forEach((item) => noteInput(context, item));
  else if (isQuantity(value) && value.path !== undefined && !context.inputs.has(value.path)) {
    const input = value.source === undefined ? { path: value.path } : { path: value.path, source: value.source };
    context.inputs.set(value.path, input);
  }
  return value;
}

// ---------------------------------------------------------------- member access

function evaluateMember(node: MemberExpression, context: Context): Value {
  const object = evaluateNode(node.object, context);
  const key = memberKey(node, context);
  if (isNullish(object)) {
    if (context.lenient) return undefined;
    throw new FormulaError(messages.formulaNotSet(printNode(node.object)));
  }
  return noteInput(context, member(object, key, node.object));
}

function memberKey(node: MemberExpression, context: Context): string {
  if (!node.computed && node.property.type === 'Identifier') return node.property.name;
  const key = evaluateNode(node.property, context);
  if (typeof key === 'string') return key;
  if (typeof key === 'number' && Number.isInteger(key)) return String(key);
  throw new FormulaError(messages.formulaBadKey(printNode(node.object), describeValue(key)));
}

/** The only way a formula reaches inside a value: through the value model, never a JS property. */
function member(object: NonNullable<Value>, key: string, objectNode: Node): Value {
  if (typeof object !== 'object' || Array.isArray(object)) {
    throw new FormulaError(messages.formulaNoMembers(printNode(objectNode), describeValue(object), key));
  }
  switch (object.kind) {
    case 'record':
      return recordField(object, key);
    case 'collection':
      return collectionMember(object, key);
    case 'quantity':
      return quantityField(object, key, objectNode);
    case 'enum':
      if (key === 'value' || key === 'label') return object[key];
      throw new FormulaError(messages.formulaUnknownField(printNode(objectNode), key, ['value', 'label']));
  }
}

function recordField(record: RecordRef, key: string): Value {
  const fields = record.fields();
  if (fields.includes(key)) return record.get(key);
  // Every record has an id even though no declaration names it.
  if (key === 'id') return record.id;
  throw new FormulaError(messages.formulaUnknownField(record.path, key, suggest(key, fields)));
}

function collectionMember(collection: CollectionRef, key: string): Value {
  if (collection.field !== undefined) {
    throw new FormulaError(messages.formulaNoMembers(`${collection.path}.${collection.field}`, 'a column', key));
  }
  const fields = collection.fields();
  if (fields.includes(key)) {
    // Built afresh rather than spread: a host's refs may keep their methods on a prototype.
    return { kind: 'collection', path: collection.path, field: key, rows: () => collection.rows(), fields: () => collection.fields() };
  }
  const rows = collection.rows();
  const row = rows.find((r) => r.id === key);
  if (row) return row;
  const ids = rows.map((r) => r.id);
  throw new FormulaError(messages.formulaUnknownMember(collection.path, key, suggest(key, fields), suggest(key, ids)));
}

function quantityField(quantity: Quantity, key: string, objectNode: Node): Value {
  const fields = quantity.fields?.() ?? [];
  if (quantity.get && (!quantity.fields || fields.includes(key))) return quantity.get(key);
  throw new FormulaError(messages.formulaUnknownField(quantity.path ?? printNode(objectNode), key, suggest(key, fields)));
}

// ---------------------------------------------------------------- operators

function evaluateUnary(operator: string, arg: Arg): Value {
  if (operator === '!') return !truthy(arg.value);
  if (operator === '+') return fromNum(toNum(arg, '+'));
  if (operator === '-') {
    const n = toNum(arg, '-');
    return fromNum({ ...n, value: -n.value, lo: -n.hi, hi: -n.lo });
  }
  throw new FormulaError(messages.formulaUnsupported(`the operator ${operator}`));
}

function evaluateBinary(node: BinaryExpression, context: Context): Value {
  const left: Arg = { value: evaluateNode(node.left, context), node: node.left };
  const right: Arg = { value: evaluateNode(node.right, context), node: node.right };
  const operator = node.operator;
  if (COMPARISONS.has(operator)) return compare(operator, left, right, context.tolerance);
  if (operator === '+' && (isTextLike(left.value) || isTextLike(right.value))) return textPiece(left) + textPiece(right);
  if (!['+', '-', '*', '/', '%'].includes(operator)) throw new FormulaError(messages.formulaUnsupported(`the operator ${operator}`));
  return fromNum(arithmetic(operator, toNum(left, operator), toNum(right, operator), right));
}

function arithmetic(operator: string, a: Num, b: Num, divisor: Arg): Num {
  const plain = a.plain && b.plain;
  switch (operator) {
    case '+':
      return { value: a.value + b.value, dim: sameDim('add', a, b), lo: a.lo + b.lo, hi: a.hi + b.hi, plain };
    case '-':
      return { value: a.value - b.value, dim: sameDim('subtract', a, b), lo: a.lo - b.hi, hi: a.hi - b.lo, plain };
    case '*':
      if (a.dim && b.dim) throw new FormulaError(messages.formulaMultiplyUnits(a.dim, b.dim));
      return { value: a.value * b.value, dim: a.dim || b.dim, ...corners(a, b, (x, y) => x * y), plain };
    case '/': {
      if (b.value === 0) throw new FormulaError(messages.formulaDivideByZero(printNode(divisor.node)));
      const bounds = b.lo <= 0 && b.hi >= 0 ? { lo: -Infinity, hi: Infinity } : corners(a, b, (x, y) => x / y);
      return { value: a.value / b.value, dim: quotientDim(a, b), ...bounds, plain };
    }
    default:
      if (a.dim || b.dim) throw new FormulaError(messages.formulaNeedsUnitless('%', unitName(a.dim || b.dim)));
      return { value: a.value % b.value, dim: '', ...moduloBounds(a, b), plain };
  }
}

/** The dim two quantities share; a plain 0 fits any unit (an empty sum, a sign test). */
function sameDim(verb: string, a: Num, b: Num): string {
  if (a.dim === b.dim) return a.dim;
  if (a.plain && a.value === 0) return b.dim;
  if (b.plain && b.value === 0) return a.dim;
  throw new FormulaError(messages.formulaUnitMismatch(verb, unitName(a.dim), unitName(b.dim)));
}

function quotientDim(a: Num, b: Num): string {
  if (a.dim === b.dim) return '';
  if (!b.dim) return a.dim;
  throw new FormulaError(messages.formulaDivideUnits(unitName(a.dim), unitName(b.dim)));
}

/** Bounds of a monotone-per-argument operation: the extremes over the four corners. */
function corners(a: Num, b: Num, op: (x: number, y: number) => number): { lo: number; hi: number } {
  // 0 × ∞ is NaN in JS but 0 in interval arithmetic.
  const values = [op(a.lo, b.lo), op(a.lo, b.hi), op(a.hi, b.lo), op(a.hi, b.hi)].map((v) => (Number.isNaN(v) ? 0 : v));
  return { lo: Math.min(...values), hi: Math.max(...values) };
}

function moduloBounds(a: Num, b: Num): { lo: number; hi: number } {
  // With an exact divisor and one quotient across the range, x % b is x shifted.
  const k = Math.trunc(a.lo / b.lo);
  if (b.lo === b.hi && k === Math.trunc(a.hi / b.lo)) return { lo: a.lo - b.lo * k, hi: a.hi - b.lo * k };
  const bound = Math.max(Math.abs(b.lo), Math.abs(b.hi));
  return { lo: a.lo >= 0 ? 0 : -bound, hi: a.hi <= 0 ? 0 : bound };
}

function compare(operator: string, a: Arg, b: Arg, tolerance: Tolerance): boolean {
  const equality = operator.startsWith('=') || operator.startsWith('!');
  if (isNullish(a.value) || isNullish(b.value)) {
    if (!equality) throw new FormulaError(messages.formulaNotSet(printNode(isNullish(a.value) ? a.node : b.node)));
    return (isNullish(a.value) && isNullish(b.value)) === operator.startsWith('=');
  }
  const order = orderOf(a, b, tolerance, equality);
  switch (operator) {
    case '==':
    case '===':
      return order === 0;
    case '!=':
    case '!==':
      return order !== 0;
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    default:
      return order >= 0;
  }
}

/** -1, 0 or 1; 0 means equal within the tolerance, so `<=` also holds for a difference the tolerance allows. */
function orderOf(a: Arg, b: Arg, tolerance: Tolerance, equality: boolean): number {
  if (isNumeric(a.value) && isNumeric(b.value)) {
    const x = toNum(a, 'compare');
    const y = toNum(b, 'compare');
    sameDim('compare', x, y);
    return equalWithin(x, y, tolerance) ? 0 : Math.sign(x.value - y.value);
  }
  if (isTextLike(a.value) && isTextLike(b.value)) {
    const x = textOf(a.value);
    const y = textOf(b.value);
    return x === y ? 0 : x < y ? -1 : 1;
  }
  if (equality && typeof a.value === 'boolean' && typeof b.value === 'boolean') return a.value === b.value ? 0 : 1;
  throw new FormulaError(messages.formulaCompare(describeValue(a.value), describeValue(b.value)));
}

function equalWithin(a: Num, b: Num, tolerance: Tolerance): boolean {
  const difference = Math.abs(a.value - b.value);
  const magnitude = Math.max(Math.abs(a.value), Math.abs(b.value));
  // Floating-point noise never counts as a difference, whatever the tolerance.
  if (difference <= 1e-9 * Math.max(magnitude, 1)) return true;
  switch (tolerance.kind) {
    case 'exact':
      return false;
    case 'rounding':
      return a.lo <= b.hi && b.lo <= a.hi;
    case 'relative':
      return difference <= tolerance.value * magnitude;
    case 'absolute':
      return difference <= tolerance.value;
  }
}

function textPiece(arg: Arg): string {
  const value = arg.value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (isQuantity(value)) throw new FormulaError(messages.formulaFigureInText(printNode(arg.node)));
  if (isNullish(value)) throw new FormulaError(messages.formulaNotSet(printNode(arg.node)));
  if (!isTextLike(value)) throw new FormulaError(messages.formulaArgument('+', 'text', describeValue(value)));
  return textOf(value);
}

// ---------------------------------------------------------------- calls

function evaluateCall(node: CallExpression, context: Context): Value {
  if (node.callee.type !== 'Identifier') throw new FormulaError(messages.formulaUnsupported(`calling ${printNode(node.callee)}`));
  const name = node.callee.name;
  if (name === 'isValid') {
    checkArity(name, [1, 1], node.arguments.length);
    const value = evaluateNode(node.arguments[0]!, { ...context, lenient: true });
    return !isNullish(value) && !Number.isNaN(value);
  }
  if (AGGREGATES.has(name)) return evaluateAggregateCall(name, node, context);
  const args = node.arguments.map((argument) => ({ value: evaluateNode(argument, context), node: argument }));
  const builtin = BUILTINS.get(name);
  if (builtin) {
    checkArity(name, builtin.arity, args.length);
    return builtin.run(args);
  }
  const hosted = context.scope.call ? context.scope.call(name, args.map((arg) => arg.value)) : NO_FUNCTION;
  if (hosted !== NO_FUNCTION) return noteInput(context, hosted);
  const known = [...BUILTINS.keys(), ...AGGREGATES, 'isValid', ...(context.scope.functions?.() ?? [])];
  throw new FormulaError(messages.formulaUnknownFunction(name, suggest(name, known)));
}

function checkArity(name: string, [min, max]: readonly [number, number], count: number): void {
  if (count < min || count > max) throw new FormulaError(messages.formulaArity(name, min, max, count));
}

/** An aggregate over a collection, or min/max of two or more numbers. */
function evaluateAggregateCall(name: string, node: CallExpression, context: Context): Value {
  const [first, ...rest] = node.arguments;
  if (!first) throw new FormulaError(messages.formulaArity(name, 1, 2, 0));
  const head = evaluateNode(first, context);
  if (isCollection(head)) {
    checkArity(name, [1, 2], node.arguments.length);
    return aggregate(name, head, rest[0], context);
  }
  if ((name === 'min' || name === 'max') && rest.length > 0) {
    const args = [{ value: head, node: first }, ...rest.map((n) => ({ value: evaluateNode(n, context), node: n }))];
    return fromNum(extreme(name, args.map((arg) => toNum(arg, name)), (x, y) => sameDim('compare', x, y)));
  }
  throw new FormulaError(messages.formulaAggregateTarget(name));
}

function aggregate(name: string, collection: CollectionRef, condition: Node | undefined, context: Context): Value {
  // The condition sees each row as datum, shadowing any outer one.
  const rows = condition ? collection.rows().filter((row) => truthy(evaluateNode(condition, { ...context, datum: row }))) : collection.rows();
  const field = collection.field;
  if (field === undefined) {
    if (name === 'count') return rows.length;
    throw new FormulaError(messages.formulaAggregateColumn(name, collection.path, collection.fields()));
  }
  const values = rows.flatMap((row) => {
    const value = noteInput(context, row.get(field));
    return isNullish(value) ? [] : [{ value, path: `${row.path}.${field}` }];
  });
  if (name === 'count') return values.length;
  const column = `${collection.path}.${field}`;
  const nums = values.map(({ value, path }) => {
    if (!isNumeric(value)) throw new FormulaError(messages.formulaAggregateValue(name, path, describeValue(value)));
    return toNum({ value, node: { type: 'Identifier', name: path } }, name);
  });
  const shared = (a: Num, b: Num) => {
    if (a.dim !== b.dim) throw new FormulaError(messages.formulaAggregateUnits(name, column, unitName(a.dim), unitName(b.dim)));
    return a.dim;
  };
  if (name === 'sum' && nums.length === 0) return 0;
  if (nums.length === 0) throw new FormulaError(messages.formulaAggregateEmpty(name, column));
  return fromNum(name === 'min' || name === 'max' ? extreme(name, nums, shared) : total(name, nums, shared));
}

function total(name: string, nums: Num[], shared: (a: Num, b: Num) => string): Num {
  const sum = nums.reduce((a, b) => ({ value: a.value + b.value, dim: shared(a, b), lo: a.lo + b.lo, hi: a.hi + b.hi, plain: a.plain && b.plain }));
  if (name === 'sum') return sum;
  const n = nums.length;
  return { ...sum, value: sum.value / n, lo: sum.lo / n, hi: sum.hi / n };
}

function extreme(name: string, nums: Num[], shared: (a: Num, b: Num) => string): Num {
  const pick = name === 'min' ? Math.min : Math.max;
  return nums.reduce((a, b) => ({
    value: pick(a.value, b.value),
    dim: shared(a, b),
    lo: pick(a.lo, b.lo),
    hi: pick(a.hi, b.hi),
    plain: a.plain && b.plain,
  }));
}

interface Builtin {
  arity: readonly [number, number];
  run: (args: Arg[]) => Value;
}

/** Builtins whose arguments are evaluated first; isValid and the aggregates read their arguments' nodes instead. */
const BUILTINS = new Map<string, Builtin>([
  ['pow', { arity: [2, 2], run: (args) => fromNum(power(unitless('pow', nth(args, 0)), unitless('pow', nth(args, 1)))) }],
  ['sqrt', { arity: [1, 1], run: (args) => fromNum(monotone(unitless('sqrt', nth(args, 0)), Math.sqrt)) }],
  ['log', { arity: [1, 1], run: (args) => fromNum(monotone(unitless('log', nth(args, 0)), Math.log)) }],
  ['exp', { arity: [1, 1], run: (args) => fromNum(monotone(unitless('exp', nth(args, 0)), Math.exp)) }],
  ['abs', { arity: [1, 1], run: (args) => fromNum(absolute(toNum(nth(args, 0), 'abs'))) }],
  ['floor', { arity: [1, 1], run: (args) => fromNum(monotone(toNum(nth(args, 0), 'floor'), Math.floor)) }],
  ['ceil', { arity: [1, 1], run: (args) => fromNum(monotone(toNum(nth(args, 0), 'ceil'), Math.ceil)) }],
  ['round', { arity: [1, 2], run: (args) => fromNum(roundTo(toNum(nth(args, 0), 'round'), args[1])) }],
  ['year', { arity: [1, 1], run: (args) => yearOf(nth(args, 0)) }],
  ['upper', { arity: [1, 1], run: (args) => text('upper', nth(args, 0)).toUpperCase() }],
  ['lower', { arity: [1, 1], run: (args) => text('lower', nth(args, 0)).toLowerCase() }],
  ['length', { arity: [1, 1], run: (args) => lengthOf(nth(args, 0)) }],
  ['replace', { arity: [3, 3], run: (args) => replaceAll(args) }],
  ['join', { arity: [1, 2], run: (args) => joinList(args) }],
  ['value', { arity: [1, 2], run: (args) => writtenValue(nth(args, 0), args[1]) }],
  ['label', { arity: [1, 1], run: (args) => labelOf(nth(args, 0)) }],
]);

function nth(args: Arg[], index: number): Arg {
  const arg = args[index];
  if (!arg) throw new Error(`internal: argument ${index} should have been checked by arity`);
  return arg;
}

function unitless(name: string, arg: Arg): Num {
  const n = toNum(arg, name);
  if (n.dim) throw new FormulaError(messages.formulaNeedsUnitless(`${name}()`, unitName(n.dim)));
  return n;
}

function monotone(n: Num, f: (x: number) => number): Num {
  return { ...n, value: f(n.value), lo: f(n.lo), hi: f(n.hi) };
}

function absolute(n: Num): Num {
  const lo = n.lo >= 0 ? n.lo : n.hi <= 0 ? -n.hi : 0;
  return { ...n, value: Math.abs(n.value), lo, hi: Math.max(Math.abs(n.lo), Math.abs(n.hi)) };
}

function power(base: Num, exponent: Num): Num {
  const bounds = corners(base, exponent, Math.pow);
  // Between a negative and a positive base lies 0, which the corners miss.
  const spansZero = base.lo < 0 && base.hi > 0;
  const lo = spansZero ? Math.min(bounds.lo, 0) : bounds.lo;
  return { value: Math.pow(base.value, exponent.value), dim: '', lo, hi: bounds.hi, plain: base.plain && exponent.plain };
}

function roundTo(n: Num, digitsArg: Arg | undefined): Num {
  const digits = digitsArg ? toNum(digitsArg, 'round') : undefined;
  if (digits && (digits.dim || !Number.isInteger(digits.value))) {
    throw new FormulaError(messages.formulaArgument('round', 'a whole number of digits', describeValue(digitsArg?.value)));
  }
  const factor = 10 ** (digits?.value ?? 0);
  return monotone(n, (x) => Math.round(x * factor) / factor);
}

function yearOf(arg: Arg): number {
  if (typeof arg.value === 'number' && Number.isInteger(arg.value)) return arg.value;
  const written = text('year', arg);
  const digits = /\d{4}/.exec(written);
  if (!digits) throw new FormulaError(messages.formulaNoYear(written));
  return Number(digits[0]);
}

function lengthOf(arg: Arg): number {
  return Array.isArray(arg.value) ? arg.value.length : text('length', arg).length;
}

function replaceAll(args: Arg[]): string {
  const [subject, find, replacement] = [0, 1, 2].map((i) => text('replace', nth(args, i)));
  // A replacer function, so `$&` and the like in the replacement stay literal.
  return subject!.replaceAll(find!, () => replacement!);
}

function joinList(args: Arg[]): string {
  const list = nth(args, 0);
  if (!Array.isArray(list.value)) throw new FormulaError(messages.formulaArgument('join', 'a list', describeValue(list.value)));
  const separator = args[1] ? text('join', args[1]) : ',';
  return list.value.map((item) => (isNullish(item) ? '' : textPiece({ value: item, node: list.node }))).join(separator);
}

/** The number as a report writes it: percents times 100, others divided by the scale asked for. */
function writtenValue(arg: Arg, scaleArg: Arg | undefined): number {
  const value = arg.value;
  if (!isNumeric(value)) throw new FormulaError(messages.formulaArgument('value', 'a figure', describeValue(value)));
  if (isQuantity(value) && value.unit && PERCENT_UNITS.has(value.unit)) return clean(value.value * 100);
  const scale = scaleArg ? text('value', scaleArg) : undefined;
  const factor = scale === undefined ? 1 : SCALES.get(scale);
  if (factor === undefined) throw new FormulaError(messages.formulaScale(String(scale)));
  return clean((isQuantity(value) ? value.value : value) / factor);
}

/** Drops the float noise that applying a scale or a percent leaves (40.7 / 100 * 100 is 40.699999999999996). */
function clean(x: number): number {
  return Number(x.toPrecision(15));
}

function labelOf(arg: Arg): string {
  const value = arg.value;
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && value.kind === 'enum') return value.label;
  throw new FormulaError(messages.formulaArgument('label', 'a choice field (an enum)', describeValue(value)));
}

// ---------------------------------------------------------------- values

function isNullish(value: Value): value is null | undefined {
  return value === null || value === undefined;
}

function isQuantity(value: Value): value is Quantity {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && value.kind === 'quantity';
}

function isCollection(value: Value): value is CollectionRef {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && value.kind === 'collection';
}

function isNumeric(value: Value): value is number | Quantity {
  return typeof value === 'number' || isQuantity(value);
}

/** Text, and the values that stand for text: an enum's value, a record's id. */
function isTextLike(value: Value): value is string | EnumValue | RecordRef {
  if (typeof value === 'string') return true;
  return typeof value === 'object' && value !== null && !Array.isArray(value) && (value.kind === 'enum' || value.kind === 'record');
}

function textOf(value: string | EnumValue | RecordRef): string {
  if (typeof value === 'string') return value;
  return value.kind === 'enum' ? value.value : value.id;
}

function text(name: string, arg: Arg): string {
  if (isTextLike(arg.value)) return textOf(arg.value);
  if (isNullish(arg.value)) throw new FormulaError(messages.formulaNotSet(printNode(arg.node)));
  throw new FormulaError(messages.formulaArgument(name, 'text', describeValue(arg.value)));
}

function truthy(value: Value): boolean {
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value);
  return value !== undefined && value !== null && value !== false && value !== '';
}

function toNum(arg: Arg, operator: string): Num {
  const value = arg.value;
  if (typeof value === 'number') return { value, dim: '', lo: value, hi: value, plain: true };
  if (isQuantity(value)) return { value: value.value, dim: value.dim, lo: value.lo, hi: value.hi, plain: false };
  if (isNullish(value)) throw new FormulaError(messages.formulaNotSet(printNode(arg.node)));
  throw new FormulaError(messages.formulaOperand(operator, describeValue(value)));
}

/** A result: a plain number if only numbers went in, else a new quantity (no path: it is not a dataset figure). */
function fromNum(n: Num): Value {
  return n.plain ? n.value : { kind: 'quantity', value: n.value, dim: n.dim, lo: n.lo, hi: n.hi };
}

function unitName(dim: string): string {
  return dim || 'a unitless number';
}

function describeValue(value: Value): string {
  if (isNullish(value)) return 'not set';
  if (typeof value === 'string') return `the text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'boolean') return `${value}`;
  if (Array.isArray(value)) return 'a list';
  switch (value.kind) {
    case 'quantity':
      return value.dim ? `a figure in ${value.dim}` : 'a unitless figure';
    case 'enum':
      return `the choice "${value.value}"`;
    case 'record':
      return `the record ${value.path}`;
    case 'collection':
      return value.field === undefined ? `the collection ${value.path}` : `the column ${value.path}.${value.field}`;
  }
}

/** A node as the author wrote it, near enough to name it in a message. */
function printNode(node: Node): string {
  switch (node.type) {
    case 'Identifier':
      return node.name;
    case 'Literal':
      return node.raw ?? String(node.value);
    case 'MemberExpression':
      return node.computed ? `${printNode(node.object)}[${printNode(node.property)}]` : `${printNode(node.object)}.${printNode(node.property)}`;
    case 'CallExpression':
      return `${printNode(node.callee)}(${node.arguments.map(printNode).join(', ')})`;
    default:
      return 'this value';
  }
}

