/**
 * The faithful-render gate's tools (the corpus README): the SVG drawn by
 * headless Chromium with the project's font files, the PDF rasterised by
 * poppler's pdftoppm at the same pixel size, its text by `pdftotext`, its
 * fonts by `pdffonts`, its images by `pdfimages -list`. The arithmetic on
 * what they return is in pixels.ts.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { FACE_KEYS, FONT_FAMILY, fontPaths, type FaceKey } from '../../src/text/fonts.ts';
import { decodePng, type Raster } from './pixels.ts';

// The browser globals the page.evaluate callback uses: the project's tsconfig
// has no DOM lib, so that Node code cannot reach for one by mistake.
interface DomBox {
  left: number;
  right: number;
  top: number;
  bottom: number;
  width: number;
  height: number;
}
interface DomElement {
  textContent: string | null;
  parentElement: DomElement | null;
  getBoundingClientRect(): DomBox;
}
declare const document: {
  fonts: { ready: Promise<unknown> };
  getElementById(id: string): { innerHTML: string };
  querySelectorAll(selector: string): Iterable<DomElement>;
};
declare function getComputedStyle(element: DomElement): { opacity: string; fill: string; fillOpacity: string; stroke: string; visibility: string; display: string };

const run = promisify(execFile);

/** What Chromium drew for one SVG. */
export interface Painted {
  raster: Raster;
  /** The text of every <text> element the browser draws (not hidden, not transparent, inside the chart). */
  text: string;
}

const FACE_CSS: Record<FaceKey, string> = {
  regular: 'font-weight: 400; font-style: normal',
  italic: 'font-weight: 400; font-style: italic',
  bold: 'font-weight: 700; font-style: normal',
  boldItalic: 'font-weight: 700; font-style: italic',
};

/** @font-face rules for the project's own font files, as data: URLs (the page requests nothing). */
async function fontFaceCss(): Promise<string> {
  const paths = fontPaths();
  const rules = await Promise.all(
    FACE_KEYS.map(async (key) => {
      const woff = (await readFile(paths[key])).toString('base64');
      return `@font-face { font-family: "${FONT_FAMILY}"; ${FACE_CSS[key]}; src: url(data:font/woff;base64,${woff}) format("woff"); }`;
    }),
  );
  return rules.join('\n');
}

/**
 * One Chromium page reused for every SVG: the SVG is set inline into a page
 * that declares the fonts, the viewport sized to the chart. The page is a
 * file in the specs' folder, so an image mark's relative URL resolves as it
 * would for the SVG file written there. Calls are serialised.
 */
export class SvgPainter {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly browser: Browser,
    private readonly page: Page,
  ) {}

  /** Starts Debian's Chromium and loads the page (`pageFile`, written by the caller into the specs' folder). */
  static async launch(pageFile: string, writePage: (html: string) => Promise<void>): Promise<SvgPainter> {
    const css = await fontFaceCss();
    await writePage(`<!doctype html><html><head><meta charset="utf-8"><style>${css}
html, body { margin: 0; padding: 0; background: #fff; } #chart > svg { display: block; }</style></head><body><div id="chart"></div></body></html>`);
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    const page = await (await browser.newContext({ deviceScaleFactor: 1 })).newPage();
    // A loaded machine can take long over one big SVG; a hang would still end the run.
    page.setDefaultTimeout(120_000);
    await page.goto(pathToFileURL(pageFile).href, { waitUntil: 'load' });
    return new SvgPainter(browser, page);
  }

  /** Draws `svg` at width x height CSS pixels. */
  paint(svg: string, width: number, height: number): Promise<Painted> {
    const painted = this.queue.then(() => this.draw(svg, width, height));
    this.queue = painted.catch(() => undefined);
    return painted;
  }

  private async draw(svg: string, width: number, height: number): Promise<Painted> {
    await this.page.setViewportSize({ width, height });
    const text = await this.page.evaluate(
      async ([markup, w, h]) => {
        document.getElementById('chart').innerHTML = markup;
        await document.fonts.ready;
        const shown = (element: DomElement) => {
          const box = element.getBoundingClientRect();
          if (box.width === 0 || box.height === 0 || box.right <= 0 || box.bottom <= 0 || box.left >= w || box.top >= h) return false;
          const style = getComputedStyle(element);
          if (style.visibility !== 'visible' || style.display === 'none') return false;
          if ((style.fill === 'none' || Number(style.fillOpacity) === 0) && style.stroke === 'none') return false;
          for (let node: DomElement | null = element; node; node = node.parentElement) if (Number(getComputedStyle(node).opacity) === 0) return false;
          return true;
        };
        return [...document.querySelectorAll('#chart text')]
          .filter(shown)
          .map((element) => element.textContent ?? '')
          .join('\n');
      },
      [svg, width, height] as const,
    );
    const png = await this.page.screenshot({ type: 'png', clip: { x: 0, y: 0, width, height }, animations: 'disabled' });
    return { raster: decodePng(png), text };
  }

  /** Closes the browser. */
  async close(): Promise<void> {
    await this.browser.close();
  }
}

async function tool(command: string, args: string[]): Promise<Buffer> {
  const { stdout } = await run(command, args, { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 });
  return stdout;
}

/** The PDF's first page rasterised by poppler's pdftoppm to exactly width x height pixels. */
export async function rasterisePdf(file: string, width: number, height: number): Promise<Raster> {
  // PPM, not PNG: raw RGB, nothing to inflate.
  return decodePpm(await tool('pdftoppm', ['-singlefile', '-scale-to-x', String(width), '-scale-to-y', String(height), file]));
}

/**
 * The same page rasterised by pdftocairo (poppler's Cairo backend) instead of
 * Splash: the corpus README names it as closer to Chromium for sub-pixel
 * hairlines, so an exception for Splash's rendering of them is re-measured
 * with it on every run.
 */
export async function rasterisePdfCairo(file: string, width: number, height: number): Promise<Raster> {
  return decodePng(await tool('pdftocairo', ['-png', '-singlefile', '-scale-to-x', String(width), '-scale-to-y', String(height), file, '-']));
}

/** Decodes a binary PPM (P6, 8 bits) into RGBA. */
function decodePpm(bytes: Buffer): Raster {
  const header = /^P6\s+(\d+)\s+(\d+)\s+255\s/.exec(bytes.subarray(0, 64).toString('latin1'));
  if (!header) throw new Error('pdftoppm wrote no 8-bit PPM');
  const [width, height] = [Number(header[1]), Number(header[2])];
  const rgb = bytes.subarray(header[0].length);
  const data = new Uint8Array(width * height * 4);
  for (let i = 0, j = 0; i < data.length; i += 4, j += 3) {
    data[i] = rgb[j]!;
    data[i + 1] = rgb[j + 1]!;
    data[i + 2] = rgb[j + 2]!;
    data[i + 3] = 255;
  }
  return { width, height, data };
}

/** The PDF's text as pdftotext reads it. */
export async function pdfText(file: string): Promise<string> {
  return (await tool('pdftotext', ['-enc', 'UTF-8', file, '-'])).toString('utf8');
}

/** The fonts pdffonts lists as not embedded (name and type). */
export async function unembeddedFonts(file: string): Promise<string[]> {
  const rows = (await tool('pdffonts', [file])).toString('utf8').split('\n').slice(2).filter((row) => row.trim());
  // name, type (may hold spaces), encoding, emb, sub, uni, object, id
  return rows.filter((row) => row.trim().split(/\s+/).at(-5) !== 'yes').map((row) => row.trim().replace(/\s+/g, ' '));
}

/** How many raster images pdfimages lists in the PDF. */
export async function imageCount(file: string): Promise<number> {
  return (await tool('pdfimages', ['-list', file])).toString('utf8').split('\n').slice(2).filter((row) => row.trim()).length;
}
