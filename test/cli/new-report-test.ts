/** A scaffolded report package builds at once, with no change to the engine. */
import { describe, expect, it } from 'vitest';
import { buildReport } from '../../src/build.ts';
import { normalizeReports } from '../../src/config.ts';
import { parseYaml } from '../../src/dataset/load.ts';
import { scaffoldReport } from '../../src/cli/new-report.ts';
import { effectsWith } from '../fixtures/effects.ts';

describe('new-report', () => {
  it('scaffolds a dataset, templates, a chart and a reports.yaml entry that build', async () => {
    const scaffold = scaffoldReport('quarterly-review', '2026-12-01');
    expect(scaffold.files.map((file) => file.path)).toEqual([
      'data/quarterly-review/quarterly-review.yaml',
      'templates/quarterly-review/briefing.md.hbs',
      'templates/quarterly-review/charts/by-year.vl.json',
    ]);
    const [report] = normalizeReports(parseYaml('reports.yaml', new TextEncoder().encode(`reports:\n${scaffold.entry}`)));
    const effects = effectsWith(Object.fromEntries(scaffold.files.map((file) => [file.path, file.text])));
    const result = await buildReport(report!, {}, effects, new Map());
    expect(result.files.map((file) => file.path).sort()).toEqual(['charts/by-year.svg', 'quarterly-review.html', 'quarterly-review.pdf']);
    const html = new TextDecoder().decode(result.files.find((file) => file.path.endsWith('.html'))!.bytes);
    // The example table: 120 and 150 widgets; growth 150 / 120 - 1.
    expect(html).toContain(`${120 + 150} widgets`);
    expect(html).toContain(`${Math.round((150 / 120 - 1) * 1000) / 10}%`);
  });
});
