/**
 * Derive stage: Dataset -> Derived. Every figure the briefing computes rather
 * than quotes is made here, with the formula and the dataset paths of its
 * inputs so the briefing can cite them. Nothing here is typed in by hand.
 */
import type { Dataset, DerivedSpec, Metric, UsdFigure } from './schema.ts';

export type DerivedUnit = 'USD' | 'percent' | 'percentage_points' | 'count';

/** A computed figure with what it was computed from. */
export interface DerivedFigure {
  /** Where templates find it, e.g. `derived.deals.vnet.implied_value`. */
  id: string;
  label: string;
  value: number;
  unit: DerivedUnit;
  /** USD figures only; the value is in this scale. */
  scale?: 'million' | 'billion';
  /** The computation in words, with input names, e.g. "amount ÷ stake". */
  formula: string;
  /** Dataset paths of the inputs, e.g. `deals.vnet.amount`. */
  inputs: string[];
  /** Source ids of the inputs. */
  sources: string[];
}

export interface Derived {
  totals: {
    disclosed_amount: DerivedFigure;
    disclosed_deals: DerivedFigure;
    undisclosed_deals: DerivedFigure;
  };
  deals: Record<string, { implied_value?: DerivedFigure }>;
  rounds: Record<string, { share_of_valuation: DerivedFigure }>;
  /** The figures the dataset's `derived` section asks for, by id. */
  figures: Record<string, DerivedFigure>;
}

const DOLLARS = { million: 1e6, billion: 1e9 } as const;

function toMillions(figure: UsdFigure): number {
  return (figure.value * DOLLARS[figure.scale]) / DOLLARS.million;
}

/** Picks the scale a reader expects: billions from $1bn up. */
function usdFigure(millions: number): { value: number; scale: 'million' | 'billion' } {
  return millions >= 1000 ? { value: millions / 1000, scale: 'billion' } : { value: millions, scale: 'million' };
}

const unique = (values: string[]) => [...new Set(values)];

/** Computes every derived figure from validated data. */
export function deriveFigures(data: Dataset): Derived {
  const deals = Object.entries(data.deals).sort(([, a], [, b]) => a.order - b.order);
  const disclosed = deals.filter(([, deal]) => deal.amount);
  const amountPaths = disclosed.map(([id]) => `deals.${id}.amount`);
  const totalMillions = disclosed.reduce((sum, [, deal]) => sum + toMillions(deal.amount!), 0);
  const dealSources = unique(disclosed.map(([, deal]) => deal.amount!.source));

  const totals: Derived['totals'] = {
    disclosed_amount: {
      id: 'derived.totals.disclosed_amount',
      label: 'Disclosed value of the deals',
      ...usdFigure(totalMillions),
      unit: 'USD',
      formula: `sum of the disclosed deal amounts (${disclosed.length} of ${deals.length} deals)`,
      inputs: amountPaths,
      sources: dealSources,
    },
    disclosed_deals: {
      id: 'derived.totals.disclosed_deals',
      label: 'Deals with a disclosed amount',
      value: disclosed.length,
      unit: 'count',
      formula: 'count of deals with an amount',
      inputs: amountPaths,
      sources: dealSources,
    },
    undisclosed_deals: {
      id: 'derived.totals.undisclosed_deals',
      label: 'Deals without a disclosed amount',
      value: deals.length - disclosed.length,
      unit: 'count',
      formula: 'count of deals without an amount',
      inputs: deals.filter(([, deal]) => !deal.amount).map(([id]) => `deals.${id}`),
      sources: unique(deals.filter(([, deal]) => !deal.amount).map(([, deal]) => deal.source)),
    },
  };

  const dealFigures: Derived['deals'] = {};
  for (const [id, deal] of deals) {
    dealFigures[id] = {};
    if (deal.amount && deal.stake && deal.stake.value > 0) {
      dealFigures[id].implied_value = {
        id: `derived.deals.${id}.implied_value`,
        label: `Implied value of all of ${data.entities[deal.counterparty]?.short_name ?? deal.counterparty}`,
        ...usdFigure(toMillions(deal.amount) / (deal.stake.value / 100)),
        unit: 'USD',
        formula: 'amount paid ÷ stake acquired',
        inputs: [`deals.${id}.amount`, `deals.${id}.stake`],
        sources: unique([deal.amount.source, deal.stake.source]),
      };
    }
  }

  const rounds: Derived['rounds'] = {};
  for (const [id, round] of Object.entries(data.rounds)) {
    rounds[id] = {
      share_of_valuation: {
        id: `derived.rounds.${id}.share_of_valuation`,
        label: 'Round size as a share of the valuation',
        value: (toMillions(round.target) / toMillions(round.valuation)) * 100,
        unit: 'percent',
        formula: 'round target ÷ valuation',
        inputs: [`rounds.${id}.target`, `rounds.${id}.valuation`],
        sources: unique([round.target.source, round.valuation.source]),
      },
    };
  }

  const figures: Derived['figures'] = {};
  for (const [id, spec] of Object.entries(data.derived)) figures[id] = deriveFromSpec(id, spec, data.metrics);

  return { totals, deals: dealFigures, rounds, figures };
}

function deriveFromSpec(id: string, spec: DerivedSpec, metrics: Record<string, Metric>): DerivedFigure {
  // Validation guarantees every input exists and units are compatible.
  const metric = (name: string) => metrics[name]!;
  const base = { id: `derived.figures.${id}`, label: spec.label };
  switch (spec.op) {
    case 'share': {
      const total = spec.of.reduce((sum, name) => sum + metric(name).value, 0);
      const inputs = unique([spec.part, ...spec.of]);
      return {
        ...base,
        value: total === 0 ? 0 : (metric(spec.part).value / total) * 100,
        unit: 'percent',
        formula: `${spec.part} ÷ (${spec.of.join(' + ')})`,
        inputs: inputs.map((name) => `metrics.${name}`),
        sources: unique(inputs.map((name) => metric(name).source)),
      };
    }
    case 'difference': {
      const a = metric(spec.a);
      const b = metric(spec.b);
      const inPoints = a.unit === 'percent' || a.unit === 'percent_change' || a.unit === 'percentage_points';
      return {
        ...base,
        value: a.value - b.value,
        unit: inPoints ? 'percentage_points' : 'count',
        formula: `${spec.a} − ${spec.b}`,
        inputs: [`metrics.${spec.a}`, `metrics.${spec.b}`],
        sources: unique([a.source, b.source]),
      };
    }
    case 'growth_ratio': {
      const a = metric(spec.a);
      const b = metric(spec.b);
      return {
        ...base,
        value: ((1 + a.value / 100) / (1 + b.value / 100)) * 100,
        unit: 'percent',
        formula: `(1 + ${spec.a}) ÷ (1 + ${spec.b})`,
        inputs: [`metrics.${spec.a}`, `metrics.${spec.b}`],
        sources: unique([a.source, b.source]),
      };
    }
  }
}

/** Every derived figure in a stable order. */
export function listDerived(derived: Derived): DerivedFigure[] {
  return [
    ...Object.values(derived.totals),
    ...Object.values(derived.deals).flatMap((deal) => (deal.implied_value ? [deal.implied_value] : [])),
    ...Object.values(derived.rounds).map((round) => round.share_of_valuation),
    ...Object.values(derived.figures),
  ];
}

/** Counts of what a dataset holds, for summaries. */
export function countDataset(data: Dataset, derived: Derived): { entities: number; deals: number; figures: number; derived: number } {
  const dealFigures = Object.values(data.deals).reduce((n, d) => n + [d.amount, d.stake, d.valuation].filter(Boolean).length, 0);
  return {
    entities: Object.keys(data.entities).length,
    deals: Object.keys(data.deals).length,
    figures: dealFigures + Object.keys(data.rounds).length * 2 + Object.keys(data.metrics).length,
    derived: listDerived(derived).length,
  };
}
