import type { FootnoteDefinition, FootnoteReference, Heading, Link, ListItem, Node, Parent, Root, Table, Text } from 'mdast';
import { describe, expect, it } from 'vitest';
import { buildBriefing, type FigureNode } from '../../src/content/briefing.ts';
import { plainText } from '../../src/support/text.ts';
import { all, CHART_IDS, charts, data, deals, derived, metric, rounds, shipped, trim } from '../fixtures/content/fixture.ts';

function withParents(root: Node, visit: (node: Node, parent: Parent | undefined, index: number) => void): void {
  const walk = (node: Node, parent: Parent | undefined, index: number) => {
    visit(node, parent, index);
    (node as Parent).children?.forEach((child, i) => walk(child, node as Parent, i));
  };
  walk(root, undefined, 0);
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

  it('describes each source in full once, in the source list, and links every short citation to it', () => {
    const source = data.sources.vector!;
    const items = all<ListItem>(briefing.tree, 'listItem').filter((item) => (item.data?.hProperties as { id?: string } | undefined)?.id === 'source-vector');
    expect(items).toHaveLength(1);
    const entry = plainText(items[0]!.children);
    for (const fact of [source.publication, source.title, source.kind, source.published.as_given, source.truncation!, 'sources.vector']) expect(entry).toContain(fact);
    const everything = plainText(briefing.tree.children);
    expect(everything.split(source.title).length - 1, 'the title appears once').toBe(1);
    expect(everything.split(source.published.as_given).length - 1, 'the date as given appears once').toBe(1);
    const shorts = all<Link>(briefing.tree, 'link').filter((link) => plainText(link.children) === `Vector (${source.published.period!.slice(0, 4)})`);
    expect(shorts.length).toBeGreaterThan(20);
    expect(new Set(shorts.map((link) => link.url))).toEqual(new Set(['#source-vector']));
  });

  it('keeps in the notes every dataset path, formula, input and declared attribution', () => {
    const notes = all<FootnoteDefinition>(briefing.tree, 'footnoteDefinition').map((d) => [d.identifier, plainText(d.children)] as const);
    for (const [id, text] of notes) expect(text, id).toContain(`Dataset: ${id.replace(/^count\./, '')}.`);
    const text = new Map(notes);
    // The declared attribution of a reported deal and the status notes survive the short form.
    const deepseek = [...text].filter(([id]) => id.startsWith('rounds.deepseek') || id.startsWith('deals.deepseek')).map(([, t]) => t).join(' ');
    expect(deepseek).toMatch(/attributes it to people it does not name/);
    const claims = [...text].filter(([id]) => id.startsWith('claims.')).map(([, t]) => t);
    expect(claims.length).toBeGreaterThan(0);
    for (const claim of claims) expect(claim).toMatch(/Stated by the source as fact\.|This is the source's analysis, not a reported fact\./);
  });

  it('cites quoted facts by source and dataset path, derived ones by formula and inputs', () => {
    const definitions = new Map(all<FootnoteDefinition>(briefing.tree, 'footnoteDefinition').map((d) => [d.identifier, plainText(d.children)]));
    const vnet = definitions.get('deals.vnet.amount');
    // In short form: the source's publication and year, not its whole description.
    expect(vnet).toContain(`${data.sources.vector!.publication} (${data.sources.vector!.published.period!.slice(0, 4)})`);
    expect(vnet).not.toContain(data.sources.vector!.title);
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
