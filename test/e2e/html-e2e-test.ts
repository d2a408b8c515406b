/**
 * The HTML edition in a real browser and the Nu HTML Checker: WCAG 2.1 AA by
 * axe-core in light and dark, no horizontal scroll on a 360 px phone, no
 * request leaving the file, valid HTML. Runs on the fixture page always and
 * on the real build once the briefing templates exist.
 *
 * Needs Debian `chromium` (/usr/bin/chromium) and a JRE for vnu.jar.
 * Set HTML_SCREENSHOT_DIR=dir to also save desktop, phone and dark screenshots.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import axe from 'axe-core';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/html/render.ts';
import { buildFixtureBriefing, buildFixtureCharts, readFixtureFonts } from '../fixtures/html/fixture.ts';

// The few browser globals the page.evaluate callbacks use: the project's
// tsconfig has no DOM lib, so that Node code cannot reach for one by mistake.
declare const document: {
  fonts: { ready: Promise<unknown>; check(font: string): boolean };
  documentElement: { scrollWidth: number; clientWidth: number };
  body: unknown;
  querySelector(selector: string): unknown;
  querySelectorAll(selector: string): Iterable<unknown>;
};
declare const window: unknown;
declare function getComputedStyle(
  element: unknown,
  pseudo?: string,
): { content: string; display: string; backgroundColor: string; color: string; fontFamily: string; fontSize: string };
type SvgNode = { getBoundingClientRect(): { width: number; height: number } };

const run = promisify(execFile);
const CHROMIUM = '/usr/bin/chromium';
const VNU = 'node_modules/vnu-jar/build/dist/vnu.jar';
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const REPORT_ID = 'catl-ai-stack-briefing';
const screenshotDir = process.env.HTML_SCREENSHOT_DIR;

let browser: Browser;
let workDir: string;

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  workDir = await mkdtemp(join(tmpdir(), 'html-e2e-'));
});

afterAll(async () => {
  await browser?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

interface Opened {
  page: Page;
  /** Every request the page made, and the ones that failed. */
  requests: string[];
  failed: string[];
  /** Console errors, which is where CSP violations show. */
  errors: string[];
}

async function open(file: string, options: { width: number; colorScheme: 'light' | 'dark' }): Promise<Opened> {
  const context = await browser.newContext({ viewport: { width: options.width, height: 900 }, colorScheme: options.colorScheme });
  const page = await context.newPage();
  const opened: Opened = { page, requests: [], failed: [], errors: [] };
  page.on('request', (request) => opened.requests.push(request.url()));
  page.on('requestfailed', (request) => opened.failed.push(`${request.url()} ${request.failure()?.errorText ?? ''}`));
  page.on('console', (message) => {
    if (message.type() === 'error') opened.errors.push(message.text());
  });
  page.on('pageerror', (error) => opened.errors.push(error.message));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  await page.evaluate(() => document.fonts.ready.then(() => undefined));
  return opened;
}

async function runAxe(page: Page): Promise<string[]> {
  // Evaluated through the debugging protocol: the page's CSP (rightly) forbids injected script tags.
  await page.evaluate(axe.source);
  const violations = await page.evaluate(async (tags) => {
    const result = await (window as unknown as { axe: typeof axe }).axe.run(document, { runOnly: { type: 'tag', values: tags } });
    return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }, WCAG_TAGS);
  return violations;
}

/** The checks every HTML edition must pass, run against one file. */
function describeEdition(name: string, getFile: () => string) {
  describe(name, () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      it(`has no WCAG 2.1 AA violations in ${colorScheme} mode, and requests nothing`, async () => {
        const file = getFile();
        const { page, requests, failed, errors } = await open(file, { width: 1200, colorScheme });
        expect(await runAxe(page)).toEqual([]);
        // The page itself is the one request; fonts are data: URIs.
        const own = pathToFileURL(file).href;
        expect(requests.filter((url) => url !== own && !url.startsWith('data:'))).toEqual([]);
        expect(failed).toEqual([]);
        expect(errors).toEqual([]);
        // The embedded face is the one in use, so the CSP let the data: fonts load.
        expect(await page.evaluate(() => document.fonts.check('16px "Source Sans 3"'))).toBe(true);
        const family = await page.evaluate(() => getComputedStyle(document.body).fontFamily);
        expect(family.startsWith('"Source Sans 3"')).toBe(true);
        // Charts are drawn for white paper, so they sit on a white card in both schemes.
        const cards = await page.$$eval('.chart-card', (nodes) => nodes.map((n) => getComputedStyle(n).backgroundColor));
        expect(cards.length).toBeGreaterThan(0);
        for (const colour of cards) expect(colour).toBe('rgb(255, 255, 255)');
        if (screenshotDir) {
          const shot = colorScheme === 'light' ? `${name}-desktop.png` : `${name}-dark.png`;
          await page.screenshot({ path: join(screenshotDir, shot) });
        }
        await page.context().close();
      });
    }

    it('opens a note beside its marker with no script on the page, keyboard first, axe-clean in both schemes', async () => {
      for (const colorScheme of ['light', 'dark'] as const) {
        const { page, errors } = await open(getFile(), { width: 360, colorScheme });
        expect(await page.$$eval('script', (nodes) => nodes.length)).toBe(0);
        const marker = page.locator('button.note-ref').first();
        const target = await marker.getAttribute('popovertarget');
        const popover = page.locator(`[id="${target}"]`);
        expect(await popover.isVisible()).toBe(false);
        await marker.focus();
        await page.keyboard.press('Enter');
        expect(await popover.isVisible()).toBe(true);
        expect(await popover.textContent()).toMatch(/^Note 1\. .+ In the notes$/s);
        // Beside the text: it opens within the screen, below its marker.
        const [m, b] = [await marker.boundingBox(), await popover.boundingBox()];
        expect(b!.x).toBeGreaterThanOrEqual(0);
        expect(b!.x + b!.width).toBeLessThanOrEqual(360);
        expect(b!.y).toBeGreaterThanOrEqual(m!.y);
        expect(await runAxe(page)).toEqual([]);
        if (screenshotDir && colorScheme === 'light') await page.screenshot({ path: join(screenshotDir, `${name}-phone-note.png`) });
        // Escape closes it and the focus is back on the marker.
        await page.keyboard.press('Escape');
        expect(await popover.isVisible()).toBe(false);
        expect(await page.evaluate(() => (document as unknown as { activeElement: { id: string } }).activeElement.id)).toBe(await marker.getAttribute('id'));
        expect(errors).toEqual([]);
        await page.context().close();
      }
    });

    it('does not scroll sideways on a 360 px phone, in either scheme', async () => {
      for (const colorScheme of ['light', 'dark'] as const) {
        const { page } = await open(getFile(), { width: 360, colorScheme });
        const { scrollWidth, clientWidth } = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          clientWidth: document.documentElement.clientWidth,
        }));
        expect(clientWidth).toBe(360);
        expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
        // Every chart fits its column.
        const overflowing = await page.$$eval('figure svg', (svgs) =>
          svgs.filter((svg) => svg.getBoundingClientRect().right > document.documentElement.clientWidth).length,
        );
        expect(overflowing).toBe(0);
        if (screenshotDir && colorScheme === 'light') await page.screenshot({ path: join(screenshotDir, `${name}-phone.png`), fullPage: true });
        await page.context().close();
      }
    });

    it("draws every chart's text at least 11 px tall on a 360 px phone, in either scheme, and the page does not scroll sideways", async () => {
      for (const colorScheme of ['light', 'dark'] as const) {
        const { page } = await open(getFile(), { width: 360, colorScheme });
        const measured = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          // Per figure, each <text> with words that is drawn (display:none gives an empty box): the
          // height of its box, and its font size as drawn (its own size times its SVG's scale).
          figures: [...document.querySelectorAll('figure')].map((figure) =>
            [...(figure as { querySelectorAll(s: string): Iterable<unknown> }).querySelectorAll('svg text')]
              .map((node) => node as SvgNode & { textContent: string; ownerSVGElement: SvgNode & { width: { baseVal: { value: number } } } })
              .filter((node) => node.textContent.trim() !== '' && node.getBoundingClientRect().width > 0)
              .map((node) => {
                const svg = node.ownerSVGElement;
                const scale = svg.getBoundingClientRect().width / svg.width.baseVal.value;
                return { text: node.textContent.trim(), height: node.getBoundingClientRect().height, size: parseFloat(getComputedStyle(node).fontSize) * scale };
              }),
          ),
        }));
        expect(measured.scrollWidth).toBe(360);
        expect(measured.figures.length).toBeGreaterThan(0);
        for (const texts of measured.figures) {
          expect(texts.length).toBeGreaterThan(0);
          for (const { text, height, size } of texts) {
            expect(height, `"${text}" (${colorScheme})`).toBeGreaterThanOrEqual(11);
            expect(size, `"${text}" (${colorScheme})`).toBeGreaterThanOrEqual(11);
          }
        }
        if (screenshotDir && colorScheme === 'light') {
          await page.locator('figure').first().screenshot({ path: join(screenshotDir, `${name}-phone-chart.png`) });
        }
        await page.context().close();
      }
    });

    it('prints without the navigation and with links spelled out', async () => {
      const { page } = await open(getFile(), { width: 1200, colorScheme: 'dark' });
      await page.emulateMedia({ media: 'print', colorScheme: 'dark' });
      const printed = await page.evaluate(() => ({
        nav: getComputedStyle(document.querySelector('nav')!).display,
        background: getComputedStyle(document.body).backgroundColor,
        text: getComputedStyle(document.body).color,
        // An outside link's address follows it on paper (the fixture has such links; the briefing may not).
        linkSuffix: [...document.querySelectorAll('article a[href^="http"]')].map((a) => getComputedStyle(a, '::after').content),
      }));
      expect(printed).toMatchObject({ nav: 'none', background: 'rgb(255, 255, 255)', text: 'rgb(0, 0, 0)' });
      for (const content of printed.linkSuffix) expect(content).toContain('http');
      await page.context().close();
    });

    it('prints the full-width chart even from a page laid out for a phone', async () => {
      const { page } = await open(getFile(), { width: 360, colorScheme: 'light' });
      const shown = () =>
        page.$$eval('.chart-card', (cards) =>
          cards.map((card) =>
            [...(card as { children: Iterable<unknown> }).children]
              .filter((svg) => getComputedStyle(svg).display !== 'none')
              .map((svg) => ((svg as { classList: { contains(name: string): boolean } }).classList.contains('chart-narrow') ? 'narrow' : 'wide')),
          ),
        );
      // On the phone, some card shows its narrow drawing; on paper, every card shows only its wide one (or its one drawing).
      expect((await shown()).flat()).toContain('narrow');
      await page.emulateMedia({ media: 'print' });
      for (const visible of await shown()) expect(visible).toEqual(['wide']);
      await page.context().close();
    });

    it('passes the Nu HTML Checker with zero errors', async () => {
      const { stdout, stderr } = await run('java', ['-jar', VNU, '--errors-only', '--format', 'json', '--stdout', getFile()], {
        maxBuffer: 16 * 1024 * 1024,
      }).catch((error: { stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? '', stderr: error.stderr ?? '' }));
      const report = JSON.parse(stdout || stderr) as { messages: { type: string; subType?: string; message: string; lastLine?: number }[] };
      // The checker's CSS grammar predates CSS Anchor Positioning (shipped in Chromium 125), which
      // places a note's popover beside its marker, and container queries (Chromium 105), which pick a
      // chart's narrow drawing; those names, and nothing else, it may not know.
      const unknownToChecker = /^CSS: (?:“(position-area|position-try-fallbacks|container-type)”: Property “\1” doesn't exist\.|Unrecognized at-rule “@container”)$/;
      const errors = report.messages.filter((m) => (m.type === 'error' || m.subType === 'fatal') && !unknownToChecker.test(m.message));
      expect(errors.map((m) => `${m.lastLine ?? '?'}: ${m.message}`)).toEqual([]);
    });
  });
}

// The fixture: hostile strings, a table, footnotes, two charts with clashing ids.
let fixtureFile = '';
beforeAll(async () => {
  fixtureFile = join(workDir, 'fixture.html');
  await writeFile(fixtureFile, renderHtml(buildFixtureBriefing(), buildFixtureCharts(), readFixtureFonts()));
});
describeEdition('fixture', () => fixtureFile);

// The real briefing, built by the CLI from the dataset, once the content templates exist.
const hasContent = existsSync('templates/briefing/briefing.md.hbs');
let builtFile = '';
describe.skipIf(!hasContent)('built briefing', () => {
  beforeAll(async () => {
    const out = join(workDir, 'output');
    await run(process.execPath, ['bin/run.js', 'report', '--only', REPORT_ID, '--format', 'html', '--out', out, '--quiet']);
    builtFile = join(out, `${REPORT_ID}.html`);
    expect((await readFile(builtFile, 'utf8')).startsWith('<!doctype html>')).toBe(true);
  });
  describeEdition('built', () => builtFile);
});
