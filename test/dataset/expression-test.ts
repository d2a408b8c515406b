import { describe, expect, it, vi } from 'vitest';
import {
  comparisonSides,
  describeFormula,
  evaluate,
  FormulaError,
  NO_FUNCTION,
  parseFormula,
  type CollectionRef,
  type EnumValue,
  type EvaluateOptions,
  type Quantity,
  type RecordRef,
  type Scope,
  type Value,
} from '../../src/dataset/expression.ts';
import { messages } from '../../src/support/messages.ts';

// ------------------------------------------------------------ a small in-memory dataset, built as the host would

const SCALE = { thousand: 1e3, million: 1e6, billion: 1e9 } as const;
const PERCENT_LIKE = new Set(['percent', 'percent_change', 'percentage_points']);

/** A figure as written (`'942'`, 'USD', million): base units, fractions for percents, bounds from the written decimals. */
function figure(written: string, unit: string, options: { scale?: keyof typeof SCALE; path?: string; source?: string } = {}): Quantity {
  const number = Number(written);
  const half = 0.5 * 10 ** -(written.split('.')[1]?.length ?? 0);
  const factor = (PERCENT_LIKE.has(unit) ? 0.01 : 1) * (options.scale ? SCALE[options.scale] : 1);
  const dim = PERCENT_LIKE.has(unit) || unit === 'count' ? '' : unit;
  return { kind: 'quantity', value: number * factor, dim, lo: (number - half) * factor, hi: (number + half) * factor, unit, ...options };
}

function record(path: string, values: Record<string, Value>, declared = Object.keys(values), source?: string): RecordRef {
  const id = path.split('.').at(-1) ?? path;
  return { kind: 'record', path, id, source, get: (key) => (Object.hasOwn(values, key) ? values[key] : undefined), fields: () => declared };
}

function collection(path: string, rows: RecordRef[], fields: string[]): CollectionRef {
  return { kind: 'collection', path, rows: () => rows, fields: () => fields };
}

function choice(value: string, label = value.toLowerCase()): EnumValue {
  return { kind: 'enum', value, label };
}

const catl = record('entities.catl', { name: 'Contemporary Amperex Technology', short_name: 'CATL' });
const vnetEntity = record('entities.vnet', { name: 'VNET Group', short_name: 'VNET' });
const entities = record('entities', { catl, vnet: vnetEntity });

const dealFields = ['counterparty', 'order', 'instrument', 'amount', 'stake', 'valuation', 'note'];
const deal = (id: string, values: Record<string, Value>) => record(`deals.${id}`, values, dealFields, 'vector');
const vnet = deal('vnet', {
  counterparty: vnetEntity,
  order: 1,
  instrument: choice('share-purchase', 'share purchase'),
  amount: figure('942', 'USD', { scale: 'million', path: 'deals.vnet.amount', source: 'vector' }),
  stake: figure('38', 'percent', { path: 'deals.vnet.stake', source: 'vector' }),
  valuation: figure('2.48', 'USD', { scale: 'billion', path: 'deals.vnet.valuation', source: 'vector' }),
});
const zhongheng = deal('zhongheng', {
  counterparty: catl,
  order: 2,
  instrument: choice('indirect-stake', 'indirect stake'),
  amount: figure('600', 'USD', { scale: 'million', path: 'deals.zhongheng.amount', source: 'vector' }),
});
const deepseek = deal('deepseek', { counterparty: catl, order: 3, instrument: choice('indirect-stake', 'indirect stake') });
const deals = collection('deals', [vnet, zhongheng, deepseek], dealFields);

const generationRows = [
  ['2016-01-01', 'Renewables', '10.5'],
  ['2017-01-01', 'Renewables', '21.25'],
  ['2017-01-01', 'Fossil Fuels', '40'],
  ['2017-01-01', 'Renewables', '3.75'],
].map(([year, source, net], i) =>
  record(`generation.${i}`, {
    year: year!,
    source: choice(source!),
    net_generation: figure(net!, 'MWh', { scale: 'thousand', path: `generation.${i}.net_generation`, source: 'eia' }),
  }),
);
const generation = collection('generation', generationRows, ['year', 'source', 'net_generation']);

const metrics = record('metrics', {
  renewables_kwh: figure('115200', 'kWh', { scale: 'million', path: 'metrics.renewables_kwh', source: 'eia' }),
  total_kwh: figure('130.5', 'kWh', { scale: 'billion', path: 'metrics.total_kwh', source: 'eia' }),
  share: figure('40.7', 'percent', { path: 'metrics.share', source: 'cpca' }),
  revenue_eur: figure('115.2', 'EUR', { scale: 'million', path: 'metrics.revenue_eur', source: 'annual' }),
  valuation_high: figure('3.0', 'USD', { scale: 'billion', path: 'metrics.valuation_high' }),
});

const roots: Record<string, Value> = { deals, generation, metrics, entities };
const host = vi.fn((name: string, args: Value[]): Value | typeof NO_FUNCTION =>
  name === 'format' ? `formatted ${(args[0] as Quantity).path}` : NO_FUNCTION,
);
const scope: Scope = {
  root: (name) => (Object.hasOwn(roots, name) ? roots[name] : undefined),
  names: () => Object.keys(roots),
  call: host,
  functions: () => ['format', 'period'],
};

function run(text: string, options?: EvaluateOptions) {
  return evaluate(parseFormula(text), scope, options);
}
function value(text: string, options?: EvaluateOptions): Value {
  return run(text, options).value;
}
function quantity(text: string, options?: EvaluateOptions): Quantity {
  const result = value(text, options);
  if (typeof result !== 'object' || result === null || Array.isArray(result) || result.kind !== 'quantity') throw new Error(`not a quantity: ${String(result)}`);
  return result;
}

// ------------------------------------------------------------ tests

describe('arithmetic and units', () => {
  it('computes with plain numbers as JS does, exactly', () => {
    expect(value('1 + 2 * 3 - 8 / 4')).toBe(5);
    expect(value('10 % 4')).toBe(2);
    expect(value('-(2 - 5)')).toBe(3);
  });

  it('divides figures in one unit but different scales without hand conversion', () => {
    const share = quantity('metrics.renewables_kwh / metrics.total_kwh');
    expect(share.dim).toBe('');
    expect(share.value).toBeCloseTo(115_200e6 / 130.5e9, 12);
    expect(share.value).toBeCloseTo(0.8828, 4);
    expect(share.path).toBeUndefined();
  });

  it('takes percents as fractions', () => {
    expect(quantity('metrics.share * 2').value).toBeCloseTo(0.814, 12);
    expect(quantity('1 - metrics.share').value).toBeCloseTo(0.593, 12);
  });

  it('keeps the unit through multiplying by a unitless figure and dividing by a number', () => {
    const implied = quantity('deals.vnet.amount / deals.vnet.stake');
    expect(implied.dim).toBe('USD');
    expect(implied.value).toBeCloseTo(942e6 / 0.38, 3);
    expect(quantity('deals.vnet.amount * 2').dim).toBe('USD');
    expect(quantity('deals.vnet.amount / 2').value).toBe(471e6);
  });

  it('refuses to mix units', () => {
    expect(() => run('deals.vnet.amount + metrics.revenue_eur')).toThrow(messages.formulaUnitMismatch('add', 'USD', 'EUR'));
    expect(() => run('deals.vnet.amount - metrics.share')).toThrow(messages.formulaUnitMismatch('subtract', 'USD', 'a unitless number'));
    expect(() => run('deals.vnet.amount * metrics.revenue_eur')).toThrow(messages.formulaMultiplyUnits('USD', 'EUR'));
    expect(() => run('1 / deals.vnet.amount')).toThrow(messages.formulaDivideUnits('a unitless number', 'USD'));
    expect(() => run('deals.vnet.amount % 7')).toThrow(messages.formulaNeedsUnitless('%', 'USD'));
    expect(() => run('sqrt(deals.vnet.amount)')).toThrow(messages.formulaNeedsUnitless('sqrt()', 'USD'));
    expect(() => run('deals.vnet.amount > metrics.revenue_eur')).toThrow(messages.formulaUnitMismatch('compare', 'USD', 'EUR'));
  });

  it('lets a plain 0 stand for zero in any unit', () => {
    expect(value('deals.vnet.amount > 0')).toBe(true);
    expect(quantity('deals.vnet.amount + 0').dim).toBe('USD');
  });

  it('refuses division by zero', () => {
    expect(() => run('deals.vnet.amount / (2 - 2)')).toThrow(FormulaError);
  });

  it('applies the number functions, keeping the unit only where it makes sense', () => {
    expect(value('pow(2, 10)')).toBe(1024);
    expect(value('sqrt(16) + abs(-3) + floor(2.7) + ceil(2.1)')).toBe(4 + 3 + 2 + 3);
    expect(value('round(2.345, 2)')).toBe(2.35);
    expect(value('log(exp(2))')).toBeCloseTo(2, 12);
    expect(quantity('round(deals.vnet.amount / 3)').dim).toBe('USD');
    expect(quantity('abs(-deals.vnet.amount)').value).toBe(942e6);
    expect(value('min(3, 1, 2) + max(3, 1, 2)')).toBe(4);
  });
});

describe('rounding bounds', () => {
  it('carries the written precision through a quotient', () => {
    const implied = quantity('deals.vnet.amount / deals.vnet.stake');
    expect(implied.lo).toBeCloseTo(941.5e6 / 0.385, 3);
    expect(implied.hi).toBeCloseTo(942.5e6 / 0.375, 3);
  });

  it('lets a rounding check pass where the bounds overlap, and only there', () => {
    const check = 'deals.vnet.amount / deals.vnet.stake == deals.vnet.valuation';
    expect(value(check)).toBe(false);
    expect(value(check, { tolerance: { kind: 'rounding' } })).toBe(true);
    expect(value('deals.vnet.amount / deals.vnet.stake == metrics.valuation_high', { tolerance: { kind: 'rounding' } })).toBe(false);
  });

  it('applies relative and absolute tolerances in base units', () => {
    const check = 'deals.vnet.amount / deals.vnet.stake == deals.vnet.valuation';
    expect(value(check, { tolerance: { kind: 'relative', value: 0.01 } })).toBe(true);
    expect(value(check, { tolerance: { kind: 'relative', value: 0.0001 } })).toBe(false);
    expect(value(check, { tolerance: { kind: 'absolute', value: 2e6 } })).toBe(true);
    expect(value(check, { tolerance: { kind: 'absolute', value: 1e6 } })).toBe(false);
    expect(value('0.1 + 0.2 == 0.3')).toBe(true);
    expect(value('0.1 + 0.2 <= 0.3 && !(0.1 + 0.2 < 0.3)')).toBe(true);
  });

  it('widens to the whole line when a divisor may be zero', () => {
    const result = quantity('deals.vnet.amount / (deals.vnet.stake - 0.379)');
    expect(result.value).toBeCloseTo(942e6 / 0.001, 0);
    expect([result.lo, result.hi]).toEqual([-Infinity, Infinity]);
  });
});

describe('aggregates', () => {
  it('sums a column, listing every value read as an input', () => {
    const { value: total, inputs } = run('sum(generation.net_generation)');
    expect((total as Quantity).value).toBeCloseTo((10.5 + 21.25 + 40 + 3.75) * 1e3, 9);
    expect((total as Quantity).dim).toBe('MWh');
    expect(inputs.map((input) => input.path)).toEqual([0, 1, 2, 3].map((i) => `generation.${i}.net_generation`));
    expect(inputs[0]?.source).toBe('eia');
  });

  it('sums only the rows that pass a condition on datum', () => {
    const { value: total, inputs } = run("sum(generation.net_generation, year(datum.year) == 2017 && datum.source == 'Renewables')");
    expect((total as Quantity).value).toBeCloseTo((21.25 + 3.75) * 1e3, 9);
    expect(inputs.map((input) => input.path)).toEqual(['generation.1.net_generation', 'generation.3.net_generation']);
  });

  it('shadows the outer datum inside the condition', () => {
    expect(value("count(generation, datum.source == 'Renewables') + datum.order", { datum: zhongheng })).toBe(3 + 2);
  });

  it('takes means, minima and maxima with their bounds', () => {
    expect(quantity('mean(deals.amount)').value).toBe((942e6 + 600e6) / 2);
    const smallest = quantity('min(generation.net_generation)');
    expect(smallest.value).toBe(3750);
    expect(smallest.lo).toBeCloseTo(3745, 9);
    expect(quantity('max(generation.net_generation)').value).toBe(40_000);
  });

  it('counts records, records with a field set, and records passing a condition', () => {
    expect(value('count(deals)')).toBe(3);
    expect(value('count(deals.amount)')).toBe(2);
    expect(value('count(deals, datum.order <= 2)')).toBe(2);
    expect(value("count(deals.amount, datum.instrument == 'indirect-stake')")).toBe(1);
  });

  it('makes an empty sum 0, and refuses the mean of nothing', () => {
    expect(value('sum(deals.amount, datum.order > 5)')).toBe(0);
    expect(() => run('mean(deals.amount, datum.order > 5)')).toThrow(messages.formulaAggregateEmpty('mean', 'deals.amount'));
  });

  it('needs a column to sum, and numbers in it', () => {
    expect(() => run('sum(deals)')).toThrow(messages.formulaAggregateColumn('sum', 'deals', dealFields));
    expect(() => run('sum(generation.year)')).toThrow(messages.formulaAggregateValue('sum', 'generation.0.year', 'the text "2016-01-01"'));
    expect(() => run('sum(3)')).toThrow(messages.formulaAggregateTarget('sum'));
  });
});

describe('paths and records', () => {
  it('follows references from datum', () => {
    expect(value('datum.counterparty.name', { datum: vnet })).toBe('VNET Group');
    expect(value("'Deal with ' + datum.counterparty.name", { datum: vnet })).toBe('Deal with VNET Group');
  });

  it('reaches rows by id, with dots or brackets, and table rows by number', () => {
    expect((value("deals['vnet']") as RecordRef).path).toBe('deals.vnet');
    expect(value('generation[3].source.label')).toBe('renewables');
    expect(value('datum.id', { datum: vnet })).toBe('vnet');
  });

  it('uses an enum as its value in text and comparisons, and label() for its display word', () => {
    expect(value("datum.instrument == 'share-purchase'", { datum: vnet })).toBe(true);
    expect(value("'via ' + label(datum.instrument)", { datum: vnet })).toBe('via share purchase');
  });

  it('lists each figure read once, in first-read order', () => {
    const { inputs } = run('deals.vnet.stake * deals.vnet.valuation + deals.vnet.stake * deals.vnet.valuation');
    expect(inputs).toEqual([
      { path: 'deals.vnet.stake', source: 'vector' },
      { path: 'deals.vnet.valuation', source: 'vector' },
    ]);
  });
});

describe('logic and short-circuit', () => {
  const label = "isValid(datum.amount) ? format(datum.amount) : 'undisclosed'";

  it('evaluates only the branch taken', () => {
    host.mockClear();
    expect(value(label, { datum: deepseek })).toBe('undisclosed');
    expect(host).not.toHaveBeenCalled();
    expect(value(label, { datum: vnet })).toBe('formatted deals.vnet.amount');
    expect(host).toHaveBeenCalledTimes(1);
  });

  it('treats a member of an unset field as unset inside isValid only', () => {
    expect(value('isValid(datum.amount.label)', { datum: deepseek })).toBe(false);
    expect(() => run('datum.amount.label', { datum: deepseek })).toThrow(messages.formulaNotSet('datum.amount'));
    expect(() => run('datum.amount * 2', { datum: deepseek })).toThrow(messages.formulaNotSet('datum.amount'));
  });

  it('uses JS truthiness and returns the deciding operand', () => {
    expect(value("datum.note || 'none'", { datum: vnet })).toBe('none');
    expect(value('datum.amount && 1', { datum: vnet })).toBe(1);
    expect(value("!'' && !0 && !datum.note", { datum: vnet })).toBe(true);
  });
});

describe('text functions', () => {
  it('transforms text', () => {
    expect(value("upper('gwh') + lower('ABC')")).toBe('GWHabc');
    expect(value("length('abcd') + length([1, 2])")).toBe(6);
    expect(value("replace('a-b-c', '-', '$&')")).toBe('a$&b$&c');
    expect(value("join(['a', datum.counterparty, 3], ' / ')", { datum: vnet })).toBe('a / vnet / 3');
  });

  it('reads the year of a date or a period', () => {
    expect(value("year('FY2025') + year('2026-Q1') - year(datum.year)", { datum: generationRows[0]! })).toBe(2025 + 2026 - 2016);
  });

  it('gives a figure back as written', () => {
    expect(value('value(metrics.share)')).toBe(40.7);
    expect(value("value(deals.vnet.amount, 'million')")).toBe(942);
    expect(value('value(deals.vnet.amount)')).toBe(942e6);
    expect(() => run("value(deals.vnet.amount, 'lakh')")).toThrow(messages.formulaScale('lakh'));
  });

  it('refuses to write a figure into text unformatted', () => {
    expect(() => run("'raised ' + deals.vnet.amount")).toThrow(messages.formulaFigureInText('deals.vnet.amount'));
  });
});

describe('errors and the sandbox', () => {
  it('names unknown roots, closest first', () => {
    expect(() => run('metricz.share')).toThrow(/^unknown name "metricz" \(known: metrics, /);
    expect(() => run('datum.order')).toThrow(messages.formulaNoDatum);
  });

  it('names unknown fields and records, closest first', () => {
    expect(() => run('deals.vnet.amout')).toThrow(/^deals\.vnet has no field "amout" \(fields: amount, /);
    expect(() => run('deals.vnte')).toThrow(/^deals has no field or record "vnte" \(fields: .*; records: vnet, /);
    expect(() => run('deals.vnet.order.x')).toThrow(messages.formulaNoMembers('deals.vnet.order', 'the number 1', 'x'));
  });

  it('names unknown functions, host functions included', () => {
    expect(() => run('summ(deals.amount)')).toThrow(/^unknown function "summ" \(known: sum, /);
    expect(() => run('fromat(deals.vnet.amount)')).toThrow(/^unknown function "fromat" \(known: format, /);
    expect(() => run('round(1, 2, 3)')).toThrow(messages.formulaArity('round', 1, 2, 3));
  });

  it('reaches nothing of JavaScript', () => {
    for (const text of ['constructor', 'deals.constructor', "deals.vnet['__proto__']", "'abc'.length", 'toString(1)', 'Math.PI', 'deals.vnet.get("amount")']) {
      expect(() => run(text), text).toThrow(FormulaError);
    }
    expect(() => run('/a/.test("a")')).toThrow(FormulaError);
    expect(() => run('/a/')).toThrow(messages.formulaUnsupported('a regular expression'));
  });

  it('refuses overlong and overdeep formulas', () => {
    expect(() => parseFormula(`1${' + 1'.repeat(500)}`)).toThrow(messages.formulaTooLong(2001, 2000));
    expect(() => run(`${'- '.repeat(300)}1`)).toThrow(messages.formulaTooDeep(200));
    expect(value(`${'- '.repeat(100)}1`)).toBe(1);
  });

  it('reports the column of a syntax error', () => {
    const columnOf = (text: string) => {
      try {
        parseFormula(text);
      } catch (error) {
        if (error instanceof FormulaError) return error.column;
      }
      return 'parsed';
    };
    expect(columnOf('metrics.share + * 2')).toBe(17);
    expect(columnOf('metrics.share +')).toBe(16);
    expect(columnOf('sum(deals.amount datum)')).toBe(18);
    expect(columnOf('metrics.share 2')).toBe(15);
    expect(columnOf("upper('abc)")).toBe(7);
    expect(columnOf('a = 1')).toBe(3);
    expect(() => parseFormula('1, 2')).toThrow(messages.formulaSyntax(messages.formulaDisabled, 2));
  });
});

describe('comparisonSides', () => {
  it('splits an assertion into its two sides as formulas', () => {
    const sides = comparisonSides(parseFormula('datum.amount == datum.stake * datum.valuation'));
    expect(sides?.operator).toBe('==');
    expect(sides?.left.text).toBe('datum.amount');
    expect(sides?.right.text).toBe('datum.stake * datum.valuation');
    expect(sides && evaluate(sides.right, scope, { datum: vnet }).value).toMatchObject({ dim: 'USD' });
  });

  it('finds the root operator past strings, parentheses and other comparisons', () => {
    const text = "(datum.order < 2) == (datum.counterparty.name >= 'a == b')";
    const sides = comparisonSides(parseFormula(text));
    expect([sides?.left.text, sides?.operator, sides?.right.text]).toEqual(['(datum.order < 2)', '==', "(datum.counterparty.name >= 'a == b')"]);
    expect(comparisonSides(parseFormula('  (count(deals) !== 3)  '))?.right.text).toBe('3');
    expect(comparisonSides(parseFormula('1 < 2 < 3'))?.left.text).toBe('1 < 2');
  });

  it('gives undefined for anything else', () => {
    expect(comparisonSides(parseFormula('isValid(datum.amount) && datum.amount > 0'))).toBeUndefined();
    expect(comparisonSides(parseFormula('1 + 2'))).toBeUndefined();
  });
});

describe('describeFormula', () => {
  it('writes the footnote symbols outside strings and normalises spaces', () => {
    expect(describeFormula(parseFormula('deals.vnet.amount/deals.vnet.stake'))).toBe('deals.vnet.amount ÷ deals.vnet.stake');
    expect(describeFormula(parseFormula('(a-b)*  -c'))).toBe('(a \u2212 b) × -c');
    expect(describeFormula(parseFormula("  f(a,   'x - y / z*2')   -1 "))).toBe("f(a, 'x - y / z*2') \u2212 1");
  });
});
