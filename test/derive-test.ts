import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deriveFigures, listDerived } from '../src/derive.ts';
import { parseYaml } from '../src/load.ts';
import { validateDataset } from '../src/validate.ts';

const data = validateDataset(parseYaml('data/catl-ai-stack.yaml', readFileSync('data/catl-ai-stack.yaml')));
const derived = deriveFigures(data);

// Expected values are computed by hand from the article's figures:
// $600m + $942m; $942m / 38%; $7.35bn / $51bn; 121 / (541 + 121); 40.7 - 38.5; 79 - 29; 1.29 / 1.79.
describe('deriveFigures', () => {
  it('totals the disclosed deal amounts and counts the undisclosed', () => {
    const total = derived.totals.disclosed_amount;
    expect(total.scale).toBe('billion');
    expect(total.value).toBeCloseTo(1.542, 9);
    expect(total.inputs).toEqual(['deals.zhongheng.amount', 'deals.vnet.amount']);
    expect(derived.totals.disclosed_deals.value).toBe(2);
    expect(derived.totals.undisclosed_deals.value).toBe(1);
    expect(derived.totals.undisclosed_deals.inputs).toEqual(['deals.deepseek']);
  });

  it("implies VNET's equity value from the amount and the stake", () => {
    const implied = derived.deals.vnet?.implied_value;
    expect(implied?.scale).toBe('billion');
    expect(implied?.value).toBeCloseTo(2.478947, 5);
    expect(implied?.inputs).toEqual(['deals.vnet.amount', 'deals.vnet.stake']);
    expect(implied?.sources).toEqual(['vector']);
    // No stake, no implied value.
    expect(derived.deals.zhongheng?.implied_value).toBeUndefined();
  });

  it("gives DeepSeek's round as a share of its valuation", () => {
    const share = derived.rounds.deepseek?.share_of_valuation;
    expect(share?.value).toBeCloseTo(14.411765, 5);
    expect(share?.unit).toBe('percent');
    expect(share?.inputs).toEqual(['rounds.deepseek.target', 'rounds.deepseek.valuation']);
  });

  it('computes the figures the dataset declares', () => {
    const f = derived.figures;
    expect(f.storage_share_2025?.value).toBeCloseTo(18.277946, 5);
    expect(f.storage_share_2025?.inputs).toEqual(['metrics.shipments_storage_2025', 'metrics.shipments_ev_2025']);
    expect(f.share_change?.value).toBeCloseTo(2.2, 9);
    expect(f.share_change?.unit).toBe('percentage_points');
    expect(f.storage_growth_gap?.value).toBeCloseTo(50, 9);
    expect(f.storage_growth_gap?.inputs).toEqual(['metrics.storage_growth_market', 'metrics.storage_growth_catl']);
    expect(f.storage_relative_share?.value).toBeCloseTo(72.067039, 5);
    expect(f.storage_relative_share?.formula).toBe('(1 + storage_growth_catl) ÷ (1 + storage_growth_market)');
  });

  it('names inputs that exist in the dataset for every derived figure', () => {
    const resolve = (path: string) => path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], data);
    for (const figure of listDerived(derived)) {
      expect(figure.inputs.length, figure.id).toBeGreaterThan(0);
      for (const input of figure.inputs) expect(resolve(input), `${figure.id} -> ${input}`).toBeDefined();
      expect(Number.isFinite(figure.value)).toBe(true);
    }
  });
});
