/**
 * The dataset's one definition. Types come from here (`z.infer`), and so do
 * the rules a careful analyst checks on a single value (ranges, formats,
 * unknown keys). Rules that need the whole document (references between
 * records, amounts that must agree) live in validate.ts.
 */
import { z } from 'zod';

/** Ids are lowercase slugs so they are safe in paths, anchors and templates. */
const id = z
  .string()
  .regex(/^[a-z0-9]+(?:[-_][a-z0-9]+)*$/, {
    message: 'must be a lowercase id of letters, digits, "-" or "_" (for example "vnet")',
  });

const text = z.string().trim().min(1, { message: 'must not be empty' }).max(2000, {
  message: 'must be at most 2000 characters',
});

const PERIOD_PART = /^(\d{4})(?:-(Q[1-4]|H[12]|(\d{2})(?:-(\d{2}))?))?$/;

/** True for YYYY, YYYY-Qn, YYYY-Hn, YYYY-MM, YYYY-MM-DD with real months and days. */
export function isPeriodPart(value: string): boolean {
  const m = PERIOD_PART.exec(value);
  if (!m) return false;
  const [, year, , month, day] = m;
  if (month === undefined) return true;
  const mm = Number(month);
  if (mm < 1 || mm > 12) return false;
  if (day === undefined) return true;
  const dd = Number(day);
  const daysInMonth = new Date(Date.UTC(Number(year), mm, 0)).getUTCDate();
  return dd >= 1 && dd <= daysInMonth;
}

/** A period: one point or span (`2025`, `2026-Q1`, `2026-04`) or a range `FROM/TO`. */
export const period = z
  .string({ message: 'must be text such as "2025" or 2026-Q1 (quote a bare year)' })
  .refine(
    (value) => {
      const parts = value.split('/');
      if (parts.length > 2 || !parts.every(isPeriodPart)) return false;
      return parts.length === 1 || parts[0]! <= parts[1]!;
    },
    {
      message:
        'must be a period such as 2025, 2026-Q1, 2026-04, 2026-04-15, or a range FROM/TO with FROM before TO',
    },
  );

/** A calendar date. YAML's own date type is turned off in load.ts, so this sees the text. */
const isoDate = z
  .string()
  .refine((value) => /^\d{4}-\d{2}-\d{2}$/.test(value) && isPeriodPart(value), {
    message: 'must be a calendar date written YYYY-MM-DD, for example 2026-11-29',
  });

const httpUrl = z.string().refine((value) => /^https?:\/\/[^\s]+$/i.test(value), {
  message: 'must be an http:// or https:// URL (other schemes such as javascript: or data: are refused)',
});

const finite = z.number({
  error: (issue) => (typeof issue.input === 'number' ? 'must be a finite number (not .inf or .nan)' : 'must be a number'),
});

const positive = finite.refine((v) => v > 0, { message: 'must be greater than 0' });

/** What a figure's provenance needs: the source it came from and how exact it is. */
const provenance = {
  source: id,
  approximate: z.boolean().optional(),
  note: text.optional(),
};

export const usdFigure = z.strictObject({
  value: positive,
  unit: z.literal('USD', { message: 'must be "USD"' }),
  scale: z.enum(['million', 'billion'], { message: 'must be "million" or "billion"' }),
  period,
  ...provenance,
});

export const shareFigure = z.strictObject({
  value: finite.refine((v) => v >= 0 && v <= 100, {
    message: 'must be between 0 and 100 (a percent share; use unit percent_change for growth)',
  }),
  unit: z.literal('percent', { message: 'must be "percent"' }),
  period,
  ...provenance,
});

/** The approximate wording of a date or span, kept as the source gave it. */
const timing = z.strictObject({
  as_given: text,
  period: period.optional(),
  approximate: z.boolean(),
});

const metricBase = {
  label: text,
  subject: id.optional(),
  period,
  ...provenance,
};

export const metric = z.discriminatedUnion(
  'unit',
  [
    z.strictObject({ ...metricBase, unit: z.literal('GWh'), value: finite.refine((v) => v >= 0, { message: 'must be 0 or more' }) }),
    z.strictObject({
      ...metricBase,
      unit: z.literal('percent'),
      value: finite.refine((v) => v >= 0 && v <= 100, {
        message: 'must be between 0 and 100 (a percent share; use unit percent_change for growth)',
      }),
    }),
    z.strictObject({
      ...metricBase,
      unit: z.literal('percent_change'),
      value: finite.refine((v) => v > -100, { message: 'must be greater than -100 (nothing shrinks by more than all of it)' }),
    }),
    z.strictObject({ ...metricBase, unit: z.literal('percentage_points'), value: finite }),
  ],
  { message: 'unit must be one of GWh, percent, percent_change, percentage_points' },
);

const source = z.strictObject({
  publication: text,
  title: text,
  kind: text,
  published: timing,
  author: text.optional(),
  url: httpUrl.optional(),
  truncated: z.boolean(),
  truncation: text.optional(),
  file: text.optional(),
});

const layer = z.strictObject({
  name: text,
  in_ai_stack: z.boolean(),
  order: z.number().int({ message: 'must be a whole number' }).min(1, { message: 'must be 1 or more' }),
  description: text,
  source: id,
});

const entity = z.strictObject({
  name: text,
  short_name: text,
  role: text,
  layer: id,
  url: httpUrl.optional(),
  source: id,
});

export const DEAL_INSTRUMENTS = ['indirect-stake', 'share-purchase', 'investment'] as const;
export const DEAL_STATUSES = ['completed', 'agreed', 'reported'] as const;

const deal = z.strictObject({
  investor: id,
  counterparty: id,
  layer: id,
  order: z.number().int({ message: 'must be a whole number' }).min(1, { message: 'must be 1 or more' }),
  instrument: z.enum(DEAL_INSTRUMENTS, { message: `must be one of ${DEAL_INSTRUMENTS.join(', ')}` }),
  instrument_as_given: text,
  amount: usdFigure.optional(),
  stake: shareFigure.optional(),
  valuation: usdFigure.optional(),
  status: z.enum(DEAL_STATUSES, { message: `must be one of ${DEAL_STATUSES.join(', ')}` }),
  status_as_given: text,
  attribution: text.optional(),
  round: id.optional(),
  timing,
  source: id,
});

const round = z.strictObject({
  company: id,
  description: text,
  target: usdFigure,
  valuation: usdFigure,
  expected_close: timing,
  source: id,
});

export const CLAIM_KINDS = ['stated', 'reported', 'analysis'] as const;

const claim = z.strictObject({
  text,
  kind: z.enum(CLAIM_KINDS, { message: `must be one of ${CLAIM_KINDS.join(', ')}` }),
  subjects: z.array(id).min(1, { message: 'must name at least one entity' }),
  source: id,
});

const derivedBase = { label: text, note: text.optional() };

/** A derived figure names its operation and inputs (metric ids); derive.ts computes the value. */
export const derivedSpec = z.discriminatedUnion(
  'op',
  [
    z.strictObject({ ...derivedBase, op: z.literal('share'), part: id, of: z.array(id).min(1, { message: 'must list at least one metric' }) }),
    z.strictObject({ ...derivedBase, op: z.literal('difference'), a: id, b: id }),
    z.strictObject({ ...derivedBase, op: z.literal('growth_ratio'), a: id, b: id }),
  ],
  { message: 'op must be one of share, difference, growth_ratio' },
);

/** A map keyed by id: YAML itself refuses a repeated key, so ids are unique by construction. */
const byId = <T extends z.ZodType>(record: T) =>
  z.record(id, record).refine((value) => Object.keys(value).length > 0, { message: 'must have at least one entry' });

export const dataset = z.strictObject({
  edition: z.strictObject({
    id,
    title: text,
    subtitle: text,
    as_of: isoDate,
    language: z.string().regex(/^[a-z]{2,3}(?:-[A-Z]{2})?$/, { message: 'must be a language tag such as en or en-GB' }),
    author: text,
    keywords: z.array(text).min(1, { message: 'must list at least one keyword' }),
  }),
  sources: byId(source),
  layers: byId(layer),
  entities: byId(entity),
  deals: byId(deal),
  rounds: z.record(id, round).default({}),
  metrics: byId(metric),
  claims: z.record(id, claim).default({}),
  derived: z.record(id, derivedSpec).default({}),
});

export type Dataset = z.infer<typeof dataset>;
export type UsdFigure = z.infer<typeof usdFigure>;
export type ShareFigure = z.infer<typeof shareFigure>;
export type Metric = z.infer<typeof metric>;
export type Deal = Dataset['deals'][string];
export type Entity = Dataset['entities'][string];
export type Source = Dataset['sources'][string];
export type DerivedSpec = z.infer<typeof derivedSpec>;
