import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/support/error.ts';
import { messages, type Located } from '../../src/support/messages.ts';
import { BUILT_IN_UNITS } from '../../src/text/format.ts';
import { loadDatasetText } from '../fixtures/dataset/load.ts';

const FILE = 'data/catl-ai-stack.yaml';
const shipped = readFileSync(FILE, 'utf8');

/** Replaces one exact occurrence of `find` (which must occur once) in `text`. */
function mutate(text: string, find: string, replace: string): string {
  const first = text.indexOf(find);
  expect(first, `fixture text not found: ${find}`).toBeGreaterThanOrEqual(0);
  expect(text.indexOf(find, first + 1), `fixture text not unique: ${find}`).toBe(-1);
  return text.slice(0, first) + replace + text.slice(first + find.length);
}

/** 1-based line and column where `needle` starts in `text`, searching from where `after` starts when given. */
function positionOf(text: string, needle: string, after = ''): { line: number; column: number } {
  const from = after ? text.indexOf(after) : 0;
  expect(from, `anchor not found: ${after}`).toBeGreaterThanOrEqual(0);
  const offset = text.indexOf(needle, from);
  expect(offset, `needle not found: ${needle}`).toBeGreaterThanOrEqual(0);
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

/** Every located problem the load (validate, then derive and check) reports for `text`. */
function problems(text: string, tables: Record<string, string> = {}): Located[] {
  try {
    loadDatasetText(FILE, text, tables);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as InputError).issues;
  }
  throw new Error('expected the dataset to be invalid');
}

/** The one problem at `path`, failing with every problem found when there is none. */
function problemAt(found: Located[], path: string): Located {
  const issue = found.find((p) => p.path === path);
  expect(issue, `no problem at ${path}; got ${JSON.stringify(found, null, 1)}`).toBeDefined();
  return issue!;
}

/** What messages.checkFailed writes before the values of the failing sides. */
function checkFailedPrefix(id: string, label: string): string {
  const marker = '\u0000';
  return messages.checkFailed(id, label, marker, 'rounding').split(marker)[0]!;
}

const ENTITY_IDS = ['catl', 'zhongheng', 'vnet', 'deepseek', 'byd', 'eve'];
const DEAL_FIELDS = ['investor', 'counterparty', 'layer', 'order', 'instrument', 'instrument_as_given', 'amount', 'stake', 'valuation', 'attribution', 'status', 'status_as_given', 'round', 'timing', 'source'];

describe('validateDataset: the shipped dataset', () => {
  it('accepts it, with its records and figures as written', () => {
    const { data } = loadDatasetText(FILE, shipped);
    expect(Object.keys(data.collections)).toEqual(['layers', 'deals', 'rounds', 'claims']);
    expect(Object.keys(data.collections.deals!.records!).sort()).toEqual(['deepseek', 'vnet', 'zhongheng']);
    expect(data.collections.deals!.records!.vnet!.stake).toMatchObject({ value: 38, unit: 'percent' });
    expect(data.metrics.shipments_ev_2025).toMatchObject({ value: 541, unit: 'GWh', period: '2025' });
    expect(data.edition.as_of).toBe('2026-11-29');
    expect(Object.keys(data.checks)).toEqual(['stake_agrees', 'deal_in_stack', 'round_is_counterparty']);
  });
});

describe('validateDataset: located problems', () => {
  // Each case plants one fault in the shipped dataset; the expected line:column is computed from where it was planted.
  const cases: { name: string; find: string; replace: string; path: string; at: string; after?: string; message: string }[] = [
    {
      name: 'a percent above 100',
      find: 'stake: { value: 38,',
      replace: 'stake: { value: 138,',
      path: 'collections.deals.records.vnet.stake.value',
      at: '138',
      message: messages.percentRange,
    },
    {
      name: 'a growth rate below -100',
      find: 'value: 29\n',
      replace: 'value: -129\n',
      path: 'metrics.storage_growth_catl.value',
      at: '-129',
      message: messages.changeRange,
    },
    {
      name: 'a scale on a percent',
      find: 'stake: { value: 38, unit: percent,',
      replace: 'stake: { value: 38, unit: percent, scale: million,',
      path: 'collections.deals.records.vnet.stake.scale',
      at: 'million',
      after: 'stake: { value: 38',
      message: messages.scaleNotAllowed('percent'),
    },
    {
      name: 'a text where a number belongs',
      find: 'value: 541',
      replace: 'value: lots',
      path: 'metrics.shipments_ev_2025.value',
      at: 'lots',
      message: 'must be a number',
    },
    {
      name: 'an infinite amount',
      find: 'value: 600,',
      replace: 'value: .inf,',
      path: 'collections.deals.records.zhongheng.amount.value',
      at: '.inf',
      message: 'must be a finite number (not .inf or .nan)',
    },
    {
      name: 'an unknown source id',
      find: '    source: vector\n  eve:',
      replace: '    source: vectr\n  eve:',
      path: 'entities.byd.source',
      at: 'vectr',
      message: messages.unknownReference('source', 'vectr', ['vector']),
    },
    {
      name: 'a dangling entity reference',
      find: 'counterparty: vnet',
      replace: 'counterparty: vnett',
      path: 'collections.deals.records.vnet.counterparty',
      at: 'vnett',
      message: messages.unknownReference('entity', 'vnett', ENTITY_IDS),
    },
    {
      name: 'a dangling reference to a collection record',
      find: '        round: deepseek',
      replace: '        round: deepsek',
      path: 'collections.deals.records.deepseek.round',
      at: 'deepsek',
      message: messages.unknownReference('round', 'deepsek', ['deepseek']),
    },
    {
      name: 'a malformed period',
      find: 'period: 2026-Q1',
      replace: 'period: 2026-Q5',
      path: 'metrics.share_q1_2026.period',
      at: '2026-Q5',
      message: `must be a period such as 2025, 2026-Q1, 2026-04, 2026-04-15, FY2025-Q3, or a range FROM/TO with FROM before TO (${messages.periodQuarter('2026-Q5')})`,
    },
    {
      name: 'an unquoted year as a period',
      find: 'period: "2025"\n    source: vector\n  shipments_storage_2025',
      replace: 'period: 2025\n    source: vector\n  shipments_storage_2025',
      path: 'metrics.shipments_ev_2025.period',
      at: '2025\n',
      after: 'period: 2025\n',
      message: 'must be text such as "2025" or 2026-Q1 (quote a bare year)',
    },
    {
      name: 'an impossible as_of date',
      find: 'as_of: 2026-11-29',
      replace: 'as_of: 2026-02-30',
      path: 'edition.as_of',
      at: '2026-02-30',
      message: 'must be a calendar date written YYYY-MM-DD, for example 2026-11-29',
    },
    {
      name: 'a missing required field',
      find: '    label: EV battery shipments\n',
      replace: '',
      path: 'metrics.shipments_ev_2025.label',
      at: 'subject: catl',
      after: 'shipments_ev_2025:',
      message: messages.missingField('label'),
    },
    {
      name: 'a record missing a declared field',
      find: '        status_as_given: agreed\n',
      replace: '',
      path: 'collections.deals.records.vnet.status_as_given',
      at: 'investor: catl',
      after: '      vnet:\n        investor',
      message: messages.missingField('status_as_given'),
    },
    {
      name: 'an unknown unit',
      find: 'unit: GWh\n    period: "2025"\n    source: vector\n  shipments_storage_2025',
      replace: 'unit: MWh\n    period: "2025"\n    source: vector\n  shipments_storage_2025',
      path: 'metrics.shipments_ev_2025.unit',
      at: 'MWh',
      message: messages.unknownUnit('MWh', [...BUILT_IN_UNITS, 'GWh']),
    },
    {
      name: 'a figure in a unit its field does not declare',
      find: 'amount: { value: 942, unit: USD,',
      replace: 'amount: { value: 942, unit: EUR,',
      path: 'collections.deals.records.vnet.amount.unit',
      at: 'EUR',
      message: 'unit must be USD',
    },
    {
      name: 'a non-http URL',
      find: '    truncated: true',
      replace: '    url: javascript:alert(1)\n    truncated: true',
      path: 'sources.vector.url',
      at: 'javascript:',
      message: 'must be an http:// or https:// URL (other schemes such as javascript: or data: are refused)',
    },
    {
      name: 'an unknown enum value',
      find: 'status: agreed',
      replace: 'status: pending',
      path: 'collections.deals.records.vnet.status',
      at: 'pending',
      message: 'must be one of completed, agreed, reported',
    },
  ];

  for (const c of cases) {
    it(`locates ${c.name}`, () => {
      const text = mutate(shipped, c.find, c.replace);
      const issue = problemAt(problems(text), c.path);
      const expected = positionOf(text, c.at, c.after ?? c.replace);
      expect({ line: issue.line, column: issue.column }).toEqual(expected);
      expect(issue.file).toBe(FILE);
      expect(issue.message).toBe(c.message);
    });
  }

  it('locates a value below the min its field declares (negative numbers are allowed unless a field declares min)', () => {
    let text = mutate(shipped, '      order: integer\n      instrument:', '      order: { type: integer, min: 1 }\n      instrument:');
    expect(() => loadDatasetText(FILE, text)).not.toThrow();
    text = mutate(text, '        order: 2\n        instrument: share-purchase', '        order: -2\n        instrument: share-purchase');
    const found = problems(text);
    expect(found).toHaveLength(1);
    const issue = problemAt(found, 'collections.deals.records.vnet.order');
    expect(issue.message).toBe('must be 1 or more');
    expect({ line: issue.line, column: issue.column }).toEqual(positionOf(text, '-2', 'order: -2'));
  });

  it('locates a misspelt field at its key and suggests the closest declared one first', () => {
    const text = mutate(shipped, '        counterparty: vnet\n', '        counterparty: vnet\n        ammount: x\n');
    const found = problems(text);
    const issue = problemAt(found, 'collections.deals.records.vnet.ammount');
    expect({ line: issue.line, column: issue.column }).toEqual(positionOf(text, 'ammount'));
    // "did you mean": the nearest declared field is named first, then the others.
    const [first, ...rest] = issue.message.replace(/^.*allowed here: /, '').replace(/\)$/, '').split(', ');
    expect(first).toBe('amount');
    expect([first, ...rest].sort()).toEqual([...DEAL_FIELDS].sort());
    expect(issue.message).toBe(messages.unknownKey('ammount', [first!, ...rest]));
  });

  it('reports three independent problems together, in file order', () => {
    let text = mutate(shipped, 'stake: { value: 38,', 'stake: { value: 380,');
    text = mutate(text, 'counterparty: zhongheng', 'counterparty: nobody');
    text = mutate(text, 'value: 121', 'value: "many"');
    const found = problems(text);
    expect(found.every((p) => p.file === FILE)).toBe(true);
    expect(found.map((p) => p.path)).toEqual(['metrics.shipments_storage_2025.value', 'collections.deals.records.zhongheng.counterparty', 'collections.deals.records.vnet.stake.value']);
    expect(found.map((p) => `${p.line}:${p.column}`)).toEqual(
      [positionOf(text, '"many"'), positionOf(text, 'nobody'), positionOf(text, '380')].map((p) => `${p.line}:${p.column}`),
    );
    expect(found[1]!.message).toBe(messages.unknownReference('entity', 'nobody', ENTITY_IDS));
    expect(found[2]!.message).toBe(messages.percentRange);
  });
});

describe('validateDataset: fiscal periods', () => {
  const fiscal = (text: string) => mutate(text, 'period: 2026-Q1\n', 'period: FY2025-Q3\n');

  it('refuses FY2025-Q3 when the edition declares no fiscal year', () => {
    const text = fiscal(shipped);
    const issue = problemAt(problems(text), 'metrics.share_q1_2026.period');
    expect(issue.message).toContain(messages.periodNeedsFiscalYear('FY2025-Q3'));
    expect({ line: issue.line, column: issue.column }).toEqual(positionOf(text, 'FY2025-Q3'));
  });

  it('accepts FY2025-Q3 with edition.fiscal_year', () => {
    const text = mutate(fiscal(shipped), '  language: en\n', '  language: en\n  fiscal_year: { start_month: 7, named_by: end }\n');
    const { data } = loadDatasetText(FILE, text);
    expect(data.edition.fiscal_year).toEqual({ start_month: 7, named_by: 'end' });
    expect(data.metrics.share_q1_2026?.period).toBe('FY2025-Q3');
  });
});

describe('validateDataset: CSV tables', () => {
  const CSV = 'data/storage-sites.csv';
  const withTable = mutate(
    shipped,
    '\n\n  claims:\n',
    [
      '',
      '  sites:',
      '    label: Storage sites',
      '    csv: storage-sites.csv',
      '    source: vector',
      '    fields:',
      '      site: text',
      '      capacity: { type: figure, unit: GWh, min: 0 }',
      '      commissioned: integer',
      '',
      '  claims:',
      '',
    ].join('\n'),
  );

  it('reads a table from the CSV file beside the dataset', () => {
    const { data } = loadDatasetText(FILE, withTable, { 'storage-sites.csv': 'site,capacity,commissioned\nNingde,1.5,2024\nYibin,2.25,2025\n' });
    expect(data.collections.sites!.rows).toEqual([
      { site: 'Ningde', capacity: 1.5, commissioned: 2024 },
      { site: 'Yibin', capacity: 2.25, commissioned: 2025 },
    ]);
  });

  it('locates a bad cell at the CSV file, line and column', () => {
    const csv = 'site,capacity,commissioned\nNingde,1.5,2024\nYibin,lots,2025\nLiyang,-3,2026\n';
    const found = problems(withTable, { 'storage-sites.csv': csv });
    expect(found.map((p) => ({ file: p.file, line: p.line, column: p.column, path: p.path, message: p.message }))).toEqual([
      { file: CSV, line: 3, column: 7, path: 'sites[1].capacity', message: 'must be a number' },
      { file: CSV, line: 4, column: 8, path: 'sites[2].capacity', message: 'must be 0 or more' },
    ]);
  });

  it('locates a missing table file where the dataset names it', () => {
    const issue = problemAt(problems(withTable), 'collections.sites.csv');
    expect(issue.message).toBe(messages.tableMissing('storage-sites.csv'));
    expect({ line: issue.line, column: issue.column }).toEqual(positionOf(withTable, 'storage-sites.csv'));
  });
});

describe('deriveDataset: problems located in the dataset', () => {
  it('locates a unit mismatch in a derived formula (USD + EUR) at derived.<id>.formula', () => {
    let text = mutate(
      shipped,
      '\n\ncollections:\n',
      '\n  revenue_eu:\n    label: European revenue\n    value: 115.2\n    unit: EUR\n    scale: million\n    period: "2025"\n    source: vector\n\ncollections:\n',
    );
    text = mutate(text, 'derived:\n', 'derived:\n  mixed_total:\n    label: Dollars plus euros\n    unit: USD\n    formula: deals.vnet.amount + metrics.revenue_eu\n');
    const issue = problemAt(problems(text), 'derived.mixed_total.formula');
    expect(issue.message).toBe(messages.formulaProblem(messages.formulaUnitMismatch('add', 'USD', 'EUR')));
    expect({ line: issue.line, column: issue.column }).toEqual(positionOf(text, 'deals.vnet.amount + metrics.revenue_eu'));
  });

  it('locates a derived figure whose inputs are in different units (percent_change - GWh)', () => {
    const text = mutate(shipped, 'formula: metrics.storage_growth_market - metrics.storage_growth_catl', 'formula: metrics.storage_growth_market - metrics.shipments_ev_2025');
    const issue = problemAt(problems(text), 'derived.storage_growth_gap.formula');
    expect(issue.message).toBe(messages.formulaProblem(messages.formulaUnitMismatch('subtract', 'a unitless number', 'GWh')));
    expect({ line: issue.line, column: issue.column }).toEqual(positionOf(text, 'metrics.storage_growth_market - metrics.shipments_ev_2025'));
  });

  it('locates a derived figure that names an unknown metric', () => {
    const text = mutate(shipped, 'formula: metrics.shipments_storage_2025 / (', 'formula: metrics.shipments_grid_2025 / (');
    const issue = problemAt(problems(text), 'derived.storage_share_2025.formula');
    expect(issue.message).toMatch(new RegExp(`^${escape(messages.formulaProblem('metrics has no field "shipments_grid_2025"'))}`));
    expect({ line: issue.line, column: issue.column }).toEqual(positionOf(text, 'metrics.shipments_grid_2025'));
  });

  it('passes the stake check at a valuation that agrees within rounding (942m / 38% = 2.48bn)', () => {
    const text = mutate(shipped, '        status: agreed\n', '        valuation: { value: 2.48, unit: USD, scale: billion, period: 2026-04/2026-06, source: vector }\n        status: agreed\n');
    expect(() => loadDatasetText(FILE, text)).not.toThrow();
  });

  it('fails the stake check at a valuation that does not agree (3.1bn), at the record, naming the check', () => {
    const text = mutate(shipped, '        status: agreed\n', '        valuation: { value: 3.1, unit: USD, scale: billion, period: 2026-04/2026-06, source: vector }\n        status: agreed\n');
    const found = problems(text);
    expect(found).toHaveLength(1);
    const issue = problemAt(found, 'collections.deals.records.vnet');
    expect(issue.message.startsWith(checkFailedPrefix('stake_agrees', "A deal's amount, stake and valuation agree"))).toBe(true);
    expect(issue.message).toContain('datum.amount = ');
    expect(issue.message).toContain('datum.stake * datum.valuation = ');
    expect(issue.message).toContain('tolerance: rounding');
    expect({ line: issue.line, column: issue.column }).toEqual(positionOf(text, 'investor: catl', '      vnet:\n        investor'));
  });

  it("fails the round check when the deal's round is another company's, at the deal", () => {
    const text = mutate(shipped, 'company: deepseek', 'company: vnet');
    const found = problems(text);
    expect(found).toHaveLength(1);
    const issue = problemAt(found, 'collections.deals.records.deepseek');
    expect(issue.message.startsWith(checkFailedPrefix('round_is_counterparty', "A deal's funding round is the counterparty's"))).toBe(true);
    expect({ line: issue.line, column: issue.column }).toEqual(positionOf(text, 'investor: catl', '      deepseek:\n        investor'));
  });

  it('fails a declared check on the whole dataset at its assert', () => {
    const text = mutate(
      shipped,
      'checks:\n',
      "checks:\n  all_disclosed:\n    label: Every deal's amount is disclosed\n    assert: derived.disclosed_deals == count(deals)\n",
    );
    const found = problems(text);
    expect(found).toHaveLength(1);
    const issue = problemAt(found, 'checks.all_disclosed.assert');
    expect(issue.message.startsWith(checkFailedPrefix('all_disclosed', "Every deal's amount is disclosed"))).toBe(true);
    expect({ line: issue.line, column: issue.column }).toEqual(positionOf(text, 'derived.disclosed_deals == count(deals)'));
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
