import { describe, expect, it } from 'vitest';
import { createFormatter } from '../src/format.ts';

const en = createFormatter('en');

describe('createFormatter (en)', () => {
  it('writes USD amounts with the scale as a suffix', () => {
    expect(en.usd(942, 'million')).toBe('$942m');
    expect(en.usd(600, 'million')).toBe('$600m');
    expect(en.usd(7.35, 'billion')).toBe('$7.35bn');
    expect(en.usd(51, 'billion')).toBe('$51bn');
    // Derived values are rounded: 942 / 0.38 = 2478.947... million = 2.48bn.
    expect(en.usd(942 / 0.38 / 1000, 'billion')).toBe('$2.48bn');
    expect(en.usd(1234.56, 'million')).toBe('$1,234.6m');
  });

  it('writes percents on the 0-100 scale with at most one decimal', () => {
    expect(en.percent(40.7)).toBe('40.7%');
    expect(en.percent(38)).toBe('38%');
    expect(en.percent((7.35 / 51) * 100)).toBe('14.4%');
    expect(en.percent((1.29 / 1.79) * 100)).toBe('72.1%');
  });

  it('writes percentage points, singular for one, without float noise', () => {
    expect(en.points(40.7 - 38.5)).toBe('2.2 percentage points');
    expect(en.points(50)).toBe('50 percentage points');
    expect(en.points(1)).toBe('1 percentage point');
    expect(en.points(-3.25)).toBe('-3.3 percentage points');
  });

  it('writes energy in GWh with grouping', () => {
    expect(en.gwh(541)).toBe('541 GWh');
    expect(en.gwh(1250.5)).toBe('1,250.5 GWh');
  });

  it('spells small counts out and leaves larger ones as digits', () => {
    expect(en.count(2)).toBe('two');
    expect(en.count(0)).toBe('zero');
    expect(en.count(12)).toBe('12');
    expect(createFormatter('de').count(2)).toBe('2');
  });

  it('writes periods as readers say them', () => {
    expect(en.period('2025')).toBe('2025');
    expect(en.period('2026-Q1')).toBe('Q1 2026');
    expect(en.period('2026-H2')).toBe('H2 2026');
    expect(en.period('2026-04')).toBe('April 2026');
    expect(en.period('2026-04/2026-06')).toBe('April–June 2026');
    expect(en.period('2025-11/2026-02')).toBe('November 2025–February 2026');
    expect(en.period('2025/2026')).toBe('2025–2026');
    expect(en.period('2026-04-15')).toBe('15 April 2026');
  });

  it('writes dates day, month, year', () => {
    expect(en.date('2026-11-29')).toBe('29 November 2026');
    expect(en.date('2026-01-01')).toBe('1 January 2026');
  });

  it('formats any figure by its unit', () => {
    expect(en.figure({ value: 942, unit: 'USD', scale: 'million' })).toBe('$942m');
    expect(en.figure({ value: 29, unit: 'percent_change' })).toBe('29%');
    expect(en.figure({ value: 2.2, unit: 'percentage_points' })).toBe('2.2 percentage points');
    expect(en.figure({ value: 121, unit: 'GWh' })).toBe('121 GWh');
    expect(en.figure({ value: 3, unit: 'count' })).toBe('three');
  });
});

describe('createFormatter (other languages)', () => {
  it('follows the locale for separators and puts the scale after the digits', () => {
    const de = createFormatter('de');
    // German writes the sign after the number and a decimal comma.
    expect(de.usd(7.35, 'billion')).toBe('7,35bn\u00a0$');
    expect(de.percent(40.7)).toBe('40,7\u00a0%');
  });
});

describe('rounding', () => {
  it('never prints a negative zero', () => {
    expect(en.points(-0.01)).toBe('0 percentage points');
    expect(en.points(0.96)).toBe('1 percentage point');
  });
});
