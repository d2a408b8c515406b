/**
 * The `new-report` command: scaffolds a report package (dataset, templates,
 * one chart, a reports.yaml entry) that builds at once, for an author to
 * replace piece by piece. `scaffoldReport` is pure; `main` writes.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CliError, EXIT } from '../support/error.ts';
import { messages } from '../support/messages.ts';

export interface Scaffold {
  files: { path: string; text: string }[];
  /** Appended to reports.yaml. */
  entry: string;
}

/** The files of a new report package named `name` (a lowercase id). */
export function scaffoldReport(name: string, asOf: string): Scaffold {
  const dataset = `data/${name}/${name}.yaml`;
  const templates = `templates/${name}`;
  return {
    files: [
      { path: dataset, text: datasetText(name, asOf) },
      { path: `${templates}/briefing.md.hbs`, text: MAIN_TEMPLATE },
      { path: `${templates}/charts/by-year.vl.json`, text: CHART },
    ],
    entry: `  - id: ${name}\n    title: ${name} (A4)\n    dataset: ${dataset}\n    templates: ${templates}\n    charts: ${templates}/charts\n    paper: a4\n    formats: [pdf, html, svg]\n`,
  };
}

function datasetText(name: string, asOf: string): string {
  return `# yaml-language-server: $schema=../../schema/dataset.schema.json
#
# The facts behind the ${name} report. Replace the example table with your
# own, keeping a source for every figure; see docs/report-format.md.

edition:
  id: ${name}
  title: A new report
  subtitle: What the figures show
  as_of: ${asOf}
  language: en
  author: Your name
  keywords: [example]

units:
  widgets: { singular: widget, plural: widgets, precision: 0 }

sources:
  example:
    publication: Example source
    title: Replace with the title of your source
    kind: dataset
    published: { as_given: the date your source gives, approximate: true }
    truncated: false

collections:
  output:
    label: Output by year
    source: example
    fields:
      year: integer
      widgets: { type: figure, unit: widgets }
    rows:
      - { year: 2024, widgets: 120 }
      - { year: 2025, widgets: 150 }

derived:
  total:
    label: Widgets made in all years
    unit: widgets
    formula: sum(output.widgets)
  growth:
    label: Growth in the latest year
    unit: percent_change
    formula: "sum(output.widgets, datum.year == 2025) / sum(output.widgets, datum.year == 2024) - 1"

checks:
  output_positive:
    label: Every year made some widgets
    for_each: output
    assert: datum.widgets > 0

views:
  by-year:
    from: output
    fields:
      year: datum.year
      widgets: value(datum.widgets)
      label: format(datum.widgets)
`;
}

const MAIN_TEMPLATE = `{{!-- The main template. Other .md.hbs files in this folder are partials: {{> name}}. --}}
## What the figures show

Across {{count output words=true}} years the source counts {{figure derived.total}}, and output grew {{figure derived.growth}} in the latest one.

{{chart "by-year"}}

## Sources and method

Every figure comes from {{text sources.example.publication}}{{cite sources.example}}. Derived figures are computed by the pipeline; each footnote gives the formula and its inputs.
`;

const CHART = `${JSON.stringify(
  {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Widgets made by year',
    usermeta: { caption: 'Output by year.', describe: '{{year}}: {{label}}' },
    data: { name: 'by-year' },
    mark: 'bar',
    encoding: { x: { field: 'year', type: 'ordinal', axis: { labelAngle: 0, title: null } }, y: { field: 'widgets', type: 'quantitative', title: null } },
  },
  null,
  2,
)}\n`;

/** Writes the package and its reports.yaml entry; refuses to overwrite anything. */
export function main(argv: string[]): number {
  const [name, ...rest] = argv.filter((arg) => arg !== '--');
  if (!name || rest.length > 0 || !/^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/.test(name)) {
    process.stderr.write(`${messages.newReportUsage}\n`);
    return EXIT.usage;
  }
  try {
    const scaffold = scaffoldReport(name, new Date().toISOString().slice(0, 10));
    const taken = scaffold.files.filter((file) => existsSync(file.path)).map((file) => file.path);
    const config = readFileSync('reports.yaml', 'utf8');
    if (new RegExp(`^\\s*- id: ${name}\\s*$`, 'm').test(config)) taken.push(`reports.yaml (a report "${name}")`);
    if (taken.length > 0) throw new CliError(messages.newReportExists(name, taken));
    for (const file of scaffold.files) {
      mkdirSync(dirname(file.path), { recursive: true });
      writeFileSync(file.path, file.text, { flag: 'wx' });
    }
    writeFileSync('reports.yaml', `${config.replace(/\n*$/, '\n')}${scaffold.entry}`);
    process.stderr.write(`${messages.newReportWritten(name, scaffold.files.map((file) => file.path))}\n`);
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return error.exitCode;
  }
}
