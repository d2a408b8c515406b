import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deriveDataset, type DerivedFigure } from '../../src/dataset/derive.ts';
import { InputError } from '../../src/support/error.ts';
import { messages, type Located } from '../../src/support/messages.ts';
import { loadDatasetText } from '../fixtures/dataset/load.ts';

const FILE = 'data/catl-ai-stack.yaml';
const shipped = readFileSync(FILE, 'utf8');
const { data, derived } = loadDatasetText(FILE, shipped);

/** Replaces one exact occurrence of `find` (which must occur once) in `text`. */
function mutate(text: string, find: string, replace: string): string {
  const first = text.indexOf(find);
  expect(first, `fixture text not found: ${find}`).toBeGreaterThanOrEqual(0);
  expect(text.indexOf(find, first + 1), `fixture text not unique: ${find}`).toBe(-1);
  return text.slice(0, first) + replace + text.slice(first + find.length);
}

function figure(id: string): DerivedFigure {
  const found = derived.figures[id];
  expect(found, `derived.${id} was not computed`).toBeDefined();
  return found!;
}

// The inputs, read from the dataset (not typed here): every expected value below is computed from these.
type Written = { value: number; unit: string; scale?: string };
const deals = data.collections.deals!.records!;
const rounds = data.collections.rounds!.records!;
const written = (value: unknown) => value as Written;
const FACTOR: Record<string, number> = { thousand: 1e3, million: 1e6, billion: 1e9 };
/** A money figure in US dollars, its scale applied. */
const dollars = (value: unknown) => {
  const f = written(value);
  expect(f.unit).toBe('USD');
  return f.value * (f.scale ? FACTOR[f.scale]! : 1);
};
const metric = (id: string) => data.metrics[id]!.value;

describe('deriveDataset: the CATL figures', () => {
  it('computes every declared figure with no problem', () => {
    expect(deriveDataset(data).problems).toEqual([]);
    expect(Object.keys(derived.figures).sort()).toEqual(Object.keys(data.derived).sort());
  });

  it('totals the disclosed deal amounts, in billions', () => {
    const total = figure('disclosed_amount');
    const expected = dollars(deals.zhongheng!.amount) + dollars(deals.vnet!.amount); // $600m + $942m
    expect(deals.deepseek!.amount).toBeUndefined();
    expect(total.unit).toBe('USD');
    expect(total.scale).toBe('billion');
    expect(total.value).toBeCloseTo(expected / 1e9, 9);
    expect(total.formula).toBe('sum(deals.amount)');
    expect(total.inputs).toEqual(['deals.zhongheng.amount', 'deals.vnet.amount']);
    expect(total.sources).toEqual(['vector']);
    expect(total.id).toBe('derived.disclosed_amount');
    expect(total.label).toBe(data.derived.disclosed_amount!.label);
  });

  it('counts the deals with and without a disclosed amount, and by status', () => {
    const records = Object.values(deals);
    const withAmount = records.filter((deal) => deal.amount !== undefined).length;
    const amounts = Object.entries(deals).flatMap(([id, deal]) => (deal.amount !== undefined ? [`deals.${id}.amount`] : []));
    expect(figure('disclosed_deals')).toMatchObject({ value: withAmount, unit: 'count', formula: 'count(deals.amount)', inputs: amounts });
    expect(figure('undisclosed_deals')).toMatchObject({ value: records.length - withAmount, unit: 'count', formula: 'count(deals) \u2212 count(deals.amount)' });
    expect(figure('undisclosed_deals').inputs).toEqual(expect.arrayContaining(amounts));
    const byStatus = (test: (status: unknown) => boolean) => records.filter((deal) => test(deal.status)).length;
    expect(figure('stated_deals').value).toBe(byStatus((s) => s !== 'reported'));
    expect(figure('completed_deals').value).toBe(byStatus((s) => s === 'completed'));
    expect(figure('agreed_deals').value).toBe(byStatus((s) => s === 'agreed'));
    expect(figure('reported_deals').value).toBe(byStatus((s) => s === 'reported'));
    // A count over a condition reads no figure: it cites the collection it counts.
    expect(figure('reported_deals').inputs).toEqual(['deals']);
    expect(figure('reported_deals').sources).toEqual(['vector']);
    for (const id of ['disclosed_deals', 'undisclosed_deals', 'stated_deals']) expect(figure(id).scale, id).toBeUndefined();
  });

  it("implies VNET's value from the amount and the stake ($942m / 38%)", () => {
    const implied = figure('vnet_implied_value');
    const expected = dollars(deals.vnet!.amount) / (written(deals.vnet!.stake).value / 100);
    expect(implied.unit).toBe('USD');
    expect(implied.scale).toBe('billion');
    expect(implied.value).toBeCloseTo(expected / 1e9, 9);
    expect(implied.formula).toBe('deals.vnet.amount ÷ deals.vnet.stake');
    expect(implied.inputs).toEqual(['deals.vnet.amount', 'deals.vnet.stake']);
    expect(implied.sources).toEqual(['vector']);
  });

  it("gives DeepSeek's round as a percent of its valuation ($7.35bn / $51bn)", () => {
    const share = figure('deepseek_round_share');
    const expected = (100 * dollars(rounds.deepseek!.target)) / dollars(rounds.deepseek!.valuation);
    expect(share.unit).toBe('percent');
    expect(share.scale).toBeUndefined();
    expect(share.value).toBeCloseTo(expected, 9);
    expect(share.formula).toBe('rounds.deepseek.target ÷ rounds.deepseek.valuation');
    expect(share.inputs).toEqual(['rounds.deepseek.target', 'rounds.deepseek.valuation']);
  });

  it("gives storage's share of the 2025 shipments (121 / (541 + 121))", () => {
    const share = figure('storage_share_2025');
    const storage = metric('shipments_storage_2025');
    const ev = metric('shipments_ev_2025');
    expect(share.unit).toBe('percent');
    expect(share.value).toBeCloseTo((100 * storage) / (ev + storage), 9);
    expect(share.formula).toBe('metrics.shipments_storage_2025 ÷ (metrics.shipments_ev_2025 + metrics.shipments_storage_2025)');
    expect(share.inputs).toEqual(['metrics.shipments_storage_2025', 'metrics.shipments_ev_2025']);
    expect(share.sources).toEqual(['vector']);
  });

  it('gives the change in market share and the growth gap in percentage points', () => {
    const change = figure('share_change');
    expect(change.unit).toBe('percentage_points');
    expect(change.value).toBeCloseTo(metric('share_q1_2026') - metric('share_q1_2025'), 9);
    expect(change.formula).toBe('metrics.share_q1_2026 \u2212 metrics.share_q1_2025');
    expect(change.inputs).toEqual(['metrics.share_q1_2026', 'metrics.share_q1_2025']);
    const gap = figure('storage_growth_gap');
    expect(gap.unit).toBe('percentage_points');
    expect(gap.value).toBeCloseTo(metric('storage_growth_market') - metric('storage_growth_catl'), 9);
    expect(gap.formula).toBe('metrics.storage_growth_market \u2212 metrics.storage_growth_catl');
    expect(gap.inputs).toEqual(['metrics.storage_growth_market', 'metrics.storage_growth_catl']);
  });

  it("gives CATL's storage share after a year relative to where it started (1.29 / 1.79)", () => {
    const relative = figure('storage_relative_share');
    const catl = 1 + metric('storage_growth_catl') / 100;
    const market = 1 + metric('storage_growth_market') / 100;
    expect(relative.unit).toBe('percent');
    expect(relative.value).toBeCloseTo((100 * catl) / market, 9);
    expect(relative.formula).toBe('(1 + metrics.storage_growth_catl) ÷ (1 + metrics.storage_growth_market)');
    expect(relative.inputs).toEqual(['metrics.storage_growth_catl', 'metrics.storage_growth_market']);
  });

  it('names inputs that exist in the dataset for every derived figure', () => {
    // A dataset path: metrics.<id>, entities.<id>, or <collection>.<record id or row index>, then fields.
    const resolve = (path: string): unknown => {
      const [root = '', id, ...rest] = path.split('.');
      const collection = data.collections[root];
      const top: unknown = root === 'metrics' || root === 'entities' ? data[root] : collection ? (collection.records ?? collection.rows) : undefined;
      return [id, ...rest].filter((key) => key !== undefined).reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key!], top);
    };
    for (const f of Object.values(derived.figures)) {
      expect(f.inputs.length, f.id).toBeGreaterThan(0);
      for (const input of f.inputs) expect(resolve(input), `${f.id} -> ${input}`).toBeDefined();
      expect(Number.isFinite(f.value), f.id).toBe(true);
      expect(f.sources, f.id).toEqual(['vector']);
    }
  });
});

describe('deriveDataset: units and scales', () => {
  /** The shipped dataset with two more metrics and one more derived figure. */
  function withFormula(metrics: string, id: string, unit: string, formula: string): string {
    const text = mutate(shipped, '\n\ncollections:\n', `\n${metrics}\n\ncollections:\n`);
    return mutate(text, 'derived:\n', `derived:\n  ${id}:\n    label: A test figure\n    unit: ${unit}\n    formula: ${formula}\n`);
  }
  const money = (id: string, value: number, unit: string, scale: string) =>
    `  ${id}:\n    label: ${id}\n    value: ${value}\n    unit: ${unit}\n    scale: ${scale}\n    period: "2025"\n    source: vector`;

  it('applies each scale before dividing: 115,200 million over (115,200 million + 130.5 billion) is about 46.9%, not thousands of percent', () => {
    const a = { value: 115_200, scale: 'million' };
    const b = { value: 130.5, scale: 'billion' };
    const text = withFormula(
      `${money('revenue_a', a.value, 'USD', a.scale)}\n${money('revenue_b', b.value, 'USD', b.scale)}`,
      'share',
      'percent',
      'metrics.revenue_a / (metrics.revenue_a + metrics.revenue_b)',
    );
    const share = loadDatasetText(FILE, text).derived.figures.share!;
    const inBillions = { a: (a.value * FACTOR[a.scale]!) / 1e9, b: (b.value * FACTOR[b.scale]!) / 1e9 };
    expect(inBillions).toEqual({ a: 115.2, b: 130.5 });
    expect(share.unit).toBe('percent');
    expect(share.value).toBeCloseTo((100 * 115.2) / (115.2 + 130.5), 9);
    expect(share.value).toBeGreaterThan(46);
    expect(share.value).toBeLessThan(47);
    expect(share.inputs).toEqual(['metrics.revenue_a', 'metrics.revenue_b']);
  });

  it('sums money written in different scales in one unit, shown in the largest scale that reads as 1 or more', () => {
    const text = withFormula(
      `${money('part_a', 850, 'USD', 'million')}\n${money('part_b', 1.2, 'USD', 'billion')}`,
      'both',
      'USD',
      'metrics.part_a + metrics.part_b',
    );
    const both = loadDatasetText(FILE, text).derived.figures.both!;
    expect(both.scale).toBe('billion');
    expect(both.value).toBeCloseTo((850e6 + 1.2e9) / 1e9, 9);
  });

  it('refuses adding USD to EUR, as a problem at derived.<id>.formula, located at its line', () => {
    const text = withFormula(money('revenue_eu', 115.2, 'EUR', 'million'), 'mixed', 'USD', 'deals.vnet.amount + metrics.revenue_eu');
    // Validation passes (each unit is known); only the formula mixes them.
    let issues: Located[] = [];
    try {
      loadDatasetText(FILE, text);
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      issues = (error as InputError).issues;
    }
    const message = messages.formulaProblem(messages.formulaUnitMismatch('add', 'USD', 'EUR'));
    const lines = text.split('\n');
    const line = lines.findIndex((l) => l.includes('formula: deals.vnet.amount + metrics.revenue_eu'));
    const column = lines[line]!.indexOf('deals.vnet.amount') + 1;
    expect(issues).toEqual([{ file: FILE, line: line + 1, column, path: 'derived.mixed.formula', message }]);
  });

  it('refuses a derived figure whose formula gives another unit than it declares', () => {
    const text = mutate(shipped, '    unit: USD\n    formula: deals.vnet.amount / deals.vnet.stake', '    unit: percent\n    formula: deals.vnet.amount / deals.vnet.stake');
    let issues: Located[] = [];
    try {
      loadDatasetText(FILE, text);
    } catch (error) {
      issues = (error as InputError).issues;
    }
    expect(issues.map((issue) => [issue.path, issue.message])).toEqual([['derived.vnet_implied_value.formula', messages.formulaProblem(messages.formulaUnit('percent', 'USD'))]]);
  });
});
