/**
 * The faithful-render gate of the gallery corpus's README, piece by piece:
 * the SVG drawn by headless Chromium with the project's font files, the PDF
 * rasterised by poppler at the same pixel size, both 4x4 box-blurred and
 * compared with pixelmatch; the SVG's visible text against `pdftotext`;
 * `pdffonts` (every font embedded); `pdfimages -list` (no raster image).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import pixelmatch from 'pixelmatch';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { FACE_KEYS, FONT_FAMILY, fontPaths, type FaceKey } from '../../src/text/fonts.ts';

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

/** The README's thresholds. */
export const GATE = { blur: 4, threshold: 0.2, maxDiffRatio: 0.005 } as const;

/** An RGBA raster. */
export interface Raster {
  width: number;
  height: number;
  data: Uint8Array;
}

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

/** Decodes a PNG into RGBA. */
export function decodePng(bytes: Uint8Array): Raster {
  const png = PNG.sync.read(Buffer.from(bytes));
  return { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
}

/** Encodes an RGBA raster as PNG. */
export function encodePng(raster: Raster): Buffer {
  const png = new PNG({ width: raster.width, height: raster.height });
  png.data = Buffer.from(raster.data.buffer, raster.data.byteOffset, raster.data.byteLength);
  return PNG.sync.write(png);
}

async function tool(command: string, args: string[]): Promise<Buffer> {
  const { stdout } = await run(command, args, { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 });
  return stdout;
}

/** The PDF's first page rasterised by poppler's pdftoppm to exactly width x height pixels. */
export async function rasterisePdf(file: string, width: number, height: number): Promise<Raster> {
  return decodePng(await tool('pdftoppm', ['-png', '-singlefile', '-scale-to-x', String(width), '-scale-to-y', String(height), file]));
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

/**
 * A box blur of `size` x `size` pixels, edges clamped: lets anti-aliasing
 * and sub-pixel placement differ between rasterisers while a missing or
 * misplaced mark still shows. Two one-dimensional passes over RGBA.
 */
export function boxBlur(raster: Raster, size: number = GATE.blur): Raster {
  const { width, height } = raster;
  const rows = blurPass(Float32Array.from(raster.data), width, height, 4, width * 4, size);
  const both = blurPass(rows, height, width, width * 4, 4, size);
  const data = new Uint8Array(both.length);
  for (let i = 0; i < both.length; i++) data[i] = Math.round(both[i]!);
  return { width, height, data };
}

/**
 * One pass: `lines` lines of `length` pixels, a pixel `step` values from the
 * next along the line and `stride` from the next line; each output averages
 * the window from 1 before to size-2 after it (for size 4), clipped to the line.
 */
function blurPass(source: Float32Array, length: number, lines: number, step: number, stride: number, size: number): Float32Array {
  const out = new Float32Array(source.length);
  const before = Math.floor((size - 1) / 2);
  const after = size - 1 - before;
  for (let line = 0; line < lines; line++) {
    const base = line * stride;
    for (let c = 0; c < 4; c++) {
      for (let x = 0; x < length; x++) {
        const from = Math.max(0, x - before);
        const to = Math.min(length - 1, x + after);
        let sum = 0;
        for (let k = from; k <= to; k++) sum += source[base + k * step + c]!;
        out[base + x * step + c] = sum / (to - from + 1);
      }
    }
  }
  return out;
}

/** The share of pixels that differ between the two blurred rasters, and pixelmatch's diff image. */
export function comparePixels(a: Raster, b: Raster): { ratio: number; diff: Raster } {
  const { width, height } = a;
  const diff = new Uint8Array(width * height * 4);
  const differing = pixelmatch(boxBlur(a).data, boxBlur(b).data, diff, width, height, { threshold: GATE.threshold, includeAA: true });
  return { ratio: differing / (width * height), diff: { width, height, data: diff } };
}

/** The characters of `drawn` (whitespace aside, NFKC) that `found` lacks, each once. */
export function missingCharacters(drawn: string, found: string): string[] {
  const chars = (text: string) => new Set(text.normalize('NFKC').replace(/\s+/g, ''));
  const present = chars(found);
  return [...chars(drawn)].filter((char) => !present.has(char));
}
