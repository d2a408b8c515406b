import type { FootnoteReference, Heading, Link, Parent, Root, Text } from 'mdast';
import fc from 'fast-check';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmFromMarkdown } from 'mdast-util-gfm';
import { gfm } from 'micromark-extension-gfm';
import { describe, expect, it } from 'vitest';
import { buildBriefing } from '../../src/content/briefing.ts';
import { createLiterals, escapeMarkdown, parseWithLiterals, writeOut } from '../../src/content/markdown.ts';
import { plainText } from '../../src/support/text.ts';
import type { Dataset } from '../../src/dataset/schema.ts';
import { all, charts, data, derive, load, records, shipped, single, type Deal } from '../fixtures/content/fixture.ts';
import { runs } from '../fixtures/depth.ts';

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
    // The short citation links to the source list, whose entry links to the source.
    expect(all<Link>(tree, 'link').map((link) => link.url)).toEqual([url, '#source-vector']);
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
      { numRuns: runs(400, 100), seed: 20261129 },
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
