/**
 * Number and date formatting, in one place. Every figure the briefing shows
 * goes through a `Formatter` made for the dataset's language, so "$942m",
 * "40.7%" and "29 November 2026" are written the same way in the prose, the
 * footnotes, the deals table and the editions diff.
 */
import { remembered } from './recent.ts';

/** What a figure needs to be formatted: the value, its unit and (USD) scale. */
export interface FigureLike {
  value: number;
  unit: string;
  scale?: 'million' | 'billion';
}

export interface Formatter {
  /** `{value: 942, scale: 'million'}` -> "$942m"; billions -> "$7.35bn". */
  usd(value: number, scale: 'million' | 'billion'): string;
  /** A percent share or growth rate given on the 0-100 scale: 40.7 -> "40.7%". */
  percent(value: number): string;
  /** A difference of percents: 2.2 -> "2.2 percentage points". */
  points(value: number): string;
  /** Energy shipped: 541 -> "541 GWh". */
  gwh(value: number): string;
  /** A small count as a word ("two"), larger ones as digits. */
  count(value: number): string;
  /** A dataset period: "2025", "2026-Q1" -> "Q1 2026", "2026-04/2026-06" -> "April–June 2026". */
  period(value: string): string;
  /** A calendar date, YYYY-MM-DD -> "29 November 2026". */
  date(value: string): string;
  /** Any figure, by its unit. */
  figure(figure: FigureLike): string;
}

const SCALE_SUFFIX = { million: 'm', billion: 'bn' } as const;

// Spelled-out counts read better in prose ("two of the three deals"). Intl has
// no spell-out, so this is English only; other languages get digits.
const ENGLISH_COUNTS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];

/** The formatter for a BCP 47 language tag (the dataset's `edition.language`), made once per tag: Intl's formatters are costly to make. */
export const createFormatter = remembered(8, makeFormatter);

function makeFormatter(language: string): Formatter {
  const currency = new Intl.NumberFormat(language, { style: 'currency', currency: 'USD', minimumFractionDigits: 0, maximumFractionDigits: 2 });
  const currencyMillions = new Intl.NumberFormat(language, { style: 'currency', currency: 'USD', minimumFractionDigits: 0, maximumFractionDigits: 1 });
  const percent = new Intl.NumberFormat(language, { style: 'percent', minimumFractionDigits: 0, maximumFractionDigits: 1 });
  // 'negative' keeps a rounded-away -0.01 from printing as "-0".
  const decimal = new Intl.NumberFormat(language, { minimumFractionDigits: 0, maximumFractionDigits: 1, signDisplay: 'negative' });
  // Same rounding as `decimal`, so "1 percentage point" is singular exactly when it prints as 1.
  const plural = new Intl.PluralRules(language, { minimumFractionDigits: 0, maximumFractionDigits: 1 });
  const month = new Intl.DateTimeFormat(language, { month: 'long', timeZone: 'UTC' });
  const monthYear = new Intl.DateTimeFormat(language, { month: 'long', year: 'numeric', timeZone: 'UTC' });
  const dayMonthYear = new Intl.DateTimeFormat(language, { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
  const english = language === 'en' || language.startsWith('en-');

  const usd = (value: number, scale: 'million' | 'billion') => {
    const parts = (scale === 'billion' ? currency : currencyMillions).formatToParts(value);
    // The scale suffix follows the last digit, wherever the locale puts the currency sign.
    const lastDigit = parts.findLastIndex((part) => part.type === 'integer' || part.type === 'fraction');
    return parts.map((part, i) => part.value + (i === lastDigit ? SCALE_SUFFIX[scale] : '')).join('');
  };
  const points = (value: number) => `${decimal.format(value)} ${plural.select(value) === 'one' ? 'percentage point' : 'percentage points'}`;
  const gwh = (value: number) => `${decimal.format(value)} GWh`;
  const count = (value: number) => (english && Number.isInteger(value) && value >= 0 && value < ENGLISH_COUNTS.length ? ENGLISH_COUNTS[value]! : decimal.format(value));
  const date = (value: string) => {
    const parts = dayMonthYear.formatToParts(utc(value));
    const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
    // House style is day-month-year ("29 November 2026") in every locale; month names stay localised.
    return `${part('day')} ${part('month')} ${part('year')}`;
  };
  const point = (value: string): { text: string; year: string; month?: string } => {
    const [year = '', rest] = value.split(/-(.*)/s);
    if (rest === undefined) return { text: year, year };
    if (/^[QH][1-4]$/.test(rest)) return { text: `${rest} ${year}`, year };
    if (/^\d{2}$/.test(rest)) return { text: monthYear.format(utc(`${value}-01`)), year, month: month.format(utc(`${value}-01`)) };
    return { text: date(value), year };
  };
  const period = (value: string) => {
    const [from, to] = value.split('/');
    if (to === undefined) return point(from ?? value).text;
    const a = point(from ?? '');
    const b = point(to);
    // "April–June 2026" rather than "April 2026–June 2026" when only the month differs.
    if (a.year === b.year && a.month && b.month) return `${a.month}–${b.text}`;
    return `${a.text}–${b.text}`;
  };

  return {
    usd,
    percent: (value) => percent.format(value / 100),
    points,
    gwh,
    count,
    period,
    date,
    figure(figure) {
      switch (figure.unit) {
        case 'USD':
          return usd(figure.value, figure.scale ?? 'million');
        case 'percent':
        case 'percent_change':
          return percent.format(figure.value / 100);
        case 'percentage_points':
          return points(figure.value);
        case 'GWh':
          return gwh(figure.value);
        default:
          return count(figure.value);
      }
    },
  };
}

function utc(isoDate: string): Date {
  return new Date(`${isoDate}T00:00:00Z`);
}
