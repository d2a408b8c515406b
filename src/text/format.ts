/**
 * The one number and date formatter. Every figure a report shows goes through
 * a `Formatter` made for the edition's language and the report's declared
 * units, so "$942m", "40.7%", "12.5 TWh" and "29 November 2026" are written the
 * same way in the prose, the footnotes, the tables and the editions diff.
 * All digits, signs and separators come from Intl; only the scale suffixes
 * and words, and the English count words, are ours.
 */
import { isPeriod, type FiscalYear } from '../dataset/period.ts';
import { remembered } from '../support/recent.ts';

export type Scale = 'thousand' | 'million' | 'billion';

/** A unit a report declares (`units:` in the dataset). */
export interface UnitSpec {
  symbol?: string;
  singular: string;
  plural: string;
  /** The most decimals shown (default 1). */
  precision?: number;
}

/** What a figure needs to be formatted: the value, its unit and scale. */
export interface FigureLike {
  value: number;
  unit: string;
  scale?: Scale;
}

export interface FormatterOptions {
  /** BCP 47 tag, the edition's `language`. */
  language: string;
  units?: Record<string, UnitSpec>;
  fiscalYear?: FiscalYear;
}

export interface FigureFormat {
  /** Spell an English count from zero to ten as a word ("three"). */
  words?: boolean;
  /** Always show the sign: "+29%", "−3%" (U+2212). */
  signed?: boolean;
}

export interface Formatter {
  /** Any figure, by its unit: "$942m", "40.7%", "2.2 percentage points", "12.5 TWh", "3.2 million". */
  figure(figure: FigureLike, options?: FigureFormat): string;
  /** A plain number with grouping and at most `maxDigits` decimals (default 1). */
  number(value: number, maxDigits?: number): string;
  /** A count: "12", or "three" with `words` in English. */
  count(value: number, options?: { words?: boolean }): string;
  /** A dataset period: "2026-Q1" -> "Q1 2026", "2026-04/2026-06" -> "April–June 2026", "FY2025-Q3" -> "Q3 FY2025". */
  period(value: string): string;
  /** A calendar date, YYYY-MM-DD -> "29 November 2026". */
  date(value: string): string;
}

export const BUILT_IN_UNITS: readonly string[] = ['percent', 'percent_change', 'percentage_points', 'count'];

/** Largest first: a scaled figure takes the first whose shown number is at least 1. */
const SCALES = [
  { name: 'billion', factor: 1e9, suffix: 'bn', digits: 2 },
  { name: 'million', factor: 1e6, suffix: 'm', digits: 1 },
  { name: 'thousand', factor: 1e3, suffix: 'k', digits: 1 },
] as const;
type ScaleStep = (typeof SCALES)[number];
const FACTOR: Record<Scale, number> = { thousand: 1e3, million: 1e6, billion: 1e9 };

// Intl has no spell-out, so this is English only; other languages get digits.
const ENGLISH_COUNTS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];

const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

/** True for a three-letter code Intl knows as a currency (Intl.supportedValuesOf('currency')). */
export function isCurrency(code: string): boolean {
  return CURRENCIES.has(code);
}

// Intl's formatters are costly to make, so they are kept by their options,
// through the one bounded cache mechanism (recent.ts).
const numberFormat = remembered('format: Intl number formats', 64, (key) => new Intl.NumberFormat(...(JSON.parse(key) as [string, Intl.NumberFormatOptions])), () => 2048);
const pluralRules = remembered('format: Intl plural rules', 16, (key) => new Intl.PluralRules(...(JSON.parse(key) as [string, Intl.PluralRulesOptions])), () => 2048);
const formatterOf = remembered('format: formatters', 16, (key) => makeFormatter(JSON.parse(key) as FormatterOptions), () => 8192);

/** Made once per distinct options (Intl formatters are costly to make); units are a report's declared units. */
export function createFormatter(options: FormatterOptions): Formatter {
  return formatterOf(JSON.stringify(options));
}

function makeFormatter({ language, units = {}, fiscalYear }: FormatterOptions): Formatter {
  const english = language === 'en' || language.startsWith('en-');
  const nf = (options: Intl.NumberFormatOptions, signed: boolean) =>
    // 'negative' keeps a value rounded to zero from printing as "-0"; 'exceptZero' gives "+" and "−" but none for zero.
    numberFormat(JSON.stringify([language, { ...options, signDisplay: signed ? 'exceptZero' : 'negative' }]));
  const decimal = (value: number, digits: number, signed: boolean) => join(nf({ maximumFractionDigits: digits }, signed).formatToParts(value), '', signed);
  // Same rounding as the number shown, so "1 percentage point" is singular exactly when it prints as 1.
  const isOne = (value: number, digits: number) => pluralRules(JSON.stringify([language, { maximumFractionDigits: digits }])).select(value) === 'one';

  const money = (value: number, currency: string, scale: Scale | undefined, signed: boolean) => {
    const { shown, step } = scale ? rescale(value, scale) : { shown: value, step: undefined };
    const format = nf({ style: 'currency', currency, minimumFractionDigits: 0, maximumFractionDigits: step?.digits ?? 2 }, signed);
    return join(format.formatToParts(shown), step?.suffix ?? '', signed);
  };
  // Counts and declared units: "3.2 million", "56.8 million MWh"; a scaled amount is many of the unit, so plural.
  const scaledWords = (value: number, scale: Scale, signed: boolean, unit?: UnitSpec) => {
    const { shown, step } = rescale(value, scale);
    if (!step) return unit ? declared(shown, unit, signed) : decimal(shown, 1, signed);
    const name = unit ? ` ${unit.symbol ?? unit.plural}` : '';
    return `${decimal(shown, step.digits, signed)} ${step.name}${name}`;
  };
  const declared = (value: number, unit: UnitSpec, signed: boolean) => {
    const digits = unit.precision ?? 1;
    const name = unit.symbol ?? (isOne(value, digits) ? unit.singular : unit.plural);
    return `${decimal(value, digits, signed)} ${name}`;
  };
  const count = (value: number, words: boolean, signed: boolean) =>
    words && !signed && english && Number.isInteger(value) && value >= 0 && value < ENGLISH_COUNTS.length ? ENGLISH_COUNTS[value]! : decimal(value, 1, signed);

  const figure = ({ value, unit, scale }: FigureLike, { words = false, signed = false }: FigureFormat = {}): string => {
    switch (unit) {
      case 'percent':
      case 'percent_change':
        return join(nf({ style: 'percent', maximumFractionDigits: 1 }, signed).formatToParts(value / 100), '', signed);
      case 'percentage_points':
        // English words in every language: a report in another language can declare its own unit instead.
        return `${decimal(value, 1, signed)} ${isOne(value, 1) ? 'percentage point' : 'percentage points'}`;
      case 'count':
        return scale ? scaledWords(value, scale, signed) : count(value, words, signed);
    }
    if (isCurrency(unit)) return money(value, unit, scale, signed);
    const spec = units[unit];
    // Validation refuses undeclared units, so reaching here is a bug in the caller.
    if (!spec) throw new Error(`format: unknown unit "${unit}" (not built in, not an ISO 4217 currency, not among the declared units: ${Object.keys(units).join(', ') || 'none'})`);
    return scale ? scaledWords(value, scale, signed, spec) : declared(value, spec, signed);
  };

  const { date, period } = makeDates(language, fiscalYear);

  return {
    figure,
    number: (value, maxDigits = 1) => decimal(value, maxDigits, false),
    count: (value, options) => count(value, options?.words ?? false, false),
    period,
    date,
  };
}

/** Dates and periods in words, in the edition's language: "29 November 2026", "Q1 2026", "April–June 2026", "Q3 FY2025". */
function makeDates(language: string, fiscalYear: FiscalYear | undefined): { date: (value: string) => string; period: (value: string) => string } {
  const month = new Intl.DateTimeFormat(language, { month: 'long', timeZone: 'UTC' });
  const monthYear = new Intl.DateTimeFormat(language, { month: 'long', year: 'numeric', timeZone: 'UTC' });
  const dayMonthYear = new Intl.DateTimeFormat(language, { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
  const date = (value: string) => {
    const parts = dayMonthYear.formatToParts(utc(value));
    const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
    // House style is day-month-year ("29 November 2026") in every locale; month names stay localised.
    return `${part('day')} ${part('month')} ${part('year')}`;
  };
  const point = (value: string): { text: string; year: string; month?: string } => {
    const fiscal = /^FY(\d{4})(?:-(.*))?$/.exec(value);
    if (fiscal) return { text: fiscal[2] ? `${fiscal[2]} FY${fiscal[1]}` : `FY${fiscal[1]}`, year: `FY${fiscal[1]}` };
    const [year = '', rest] = value.split(/-(.*)/s);
    if (rest === undefined) return { text: year, year };
    if (/^[QH]\d$/.test(rest)) return { text: `${rest} ${year}`, year };
    if (/^\d{2}$/.test(rest)) return { text: monthYear.format(utc(`${value}-01`)), year, month: month.format(utc(`${value}-01`)) };
    return { text: date(value), year };
  };
  const period = (value: string) => {
    // Validation refuses bad periods (and fiscal ones without a fiscal year), so this is a bug in the caller.
    if (!isPeriod(value, fiscalYear)) throw new Error(`format: "${value}" is not a period this report can show`);
    const [from = '', to] = value.split('/');
    if (to === undefined) return point(from).text;
    const a = point(from);
    const b = point(to);
    // "April–June 2026" rather than "April 2026–June 2026" when only the month differs.
    if (a.year === b.year && a.month && b.month) return `${a.month}–${b.text}`;
    return `${a.text}–${b.text}`;
  };

  return { date, period };
}

/**
 * The value in the largest scale whose shown number is at least 1 (1542 million
 * -> 1.54 billion, 0.5 billion -> 500 million), or in plain units below a thousand.
 */
function rescale(value: number, scale: Scale): { shown: number; step?: ScaleStep } {
  for (const step of SCALES) {
    const shown = convert(value, FACTOR[scale], step.factor);
    if (roundedAbs(shown, step.digits) >= 1) return { shown, step };
  }
  return { shown: convert(value, FACTOR[scale], 1) };
}

// Multiply or divide by an exact power of ten, whichever keeps the ratio whole, to add no float noise.
function convert(value: number, from: number, to: number): number {
  return from >= to ? value * (from / to) : value / (to / from);
}

// Intl's own rounding (not Math.round), so the scale chosen agrees with the digits shown.
function roundedAbs(value: number, digits: number): number {
  return Number(numberFormat(JSON.stringify(['en', { maximumFractionDigits: digits, useGrouping: false }])).format(Math.abs(value)));
}

/** The parts as text, the scale suffix right after the last digit (wherever the locale puts the sign). */
function join(parts: Intl.NumberFormatPart[], suffix: string, signed: boolean): string {
  const lastDigit = parts.findLastIndex((part) => part.type === 'integer' || part.type === 'fraction');
  return parts.map((part, i) => sign(part, signed) + (i === lastDigit ? suffix : '')).join('');
}

// A signed figure uses the typographic minus (U+2212); Intl's own sign stays otherwise.
function sign(part: Intl.NumberFormatPart, signed: boolean): string {
  if (signed && part.type === 'minusSign') return '\u2212';
  if (signed && part.type === 'plusSign') return '+';
  return part.value;
}

function utc(isoDate: string): Date {
  return new Date(`${isoDate}T00:00:00Z`);
}
