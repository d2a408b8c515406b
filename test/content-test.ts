import { readdirSync, readFileSync } from 'node:fs';
import type { FootnoteDefinition, FootnoteReference, Heading, Link, Node, Parent, Root, Table, Text } from 'mdast';
import fc from 'fast-check';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmFromMarkdown } from 'mdast-util-gfm';
import { gfm } from 'micromark-extension-gfm';
import { describe, expect, it } from 'vitest';
import { buildBriefing, checkTemplateFigures, createLiterals, escapeMarkdown, parseWithLiterals, plainText, writeOut, type ChartMeta, type FigureNode, type TemplateSource } from '../src/content.ts';
import { deriveDataset, formatterFor, type Derived } from '../src/dataset/derive.ts';
import type { Dataset } from '../src/dataset/schema.ts';
import { diffEditions } from '../src/editions.ts';
import { InputError } from '../src/error.ts';
import { messages } from '../src/messages.ts';
import { loadDatasetFile } from './fixtures/dataset/load.ts';

const DIR = 'templates/briefing/';
const CHART_IDS = ['deals', 'stack', 'shipments', 'market-share', 'storage-growth'];

function load(file: string): Dataset {
  return loadDatasetFile(file).data;
}

/** The computed figures and views of a dataset, as the build derives them; fails on any problem. */
function derive(dataset: Dataset): Derived {
  const { derived, problems } = deriveDataset(dataset);
  expect(problems).toEqual([]);
  return derived;
}

interface Figure {
  value: number;
  unit: string;
  scale?: 'thousand' | 'million' | 'billion';
  period: string;
}
interface Deal {
  counterparty: string;
  status: string;
  amount?: Figure;
  stake?: Figure;
  attribution?: string;
}
interface Round {
  target: Figure;
  valuation: Figure;
}

/** A collection's records, typed as the test reads them (records are loose in the core schema). */
function records<T>(dataset: Dataset, collection: string): Record<string, T> {
  return dataset.collections[collection]!.records as unknown as Record<string, T>;
}

const data = load('data/catl-ai-stack.yaml');
const derived = derive(data);
const fmt = formatterFor(data);
const deals = records<Deal>(data, 'deals');
const rounds = records<Round>(data, 'rounds');
const metric = (id: string) => data.metrics[id]!.value;
/** English count words, as the briefing spells small counts. */
const WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];
const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
/** A number rounded as the briefing shows it, without trailing zeros ("1.50" is "1.5"). */
const trim = (text: string) => String(Number(text));
/** "+2.2" or "−2.2" (U+2212), as a signed figure is written. */
const signedText = (value: number, digits: number) => `${value > 0 ? '+' : value < 0 ? '\u2212' : ''}${trim(Math.abs(value).toFixed(digits))}`;

/** The shipped templates, as the orchestrator passes them: every file in the folder, sorted by name. */
const shipped: TemplateSource[] = readdirSync(DIR)
  .filter((name) => name.endsWith('.md.hbs'))
  .sort()
  .map((name) => ({ name, file: `${DIR}${name}`, text: readFileSync(`${DIR}${name}`, 'utf8') }));

// What charts.ts hands over: only these fields are read.
const charts: ChartMeta[] = CHART_IDS.map((id) => ({
  id,
  title: `Title of ${id}`,
  description: `The ${id} data in words.`,
  caption: `Caption of ${id}.`,
  source: 'Source: Vector',
}));

/** A one-template briefing: the main template only. */
function single(text: string, dataset: Dataset = data): Root {
  return buildBriefing({ data: dataset, derived: derive(dataset), charts, templates: [{ name: 'briefing.md.hbs', file: `${DIR}briefing.md.hbs`, text }] }).tree;
}

function all<T extends Node>(root: Node, type: string): T[] {
  const found: T[] = [];
  const walk = (node: Node) => {
    if (node.type === type) found.push(node as T);
    for (const child of (node as Parent).children ?? []) walk(child);
  };
  walk(root);
  return found;
}

function withParents(root: Node, visit: (node: Node, parent: Parent | undefined, index: number) => void): void {
  const walk = (node: Node, parent: Parent | undefined, index: number) => {
    visit(node, parent, index);
    (node as Parent).children?.forEach((child, i) => walk(child, node as Parent, i));
  };
  walk(root, undefined, 0);
}

/** The problems an InputError carries, or fails if `run` does not throw one. */
function problemsOf(run: () => unknown) {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as InputError).issues;
  }
  throw new Error('expected an InputError');
}

/** Words a reader sees in the body: every text node outside the footnotes, separated as blocks are. */
function countWords(root: Root): number {
  const words: string[] = [];
  const walk = (node: Node) => {
    if (node.type === 'footnoteDefinition') return;
    if (node.type === 'text' || node.type === 'inlineCode') words.push((node as Text).value);
    for (const child of (node as Parent).children ?? []) walk(child);
  };
  walk(root);
  return words.join(' ').split(/\s+/).filter(Boolean).length;
}

const briefing = buildBriefing({ data, derived, charts, templates: shipped });

describe('buildBriefing with the shipped templates', () => {
  it('stamps the edition from the dataset', () => {
    expect(briefing.meta.title).toBe(data.edition.title);
    expect(briefing.meta.asOf).toBe(data.edition.as_of);
    expect(briefing.meta.asOfLabel).toBe('29 November 2026');
    expect(briefing.meta.language).toBe(data.edition.language);
  });

  it('writes between 1,500 and 2,500 words of prose', () => {
    const words = countWords(briefing.tree);
    expect(words).toBeGreaterThanOrEqual(1500);
    expect(words).toBeLessThanOrEqual(2500);
  });

  it('has the sections the brief asks for, with unique heading ids', () => {
    const titles = briefing.outline.filter((entry) => entry.depth === 2).map((entry) => entry.text);
    expect(titles).toEqual([
      'Key points',
      'The deals and how they fit',
      'Why now',
      'What the numbers imply',
      'What to watch',
      'What changed since the last edition',
      'Sources and method',
    ]);
    const headings = all<Heading>(briefing.tree, 'heading');
    const ids = headings.map((heading) => (heading.data?.hProperties as { id?: string } | undefined)?.id);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z0-9-]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(briefing.outline.map((entry) => entry.id)).toEqual(ids);
  });

  it('says this is the first edition when there is no previous one', () => {
    const text = plainText(briefing.tree.children);
    expect(text).toContain('This is the first edition of the briefing');
  });

  it('shows every figure the brief names, formatted from the data', () => {
    const text = plainText(briefing.tree.children.filter((node) => node.type !== 'footnoteDefinition'));
    const vnet = deals.vnet!.amount!.value;
    const zhongheng = deals.zhongheng!.amount!.value;
    const stake = deals.vnet!.stake!.value / 100;
    const round = rounds.deepseek!;
    const [catl, market] = [metric('storage_growth_catl') / 100, metric('storage_growth_market') / 100];
    const expected = [
      `$${vnet}m`,
      `$${zhongheng}m`,
      `$${round.target.value}bn`,
      `$${round.valuation.value}bn`,
      `${metric('share_q1_2026')}%`,
      `${metric('share_q1_2025')}%`,
      `${metric('shipments_ev_2025')} GWh`,
      `${metric('shipments_storage_2025')} GWh`,
      `${metric('storage_growth_catl')}%`,
      `${metric('storage_growth_market')}%`,
      // Derived, computed here independently of derive.ts (amounts are in millions, so /1000 gives billions).
      `$${trim(((zhongheng + vnet) / 1000).toFixed(2))}bn`,
      `$${trim((vnet / stake / 1000).toFixed(2))}bn`,
      `${trim(((round.target.value / round.valuation.value) * 100).toFixed(1))}%`,
      `${trim(((metric('shipments_storage_2025') / (metric('shipments_ev_2025') + metric('shipments_storage_2025'))) * 100).toFixed(1))}%`,
      `${trim((metric('share_q1_2026') - metric('share_q1_2025')).toFixed(1))} percentage points`,
      `${trim((metric('storage_growth_market') - metric('storage_growth_catl')).toFixed(1))} percentage points`,
      `${trim((((1 + catl) / (1 + market)) * 100).toFixed(1))}%`,
    ];
    for (const figure of expected) expect(text, figure).toContain(figure);
  });

  it('follows every figure in the body with its citation, and defines each footnote once', () => {
    const definitions = all<FootnoteDefinition>(briefing.tree, 'footnoteDefinition');
    const defined = definitions.map((definition) => definition.identifier);
    expect(new Set(defined).size).toBe(defined.length);
    const references = all<FootnoteReference>(briefing.tree, 'footnoteReference');
    for (const reference of references) expect(defined).toContain(reference.identifier);
    // Re-used facts share one footnote: there are more references than definitions.
    expect(references.length).toBeGreaterThan(definitions.length);

    const FIGURE = /(?:\$[\d.,]+(?:m|bn)|\d[\d.,]*%|\d[\d.,]* GWh|\d[\d.,]* percentage points?)$/;
    let checked = 0;
    const body: Root = { type: 'root', children: briefing.tree.children.filter((node) => node.type !== 'footnoteDefinition') };
    withParents(body, (node, parent, index) => {
      if (node.type !== 'text' || !parent) return;
      const value = (node as Text).value;
      if (!FIGURE.test(value)) return;
      checked += 1;
      expect(parent.children[index + 1]?.type, `no citation after "${value.slice(-40)}"`).toBe('footnoteReference');
    });
    expect(checked).toBeGreaterThan(20);
  });

  it('cites quoted facts by source and dataset path, derived ones by formula and inputs', () => {
    const definitions = new Map(all<FootnoteDefinition>(briefing.tree, 'footnoteDefinition').map((d) => [d.identifier, plainText(d.children)]));
    const vnet = definitions.get('deals.vnet.amount');
    expect(vnet).toContain(data.sources.vector!.publication);
    expect(vnet).toContain(data.sources.vector!.title);
    expect(vnet).toContain(data.sources.vector!.published.as_given);
    expect(vnet).toContain('deals.vnet.amount');

    const implied = definitions.get('derived.vnet_implied_value')!;
    expect(implied).toContain(derived.figures.vnet_implied_value!.formula);
    expect(implied).toContain(`deals.vnet.amount = $${deals.vnet!.amount!.value}m`);
    expect(implied).toContain(`deals.vnet.stake = ${deals.vnet!.stake!.value}%`);
    expect(implied).toContain(data.sources.vector!.publication);
    // Every derived figure the dataset declares is computed, under derived.<id>.
    expect(Object.keys(derived.figures).sort()).toEqual(Object.keys(data.derived).sort());
    // Every derived figure the shipped templates use has a footnote with its formula and inputs.
    const used = Object.values(derived.figures).filter((figure) => shipped.some((template) => new RegExp(`\\b${figure.id.replace('.', '\\.')}\\b`).test(template.text)));
    expect(used.length).toBeGreaterThan(10);
    for (const figure of Object.values(derived.figures)) expect(definitions.has(figure.id), figure.id).toBe(used.includes(figure));
    for (const figure of used) {
      const note = definitions.get(figure.id);
      expect(note, figure.id).toBeDefined();
      for (const input of figure.inputs) expect(note, `${figure.id} names ${input}`).toContain(input);
      expect(note).toContain(figure.formula);
    }
    // The attributed deal keeps its attribution.
    expect(definitions.get('deals.deepseek')).toContain(deals.deepseek!.attribution!);
    // So does the status the dataset declares a note for (reported: "Reported, not announced.").
    expect(definitions.get('deals.deepseek')).toContain('Reported, not announced.');
  });

  it('numbers the figures in order and resolves every cross-reference to the same number', () => {
    const figures = all<FigureNode>(briefing.tree, 'figure');
    expect(figures.map((figure) => figure.number)).toEqual(figures.map((_, i) => i + 1));
    expect(new Set(figures.map((figure) => figure.chartId))).toEqual(new Set(CHART_IDS));
    for (const figure of figures) {
      const chart = charts.find((c) => c.id === figure.chartId)!;
      expect(figure).toMatchObject({ identifier: `fig-${chart.id}`, caption: chart.caption, source: chart.source, alt: chart.description });
    }
    const refs = all<Link>(briefing.tree, 'link').filter((link) => link.url.startsWith('#fig-'));
    expect(refs.length).toBeGreaterThanOrEqual(5);
    for (const ref of refs) {
      const target = figures.find((figure) => `#${figure.identifier}` === ref.url);
      expect(target, ref.url).toBeDefined();
      expect(plainText(ref.children)).toBe(`Figure ${target!.number}`);
    }
    // Figures sit at the top level, where both editions lay out blocks.
    expect(figures.every((figure) => briefing.tree.children.includes(figure))).toBe(true);
  });

  it('builds the deals table from the data, with a caption', () => {
    const [table] = all<Table>(briefing.tree, 'table');
    expect(table?.data?.caption).toMatch(/^Table 1\. /);
    expect(table?.data?.identifier).toBe('table-deals-table');
    expect(table?.children).toHaveLength(1 + Object.keys(deals).length);
    // The headings are the view's declared labels.
    expect(table!.children[0]!.children.map((cell) => plainText(cell.children))).toEqual(Object.values(data.views['deals-table']!.fields).map((field) => (typeof field === 'string' ? '' : field.label)));
    const vnetRow = table!.children.find((row) => plainText(row.children).includes(data.entities.vnet!.name))!;
    expect(plainText(vnetRow.children)).toContain(`$${deals.vnet!.amount!.value}m`);
    expect(plainText(vnetRow.children)).toContain(`${deals.vnet!.stake!.value}%`);
    // The figures in the table are cited, and each row ends with its record's footnote.
    const references = all<FootnoteReference>(vnetRow, 'footnoteReference').map((ref) => ref.identifier);
    expect(references).toEqual(expect.arrayContaining(['deals.vnet.amount', 'deals.vnet.stake', 'deals.vnet']));
    const deepseekRow = table!.children.find((row) => plainText(row.children).includes(data.entities.deepseek!.name))!;
    expect(plainText(deepseekRow.children)).toContain('not disclosed');
  });

  it('is deterministic', () => {
    const again = buildBriefing({ data, derived, charts, templates: [...shipped].reverse() });
    expect(JSON.stringify(again)).toBe(JSON.stringify(briefing));
  });

  it('leaves only http(s) and in-page links, and no raw HTML', () => {
    for (const link of all<Link>(briefing.tree, 'link')) expect(link.url).toMatch(/^(?:https?:\/\/|#)/);
    expect(all(briefing.tree, 'html')).toEqual([]);
  });
});

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

  it('formats periods, dates, names and text without citing them', () => {
    const tree = single(
      'In {{period metrics.shipments_ev_2025}} and {{period metrics.share_q1_2026}}, as of {{date edition.as_of}}: {{name entities.vnet}} is {{name entities.vnet full=true}}, {{text entities.vnet.role}}.',
    );
    expect(plainText(tree.children)).toBe(
      `In ${data.metrics.shipments_ev_2025!.period} and Q1 2026, as of 29 November 2026: ${data.entities.vnet!.short_name} is ${data.entities.vnet!.name}, ${data.entities.vnet!.role}.`,
    );
    expect(all(tree, 'footnoteReference')).toEqual([]);
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

describe('escaping', () => {
  const hostile = load('test/fixtures/content/hostile.yaml');
  const tree = buildBriefing({ data: hostile, derived: derive(hostile), charts, templates: shipped }).tree;

  it('keeps hostile names and text literal', () => {
    const text = plainText(tree.children);
    expect(text).toContain(hostile.entities.zhongheng!.name);
    expect(text).toContain(hostile.entities.zhongheng!.short_name);
    expect(text).toContain(hostile.entities.vnet!.short_name);
    expect(text).toContain(hostile.entities.deepseek!.short_name);
    // Whitespace in data collapses to one space, so it cannot start a block.
    expect(text).toContain(records<Deal>(hostile, 'deals').deepseek!.attribution!.replace(/\s+/g, ' '));
  });

  it('lets no data string become markup', () => {
    expect(all(tree, 'html')).toEqual([]);
    expect(all(tree, 'image')).toEqual([]);
    expect(all(tree, 'emphasis').filter((node) => plainText([node as never]).includes('x'))).toEqual([]);
    expect(all(tree, 'delete')).toEqual([]);
    expect(all(tree, 'inlineCode').map((node) => (node as Text).value).filter((value) => value.includes('VNET'))).toEqual([]);
    for (const link of all<Link>(tree, 'link')) expect(link.url).toMatch(/^#(?:fig|table)-|^#[a-z0-9-]+$/);
    // The headings are the template's; none comes from "# briefed" in the data.
    expect(all<Heading>(tree, 'heading').map((h) => plainText(h.children))).not.toContain('briefed');
    // No footnote reference is forged by "[^1]" in a name.
    expect(all<FootnoteReference>(tree, 'footnoteReference').every((ref) => ref.identifier !== '1')).toBe(true);
  });

  it('keeps a source URL whole, whatever it contains', () => {
    const url = 'https://evil.example/a)[x](javascript:alert(1))<b>\\';
    const dataset = structuredClone(data);
    dataset.sources.vector!.url = url;
    const tree = single('Cited.{{cite sources.vector}}', dataset);
    expect(all<Link>(tree, 'link').map((link) => link.url)).toEqual([url]);
    expect(all(tree, 'html')).toEqual([]);
  });

  it('escapes every ASCII punctuation character', () => {
    const nasty = '*x* _y_ [a](b) <i> `c` # | ~ \\ ! & ^';
    const tree = single(`{{text entities.vnet.role}}`, { ...data, entities: { ...data.entities, vnet: { ...data.entities.vnet!, role: nasty } } });
    expect(tree.children).toHaveLength(1);
    expect((tree.children[0] as Parent).children).toEqual([expect.objectContaining({ type: 'text', value: nasty })]);
    expect(escapeMarkdown('a\n\n    b')).toBe('a b');
  });
});

describe('literal tokens (one parse per document shape)', () => {
  /** The tree without source positions, which refer to different source strings. */
  const shape = (tree: Root): unknown => JSON.parse(JSON.stringify(tree, (key, value) => (key === 'position' ? undefined : value)));
  const direct = (markdown: string) => fromMarkdown(markdown, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] });

  /** Renders `template` with `%` replaced by each value in turn, both through tokens and escaped, and compares the trees. */
  const compare = (template: string, values: string[]): { tokenised: boolean } => {
    const { literal, texts } = createLiterals();
    let i = 0;
    let j = 0;
    const markdown = template.replace(/%/g, () => literal(values[i++ % values.length]!));
    const escaped = template.replace(/%/g, () => escapeMarkdown(values[j++ % values.length]!));
    expect(writeOut(markdown, texts)).toBe(escaped);
    const { tree, source } = parseWithLiterals(markdown, texts);
    expect(shape(tree)).toEqual(shape(direct(escaped)));
    return { tokenised: source.includes('\ue000') };
  };

  const values = ['US$1.2 billion', '39.5%', '$605m', '(approx.) 12', '“quoted”', '−5.2 pp', '*not emphasis*', '_x_', '# heading', '1. item', '- item', '> quote',
    'www.example.com', 'a@b.example', 'https://x.example/p', '[^1]', '[a](b)', '<b>x</b>', '`code`', 'a|b', '~~no~~', 'x\\', '\\y', '&amp;', 'é ü', '😀ok😀', '---', '***', '1)', 'Q1 2026', 'abc'];
  const contexts = ['%', 'The figure is %.', 'It was %[^a]\n\n[^a]: note %.', '*%*', '**%**', '_%_', 'a*%*b', '%*', '*%', '~~%~~', '[%](#x)', '# %', '## Head % tail',
    '- %\n- %', '1. %', '> %', '| A | B |\n| --- | ---: |\n| % | % |', 'www.%', 'http://%', '%@x.example', '%.com', 'see %.example', 'x%y', '(%)', '“%”', '\\%', '`%`', '% %', '%\n%',
    'Text\n%\n===', '%\n---', '  %  ', '<%>', '[^%]', 'a_%_b', '%—%', '$%', '%:%'];

  it('parses to the tree the escaped text gives, in every context, and uses the tokens where text surrounds them', () => {
    let tokenised = 0;
    for (const context of contexts) for (const value of values) tokenised += Number(compare(context, [value]).tokenised);
    // Plain sentence contexts go through the shape cache; the rest may fall back, but never differ.
    expect(compare('The figure is %, up from %.', ['US$1.2 billion', '39.5%']).tokenised).toBe(true);
    expect(compare('| A | B |\n| --- | ---: |\n| % | %[^x] |\n\n[^x]: %.', ['Zhongheng', '$605m', 'Vector, “An article”']).tokenised).toBe(true);
    expect(tokenised).toBeGreaterThan(contexts.length * values.length * 0.4);
  });

  it('agrees with the escaped text for random Markdown around random values', () => {
    const piece = fc.constantFrom('*', '**', '_', '~~', '[', ']', '(', ')', '`', '#', '|', '\\', '@', '.', ':', '/', 'www.', 'http://', ' ', '\n', '\n\n', '- ', '1. ', '> ', 'a', 'Z9', '“', '”', '[^n]', '!', '&', '<', '%');
    const value = fc.stringMatching(/^[ -~“”—−é😀\t\n]{0,12}$/);
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 14 }), fc.array(value, { minLength: 1, maxLength: 3 }), (pieces, vals) => {
        compare(`${pieces.join('')}%${pieces.reverse().join('')}\n\n[^n]: %`, vals);
      }),
      { numRuns: 400, seed: 20261129 },
    );
  });

  it('never gives one dataset the text of another of the same shape, and never lets a build change the remembered tree', () => {
    const other = structuredClone(data);
    const metrics = other.metrics as Record<string, { value: number }>;
    for (const metric of Object.values(metrics)) metric.value = Math.round(metric.value * 1.37 * 10) / 10 + 1;
    const build = (dataset: Dataset) => buildBriefing({ data: dataset, derived: derive(dataset), charts, templates: shipped });
    const first = shape(build(data).tree);
    const second = build(other);
    const text = plainText(second.tree.children);
    expect(text).not.toBe(plainText(build(data).tree.children));
    for (const metric of Object.values(metrics)) expect(text).toContain(String(metric.value));
    // Mutating a tree handed out (as finishTree and the editions do) leaves the next build's tree as it was.
    second.tree.children.length = 0;
    expect(shape(build(data).tree)).toEqual(first);
    expect(plainText(build(other).tree.children)).toBe(text);
  });
});

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
    for (const change of diffEditions(previous, current)) expect(section).toContain(change.path);
    expect(section).toContain(`${previous.metrics.share_q1_2026!.value}% → ${current.metrics.share_q1_2026!.value}%`);
    expect(section).toContain(previous.entities.sunwoda!.name);
    expect(section).toContain(records<{ text: string }>(current, 'claims').hedge!.text);
    const list = result.tree.children.slice(start, end).find((node) => node.type === 'list') as Parent | undefined;
    expect(list?.children).toHaveLength(3);
  });
});
