import { describe, expect, it } from 'vitest';
import { comparePeriods, isPeriod, periodBounds, periodProblem, type FiscalYear } from '../../src/dataset/period.ts';
import { messages } from '../../src/support/messages.ts';

const july: FiscalYear = { start_month: 7, named_by: 'end' };
const julyByStart: FiscalYear = { start_month: 7, named_by: 'start' };

describe('isPeriod', () => {
  it('accepts every calendar form with real months and days', () => {
    for (const value of ['2025', '2026-Q1', '2026-Q4', '2026-H1', '2026-H2', '2026-04', '2026-12', '2024-02-29', '2000-02-29', '2026-04-15'])
      expect(isPeriod(value), value).toBe(true);
  });

  it('refuses months, days, quarters and halves that do not exist, and other shapes', () => {
    for (const value of ['2025-13', '2025-00', '2025-02-29', '1900-02-29', '2026-04-31', '2026-04-00', '2026-Q0', '2026-Q5', '2026-H3', '2026-4', '25', '20256', ' 2025', '', 'Q1 2026', '2026-Q1-01'])
      expect(isPeriod(value), value).toBe(false);
  });

  it('accepts a range whose start is not after its end, comparing the days they cover', () => {
    expect(isPeriod('2026-04/2026-06')).toBe(true);
    expect(isPeriod('2025/2026')).toBe(true);
    // A string comparison would refuse this ("Q" sorts after "0"): Q1 starts in January, before April.
    expect(isPeriod('2026-Q1/2026-04')).toBe(true);
    // Same start is allowed.
    expect(isPeriod('2026/2026-01')).toBe(true);
    expect(isPeriod('2026-06/2026-Q1')).toBe(false);
    expect(isPeriod('2026/2025')).toBe(false);
    expect(isPeriod('2025/2026/2027')).toBe(false);
    expect(isPeriod('2025/')).toBe(false);
  });

  it('accepts fiscal forms only with a fiscal year', () => {
    for (const value of ['FY2025', 'FY2025-Q1', 'FY2025-Q4', 'FY2025-H2', 'FY2024/FY2025', 'FY2025/2025-Q3']) {
      expect(isPeriod(value), value).toBe(false);
      expect(isPeriod(value, july), value).toBe(true);
    }
    for (const value of ['FY2025-04', 'FY2025-04-01', 'FY2025-Q5', 'FY2025-H3', 'FY25', 'fy2025']) expect(isPeriod(value, july), value).toBe(false);
  });
});

describe('periodProblem', () => {
  it('says why a period is refused', () => {
    expect(periodProblem('FY2025')).toBe('FY2025 needs edition.fiscal_year (the month the fiscal year starts)');
    expect(periodProblem('2026-Q1/FY2025-Q3')).toBe(messages.periodNeedsFiscalYear('FY2025-Q3'));
    expect(periodProblem('FY2025-04', july)).toBe(messages.periodFiscalMonth('FY2025-04'));
    expect(periodProblem('2025-13')).toBe(messages.periodMonth('2025-13'));
    expect(periodProblem('2025-02-29')).toBe(messages.periodDay('2025-02-29', 28));
    expect(periodProblem('2026-Q5')).toBe(messages.periodQuarter('2026-Q5'));
    expect(periodProblem('2026-H3')).toBe(messages.periodHalf('2026-H3'));
    expect(periodProblem('2026-4')).toBe(messages.periodUnknown('2026-4'));
    expect(periodProblem('2025/2026/2027')).toBe(messages.periodRangeParts('2025/2026/2027'));
    expect(periodProblem('2026-06/2026-Q1')).toBe(messages.periodRangeOrder('2026-06', '2026-Q1'));
  });

  it('is undefined for a valid period', () => {
    expect(periodProblem('2026-04/2026-06')).toBeUndefined();
    expect(periodProblem('FY2025-Q3', july)).toBeUndefined();
  });
});

describe('periodBounds', () => {
  it('gives the first and last day of calendar periods', () => {
    expect(periodBounds('2025')).toEqual({ start: '2025-01-01', end: '2025-12-31' });
    expect(periodBounds('2026-Q1')).toEqual({ start: '2026-01-01', end: '2026-03-31' });
    expect(periodBounds('2026-Q2')).toEqual({ start: '2026-04-01', end: '2026-06-30' });
    expect(periodBounds('2026-Q4')).toEqual({ start: '2026-10-01', end: '2026-12-31' });
    expect(periodBounds('2026-H2')).toEqual({ start: '2026-07-01', end: '2026-12-31' });
    expect(periodBounds('2024-02')).toEqual({ start: '2024-02-01', end: '2024-02-29' });
    expect(periodBounds('1900-02')).toEqual({ start: '1900-02-01', end: '1900-02-28' });
    expect(periodBounds('0044-02')).toEqual({ start: '0044-02-01', end: '0044-02-29' });
    expect(periodBounds('2026-04-15')).toEqual({ start: '2026-04-15', end: '2026-04-15' });
  });

  it('runs a range from its first period\'s first day to its last period\'s last day', () => {
    expect(periodBounds('2025-11/2026-02')).toEqual({ start: '2025-11-01', end: '2026-02-28' });
    expect(periodBounds('2026-Q1/2026-04')).toEqual({ start: '2026-01-01', end: '2026-04-30' });
    expect(periodBounds('FY2025/2025-Q3', july)).toEqual({ start: '2024-07-01', end: '2025-09-30' });
  });

  it('names a fiscal year by the calendar year it ends in', () => {
    expect(periodBounds('FY2025', july)).toEqual({ start: '2024-07-01', end: '2025-06-30' });
    expect(periodBounds('FY2025-Q1', july)).toEqual({ start: '2024-07-01', end: '2024-09-30' });
    expect(periodBounds('FY2025-Q3', july)).toEqual({ start: '2025-01-01', end: '2025-03-31' });
    expect(periodBounds('FY2025-H1', july)).toEqual({ start: '2024-07-01', end: '2024-12-31' });
    expect(periodBounds('FY2025-H2', july)).toEqual({ start: '2025-01-01', end: '2025-06-30' });
    expect(periodBounds('FY2025-Q4', { start_month: 4, named_by: 'end' })).toEqual({ start: '2025-01-01', end: '2025-03-31' });
    expect(periodBounds('FY2025', { start_month: 12, named_by: 'end' })).toEqual({ start: '2024-12-01', end: '2025-11-30' });
  });

  it('names a fiscal year by the calendar year it starts in', () => {
    expect(periodBounds('FY2025', julyByStart)).toEqual({ start: '2025-07-01', end: '2026-06-30' });
    expect(periodBounds('FY2025-Q2', julyByStart)).toEqual({ start: '2025-10-01', end: '2025-12-31' });
    expect(periodBounds('FY2025-Q4', julyByStart)).toEqual({ start: '2026-04-01', end: '2026-06-30' });
    expect(periodBounds('FY2023-H2', { start_month: 3, named_by: 'start' })).toEqual({ start: '2023-09-01', end: '2024-02-29' });
  });

  it('makes a fiscal year starting in January the calendar year, whatever names it', () => {
    for (const named_by of ['start', 'end'] as const) {
      expect(periodBounds('FY2025', { start_month: 1, named_by })).toEqual({ start: '2025-01-01', end: '2025-12-31' });
      expect(periodBounds('FY2025-Q3', { start_month: 1, named_by })).toEqual({ start: '2025-07-01', end: '2025-09-30' });
    }
  });

  it('throws for a period validation would refuse', () => {
    expect(() => periodBounds('FY2025')).toThrow(messages.periodNeedsFiscalYear('FY2025'));
    expect(() => periodBounds('2025-13')).toThrow();
  });
});

describe('comparePeriods', () => {
  it('orders by start, then by end', () => {
    const sorted = ['2026', '2025-Q2', '2025-04-15', '2025', 'FY2025', '2025-04'].sort((a, b) => comparePeriods(a, b, july));
    expect(sorted).toEqual(['FY2025', '2025', '2025-04', '2025-Q2', '2025-04-15', '2026']);
  });

  it('is zero for periods covering the same days', () => {
    expect(comparePeriods('2025-Q1/2025-Q2', '2025-H1')).toBe(0);
    expect(comparePeriods('FY2025-H2', '2025-H1', july)).toBe(0);
    expect(comparePeriods('2025', '2026')).toBeLessThan(0);
    expect(comparePeriods('2026', '2025')).toBeGreaterThan(0);
  });
});
