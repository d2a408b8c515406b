import { describe, expect, it } from 'vitest';
import { BUILT_IN_UNITS, createFormatter, isCurrency, type FigureLike, type UnitSpec } from '../../src/text/format.ts';

const units: Record<string, UnitSpec> = {
  GWh: { symbol: 'GWh', singular: 'gigawatt-hour', plural: 'gigawatt-hours', precision: 1 },
  MWh: { symbol: 'MWh', singular: 'megawatt-hour', plural: 'megawatt-hours' },
  people: { singular: 'person', plural: 'people', precision: 0 },
  turbines: { singular: 'turbine', plural: 'turbines' },
};
const en = createFormatter({ language: 'en', units, fiscalYear: { start_month: 7, named_by: 'end' } });
const figure = (value: number, unit: string, scale?: FigureLike['scale']) => en.figure({ value, unit, ...(scale ? { scale } : {}) });
const signed = (value: number, unit: string, scale?: FigureLike['scale']) => en.figure({ value, unit, ...(scale ? { scale } : {}) }, { signed: true });

describe('figure: money', () => {
  it('writes the existing figures exactly as before', () => {
    expect(figure(942, 'USD', 'million')).toBe('$942m');
    expect(figure(600, 'USD', 'million')).toBe('$600m');
    expect(figure(7.35, 'USD', 'billion')).toBe('$7.35bn');
    expect(figure(51, 'USD', 'billion')).toBe('$51bn');
    expect(figure(1542, 'USD', 'million')).toBe('$1.54bn');
    // Derived values are rounded: 942 / 0.38 = 2478.947... million.
    expect(figure(942 / 0.38, 'USD', 'million')).toBe('$2.48bn');
  });

  it('moves to the largest scale that keeps the shown number at least 1', () => {
    expect(figure(1500, 'USD', 'million')).toBe('$1.5bn');
    expect(figure(0.5, 'USD', 'billion')).toBe('$500m');
    expect(figure(2500, 'USD', 'thousand')).toBe('$2.5m');
    expect(figure(942.34, 'USD', 'thousand')).toBe('$942.3k');
    // 999.96 million shows as 1 in billions, so it is "$1bn", not "$1,000m".
    expect(figure(999.96, 'USD', 'million')).toBe('$1bn');
    // Below a thousand there is no scale to show.
    expect(figure(0.5, 'USD', 'thousand')).toBe('$500');
  });

  it('shows billions with at most 2 decimals and millions and thousands with at most 1', () => {
    expect(figure(1.2345, 'USD', 'billion')).toBe('$1.23bn');
    expect(figure(123.45, 'USD', 'million')).toBe('$123.5m');
    expect(figure(12.34, 'USD', 'thousand')).toBe('$12.3k');
  });

  it('writes any ISO currency with Intl\'s own symbol', () => {
    expect(figure(115.2, 'EUR', 'million')).toBe('€115.2m');
    expect(figure(3, 'CNY', 'billion')).toBe('CN¥3bn');
    expect(figure(12, 'GBP', 'million')).toBe('£12m');
  });

  it('writes unscaled money as plain currency with up to 2 decimals', () => {
    expect(figure(1234.5, 'USD')).toBe('$1,234.5');
    expect(figure(1234.567, 'USD')).toBe('$1,234.57');
    expect(figure(500, 'JPY')).toBe('¥500');
  });

  it('puts the suffix after the last digit wherever the locale puts the sign', () => {
    const de = createFormatter({ language: 'de' });
    expect(de.figure({ value: 7.35, unit: 'USD', scale: 'billion' })).toBe('7,35bn\u00a0$');
    expect(de.figure({ value: 1234.56, unit: 'USD', scale: 'million' })).toBe('1,23bn\u00a0$');
    expect(de.figure({ value: -7.35, unit: 'USD', scale: 'billion' }, { signed: true })).toBe('\u22127,35bn\u00a0$');
  });
});

describe('figure: percents', () => {
  it('writes percent and percent_change with at most one decimal', () => {
    expect(figure(40.7, 'percent')).toBe('40.7%');
    expect(figure(29, 'percent_change')).toBe('29%');
    expect(figure((1.29 / 1.79) * 100, 'percent')).toBe('72.1%');
    expect(figure((7.35 / 51) * 100, 'percent')).toBe('14.4%');
    expect(createFormatter({ language: 'de' }).figure({ value: 40.7, unit: 'percent' })).toBe('40,7\u00a0%');
  });

  it('writes percentage points, singular exactly when the number shown is 1', () => {
    expect(figure(40.7 - 38.5, 'percentage_points')).toBe('2.2 percentage points');
    expect(figure(1, 'percentage_points')).toBe('1 percentage point');
    expect(figure(0.96, 'percentage_points')).toBe('1 percentage point');
    expect(figure(1.04, 'percentage_points')).toBe('1 percentage point');
    expect(figure(1.05, 'percentage_points')).toBe('1.1 percentage points');
    expect(figure(50, 'percentage_points')).toBe('50 percentage points');
    expect(figure(-3.25, 'percentage_points')).toBe('-3.3 percentage points');
  });
});

describe('figure: counts', () => {
  it('writes digits with grouping and at most one decimal', () => {
    expect(figure(3, 'count')).toBe('3');
    expect(figure(36000, 'count')).toBe('36,000');
    expect(figure(2.25, 'count')).toBe('2.3');
  });

  it('spells 0 to 10 only when asked, in English, for whole numbers', () => {
    expect(en.figure({ value: 3, unit: 'count' }, { words: true })).toBe('three');
    expect(en.figure({ value: 0, unit: 'count' }, { words: true })).toBe('zero');
    expect(en.figure({ value: 10, unit: 'count' }, { words: true })).toBe('ten');
    expect(en.figure({ value: 11, unit: 'count' }, { words: true })).toBe('11');
    expect(en.figure({ value: 2.5, unit: 'count' }, { words: true })).toBe('2.5');
    expect(en.count(2)).toBe('2');
    expect(en.count(2, { words: true })).toBe('two');
    expect(createFormatter({ language: 'en-GB' }).count(2, { words: true })).toBe('two');
    expect(createFormatter({ language: 'de' }).count(2, { words: true })).toBe('2');
  });

  it('writes a scaled count with the scale as a word', () => {
    expect(figure(3.2, 'count', 'million')).toBe('3.2 million');
    expect(figure(3200, 'count', 'thousand')).toBe('3.2 million');
    expect(figure(36, 'count', 'thousand')).toBe('36 thousand');
    expect(figure(1542, 'count', 'million')).toBe('1.54 billion');
    expect(figure(0.4, 'count', 'thousand')).toBe('400');
    // A scaled count is never spelled out: "three million", not "three".
    expect(en.figure({ value: 3, unit: 'count', scale: 'million' }, { words: true })).toBe('3 million');
  });
});

describe('figure: declared units', () => {
  it('writes the symbol when there is one', () => {
    expect(figure(541, 'GWh')).toBe('541 GWh');
    expect(figure(1250.55, 'GWh')).toBe('1,250.6 GWh');
    expect(figure(1, 'GWh')).toBe('1 GWh');
  });

  it('writes the singular or plural name by the plural rules, at the unit\'s precision', () => {
    expect(figure(36000, 'people')).toBe('36,000 people');
    expect(figure(1, 'people')).toBe('1 person');
    // Precision 0: 1.4 shows as 1, so it is one person.
    expect(figure(1.4, 'people')).toBe('1 person');
    expect(figure(1.5, 'turbines')).toBe('1.5 turbines');
    expect(figure(1.04, 'turbines')).toBe('1 turbine');
  });

  it('puts the scale word between the number and the unit', () => {
    expect(figure(56800, 'MWh', 'thousand')).toBe('56.8 million MWh');
    expect(figure(56.8, 'MWh', 'million')).toBe('56.8 million MWh');
    expect(figure(1.5, 'people', 'million')).toBe('1.5 million people');
    expect(figure(1, 'people', 'million')).toBe('1 million people');
    expect(figure(0.25, 'people', 'thousand')).toBe('250 people');
  });

  it('throws for a unit that is neither built in, a currency nor declared', () => {
    expect(() => figure(1, 'furlongs')).toThrow(/unknown unit "furlongs"/);
    expect(() => figure(1, 'usd')).toThrow(/unknown unit "usd"/);
  });
});

describe('figure: signs', () => {
  it('shows + and − (U+2212) on any unit when signed', () => {
    expect(signed(2.2, 'percentage_points')).toBe('+2.2 percentage points');
    expect(signed(-1, 'percentage_points')).toBe('\u22121 percentage point');
    expect(signed(-3, 'percent')).toBe('\u22123%');
    expect(signed(29, 'percent_change')).toBe('+29%');
    expect(signed(942, 'USD', 'million')).toBe('+$942m');
    expect(signed(-942, 'USD', 'million')).toBe('\u2212$942m');
    expect(signed(-541, 'GWh')).toBe('\u2212541 GWh');
    expect(signed(3, 'count')).toBe('+3');
    expect(signed(-3.2, 'count', 'million')).toBe('\u22123.2 million');
  });

  it('never shows a sign on zero, signed or not', () => {
    expect(signed(0, 'percent')).toBe('0%');
    expect(signed(0.01, 'percentage_points')).toBe('0 percentage points');
    expect(signed(-0.001, 'percent')).toBe('0%');
    expect(figure(-0.01, 'percentage_points')).toBe('0 percentage points');
    expect(figure(-0.001, 'USD')).toBe('$0');
    expect(figure(-0.04, 'count')).toBe('0');
    expect(en.number(-0.01)).toBe('0');
  });

  it('keeps the locale\'s own minus when not signed', () => {
    expect(figure(-3, 'percent')).toBe('-3%');
    expect(figure(-500, 'USD', 'million')).toBe('-$500m');
  });
});

describe('number', () => {
  it('groups and rounds to at most the digits asked (1 by default)', () => {
    expect(en.number(1234.567)).toBe('1,234.6');
    expect(en.number(1234.567, 2)).toBe('1,234.57');
    expect(en.number(1234.567, 0)).toBe('1,235');
    expect(en.number(5)).toBe('5');
  });
});

describe('period', () => {
  it('writes calendar periods as readers say them', () => {
    expect(en.period('2025')).toBe('2025');
    expect(en.period('2026-Q1')).toBe('Q1 2026');
    expect(en.period('2026-H2')).toBe('H2 2026');
    expect(en.period('2026-04')).toBe('April 2026');
    expect(en.period('2026-04-15')).toBe('15 April 2026');
    expect(en.period('2026-04/2026-06')).toBe('April–June 2026');
    expect(en.period('2025-11/2026-02')).toBe('November 2025–February 2026');
    expect(en.period('2025/2026')).toBe('2025–2026');
    expect(en.period('2026-Q1/2026-Q3')).toBe('Q1 2026–Q3 2026');
  });

  it('writes fiscal periods with the FY label', () => {
    expect(en.period('FY2025')).toBe('FY2025');
    expect(en.period('FY2025-Q3')).toBe('Q3 FY2025');
    expect(en.period('FY2025-H1')).toBe('H1 FY2025');
    expect(en.period('FY2024/FY2025')).toBe('FY2024–FY2025');
    expect(en.period('FY2025-Q1/FY2025-Q3')).toBe('Q1 FY2025–Q3 FY2025');
  });

  it('throws for a period the report could not have validated', () => {
    expect(() => createFormatter({ language: 'en' }).period('FY2025')).toThrow(/not a period/);
    expect(() => en.period('2026-13')).toThrow(/not a period/);
  });

  it('localises month names', () => {
    expect(createFormatter({ language: 'de' }).period('2026-04/2026-06')).toBe('April–Juni 2026');
  });
});

describe('date', () => {
  it('writes day, month, year in every locale', () => {
    expect(en.date('2026-11-29')).toBe('29 November 2026');
    expect(en.date('2026-01-01')).toBe('1 January 2026');
    expect(createFormatter({ language: 'en-US' }).date('2026-11-29')).toBe('29 November 2026');
    expect(createFormatter({ language: 'fr' }).date('2026-11-29')).toBe('29 novembre 2026');
  });
});

describe('createFormatter', () => {
  it('makes one formatter per distinct options', () => {
    expect(createFormatter({ language: 'en', units, fiscalYear: { start_month: 7, named_by: 'end' } })).toBe(en);
    expect(createFormatter({ language: 'en' })).not.toBe(en);
  });
});

describe('isCurrency and BUILT_IN_UNITS', () => {
  it('knows ISO currency codes as Intl does', () => {
    for (const code of ['USD', 'EUR', 'CNY', 'JPY', 'GBP']) expect(isCurrency(code), code).toBe(true);
    for (const code of ['usd', 'XYZ', 'US', 'USDX', 'GWh', 'percent']) expect(isCurrency(code), code).toBe(false);
  });

  it('lists the built-in units, none of them a currency', () => {
    expect([...BUILT_IN_UNITS].sort()).toEqual(['count', 'percent', 'percent_change', 'percentage_points']);
    for (const unit of BUILT_IN_UNITS) expect(isCurrency(unit)).toBe(false);
  });
});
