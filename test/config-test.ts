import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normalizeReports, shardReports } from '../src/config.ts';
import { InputError } from '../src/error.ts';
import { parseYaml } from '../src/load.ts';

const parse = (text: string) => normalizeReports(parseYaml('reports.yaml', new TextEncoder().encode(text)));

describe('normalizeReports', () => {
  it('reads the shipped config: the A4 and Letter editions', () => {
    const reports = parse(readFileSync('reports.yaml', 'utf8'));
    expect(reports.map((r) => [r.id, r.paper])).toEqual([
      ['catl-ai-stack-briefing', 'a4'],
      ['catl-ai-stack-briefing-letter', 'letter'],
    ]);
  });

  it('fills defaults', () => {
    const [report] = parse('reports:\n  - id: x\n    dataset: data/x.yaml\n');
    expect(report).toMatchObject({ id: 'x', paper: 'a4', formats: ['pdf', 'html', 'svg'], templates: 'templates/briefing', editions: 'data/editions', title: 'x' });
  });

  it('gives each report its own chart folder when several write SVG', () => {
    const one = parse('reports:\n  - id: a\n    dataset: d.yaml\n  - id: b\n    dataset: d.yaml\n    formats: [pdf]\n');
    expect(one.map((r) => r.chartsOut)).toEqual(['charts', 'charts']);
    const two = parse('reports:\n  - id: a\n    dataset: d.yaml\n  - id: b\n    dataset: e.yaml\n');
    expect(two.map((r) => r.chartsOut)).toEqual(['charts/a', 'charts/b']);
  });

  it('locates bad values, unknown keys, traversal and duplicate ids', () => {
    const text = 'reports:\n  - id: a\n    dataset: ../secret.yaml\n    paper: a5\n  - id: a\n    dataset: d.yaml\n    formt: [pdf]\n';
    let error: InputError | undefined;
    try {
      parse(text);
    } catch (e) {
      error = e as InputError;
    }
    expect(error).toBeInstanceOf(InputError);
    const where = Object.fromEntries(error!.issues.map((i) => [i.path, `${i.line}:${i.column}`]));
    expect(where).toEqual({
      'reports.0.dataset': '3:14',
      'reports.0.paper': '4:12',
      'reports.1.id': '5:9',
      'reports.1.formt': '7:5',
    });
  });
});

describe('shardReports', () => {
  it('splits the list into disjoint slices that cover it', () => {
    const reports = Array.from({ length: 7 }, (_, i) => ({ id: `r${i}` }) as never);
    const slices = [1, 2, 3].map((i) => shardReports(reports, i, 3));
    expect(slices.flat().map((r: { id: string }) => r.id).sort()).toEqual(reports.map((r: { id: string }) => r.id).sort());
    expect(new Set(slices.flat()).size).toBe(7);
  });
});
