import type { Link, Table } from 'mdast';
import { describe, expect, it } from 'vitest';
import { buildBriefing, type TemplateSource } from '../../src/content/briefing.ts';
import { checkTemplateFigures } from '../../src/content/templates.ts';
import { InputError } from '../../src/support/error.ts';
import { messages } from '../../src/support/messages.ts';
import { all, CHART_IDS, charts, data, deals, derived, DIR, problemsOf, shipped, single } from '../fixtures/content/fixture.ts';

describe('template checks', () => {
  /** The shipped templates with one file's text changed. */
  function planted(name: string, change: (text: string) => string): TemplateSource[] {
    return shipped.map((template) => (template.name === name ? { ...template, text: change(template.text) } : template));
  }

  it('fails the build on a planted "$5bn", naming the file and line', () => {
    const lines = shipped.find((t) => t.name === 'deals.md.hbs')!.text.split('\n');
    const at = 3; // 1-based line where the figure is planted
    lines.splice(at - 1, 0, 'CATL also spent $5bn on something.');
    const templates = planted('deals.md.hbs', () => lines.join('\n'));
    const issues = problemsOf(() => buildBriefing({ data, derived, charts, templates }));
    expect(issues).toEqual([
      { file: `${DIR}deals.md.hbs`, line: at, column: 'CATL also spent '.length + 1, path: '', message: messages.templatePlantedFigure('amount of money', '$5bn') },
    ]);
    expect(String(new InputError(issues[0]!.file, issues).message)).toContain(`${DIR}deals.md.hbs:${at}:`);
  });

  it('finds every kind of hard-coded figure, and none inside {{ }} or comments', () => {
    const text = [
      'Shipped 541 GWh in the year.', // 1
      'Share was 40.7%, up 2 percentage points.', // 2
      '{{#if previous.exists}}', // 3
      'In 2025 the price was 7.35 a share.', // 4
      '{{/if}}',
      'Three deals, {{figure deals.vnet.amount}}, {{! $9bn in a comment }} Q1, Figure one.',
    ].join('\n');
    const found = checkTemplateFigures([{ name: 'x.md.hbs', file: 'x.md.hbs', text }]);
    expect(found.map((issue) => [issue.line, issue.column, issue.message])).toEqual([
      [1, 9, messages.templatePlantedFigure('number with a unit', '541 GWh')],
      [2, 11, messages.templatePlantedFigure('percentage', '40.7%')],
      [2, 21, messages.templatePlantedFigure('percentage', '2 percentage points')],
      [4, 4, messages.templatePlantedFigure('year', '2025')],
      [4, 23, messages.templatePlantedFigure('decimal number', '7.35')],
    ]);
  });

  it('finds plain integers, counts in digits and fiscal labels', () => {
    const lines = [
      'The company employs 36,000 people.', // 1
      'We list 12 things here.', // 2
      'Results for FY25 were mixed, as in FY2024.', // 3
      'Out of 7, most failed.', // 4
      'Q3 FY26 was better.', // 5
      'Figure one, Q1 and H2 are words, not figures.', // 6
    ];
    const found = checkTemplateFigures([{ name: 'x.md.hbs', file: 'x.md.hbs', text: lines.join('\n') }]);
    const at = (line: number, text: string) => lines[line - 1]!.indexOf(text) + 1;
    expect(found.map((issue) => [issue.line, issue.column, issue.message])).toEqual([
      [1, at(1, '36,000'), messages.templatePlantedFigure('number', '36,000 people')],
      [2, at(2, '12'), messages.templatePlantedFigure('number', '12 things')],
      [3, at(3, 'FY25'), messages.templatePlantedFigure('fiscal period', 'FY25')],
      [3, at(3, 'FY2024'), messages.templatePlantedFigure('fiscal period', 'FY2024')],
      [4, at(4, '7'), messages.templatePlantedFigure('number', '7')],
      [5, at(5, 'Q3 FY26'), messages.templatePlantedFigure('fiscal period', 'Q3 FY26')],
    ]);
  });

  it('fails the build on a planted head count or fiscal label in a partial, at its line', () => {
    const templates = planted('why-now.md.hbs', (text) => `${text}\nIt employs 36,000 people and reported FY25 results.\n`);
    const line = templates.find((t) => t.name === 'why-now.md.hbs')!.text.split('\n').length - 1;
    const issues = problemsOf(() => buildBriefing({ data, derived, charts, templates }));
    expect(issues).toEqual([
      { file: `${DIR}why-now.md.hbs`, line, column: 'It employs '.length + 1, path: '', message: messages.templatePlantedFigure('number', '36,000 people') },
      { file: `${DIR}why-now.md.hbs`, line, column: 'It employs 36,000 people and reported '.length + 1, path: '', message: messages.templatePlantedFigure('fiscal period', 'FY25') },
    ]);
  });

  it('passes the shipped templates', () => {
    expect(checkTemplateFigures(shipped)).toEqual([]);
  });

  it('rejects an unknown chart id at its place', () => {
    const issues = problemsOf(() => single('Text.\n\n{{chart "nope"}}\n'));
    expect(issues).toEqual([{ file: `${DIR}briefing.md.hbs`, line: 3, column: 1, path: '', message: messages.templateUnknownChart('nope', CHART_IDS) }]);
  });

  it('locates problems in a partial by the partial file', () => {
    const templates = planted('why-now.md.hbs', (text) => `${text}\nSee {{ref "nope"}}.\n`);
    const line = templates.find((t) => t.name === 'why-now.md.hbs')!.text.split('\n').length - 1;
    const issues = problemsOf(() => buildBriefing({ data, derived, charts, templates }));
    expect(issues).toEqual([{ file: `${DIR}why-now.md.hbs`, line, column: 5, path: '', message: messages.templateUnknownChart('nope', CHART_IDS) }]);
  });

  it('rejects missing data paths, raw values and values that are not figures, each located', () => {
    const issues = problemsOf(() => single('A {{figure deals.vnet.amont}}\nB {{edition.title}}\nC {{figure metrics.share_q1_2026}}\nD {{{text edition.title}}}\n'));
    expect(issues.map((issue) => [issue.line, issue.column])).toEqual([
      [1, 'A {{figure '.length + 1],
      [2, 3],
      [4, 3],
    ]);
    expect(issues[0]!.message).toBe(messages.templateMissingData('deals.vnet.amont', Object.keys(deals.vnet!)));
    expect(issues[1]!.message).toBe(messages.templateBareValue('{{edition.title}}'));
    expect(issues[2]!.message).toBe(messages.templateTripleStash('{{{text edition.title}}}'));
    // What a path holds is checked when rendering, once the static checks pass.
    const kind = problemsOf(() => single('\nC {{figure entities.vnet.role}} and {{figure deals.vnet}}'));
    expect(kind).toEqual([
      { file: `${DIR}briefing.md.hbs`, line: 2, column: 3, path: '', message: messages.templateWrongKind('{{figure entities.vnet.role}}', 'figures', 'a string') },
      { file: `${DIR}briefing.md.hbs`, line: 2, column: 'C {{figure entities.vnet.role}} and '.length + 1, path: '', message: messages.templateWrongKind('{{figure deals.vnet}}', 'figures', 'a record, not a single value') },
    ]);
    // A derived figure that is not declared is a missing path.
    const missing = problemsOf(() => single('{{figure derived.nope}}'));
    expect(missing).toEqual([{ file: `${DIR}briefing.md.hbs`, line: 1, column: '{{figure '.length + 1, path: '', message: messages.templateMissingData('derived.nope', Object.keys(derived.figures)) }]);
  });

  it('rejects an unknown view and a table without a caption', () => {
    expect(problemsOf(() => single('{{table "nope" caption="x"}}'))).toEqual([
      { file: `${DIR}briefing.md.hbs`, line: 1, column: 1, path: '', message: messages.templateUnknownView('nope', Object.keys(derived.views)) },
    ]);
    const usage = problemsOf(() => single('{{table "deals-table"}}'));
    expect(usage).toHaveLength(1);
    expect(usage[0]!.message).toContain('{{table "deals-table"}}: expects');
  });

  it('numbers tables in order and captions each', () => {
    const tree = single('{{table "deals-table" caption="First"}}\n\n{{table "stack" caption="Second"}}\n');
    const tables = all<Table>(tree, 'table');
    expect(tables.map((table) => table.data?.caption)).toEqual(['Table 1. First', 'Table 2. Second']);
    expect(tables.map((table) => table.data?.identifier)).toEqual(['table-deals-table', 'table-stack']);
    // A view's rows follow its declared sort; the stack view has a row per deal in the AI stack.
    expect(tables[1]!.children).toHaveLength(1 + derived.views.stack!.rows.length);
  });

  it('rejects unsafe links, raw HTML, figures inside sentences and unused partials', () => {
    // (No digits in the URL: a template's own digits are planted figures, reported first.)
    expect(problemsOf(() => single('[x](javascript:alert(document.cookie))'))[0]!.message).toBe(messages.templateLinkScheme('javascript:alert(document.cookie)'));
    expect(problemsOf(() => single('Hi <b>there</b>'))[0]!.message).toBe(messages.templateRawHtml('<b>'));
    expect(problemsOf(() => single('See {{chart "deals"}} here'))).toEqual([
      { file: `${DIR}briefing.md.hbs`, line: 1, column: 5, path: '', message: messages.templateNotStandalone('{{chart "deals"}}') },
    ]);
    expect(problemsOf(() => single('- {{table "deals-table" caption="x"}}'))[0]!.message).toBe(messages.templateNotStandalone('{{table "deals-table" caption="x"}}'));
    expect(problemsOf(() => single('See {{ref "deals"}}.'))[0]!.message).toBe(messages.templateRefUnplaced('deals'));
    const unused = problemsOf(() =>
      buildBriefing({
        data,
        derived,
        charts,
        templates: [
          { name: 'briefing.md.hbs', file: `${DIR}briefing.md.hbs`, text: 'Main.' },
          { name: 'extra.md.hbs', file: `${DIR}extra.md.hbs`, text: 'Never included.' },
        ],
      }),
    );
    expect(unused).toEqual([{ file: `${DIR}extra.md.hbs`, line: 1, column: 1, path: '', message: messages.templateUnusedPartial('extra') }]);
    // https links written by a template stay.
    expect(all<Link>(single('[Vector](https://example.com/a)'), 'link').map((link) => link.url)).toEqual(['https://example.com/a']);
  });

  it('needs a main template', () => {
    const issues = problemsOf(() => buildBriefing({ data, derived, charts, templates: shipped.filter((t) => t.name !== 'briefing.md.hbs') }));
    expect(issues[0]!.message).toBe(messages.templateMainMissing(`${DIR}briefing.md.hbs`));
  });
});
