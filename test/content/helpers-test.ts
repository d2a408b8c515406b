import type { FootnoteDefinition, FootnoteReference, Link, Parent, Root, Text } from 'mdast';
import { describe, expect, it } from 'vitest';
import { buildBriefing } from '../../src/content/briefing.ts';
import { plainText } from '../../src/support/text.ts';
import { formatterFor } from '../../src/dataset/derive.ts';
import { diffEditions } from '../../src/dataset/editions.ts';
import { all, charts, data, deals, derive, load, metric, records, rounds, shipped, single, trim, type Deal, type Figure } from '../fixtures/content/fixture.ts';

const fmt = formatterFor(data);
/** English count words, as the briefing spells small counts. */
const WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];
const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
/** "+2.2" or "−2.2" (U+2212), as a signed figure is written. */
const signedText = (value: number, digits: number) => `${value > 0 ? '+' : value < 0 ? '\u2212' : ''}${trim(Math.abs(value).toFixed(digits))}`;

describe('helpers', () => {
  const disclosed = Object.values(deals).filter((deal) => deal.amount);
  const millions = (figure: Figure) => figure.value * (figure.scale === 'billion' ? 1000 : 1);
  const cases: [string, string, string][] = [
    ['{{figure deals.vnet.amount}}', `$${deals.vnet!.amount!.value}m`, 'deals.vnet.amount'],
    ['{{figure rounds.deepseek.target}}', `$${rounds.deepseek!.target.value}bn`, 'rounds.deepseek.target'],
    ['{{figure metrics.share_q1_2026}}', `${metric('share_q1_2026')}%`, 'metrics.share_q1_2026'],
    ['{{figure deals.vnet.stake}}', `${deals.vnet!.stake!.value}%`, 'deals.vnet.stake'],
    ['{{figure metrics.shipments_ev_2025}}', `${metric('shipments_ev_2025')} GWh`, 'metrics.shipments_ev_2025'],
    ['{{figure metrics.storage_growth_catl signed=true}}', `${signedText(metric('storage_growth_catl'), 1)}%`, 'metrics.storage_growth_catl'],
    ['{{figure derived.share_change}}', `${trim((metric('share_q1_2026') - metric('share_q1_2025')).toFixed(1))} percentage points`, 'derived.share_change'],
    ['{{figure derived.share_change signed=true}}', `${signedText(metric('share_q1_2026') - metric('share_q1_2025'), 1)} percentage points`, 'derived.share_change'],
    ['{{figure derived.deepseek_round_share}}', `${trim(((rounds.deepseek!.target.value / rounds.deepseek!.valuation.value) * 100).toFixed(1))}%`, 'derived.deepseek_round_share'],
    ['{{figure derived.disclosed_amount}}', `$${trim((disclosed.reduce((sum, deal) => sum + millions(deal.amount!), 0) / 1000).toFixed(2))}bn`, 'derived.disclosed_amount'],
    ['{{figure derived.disclosed_deals}}', String(disclosed.length), 'derived.disclosed_deals'],
    ['{{figure derived.disclosed_deals words=true}}', WORDS[disclosed.length]!, 'derived.disclosed_deals'],
    ['{{figure derived.undisclosed_deals words=true}}', WORDS[Object.keys(deals).length - disclosed.length]!, 'derived.undisclosed_deals'],
    ['{{figure derived.reported_deals words=true capitalize=true}}', capitalize(WORDS[Object.values(deals).filter((deal) => deal.status === 'reported').length]!), 'derived.reported_deals'],
    ['{{count deals}}', String(Object.keys(deals).length), 'count.deals'],
    ['{{count deals words=true}}', WORDS[Object.keys(deals).length]!, 'count.deals'],
  ];
  it.each(cases)('%s -> %s with footnote [^%s]', (template, text, footnote) => {
    const tree = single(`Value: ${template}.`);
    const paragraph = tree.children[0] as Parent;
    expect(paragraph.children[0]).toMatchObject({ type: 'text', value: `Value: ${text}` });
    expect(paragraph.children[1]).toMatchObject({ type: 'footnoteReference', identifier: footnote });
    expect(all<FootnoteDefinition>(tree, 'footnoteDefinition').map((d) => d.identifier)).toEqual([footnote]);
  });

  it('spells the number of deals as "three", cited by a footnote that lists the records counted', () => {
    expect(Object.keys(deals)).toHaveLength(3);
    const tree = single('There were {{count deals words=true}} deals.');
    expect(plainText((tree.children[0] as Parent).children)).toBe('There were three deals.');
    const [definition] = all<FootnoteDefinition>(tree, 'footnoteDefinition');
    expect(definition?.identifier).toBe('count.deals');
    const note = plainText(definition!.children);
    for (const id of Object.keys(deals)) expect(note).toContain(id);
    expect(note).toContain('deals');
  });

  it('shows an {{#if (eq ...)}} block only when the field has that value', () => {
    const text = '{{#if (eq deals.vnet.status "agreed")}}Agreed.{{else}}Not agreed.{{/if}} {{#if (eq deals.deepseek.status "agreed")}}Also agreed.{{else}}Only reported.{{/if}}';
    expect(deals.vnet!.status).toBe('agreed');
    expect(deals.deepseek!.status).not.toBe('agreed');
    expect(plainText(single(text).children)).toBe('Agreed. Only reported.');
    const changed = structuredClone(data);
    records<Deal>(changed, 'deals').vnet!.status = 'completed';
    expect(plainText(single(text, changed).children)).toBe('Not agreed. Only reported.');
  });

  it("writes an enum field's display word with {{label}}, uncited", () => {
    const fields = data.collections.deals!.fields as Record<string, { values: Record<string, string | { label: string }> }>;
    const word = (field: string, value: string) => {
      const declared = fields[field]!.values[value]!;
      return typeof declared === 'string' ? declared : declared.label;
    };
    const tree = single('{{label deals.vnet "status"}}, {{label deals.zhongheng "instrument"}}.');
    expect(plainText(tree.children)).toBe(`${word('status', deals.vnet!.status)}, ${word('instrument', 'indirect-stake')}.`);
    expect(records<{ instrument: string }>(data, 'deals').zhongheng!.instrument).toBe('indirect-stake');
    expect(all(tree, 'footnoteReference')).toEqual([]);
  });

  it('formats names and text uncited, and cites periods and dates like the figures they date', () => {
    const tree = single(
      'In {{period metrics.shipments_ev_2025}} and {{period metrics.share_q1_2026}}, as of {{date edition.as_of}}: {{name entities.vnet}} is {{name entities.vnet full=true}}, {{text entities.vnet.role}}.',
    );
    const body = { type: 'root', children: tree.children.filter((node) => node.type !== 'footnoteDefinition' && node.type !== 'list' && node.type !== 'heading') } as Root;
    expect(plainText(body.children)).toBe(
      `In ${data.metrics.shipments_ev_2025!.period} and Q1 2026, as of 29 November 2026: ${data.entities.vnet!.short_name} is ${data.entities.vnet!.name}, ${data.entities.vnet!.role}.`,
    );
    // A period cites the figure it dates (the same note as the figure), a date the field it was written from.
    expect(all<FootnoteReference>(tree, 'footnoteReference').map((r) => r.identifier)).toEqual(['metrics.shipments_ev_2025', 'metrics.share_q1_2026', 'edition.as_of']);
    const notes = new Map(all<FootnoteDefinition>(tree, 'footnoteDefinition').map((d) => [d.identifier, plainText(d.children)]));
    expect(notes.get('metrics.share_q1_2026')).toContain('Dataset: metrics.share_q1_2026.');
    expect(notes.get('edition.as_of')).toBe('Dataset: edition.as_of.');
  });

  it('cites a period given as a plain string only where the template names its dataset path', () => {
    const cited = single('{{#with metrics.share_q1_2026}}{{period period}}{{/with}} and {{period metrics.share_q1_2026.period}}');
    expect(all<FootnoteReference>(cited, 'footnoteReference').map((r) => r.identifier)).toEqual(['metrics.share_q1_2026.period']);
  });

  it('re-uses one footnote for repeated uses of a fact', () => {
    const tree = single('{{figure deals.vnet.amount}} and again {{figure deals.vnet.amount}}; {{cite claims.flywheel}}');
    expect(all<FootnoteReference>(tree, 'footnoteReference').map((r) => r.identifier)).toEqual(['deals.vnet.amount', 'deals.vnet.amount', 'claims.flywheel']);
    expect(all(tree, 'footnoteDefinition')).toHaveLength(2);
  });

  it('resolves a cross-reference written before its figure', () => {
    const tree = single('See {{ref "stack"}} and {{ref "deals"}}.\n\n{{chart "stack"}}\n\n{{chart "deals"}}\n');
    const links = all<Link>(tree, 'link');
    expect(links.map((link) => [link.url, plainText(link.children)])).toEqual([
      ['#fig-stack', 'Figure 1'],
      ['#fig-deals', 'Figure 2'],
    ]);
  });
});

describe('editions', () => {
  it('lists what changed since the previous edition', () => {
    const previousFile = 'test/fixtures/editions/2026-06-15.yaml';
    const previous = load(previousFile);
    const current = load('test/fixtures/editions/current.yaml');
    const result = buildBriefing({ data: current, derived: derive(current), charts, templates: shipped, previous: { file: previousFile, data: previous } });
    const start = result.tree.children.findIndex((node) => node.type === 'heading' && plainText(node.children) === 'What changed since the last edition');
    const end = result.tree.children.findIndex((node, i) => i > start && node.type === 'heading' && node.depth === 2);
    const section = plainText(result.tree.children.slice(start, end).flatMap((node) => [node, { type: 'text', value: '\n' } as Text]));
    expect(section).toContain(fmt.date(previous.edition.as_of));
    expect(section).toContain(previousFile);
    expect(section).not.toContain('first edition');
    for (const change of diffEditions(previous, current)) {
      expect(section).toContain(change.path);
      // Each line names its section by the declared label: "Metrics, changed: ...".
      expect(section).toContain(`${change.section}, ${change.kind}:`);
    }
    expect(section).toContain(`${previous.metrics.share_q1_2026!.value}% → ${current.metrics.share_q1_2026!.value}%`);
    expect(section).toContain(previous.entities.sunwoda!.name);
    expect(section).toContain(records<{ text: string }>(current, 'claims').hedge!.text);
    const list = result.tree.children.slice(start, end).find((node) => node.type === 'list') as Parent | undefined;
    expect(list?.children).toHaveLength(3);
  });
});
