import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../src/error.ts';
import { parseYaml } from '../src/load.ts';
import { messages, type Located } from '../src/messages.ts';
import { validateDataset } from '../src/validate.ts';

const FILE = 'data/catl-ai-stack.yaml';
const shipped = readFileSync(FILE, 'utf8');

/** Replaces one exact occurrence of `find` (which must exist once) in the shipped dataset. */
function mutate(text: string, find: string, replace: string): string {
  const first = text.indexOf(find);
  expect(first, `fixture text not found: ${find}`).toBeGreaterThanOrEqual(0);
  expect(text.indexOf(find, first + 1), `fixture text not unique: ${find}`).toBe(-1);
  return text.slice(0, first) + replace + text.slice(first + find.length);
}

/** 1-based line and column where `needle` starts in `text`, searching after `after` when given. */
function positionOf(text: string, needle: string, after = ''): { line: number; column: number } {
  const from = after ? text.indexOf(after) : 0;
  expect(from, `anchor not found: ${after}`).toBeGreaterThanOrEqual(0);
  const offset = text.indexOf(needle, from);
  expect(offset, `needle not found: ${needle}`).toBeGreaterThanOrEqual(0);
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

function problems(text: string): Located[] {
  try {
    validateDataset(parseYaml(FILE, new TextEncoder().encode(text)));
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as InputError).issues;
  }
  throw new Error('expected the dataset to be invalid');
}

describe('validateDataset', () => {
  it('accepts the shipped dataset', () => {
    const data = validateDataset(parseYaml(FILE, new TextEncoder().encode(shipped)));
    expect(Object.keys(data.deals).sort()).toEqual(['deepseek', 'vnet', 'zhongheng']);
    expect(data.deals.vnet?.stake?.value).toBe(38);
    expect(data.edition.as_of).toBe('2026-11-29');
  });

  // Each case plants one fault; the expected line:column is computed from where it was planted.
  const cases: { name: string; find: string; replace: string; path: string; at: string; after?: string; message?: RegExp }[] = [
    { name: 'percent above 100', find: 'stake: { value: 38,', replace: 'stake: { value: 138,', path: 'deals.vnet.stake.value', at: '138', message: /between 0 and 100/ },
    { name: 'negative amount', find: 'value: 942,', replace: 'value: -942,', path: 'deals.vnet.amount.value', at: '-942', message: /greater than 0/ },
    { name: 'text where a number belongs', find: 'value: 541', replace: 'value: lots', path: 'metrics.shipments_ev_2025.value', at: 'lots', message: /must be a number/ },
    { name: 'infinite amount', find: 'value: 600,', replace: 'value: .inf,', path: 'deals.zhongheng.amount.value', at: '.inf', message: /finite/ },
    { name: 'unknown source id', find: '    source: vector\n  eve:', replace: '    source: vectr\n  eve:', path: 'entities.byd.source', at: 'vectr', message: /source "vectr", which is not defined/ },
    { name: 'misspelt field', find: '    counterparty: vnet', replace: '    counterparty: vnet\n    ammount_note: x', path: 'deals.vnet.ammount_note', at: 'ammount_note', message: /unknown field "ammount_note".*amount/ },
    { name: 'dangling entity reference', find: 'counterparty: vnet', replace: 'counterparty: vnett', path: 'deals.vnet.counterparty', at: 'vnett', message: /entity "vnett"/ },
    { name: 'malformed period', find: 'period: 2026-Q1', replace: 'period: 2026-Q5', path: 'metrics.share_q1_2026.period', at: '2026-Q5', message: /must be a period/ },
    { name: 'impossible as_of date', find: 'as_of: 2026-11-29', replace: 'as_of: 2026-02-30', path: 'edition.as_of', at: '2026-02-30', message: /calendar date/ },
    { name: 'missing required field', find: '    label: EV battery shipments\n', replace: '', path: 'metrics.shipments_ev_2025.label', at: 'subject: catl', after: 'shipments_ev_2025:', message: /required field "label"/ },
    { name: 'unknown unit', find: 'unit: GWh\n    period: "2025"\n    source: vector\n  shipments_storage_2025', replace: 'unit: MWh\n    period: "2025"\n    source: vector\n  shipments_storage_2025', path: 'metrics.shipments_ev_2025.unit', at: 'MWh', message: /unit must be one of/ },
    { name: 'non-http URL', find: '    truncated: true', replace: '    url: javascript:alert(1)\n    truncated: true', path: 'sources.vector.url', at: 'javascript:', message: /http/ },
    { name: 'unknown deal status', find: 'status: agreed', replace: 'status: pending', path: 'deals.vnet.status', at: 'pending', message: /must be one of completed, agreed, reported/ },
    { name: 'round for the wrong company', find: 'company: deepseek', replace: 'company: vnet', path: 'deals.deepseek.round', at: 'deepseek\n', after: '    round: ', message: /not this deal's counterparty/ },
    { name: 'unquoted year as period', find: 'period: "2025"\n    source: vector\n  shipments_storage_2025', replace: 'period: 2025\n    source: vector\n  shipments_storage_2025', path: 'metrics.shipments_ev_2025.period', at: '2025\n', after: 'label: EV battery shipments', message: /quote a bare year/ },
    { name: 'derived figure from an unknown metric', find: 'part: shipments_storage_2025', replace: 'part: shipments_grid_2025', path: 'derived.storage_share_2025.part', at: 'shipments_grid_2025', message: /metric "shipments_grid_2025"/ },
  ];

  for (const c of cases) {
    it(`locates ${c.name}`, () => {
      const text = mutate(shipped, c.find, c.replace);
      const found = problems(text);
      const issue = found.find((p) => p.path === c.path);
      expect(issue, `no problem at ${c.path}; got ${JSON.stringify(found)}`).toBeDefined();
      const expected = positionOf(text, c.at, c.after ?? c.replace);
      expect({ line: issue!.line, column: issue!.column }).toEqual(expected);
      expect(issue!.file).toBe(FILE);
      if (c.message) expect(issue!.message).toMatch(c.message);
    });
  }

  it('reports three independent problems together', () => {
    let text = mutate(shipped, 'stake: { value: 38,', 'stake: { value: 380,');
    text = mutate(text, 'counterparty: zhongheng', 'counterparty: nobody');
    text = mutate(text, 'value: 121', 'value: "many"');
    const found = problems(text);
    expect(found.map((p) => p.path)).toEqual(
      expect.arrayContaining(['deals.vnet.stake.value', 'deals.zhongheng.counterparty', 'metrics.shipments_storage_2025.value']),
    );
    expect(found).toHaveLength(3);
  });

  it('checks that stake, amount and valuation agree within rounding', () => {
    const consistent = mutate(shipped, '    status: agreed', '    valuation: { value: 2.48, unit: USD, scale: billion, period: 2026-04/2026-06, source: vector }\n    status: agreed');
    expect(() => validateDataset(parseYaml(FILE, new TextEncoder().encode(consistent)))).not.toThrow();
    const text = mutate(shipped, '    status: agreed', '    valuation: { value: 3.1, unit: USD, scale: billion, period: 2026-04/2026-06, source: vector }\n    status: agreed');
    const [issue] = problems(text);
    expect(issue!.path).toBe('deals.vnet.valuation.value');
    expect(issue!.message).toMatch(/implies \$2479m/);
    expect({ line: issue!.line, column: issue!.column }).toEqual(positionOf(text, '3.1'));
  });

  it('refuses a derived figure whose inputs cannot be combined', () => {
    const text = mutate(shipped, 'a: storage_growth_market\n    b: storage_growth_catl', 'a: storage_growth_market\n    b: shipments_ev_2025');
    const issue = problems(text).find((p) => p.path === 'derived.storage_growth_gap.op');
    expect(issue?.message).toBe(messages.derivedUnits('difference', 'needs inputs in one unit', ['percent_change', 'GWh']));
  });
});
