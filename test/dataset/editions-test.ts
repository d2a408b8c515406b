import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../src/dataset/schema.ts';
import { diffEditions } from '../../src/dataset/editions.ts';
import { loadDatasetFile } from '../fixtures/dataset/load.ts';

function load(file: string): Dataset {
  return loadDatasetFile(file).data;
}

interface Figure {
  value: number;
  unit: string;
  scale?: string;
  period: string;
  source: string;
}

/** A collection's records, typed as the test reads them (records are loose in the core schema). */
function records<T>(data: Dataset, collection: string): Record<string, T> {
  return data.collections[collection]!.records as Record<string, T>;
}

// The fixtures differ in exactly three facts (see the comment at the top of 2026-06-15.yaml).
const previous = load('test/fixtures/editions/2026-06-15.yaml');
const current = load('test/fixtures/editions/current.yaml');

describe('diffEditions', () => {
  it('finds the changed figure, the added claim and the removed entity, and nothing else', () => {
    const changes = diffEditions(previous, current);
    expect(changes.map((change) => [change.kind, change.path]).sort()).toEqual(
      [
        ['changed', 'metrics.share_q1_2026'],
        ['added', 'claims.hedge'],
        ['removed', 'entities.sunwoda'],
      ].sort(),
    );
  });

  it('formats a changed figure old -> new, labelled by its record', () => {
    const change = diffEditions(previous, current).find((c) => c.path === 'metrics.share_q1_2026');
    expect(change).toEqual({
      kind: 'changed',
      section: 'Metrics',
      path: 'metrics.share_q1_2026',
      label: current.metrics.share_q1_2026!.label,
      before: `${previous.metrics.share_q1_2026!.value}%`,
      after: `${current.metrics.share_q1_2026!.value}%`,
    });
    expect([change!.before, change!.after]).toEqual(['40.1%', '40.7%']);
  });

  it('summarises added and removed records by their text or name', () => {
    const changes = diffEditions(previous, current);
    expect(changes.find((c) => c.path === 'claims.hedge')?.after).toBe(records<{ text: string }>(current, 'claims').hedge!.text);
    const removed = changes.find((c) => c.path === 'entities.sunwoda');
    expect(removed?.label).toBe(previous.entities.sunwoda!.name);
    expect(removed?.before).toBe(previous.entities.sunwoda!.name);
  });

  it("labels an added record by its collection's title formula", () => {
    const hedge = diffEditions(previous, current).find((c) => c.path === 'claims.hedge');
    // claims declare `title: "'Claim'"`.
    expect(hedge?.label).toBe('Claim');
  });

  it('reports nothing between identical datasets, whatever their edition dates', () => {
    const later = structuredClone(current);
    later.edition.as_of = '2027-01-01';
    expect(diffEditions(current, later)).toEqual([]);
  });

  it('reports a field inside a record and a figure whose period moved', () => {
    const later = structuredClone(current);
    later.entities.vnet!.role = 'Data-center operator';
    later.metrics.shipments_ev_2025!.period = '2024';
    const deals = records<{ amount?: Figure }>(later, 'deals');
    const before = records<{ amount?: Figure }>(current, 'deals').vnet!.amount!;
    deals.vnet!.amount = { ...deals.vnet!.amount!, value: before.value + 8 };
    const changes = diffEditions(current, later);
    expect(changes).toContainEqual({ kind: 'changed', section: 'Entities', path: 'entities.vnet.role', label: current.entities.vnet!.name, before: current.entities.vnet!.role, after: 'Data-center operator' });
    const ev = current.metrics.shipments_ev_2025!;
    expect(changes).toContainEqual({
      kind: 'changed',
      section: 'Metrics',
      path: 'metrics.shipments_ev_2025',
      label: ev.label,
      before: `${ev.value} GWh (${ev.period})`,
      after: `${ev.value} GWh (2024)`,
    });
    // deals declare `title: "'Deal with ' + datum.counterparty.name"`.
    // The section is named by the collection's declared label.
    expect(changes).toContainEqual({
      kind: 'changed',
      section: current.collections.deals!.label,
      path: 'deals.vnet.amount',
      label: `Deal with ${current.entities.vnet!.name}`,
      before: `$${before.value}m`,
      after: `$${before.value + 8}m`,
    });
    expect(changes).toHaveLength(3);
  });

  it('compares a table collection row by row', () => {
    const withTable = (rows: Record<string, unknown>[]): Dataset => {
      const data = structuredClone(current);
      data.collections.sales = { label: 'Sales', source: 'vector', fields: { year: 'integer', units: 'integer' }, rows };
      return data;
    };
    const changes = diffEditions(withTable([{ year: 2024, units: 10 }]), withTable([{ year: 2024, units: 12 }, { year: 2025, units: 14 }]));
    expect(changes.map((change) => [change.kind, change.path])).toEqual([
      ['changed', 'sales.0.units'],
      ['added', 'sales.1'],
    ]);
  });
});
