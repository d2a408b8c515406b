// Hostile input: markup in the data ends as inert text in the HTML, the chart
// SVGs and the PDF; non-http(s) URLs are refused; chart specs cannot read
// files or URLs; template and chart names cannot leave templates/.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Element, Root, RootContent } from 'hast';
import { fromHtml } from 'hast-util-from-html';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { renderCharts } from '../src/charts/render.ts';
import { normalizeReports } from '../src/config.ts';
import { buildBriefing, type ChartMeta, type TemplateSource } from '../src/content/briefing.ts';
import { validateDataset } from '../src/dataset/validate.ts';
import { InputError } from '../src/support/error.ts';
import { FACE_KEYS, fontPaths, type FontBytes } from '../src/text/fonts.ts';
import { parseYaml } from '../src/dataset/load.ts';
import { messages } from '../src/support/messages.ts';
import { loadDatasetFile } from './fixtures/dataset/load.ts';
import { checkOutput, makeTemp, ONE_REPORT, REPORT_ID, ROOT, RUN, removeTemps, runReport, STACK_FRAME } from './fixtures/reliability/build.ts';
import { HOSTILE, hostileDataset, PLANTED, plantedValue } from './fixtures/reliability/hostile.ts';
import { chartInProcess } from './fixtures/charts/cli.ts';

const encode = (text: string) => new TextEncoder().encode(text);

/** Validates dataset text as `file`; the shipped dataset names no CSV table. */
const validateText = (file: string, text: string) => validateDataset(parseYaml(file, encode(text)), () => undefined);

/** 1-based line and column of the first `needle` in `text`. */
function positionOf(text: string, needle: string): { line: number; column: number } {
  const offset = text.indexOf(needle);
  expect(offset, `not found: ${needle}`).toBeGreaterThanOrEqual(0);
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

/** Every element and the text of every text node in a hast tree. */
function walk(tree: Root | Element): { elements: Element[]; text: string } {
  const elements: Element[] = [];
  let text = '';
  const visit = (node: Root | RootContent) => {
    if (node.type === 'element') elements.push(node);
    if (node.type === 'text') text += node.value;
    if ('children' in node) node.children.forEach(visit);
    // <template> keeps its children in `content`.
    if (node.type === 'element' && node.content) visit(node.content);
  };
  visit(tree);
  return { elements, text };
}

// Elements that could run code, load something or hide markup, in HTML or SVG.
const ACTIVE_ELEMENTS = ['script', 'iframe', 'frame', 'object', 'embed', 'img', 'image', 'foreignObject', 'link', 'base', 'form', 'input', 'button', 'video', 'audio', 'source', 'meta-refresh'];

/** Active elements, event-handler attributes, and links or sources that are not http(s) or in-page. */
function activeContent(elements: Element[]): string[] {
  const found: string[] = [];
  const ids = new Set(elements.map((e) => e.properties.id));
  // A note marker: a plain button whose only action is to open its note's popover.
  const isNoteMarker = (e: Element) =>
    e.tagName === 'button' && e.properties.type === 'button' && ids.has(e.properties.popoverTarget) && Object.keys(e.properties).every((name) => ['type', 'id', 'className', 'popoverTarget', 'dataFootnoteRef', 'ariaLabel'].includes(name));
  for (const element of elements) {
    if (ACTIVE_ELEMENTS.includes(element.tagName) && !isNoteMarker(element)) found.push(`<${element.tagName}>`);
    for (const [name, value] of Object.entries(element.properties)) {
      if (/^on/i.test(name)) found.push(`${element.tagName} ${name}=${String(value)}`);
      if (/^(href|src|xLinkHref|action|formAction|srcSet|poster|data)$/i.test(name)) {
        const url = String(value);
        // The masthead's link to the PDF edition the build writes beside the page.
        const pdfEdition = element.tagName === 'a' && name === 'href' && /^[a-z0-9-]+\.pdf$/.test(url);
        if (!/^(https?:\/\/|#)/i.test(url) && !pdfEdition) found.push(`${element.tagName} ${name}=${url}`);
      }
    }
  }
  return found;
}

const squash = (text: string) => text.replace(/\s+/g, '');

let work: string;
let out: string;

beforeAll(async () => {
  work = makeTemp('reliability-hostile-');
  out = join(work, 'out');
  const data = join(work, 'hostile.yaml');
  writeFileSync(data, hostileDataset());
  const result = await runReport(['--data', data, '--out', out, ...ONE_REPORT]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
}, 180_000);

afterAll(removeTemps);

/** The InputError `fn` throws (failing the test if it throws anything else, or nothing). */
function inputErrorOf(fn: () => unknown): InputError {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(InputError);
  return error as InputError;
}

describe('hostile input: markup in the data', () => {
  it('stays inert text in the HTML: no script, no handlers, no javascript: links, every planted string visible', async () => {
    const html = await readFile(join(out, `${REPORT_ID}.html`), 'utf8');
    const tree = fromHtml(html);
    const { elements, text } = walk(tree);
    expect(activeContent(elements)).toEqual([]);
    for (const { key } of PLANTED) expect(text, key).toContain(plantedValue(key));
    // The planted style rule is text, never a stylesheet.
    for (const style of elements.filter((e) => e.tagName === 'style')) expect(walk(style).text).not.toContain(HOSTILE.style.slice('</style><style>'.length));
  });

  it('carries a Content-Security-Policy that forbids scripts and remote loads, and no live-reload script', async () => {
    const html = await readFile(join(out, `${REPORT_ID}.html`), 'utf8');
    const { elements } = walk(fromHtml(html));
    const csp = elements.filter((e) => e.tagName === 'meta' && String(e.properties.httpEquiv).toLowerCase() === 'content-security-policy');
    expect(csp).toHaveLength(1);
    const directives = new Map(
      String(csp[0]!.properties.content)
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .filter((d) => d[0])
        .map(([name, ...values]) => [name!, values]),
    );
    expect(directives.get('default-src')).toEqual(["'none'"]);
    // No directive may re-allow scripts or any remote origin.
    expect(directives.get('script-src') ?? ["'none'"]).toEqual(["'none'"]);
    for (const [name, values] of directives) {
      for (const value of values) expect(`${name} ${value}`).not.toMatch(/\*|https?:|'unsafe-eval'|'strict-dynamic'|\bblob:/);
      if (name !== 'style-src') expect(values, name).not.toContain("'unsafe-inline'");
    }
    expect(elements.some((e) => e.tagName === 'script')).toBe(false);
    expect(html).not.toContain('__reload');
    expect(html).not.toContain('EventSource');
  });

  it('stays inert text in every chart SVG', async () => {
    // charts/ or, when several reports write SVG, charts/<report id>/.
    const names = (readdirSync(join(out, 'charts'), { recursive: true }) as string[]).filter((n) => n.endsWith('.svg'));
    expect(names.length).toBeGreaterThan(0);
    let shown = '';
    for (const name of names) {
      const svg = await readFile(join(out, 'charts', name), 'utf8');
      const { elements, text } = walk(fromHtml(svg, { fragment: true, space: 'svg' }));
      expect(activeContent(elements), name).toEqual([]);
      // The one style a chart file may carry: the engine's embedded faces, @font-face rules of base64 data and a unicode-range, nothing else.
      const fontFaces = /^(?:@font-face\{font-family:"[^"{}<>]+";font-style:(?:normal|italic);font-weight:\d+;src:url\(data:font\/ttf;base64,[A-Za-z0-9+/=]+\) format\("truetype"\);unicode-range:U\+[0-9A-F]+(?:-[0-9A-F]+)?(?:,U\+[0-9A-F]+(?:-[0-9A-F]+)?)*\})+$/;
      const styles = elements.filter((e) => e.tagName === 'style').map((e) => e.children.map((c) => ('value' in c ? c.value : '')).join(''));
      for (const style of styles) expect(fontFaces.test(style), `${name}: ${style.slice(0, 80)}`).toBe(true);
      shown += text;
    }
    // Chart labels may be shortened with an ellipsis; the description (<desc>) holds names in full.
    const inCharts = PLANTED.filter(({ key }) => shown.includes(plantedValue(key)));
    expect(inCharts.map((p) => p.key)).toEqual(expect.arrayContaining(['jsLink', 'style']));
  });

  it('appears as literal text in the PDF, with no scripts, launch actions or non-http links', async () => {
    const bytes = new Uint8Array(await readFile(join(out, `${REPORT_ID}.pdf`)));
    const doc = await getDocument({ data: bytes, verbosity: 0, isEvalSupported: false }).promise;
    let text = '';
    const links: string[] = [];
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      const content = await page.getTextContent();
      text += content.items.map((item) => ('str' in item ? item.str : '')).join('');
      for (const annotation of (await page.getAnnotations()) as { subtype: string; url?: string; unsafeUrl?: string; action?: string }[]) {
        if (annotation.subtype === 'Link' && (annotation.url || annotation.unsafeUrl)) links.push(annotation.unsafeUrl ?? annotation.url!);
        expect(annotation.action, 'named or JavaScript action').toBeUndefined();
      }
    }
    const js = await doc.getJSActions();
    await doc.destroy();
    expect(js).toBeNull();
    // Line breaks split text into items; compare without whitespace.
    for (const { key } of PLANTED) expect(squash(text), key).toContain(squash(plantedValue(key)));
    expect(links.filter((url) => !/^https?:\/\//i.test(url))).toEqual([]);
    const raw = Buffer.from(bytes).toString('latin1');
    expect(raw).not.toMatch(/\/(JavaScript|JS|Launch|SubmitForm|ImportData)\b/);
    expect(checkOutput(out).problems).toEqual([]);
  });
});

describe('hostile input: URLs', () => {
  const FILE = 'data/catl-ai-stack.yaml';
  const shipped = readFileSync(join(ROOT, FILE), 'utf8');
  const REFUSED = ['javascript:alert(1)', 'JavaScript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'file:///etc/passwd', 'vbscript:msgbox(1)', 'ftp://example.com/x', '//evil.example/x', ' javascript:alert(1)', 'http:/\\evil.example', 'https://', 'mailto:a@example.com'];

  it.each(REFUSED)('refuses %j in a source url, located at the value', (url) => {
    const text = shipped.replace('    truncated: true', `    url: ${JSON.stringify(url)}\n    truncated: true`);
    expect(text).not.toBe(shipped);
    const issues = inputErrorOf(() => validateText(FILE, text)).issues;
    expect(issues.map((i) => i.path)).toEqual(['sources.vector.url']);
    expect(issues[0]).toMatchObject({ file: FILE, ...positionOf(text, JSON.stringify(url)) });
  });

  it('refuses a javascript: entity url too', () => {
    const text = shipped.replace('    role: Chinese data-center operator listed on Nasdaq', '    role: Chinese data-center operator listed on Nasdaq\n    url: javascript:alert(1)');
    expect(() => validateText(FILE, text)).toThrow(/entities\.vnet\.url/);
  });

  it('builds a valid http URL that carries markup or Markdown as an escaped link, or refuses it with a message naming the dataset', async () => {
    const data = parse(shipped) as { sources: { vector: Record<string, unknown> } };
    const results: string[] = [];
    const urls = ['https://example.com/x"><script>alert(2)</script>', 'https://example.com/a)[y](javascript:alert(3))', 'https://example.com/a)[y](javascript:alert(4)'];
    for (const url of urls) {
      data.sources.vector.url = url;
      const dir = makeTemp('reliability-url-');
      writeFileSync(join(dir, 'data.yaml'), stringify(data));
      const result = await runReport(['--data', join(dir, 'data.yaml'), '--out', join(dir, 'out'), '--format', 'html', ...ONE_REPORT]);
      expect(result.stderr).not.toMatch(STACK_FRAME);
      if (result.code === 0) {
        const { elements } = walk(fromHtml(readFileSync(join(dir, 'out', `${REPORT_ID}.html`), 'utf8')));
        expect(activeContent(elements)).toEqual([]);
        // Markdown percent-encodes what a URL may not hold literally; decoded, the link is the dataset's URL.
        expect(elements.some((e) => e.tagName === 'a' && decodeURI(String(e.properties.href)) === url), url).toBe(true);
        results.push('built');
      } else {
        expect(result.code, result.stderr).toBe(1);
        expect(result.stderr, `the message should blame the dataset, not the templates, for ${url}`).toContain('data.yaml');
        results.push('refused');
      }
    }
    expect(results).toHaveLength(urls.length);
  });
});

/** The real font files, as the orchestrator reads them. */
async function readFonts(): Promise<FontBytes> {
  const paths = fontPaths();
  return Object.fromEntries(await Promise.all(FACE_KEYS.map(async (k) => [k, new Uint8Array(await readFile(paths[k]))] as const))) as FontBytes;
}

describe('hostile input: chart specs cannot read files or URLs', () => {
  const spec = (data: unknown) => JSON.stringify({ data, mark: 'bar', encoding: { x: { field: 'a', type: 'nominal' } } });

  it('npm run chart refuses /etc/passwd, a path out of its folder, a symlink out of it and a local HTTP server, which sees no request', async () => {
    const requests: string[] = [];
    const server = createServer((req, res) => {
      requests.push(req.url ?? '');
      res.end('a\nserved-by-the-test-server\n');
    });
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    const port = (server.address() as AddressInfo).port;
    try {
      const dir = makeTemp('reliability-loader-');
      symlinkSync('/etc/passwd', join(dir, 'passwd.csv'));
      const cases = {
        absolute: { url: '/etc/passwd', format: { type: 'csv' } },
        relative: { url: '../../../../../../../../etc/passwd', format: { type: 'csv' } },
        symlink: { url: 'passwd.csv' },
        http: { url: `http://127.0.0.1:${port}/data.csv` },
      };
      const check = async ([name, data]: [string, unknown]) => {
        writeFileSync(join(dir, `${name}.vl.json`), spec(data));
        const result = await chartInProcess(join(dir, `${name}.vl.json`), '-o', join(dir, `${name}.svg`));
        expect(result.code, `${name}: ${result.stderr}`).toBe(1);
        expect(result.stderr).toContain(`${name}.vl.json`);
        expect(result.stderr).toMatch(/refused to load/);
        expect(result.stderr).not.toMatch(STACK_FRAME);
        expect(result.stderr).not.toMatch(/root:x:0|served-by-the-test-server/);
        expect(existsSync(join(dir, `${name}.svg`)), `${name}.svg was written`).toBe(false);
      };
      // Two child processes at a time (each loads Vega).
      const queue = Object.entries(cases);
      await Promise.all(
        [0, 1].map(async () => {
          for (let next = queue.shift(); next; next = queue.shift()) await check(next);
        }),
      );
      expect(requests).toEqual([]);
    } finally {
      server.close();
    }
  });

  it('the chart stage refuses URLs of any scheme before reading anything, even with a file reader', async () => {
    const fonts = await readFonts();
    const asked: string[] = [];
    const readFile = async (path: string) => {
      asked.push(path);
      return 'a\n1\n';
    };
    for (const url of ['file:///etc/passwd', 'http://127.0.0.1:9/x.csv', 'HTTPS://example.com/x.csv', '//127.0.0.1/x.csv', 'data:text/csv,a%0A1', 'javascript:alert(1)']) {
      await expect(renderCharts([{ id: 'evil', file: 'evil.vl.json', text: spec({ url }) }], {}, { fonts, readFile }), url).rejects.toThrow(messages.chartLoadRefused(url, messages.chartLoadUrl));
    }
    expect(asked).toEqual([]);
  });

  it('the briefing build refuses any file read from a spec (its data is bound by name)', async () => {
    const fonts = await readFonts();
    for (const url of ['/etc/passwd', 'data.csv', '../../etc/passwd']) {
      await expect(renderCharts([{ id: 'evil', file: 'templates/charts/evil.vl.json', text: spec({ url }) }], {}, { fonts })).rejects.toThrow(
        messages.chartLoadRefused(url, messages.chartLoadNone),
      );
    }
  });
});

describe('hostile input: paths cannot leave the project or templates/', () => {
  const CONFIG = 'reports.yaml';

  it.each([
    ['dataset', '../../etc/passwd'],
    ['dataset', '/etc/passwd'],
    ['templates', 'templates/../../etc'],
    ['charts', '..\\..\\windows'],
    ['editions', 'data/editions/../../..'],
  ])('refuses %s: %j in reports.yaml, located at the value', (field, path) => {
    // A valid report (dataset and templates are required) with the one field set to the planted path.
    const fields: Record<string, string> = { dataset: 'data/catl-ai-stack.yaml', templates: 'templates/briefing', [field]: JSON.stringify(path) };
    const text = `reports:\n  - id: evil\n${Object.entries(fields)
      .map(([name, value]) => `    ${name}: ${value}\n`)
      .join('')}    paper: a4\n`;
    expect(inputErrorOf(() => normalizeReports(parseYaml(CONFIG, encode(text)))).issues).toEqual([expect.objectContaining({ file: CONFIG, path: `reports.0.${field}`, ...positionOf(text, JSON.stringify(path)) })]);
  });

  const TEMPLATES = 'templates/briefing';
  const templates = (): TemplateSource[] =>
    readdirSync(join(ROOT, TEMPLATES))
      .filter((name) => name.endsWith('.hbs'))
      .map((name) => ({ name, file: `${TEMPLATES}/${name}`, text: readFileSync(join(ROOT, TEMPLATES, name), 'utf8') }));
  const chartIds = readdirSync(join(ROOT, 'templates/charts'))
    .filter((n) => n.endsWith('.vl.json'))
    .map((n) => n.slice(0, -'.vl.json'.length));
  // Chart metadata only (the content stage needs ids and words, not drawings).
  const charts: ChartMeta[] = chartIds.map((id) => ({ id, title: `Chart ${id}`, description: 'rows', caption: `Caption ${id}.`, source: 'Source: test' }));
  const { data, derived } = loadDatasetFile(join(ROOT, 'data/catl-ai-stack.yaml'));

  /** The content stage's located problems when `line` is added as its own paragraph at the end of the main template. */
  function problemsWith(line: string): { issues: InputError['issues']; main: TemplateSource } {
    const all = templates();
    const main = all.find((t) => t.name.startsWith('briefing.'))!;
    main.text = `${main.text.trimEnd()}\n\n${line}\n`;
    try {
      buildBriefing({ data, derived, charts, templates: all });
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      return { issues: (error as InputError).issues, main };
    }
    throw new Error(`the content stage accepted ${line}`);
  }

  it('accepts the shipped templates (so the failures below are the planted lines)', () => {
    expect(() => buildBriefing({ data, derived, charts, templates: templates() })).not.toThrow();
  });

  it.each(['{{chart "../../etc/passwd"}}', '{{chart "../charts/deals"}}', '{{ref "../../etc/passwd"}}'])('refuses %s with a located error', (line) => {
    const { issues, main } = problemsWith(line);
    const id = /"([^"]+)"/.exec(line)![1]!;
    expect(issues).toContainEqual(expect.objectContaining({ file: main.file, line: positionOf(main.text, line).line, message: messages.templateUnknownChart(id, chartIds.sort()) }));
  });

  it.each(['{{> ../../etc/passwd}}', '{{> ../charts/deals}}', '{{> "/etc/passwd"}}'])('refuses the partial %s with a located error', (line) => {
    const { issues, main } = problemsWith(line);
    const at = issues.find((i) => i.file === main.file && i.line === positionOf(main.text, line).line);
    expect(at, JSON.stringify(issues)).toBeDefined();
    expect(at!.message).toMatch(/^partial "/);
  });
});
