import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normalizeReports, pdfFileName, shardReports } from '../src/config.ts';
import { InputError } from '../src/support/error.ts';
import { parseYaml } from '../src/dataset/load.ts';
import { messages, type Located } from '../src/support/messages.ts';

const parse = (text: string) => normalizeReports(parseYaml('reports.yaml', new TextEncoder().encode(text)));

function issuesOf(text: string): Located[] {
  try {
    parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as InputError).issues;
  }
  throw new Error('expected reports.yaml to be invalid');
}

describe('normalizeReports', () => {
  it('reads the shipped config: every report names a dataset, templates and charts that exist, and ids are unique', () => {
    const reports = parse(readFileSync('reports.yaml', 'utf8'));
    expect(reports.length).toBeGreaterThanOrEqual(2);
    expect(new Set(reports.map((r) => r.id)).size).toBe(reports.length);
    for (const report of reports) {
      expect(existsSync(report.dataset), report.dataset).toBe(true);
      expect(readdirSync(report.templates).some((name) => name.endsWith('.md.hbs')), report.templates).toBe(true);
      if (report.charts) expect(readdirSync(report.charts).some((name) => name.endsWith('.vl.json')), report.charts).toBe(true);
    }
  });

  it('fills defaults; a report without charts has none', () => {
    const [report] = parse('reports:\n  - id: x\n    dataset: data/x.yaml\n    templates: templates/x\n');
    expect(report).toMatchObject({ id: 'x', paper: ['a4'], raster_images: 'refuse', formats: ['pdf', 'html', 'svg'], templates: 'templates/x', editions: 'data/editions', title: 'x' });
    expect(report!.charts).toBeUndefined();
    expect('charts' in report!).toBe(false);
  });

  it('keeps a charts folder when one is named', () => {
    const [report] = parse('reports:\n  - id: x\n    dataset: data/x.yaml\n    templates: templates/x\n    charts: templates/x/charts\n');
    expect(report!.charts).toBe('templates/x/charts');
  });

  it('refuses raster images unless a report allows them', () => {
    const reports = parse('reports:\n  - id: a\n    dataset: d.yaml\n    templates: t\n  - id: b\n    dataset: d.yaml\n    templates: t\n    raster_images: allow\n');
    expect(reports.map((r) => r.raster_images)).toEqual(['refuse', 'allow']);
  });

  it('locates a bad raster_images value at the value, naming the allowed ones', () => {
    const issues = issuesOf('reports:\n  - id: a\n    dataset: d.yaml\n    templates: t\n    raster_images: yes\n');
    expect(issues.map((i) => ({ path: i.path, at: `${i.line}:${i.column}` }))).toEqual([{ path: 'reports.0.raster_images', at: '5:20' }]);
    expect(issues[0]!.message).toContain('refuse or allow');
  });

  it('records where the templates folder is named, for a located error when it is missing', () => {
    const text = 'reports:\n  - id: a\n    dataset: d.yaml\n    templates: t/a\n  - id: b\n    dataset: d.yaml\n    title: B\n    templates: t/b\n';
    const reports = parse(text);
    expect(reports.map((r) => r.templatesAt)).toEqual([
      { file: 'reports.yaml', line: 4, column: 16, path: 'reports.0.templates', message: '' },
      { file: 'reports.yaml', line: 8, column: 16, path: 'reports.1.templates', message: '' },
    ]);
  });

  it('requires the templates folder, at the report that lacks it (its first key, after "  - ")', () => {
    const issues = issuesOf('reports:\n  - id: x\n    dataset: data/x.yaml\n');
    expect(issues.map((i) => ({ path: i.path, at: `${i.line}:${i.column}`, message: i.message }))).toEqual([
      { path: 'reports.0.templates', at: '2:5', message: messages.missingField('templates') },
    ]);
  });

  it('gives each report its own chart folder when several write SVG', () => {
    const one = parse('reports:\n  - id: a\n    dataset: d.yaml\n    templates: t\n  - id: b\n    dataset: d.yaml\n    templates: t\n    formats: [pdf]\n');
    expect(one.map((r) => r.chartsOut)).toEqual(['charts', 'charts']);
    const two = parse('reports:\n  - id: a\n    dataset: d.yaml\n    templates: t\n  - id: b\n    dataset: e.yaml\n    templates: t\n');
    expect(two.map((r) => r.chartsOut)).toEqual(['charts/a', 'charts/b']);
  });

  it('takes one paper or a list of them, each PDF named after the first', () => {
    const [one, both, twice] = parse('reports:\n  - id: a\n    dataset: d.yaml\n    templates: t\n  - id: b\n    dataset: d.yaml\n    templates: t\n    paper: [letter, a4]\n  - id: c\n    dataset: d.yaml\n    templates: t\n    paper: [a4, a4]\n');
    expect(one!.paper).toEqual(['a4']);
    expect(both!.paper).toEqual(['letter', 'a4']);
    expect(twice!.paper).toEqual(['a4']);
    expect(both!.paper.map((paper) => pdfFileName(both!, paper))).toEqual(['b.pdf', 'b-a4.pdf']);
    const where = Object.fromEntries(issuesOf('reports:\n  - id: a\n    dataset: d.yaml\n    templates: t\n    paper: [a4, a5]\n').map((i) => [i.path, `${i.line}:${i.column}`]));
    expect(where).toEqual({ 'reports.0.paper.1': '5:17' });
  });

  it('locates bad values, unknown keys, traversal and duplicate ids', () => {
    const text =
      'reports:\n  - id: a\n    dataset: ../secret.yaml\n    templates: /etc\n    paper: a5\n  - id: a\n    dataset: d.yaml\n    templates: t\n    formt: [pdf]\n    charts: ../c\n';
    const where = Object.fromEntries(issuesOf(text).map((i) => [i.path, `${i.line}:${i.column}`]));
    expect(where).toEqual({
      'reports.0.dataset': '3:14',
      'reports.0.templates': '4:16',
      'reports.0.paper': '5:12',
      'reports.1.id': '6:9',
      'reports.1.formt': '9:5',
      'reports.1.charts': '10:13',
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
