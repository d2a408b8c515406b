import { readdir, readFile } from 'node:fs/promises';
import type { Element, Root as HastRoot, RootContent as HastContent } from 'hast';
import { fromHtml } from 'hast-util-from-html';
import type { Nodes as MdastNodes } from 'mdast';
import { describe, expect, it } from 'vitest';
import { loadDataset, nodeEffects } from '../../src/build.ts';
import { bindChartData } from '../../src/charts/bind.ts';
import { renderCharts } from '../../src/charts/render.ts';
import { buildBriefing } from '../../src/content/briefing.ts';
import { renderHtml } from '../../src/html/render.ts';
import { FACE_KEYS } from '../../src/text/fonts.ts';
import { messages } from '../../src/support/messages.ts';
import {
  buildFixtureBriefing,
  buildFixtureCharts,
  FIXTURE_FIGURES,
  FIXTURE_MARKDOWN,
  HOSTILE,
  readFixtureFonts,
} from '../fixtures/html/fixture.ts';

const fonts = readFixtureFonts();

function render(): { html: string; page: HastRoot } {
  const html = renderHtml(buildFixtureBriefing(), buildFixtureCharts(), fonts);
  return { html, page: fromHtml(html) };
}

function all(node: HastRoot | Element, test: (element: Element) => boolean): Element[] {
  const found: Element[] = [];
  const visit = (children: (HastContent | Element['children'][number])[]) => {
    for (const child of children) {
      if (child.type !== 'element') continue;
      if (test(child)) found.push(child);
      visit(child.children);
    }
  };
  visit(node.children);
  return found;
}

const byTag = (node: HastRoot | Element, tag: string) => all(node, (element) => element.tagName === tag);

function one(node: HastRoot | Element, tag: string): Element {
  const [found, ...rest] = byTag(node, tag);
  expect(found, `one <${tag}>`).toBeDefined();
  expect(rest, `only one <${tag}>`).toHaveLength(0);
  return found!;
}

function textOf(node: HastContent | Element['children'][number], skip: (element: Element) => boolean = () => false): string {
  if (node.type === 'text') return node.value;
  if (node.type !== 'element' || skip(node)) return '';
  return node.children.map((child) => textOf(child, skip)).join('');
}

const squash = (text: string) => text.replace(/\s+/g, ' ').trim();

/** The words of each paragraph, list item and table cell as the author wrote them (citations left out). */
function authoredTexts(node: MdastNodes): string[] {
  const words = (n: MdastNodes): string => {
    if (n.type === 'footnoteReference') return '';
    if (n.type === 'image') return n.alt ?? '';
    if ('value' in n && typeof n.value === 'string') return n.value;
    if ('children' in n) return (n.children as MdastNodes[]).map(words).join('');
    return '';
  };
  if (node.type === 'paragraph' || node.type === 'tableCell' || node.type === 'heading') return [squash(words(node))];
  if ('children' in node) return (node.children as MdastNodes[]).flatMap(authoredTexts);
  return [];
}

describe('renderHtml', () => {
  it('links to the PDF editions the build writes beside it, with paper and size', () => {
    const html = renderHtml(buildFixtureBriefing(), buildFixtureCharts(), fonts, { pdfs: [{ href: 'fixture.pdf', paper: 'a4', bytes: 421_888 }, { href: 'fixture-letter.pdf', paper: 'letter', bytes: 1_536 }] });
    const links = all(one(fromHtml(html), 'header'), (e) => e.tagName === 'a');
    expect(links.map((a) => [a.properties.href, textOf(a)])).toEqual([
      ['fixture.pdf', 'PDF, A4, 412 KB'],
      ['fixture-letter.pdf', 'PDF, US Letter, 2 KB'],
    ]);
    expect(all(one(render().page, 'header'), (e) => e.tagName === 'a')).toEqual([]);
  });

  it('builds the semantic page: header, nav, main, article, a section per h2, figures and tables', () => {
    const briefing = buildFixtureBriefing();
    const { page } = render();
    const html = one(page, 'html');
    expect(html.properties.lang).toBe(briefing.meta.language);

    const meta = (name: string) => byTag(page, 'meta').find((m) => m.properties.name === name)?.properties.content;
    expect(meta('description')).toBe(briefing.meta.subject);
    expect(meta('author')).toBe(briefing.meta.author);
    expect(meta('keywords')).toBe(briefing.meta.keywords.join(', '));

    const header = one(page, 'header');
    expect(textOf(one(header, 'h1'))).toBe(briefing.meta.title);
    expect(textOf(header)).toContain(briefing.meta.subtitle);
    expect(one(header, 'time').properties.dateTime).toBe(briefing.meta.asOf);
    expect(textOf(one(header, 'time'))).toBe(briefing.meta.asOfLabel);

    // The contents list every outline entry by its anchor.
    const nav = one(page, 'nav');
    const tocTargets = byTag(nav, 'a').map((a) => a.properties.href);
    for (const entry of briefing.outline) expect(tocTargets).toContain(`#${entry.id}`);

    const article = one(one(page, 'main'), 'article');
    // Each h2 opens a section that it labels, and each section holds exactly one h2.
    const h2s = byTag(article, 'h2');
    const sections = all(article, (e) => e.tagName === 'section');
    expect(h2s.length).toBe(briefing.outline.filter((e) => e.depth === 2).length + 1); // + the notes
    for (const section of sections) {
      const headings = byTag(section, 'h2');
      expect(headings).toHaveLength(1);
      expect(section.properties.ariaLabelledBy).toEqual([headings[0]!.properties.id]);
      expect(section.children.find((c) => c.type === 'element')).toBe(headings[0]);
    }
    // h3 stays inside its h2's section.
    const h3 = one(article, 'h3');
    expect(sections.some((section) => byTag(section, 'h3').includes(h3))).toBe(true);

    // Figures: numbered in order, caption and source in the figcaption, the chart inline.
    const figures = byTag(article, 'figure');
    const expected = Object.values(FIXTURE_FIGURES);
    expect(figures).toHaveLength(expected.length);
    figures.forEach((figure, index) => {
      const caption = squash(textOf(one(figure, 'figcaption')));
      expect(caption).toContain(`Figure ${index + 1}. ${expected[index]!.caption}`);
      expect(caption).toContain(expected[index]!.source);
      // The wide and the narrow drawing, each named and described on its own (the stylesheet shows one).
      const svgs = byTag(figure, 'svg');
      expect(svgs.map((svg) => svg.properties.className)).toEqual([['chart-wide'], ['chart-narrow']]);
      for (const svg of svgs) {
        expect(svg.properties.role).toBe('img');
        const [titleId] = svg.properties.ariaLabelledBy as string[];
        const [descId] = svg.properties.ariaDescribedBy as string[];
        expect(byTag(svg, 'title').map((t) => t.properties.id)).toEqual([titleId]);
        expect(textOf(byTag(svg, 'desc').find((d) => d.properties.id === descId)!)).toBe(expected[index]!.alt);
      }
    });

    // Tables: a caption, column headers and row headers scoped, in a focusable, named scroll box.
    const table = one(article, 'table');
    expect(squash(textOf(one(table, 'caption')))).toBe('Table 1. The three deals');
    const thead = one(table, 'thead');
    const headerCells = all(thead, (e) => e.tagName === 'th' || e.tagName === 'td');
    expect(headerCells.length).toBeGreaterThan(0);
    for (const cell of headerCells) expect(cell).toMatchObject({ tagName: 'th', properties: { scope: 'col' } });
    for (const row of byTag(one(table, 'tbody'), 'tr')) {
      const cells = row.children.filter((c): c is Element => c.type === 'element');
      expect(cells[0]).toMatchObject({ tagName: 'th', properties: { scope: 'row' } });
      for (const cell of cells.slice(1)) expect(cell.tagName).toBe('td');
    }
    const box = all(article, (e) => byTag(e, 'table').includes(table) && e.properties.tabIndex === 0);
    expect(box).toHaveLength(1);
    expect(box[0]!.properties.ariaLabelledBy).toEqual([one(table, 'caption').properties.id]);
    // GFM alignment survives as a class, not the obsolete align attribute.
    expect(all(table, (e) => e.properties.align !== undefined)).toHaveLength(0);
  });

  it('shows every paragraph, heading and table cell the content holds', () => {
    const { page } = render();
    const isCitation = (e: Element) => e.tagName === 'sup' && all(e, (c) => c.properties.dataFootnoteRef !== undefined).length > 0;
    const pageText = squash(textOf(one(page, 'article'), isCitation));
    const texts = authoredTexts(buildFixtureBriefing().tree).filter(Boolean);
    expect(texts.length).toBeGreaterThan(10);
    for (const text of texts) expect(pageText).toContain(text);
  });

  it('links footnotes both ways and resolves every anchor on the page', () => {
    const { page } = render();
    const ids = all(page, (e) => typeof e.properties.id === 'string').map((e) => e.properties.id as string);
    expect(new Set(ids).size, 'ids are unique').toBe(ids.length);

    const anchors = byTag(page, 'a').map((a) => String(a.properties.href));
    for (const href of anchors.filter((h) => h.startsWith('#'))) expect(ids, href).toContain(decodeURIComponent(href.slice(1)));

    // Each marker is a button opening its note beside the text; the list at the end links back to it.
    const refs = all(page, (e) => e.tagName === 'button' && e.properties.dataFootnoteRef !== undefined);
    const citedInFixture = FIXTURE_MARKDOWN.match(/\[\^\w+\](?!:)/g) ?? [];
    expect(refs).toHaveLength(citedInFixture.length);
    for (const ref of refs) {
      const popover = all(page, (e) => e.properties.id === ref.properties.popoverTarget)[0]!;
      expect(popover.properties.popover).toBe('auto');
      const toList = all(popover, (e) => e.tagName === 'a' && e.properties.className?.toString() === 'note-pop-list')[0]!;
      const note = all(page, (e) => e.properties.id === String(toList.properties.href).slice(1))[0]!;
      expect(note.tagName).toBe('li');
      // The popover says what the note in the list says.
      const noteText = squash(textOf(note, (e) => e.properties.dataFootnoteBackref !== undefined));
      expect(squash(textOf(popover))).toBe(`Note ${textOf(ref)}. ${noteText} In the notes`);
      expect(ref.properties.ariaLabel).toBe(`Note ${textOf(ref)}`);
      // The note links back to this very citation.
      const back = all(note, (e) => e.tagName === 'a' && e.properties.dataFootnoteBackref !== undefined);
      expect(back.map((a) => a.properties.href)).toContain(`#${ref.properties.id}`);
      expect(back.every((a) => typeof a.properties.ariaLabel === 'string' && a.properties.ariaLabel.length > 0)).toBe(true);
    }
    // One popover per note, however often it is cited.
    const popovers = all(page, (e) => e.properties.popover !== undefined);
    expect(popovers).toHaveLength(new Set(refs.map((r) => r.properties.popoverTarget)).size);
    // Adjacent citations read "1,2", not "12".
    const adjacent = FIXTURE_MARKDOWN.match(/\]\[\^/g) ?? [];
    expect(adjacent.length).toBeGreaterThan(0);
    const separated = all(page, (e) => e.tagName === 'sup' && e.children[0]?.type === 'text' && e.children[0].value === ',');
    expect(separated).toHaveLength(adjacent.length);
  });

  it('references nothing outside the file: fonts, styles and charts are inline', () => {
    const { html, page } = render();
    for (const element of all(page, () => true)) {
      for (const [name, value] of Object.entries(element.properties)) {
        const text = Array.isArray(value) ? value.join(' ') : String(value);
        if (/^(src|srcSet|poster|data|action|formAction|xLinkHref|background|cite)$/i.test(name)) {
          expect(text, `${element.tagName} ${name}`).toMatch(/^(#|data:)/);
        }
        if (name === 'href' && element.tagName !== 'a') expect(text, `${element.tagName} href`).toMatch(/^#/);
        if (/url\(/i.test(text)) expect(text).not.toMatch(/url\(\s*['"]?(?!#|data:)/i);
      }
    }
    // Link elements, iframes, objects and scripts would all fetch something.
    expect(all(page, (e) => ['link', 'iframe', 'object', 'embed', 'script', 'img', 'image', 'use', 'base'].includes(e.tagName))).toHaveLength(0);
    // Every url() in the stylesheet is a data: URI, and the four faces are the bytes given.
    const css = textOf(one(page, 'style'));
    const urls = [...css.matchAll(/url\(\s*['"]?([^'")]*)/g)].map((m) => m[1]!);
    expect(urls).toHaveLength(FACE_KEYS.length);
    for (const url of urls) expect(url.startsWith('data:font/woff;base64,')).toBe(true);
    for (const key of FACE_KEYS) expect(css).toContain(Buffer.from(fonts[key]).toString('base64'));
    expect(css).not.toMatch(/@import/);
    // Only links the author wrote may point outside, and only over http(s).
    const outside = byTag(page, 'a').map((a) => String(a.properties.href)).filter((h) => !h.startsWith('#'));
    expect(outside.length).toBeGreaterThan(0);
    for (const href of outside) {
      expect(href).toMatch(/^https?:\/\//);
      expect(FIXTURE_MARKDOWN).toContain(href);
    }
    // The policy forbids scripts and remote loads.
    const csp = byTag(page, 'meta').find((m) => String(m.properties.httpEquiv) === 'Content-Security-Policy')?.properties.content;
    expect(csp).toContain("default-src 'none'");
    expect(String(csp)).not.toMatch(/script-src|connect-src|https?:/);
    expect(/<script/i.test(html), 'no script element').toBe(false);
  });

  it('renders hostile strings and links inert', () => {
    const { html, page } = render();
    expect(all(page, (e) => e.tagName === 'script')).toHaveLength(0);
    for (const element of all(page, () => true)) {
      for (const name of Object.keys(element.properties)) expect(name, `${element.tagName} handler`).not.toMatch(/^on/i);
      const href = element.properties.href;
      if (href !== undefined) expect(String(href)).toMatch(/^(#|https?:\/\/)/);
    }
    expect(/javascript:|mailto:|data:text/i.test(html), 'no dangerous URL survives').toBe(false);
    // The raw HTML and the hostile caption show as text.
    const text = textOf(one(page, 'body'));
    expect(text).toContain(HOSTILE);
    expect(text).toContain('<img src=x onerror="alert(2)">');
    expect(squash(textOf(byTag(page, 'figcaption')[1]!))).toContain(FIXTURE_FIGURES.share!.caption);
    // Disallowed links keep their words; the image shows its alt text.
    for (const words of ['a script link', 'a data link', 'mail', 'a dangling anchor', 'tracking pixel']) expect(text).toContain(words);
    // Escaped Markdown stays literal.
    expect(text).toContain('Zhong*heng_Electric and [x](y)');
  });

  it('keeps only drawing from a chart SVG, with ids made unique per figure', () => {
    const hostileSvg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" onload="svgPwned(1)">
      <script>svgPwned(2)</script><foreignObject><div>x</div></foreignObject>
      <style>@import url(https://evil.example/x.css);</style>
      <image href="https://evil.example/a.png" width="5" height="5"/>
      <a href="javascript:svgPwned(3)"><rect id="r" width="5" height="5" onclick="svgPwned(4)"/></a>
      <rect width="5" height="5" fill="url(https://evil.example/p.svg#x)" style="fill:url(#r)"/>
      <use href="#r"/></svg>`;
    // The narrow drawing is cleaned as the wide one is.
    const html = renderHtml(buildFixtureBriefing(), buildFixtureCharts(hostileSvg, hostileSvg), fonts);
    const page = fromHtml(html);
    const svgs = byTag(page, 'svg');
    expect(svgs).toHaveLength(2 * Object.keys(FIXTURE_FIGURES).length);
    for (const svg of svgs) {
      expect(all(svg, (e) => ['script', 'foreignObject', 'style', 'image', 'a', 'use'].includes(e.tagName))).toHaveLength(0);
      for (const element of [svg, ...all(svg, () => true)]) {
        for (const [name, value] of Object.entries(element.properties)) {
          expect(name).not.toMatch(/^on/i);
          expect(String(value)).not.toMatch(/evil\.example|javascript:/);
        }
      }
      // The clipped rectangle survives, renamed, and its local reference follows it.
      const rect = all(svg, (e) => typeof e.properties.id === 'string' && String(e.properties.id).endsWith('-r'))[0]!;
      expect(rect.tagName).toBe('rect');
      expect(all(svg, (e) => e.properties.style === `fill:url(#${rect.properties.id})`)).toHaveLength(1);
    }
    expect(html.includes('svgPwned'), 'no trace of the hostile SVG code').toBe(false);
  });

  it('keeps a chart image only as an inlined PNG or JPEG (what a report allowing raster images gets), never one that would be a request', () => {
    const png = `data:image/png;base64,${Buffer.from('\x89PNG\r\n\x1a\n').toString('base64')}`;
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">
      <image xlink:href="${png}" width="5" height="5"/><image href="logo.png" width="5" height="5"/>
      <image href="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=" width="5" height="5"/><image href="${png}" onload="svgPwned(1)" width="5" height="5"/></svg>`;
    const page = fromHtml(renderHtml(buildFixtureBriefing(), buildFixtureCharts(svg, svg), fonts));
    for (const chart of byTag(page, 'svg')) {
      const images = all(chart, (e) => e.tagName === 'image');
      expect(images.map((image) => Object.entries(image.properties).filter(([name]) => /href/i.test(name)).map(([, value]) => value))).toEqual([[png], [png]]);
      expect(images.some((image) => 'onLoad' in image.properties || 'onload' in image.properties)).toBe(false);
    }
  });

  it('is deterministic and leaves its input untouched', () => {
    const briefing = buildFixtureBriefing();
    const charts = buildFixtureCharts();
    const before = JSON.stringify({ briefing, charts });
    const first = renderHtml(briefing, charts, fonts);
    expect(JSON.stringify({ briefing, charts })).toBe(before);
    expect(renderHtml(briefing, charts, fonts)).toBe(first);
    expect(renderHtml(buildFixtureBriefing(), buildFixtureCharts(), readFixtureFonts())).toBe(first);
  });

  it('gives a chart with a narrow drawing both, and a container query that shows the narrow one only where the wide one would shrink its text under 11 px', () => {
    const { html, page } = render();
    const style = textOf(one(page, 'style'));
    const charts = buildFixtureCharts();
    for (const [index, card] of all(page, (e) => String(e.properties.className).includes('chart-card')).entries()) {
      const chart = charts[index]!;
      const below = (card.properties.className as string[]).find((name) => name.startsWith('narrow-below-'))!;
      const width = Number(below.slice('narrow-below-'.length));
      // The fixture's smallest text is 14 px: scaled to `width`, it is 11 px.
      const smallest = Math.min(...[...chart.svg.matchAll(/font-size="(\d+)"/g)].map(([, size]) => Number(size)));
      expect(Math.abs((smallest * width) / chart.width - 11)).toBeLessThan(0.05);
      expect(style).toContain(`@container (max-width:${width - 0.02}px){.${below}>.chart-wide{display:none}.${below}>.chart-narrow{display:block}}`);
    }
    // Hidden by default (no container query support: the wide one), and never on paper.
    expect(style).toMatch(/\.chart-card>\.chart-narrow\{display:none\}/);
    const print = style.slice(style.indexOf('@media print'));
    expect(print).toContain('.chart-card>.chart-wide{display:block!important}');
    expect(print).toContain('.chart-card>.chart-narrow{display:none!important}');
    // Every id stays unique with two drawings of each chart.
    const ids = all(page, (e) => typeof e.properties.id === 'string').map((e) => e.properties.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(html).toContain('fig-deals-narrow-title');
  });

  it('gives a chart without a narrow drawing one drawing and no query', () => {
    const page = fromHtml(renderHtml(buildFixtureBriefing(), buildFixtureCharts(undefined, null), fonts));
    for (const figure of byTag(page, 'figure')) expect(byTag(figure, 'svg').map((svg) => svg.properties.className)).toEqual([undefined]);
    expect(textOf(one(page, 'style'))).not.toContain('@container');
  });

  it('names the missing chart when a figure has none', () => {
    const charts = buildFixtureCharts().filter((chart) => chart.id !== 'share');
    expect(() => renderHtml(buildFixtureBriefing(), charts, fonts)).toThrow(messages.htmlChartMissing('share', ['deals']));
  });
});

describe('renderHtml on the real briefing', () => {
  /** The briefing from the dataset and templates, through the same stages the build runs. */
  async function buildRealBriefing() {
    const quiet = { ...nodeEffects, log: () => {} };
    const { data, derived } = await loadDataset('data/catl-ai-stack.yaml', quiet);
    const read = async (dir: string, suffix: string) =>
      Promise.all(
        (await readdir(dir))
          .filter((name) => name.endsWith(suffix))
          .sort()
          .map(async (name) => ({ name, file: `${dir}/${name}`, text: await readFile(`${dir}/${name}`, 'utf8') })),
      );
    const specs = (await read('templates/charts', '.vl.json')).map(({ name, file, text }) => ({ id: name.slice(0, -'.vl.json'.length), file, text }));
    const { charts } = await renderCharts(specs, bindChartData(data, derived), { fonts });
    const briefing = buildBriefing({ data, derived, charts, templates: await read('templates/briefing', '.hbs') });
    return { briefing, charts };
  }

  it('shows every word and figure of the content, resolves every anchor and requests nothing', async () => {
    const { briefing, charts } = await buildRealBriefing();
    const html = renderHtml(briefing, charts, fonts);
    const page = fromHtml(html);
    const isCitation = (e: Element) => e.tagName === 'sup' && all(e, (c) => c.properties.dataFootnoteRef !== undefined).length > 0;
    // The article holds the notes too, so the footnote texts are checked with the body.
    const article = one(page, 'article');
    const pageText = squash(textOf(article, isCitation));
    const texts = authoredTexts(briefing.tree).filter(Boolean);
    expect(texts.length).toBeGreaterThan(30);
    for (const text of texts) expect(pageText).toContain(text);
    // Each source is described in full once on the whole page, popovers and notes included.
    const whole = squash(textOf(article));
    // The full description (kind, date as given, state of the copy); figure source lines name the title and period only.
    expect(whole.split('news analysis; undated; internal references place it in spring 2026; truncated copy').length - 1).toBe(1);
    // One figure per figure node, numbered as the content numbered it.
    const figureNodes = briefing.tree.children.filter((node) => node.type === 'figure');
    const figures = byTag(article, 'figure');
    expect(figures.map((f) => f.properties.id)).toEqual(figureNodes.map((f) => f.identifier));
    figures.forEach((figure, index) => expect(textOf(figure)).toContain(`Figure ${figureNodes[index]!.number}.`));
    // Every in-page link lands; every outside link is http(s); ids are unique.
    const ids = all(page, (e) => typeof e.properties.id === 'string').map((e) => e.properties.id as string);
    expect(new Set(ids).size).toBe(ids.length);
    for (const a of byTag(page, 'a')) {
      const href = String(a.properties.href);
      if (href.startsWith('#')) expect(ids).toContain(decodeURIComponent(href.slice(1)));
      else expect(href).toMatch(/^https?:\/\//);
    }
    expect(all(page, (e) => ['script', 'link', 'img', 'iframe', 'object', 'embed'].includes(e.tagName))).toHaveLength(0);
    expect(renderHtml(briefing, charts, fonts)).toBe(html);
  });
});
