/**
 * Periods a figure covers: calendar (`2025`, `2026-Q1`, `2026-H2`, `2026-04`,
 * `2026-04-15`), fiscal (`FY2025`, `FY2025-Q3`, `FY2025-H1`) and ranges
 * `FROM/TO` of those. Every question about a period (is it valid, which days
 * does it cover, which comes first) is answered from the calendar days it
 * covers, so a fiscal quarter and a calendar month compare correctly.
 */
import { messages } from '../support/messages.ts';

/** A report's fiscal year (`edition.fiscal_year`): the month it starts and the calendar year that names it. */
export interface FiscalYear {
  start_month: number;
  named_by: 'start' | 'end';
}

/** First and last calendar day, YYYY-MM-DD (so they compare as strings). */
interface Bounds {
  start: string;
  end: string;
}

const PART = /^(FY)?(\d{4})(?:-(.*))?$/s;
const DIVISION = /^([QH])(\d)$/;
const MONTH_DAY = /^(\d{2})(?:-(\d{2}))?$/;

/** True for YYYY, YYYY-Qn, YYYY-Hn, YYYY-MM, YYYY-MM-DD, FYYYYY, FYYYYY-Qn, FYYYYY-Hn, or FROM/TO of those with FROM's start not after TO's start. */
export function isPeriod(value: string, fiscal?: FiscalYear): boolean {
  return typeof parsePeriod(value, fiscal) !== 'string';
}

/** Why a period is refused, as a message fragment for a located error, or undefined when valid. */
export function periodProblem(value: string, fiscal?: FiscalYear): string | undefined {
  const parsed = parsePeriod(value, fiscal);
  return typeof parsed === 'string' ? parsed : undefined;
}

/** First and last calendar day (YYYY-MM-DD) a period covers (a range: FROM's first to TO's last). */
export function periodBounds(value: string, fiscal?: FiscalYear): Bounds {
  const parsed = parsePeriod(value, fiscal);
  // Validation refuses bad periods before anything asks for bounds, so this is a bug in the caller.
  if (typeof parsed === 'string') throw new Error(`periodBounds: ${parsed}`);
  return parsed;
}

/** Orders periods by start, then end (for sorting rows chronologically). */
export function comparePeriods(a: string, b: string, fiscal?: FiscalYear): number {
  const x = periodBounds(a, fiscal);
  const y = periodBounds(b, fiscal);
  return compareText(x.start, y.start) || compareText(x.end, y.end);
}

/** The days a period covers, or why it is refused. */
function parsePeriod(value: string, fiscal: FiscalYear | undefined): Bounds | string {
  const parts = value.split('/');
  if (parts.length > 2) return messages.periodRangeParts(value);
  const [from = '', to] = parts;
  const first = parsePart(from, fiscal);
  if (typeof first === 'string' || to === undefined) return first;
  const last = parsePart(to, fiscal);
  if (typeof last === 'string') return last;
  if (first.start > last.start) return messages.periodRangeOrder(from, to);
  return { start: first.start, end: last.end };
}

function parsePart(part: string, fiscal: FiscalYear | undefined): Bounds | string {
  const match = PART.exec(part);
  if (!match) return messages.periodUnknown(part);
  const [, fy, yearText = '', rest] = match;
  const year = Number(yearText);
  if (fy) return parseFiscal(part, year, rest, fiscal);
  if (rest === undefined) return months(year * 12, 12);
  const division = DIVISION.exec(rest);
  if (division) return parseDivision(part, year * 12, division);
  const monthDay = MONTH_DAY.exec(rest);
  if (!monthDay) return messages.periodUnknown(part);
  const month = Number(monthDay[1]);
  if (month < 1 || month > 12) return messages.periodMonth(part);
  if (monthDay[2] === undefined) return months(year * 12 + month - 1, 1);
  const day = Number(monthDay[2]);
  const days = daysInMonth(year, month);
  if (day < 1 || day > days) return messages.periodDay(part, days);
  return { start: part, end: part };
}

function parseFiscal(part: string, year: number, rest: string | undefined, fiscal: FiscalYear | undefined): Bounds | string {
  if (!fiscal) return messages.periodNeedsFiscalYear(part);
  const offset = fiscal.start_month - 1;
  // Named by its end, a year starting after January began in the previous calendar year.
  const first = year * 12 + offset - (fiscal.named_by === 'end' && offset > 0 ? 12 : 0);
  if (rest === undefined) return months(first, 12);
  const division = DIVISION.exec(rest);
  return division ? parseDivision(part, first, division) : messages.periodFiscalMonth(part);
}

/** A quarter or half, counted from the year's first month (calendar or fiscal). */
function parseDivision(part: string, firstMonth: number, [, kind, n]: RegExpExecArray): Bounds | string {
  const index = Number(n);
  if (kind === 'Q') return index >= 1 && index <= 4 ? months(firstMonth + 3 * (index - 1), 3) : messages.periodQuarter(part);
  return index >= 1 && index <= 2 ? months(firstMonth + 6 * (index - 1), 6) : messages.periodHalf(part);
}

/** `count` whole months from `first`, a month number counted from January of year 0. */
function months(first: number, count: number): Bounds {
  const last = first + count - 1;
  const [lastYear, lastMonth] = [Math.floor(last / 12), (last % 12) + 1];
  return {
    start: `${yearMonth(Math.floor(first / 12), (first % 12) + 1)}-01`,
    end: `${yearMonth(lastYear, lastMonth)}-${String(daysInMonth(lastYear, lastMonth)).padStart(2, '0')}`,
  };
}

function yearMonth(year: number, month: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
}

// Arithmetic rather than Date.UTC, which reads years 0-99 as 1900-1999.
function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
