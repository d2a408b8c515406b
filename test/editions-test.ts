import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { diffEditions } from '../src/editions.ts';
import { parseYaml } from '../src/load.ts';
import type { Dataset } from '../src/schema.ts';
import { validateDataset } from '../src/validate.ts';

function load(file: string): Dataset {
  return validateDataset(parseYaml(file, readFileSync(file)));
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
      path: 'metrics.share_q1_2026',
      label: current.metrics.share_q1_2026!.label,
      before: '40.1%',
      after: '40.7%',
    });
  });

  it('summarises added and removed records by their text or name', () => {
    const changes = diffEditions(previous, current);
    expect(changes.find((c) => c.path === 'claims.hedge')?.after).toBe(current.claims.hedge!.text);
    const removed = changes.find((c) => c.path === 'entities.sunwoda');
    expect(removed?.label).toBe(previous.entities.sunwoda!.name);
    expect(removed?.before).toBe(previous.entities.sunwoda!.name);
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
    later.deals.vnet!.amount = { ...later.deals.vnet!.amount!, value: 950 };
    const changes = diffEditions(current, later);
    expect(changes).toContainEqual({ kind: 'changed', path: 'entities.vnet.role', label: 'VNET Group', before: current.entities.vnet!.role, after: 'Data-center operator' });
    expect(changes).toContainEqual({
      kind: 'changed',
      path: 'metrics.shipments_ev_2025',
      label: current.metrics.shipments_ev_2025!.label,
      before: '541 GWh (2025)',
      after: '541 GWh (2024)',
    });
    expect(changes).toContainEqual({ kind: 'changed', path: 'deals.vnet.amount', label: 'Deal with VNET Group', before: '$942m', after: '$950m' });
    expect(changes).toHaveLength(3);
  });
});
