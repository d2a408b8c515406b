/**
 * Chart SVG -> PDF vectors. The PDF edition and `npm run chart -o X.pdf`
 * both draw chart SVG through here, so a chart looks the same in both.
 *
 *   chart SVG ──weights as keywords, dash patterns pdfkit accepts,
 *     text split into a <tspan> per face of the fallback chain──▶ SVG
 *     ──svg-to-pdfkit (CSS colours with alpha, images from bytes read before)──▶ pdfkit
 *
 * Font naming shared with pdf.ts: the four faces are registered in pdfkit
 * under their FaceKey names ('regular', 'italic', 'bold', 'boldItalic'), and
 * every SVG font-family maps onto them, because chart text was measured with
 * these same files (see charts.ts) and any other face would misalign it. A
 * character they lack is drawn from the first face of the fallback chain that
 * has it, registered under its file's name on first use.
 */
import pkg from '../../package.json' with { type: 'json' };
import PDFDocument from 'pdfkit';
import { imageDataUrl, imageHrefs } from './images.ts';
import { createChartLoader, type RenderedChart } from './render.ts';
import {
  chainFaceNamed,
  FACE_KEYS,
  faceFor,
  FONT_FAMILY,
  FONT_STACK,
  missingCharacters,
  openFaces,
  splitByFace,
  type FaceKey,
  type FontBytes,
} from '../text/fonts.ts';
import { messages } from '../support/messages.ts';
import { decodeXml, escapeXml } from '../support/text.ts';
import { shareFaceLayouts } from '../pdf/pdfkit-adapter.ts';

/** A colour as svg-to-pdfkit holds it: RGB channels 0-255 and an alpha 0-1. */
type SvgColor = [[number, number, number], number];

type SvgToPdf = (
  doc: PDFKit.PDFDocument,
  svg: string,
  x: number,
  y: number,
  options: {
    width: number;
    height: number;
    assumePt?: boolean;
    fontCallback: (family: string, bold: boolean, italic: boolean) => string;
    imageCallback: (href: string) => Buffer | string;
    colorCallback: (parsed: SvgColor | undefined, raw?: string) => SvgColor | undefined;
    warningCallback: (warning: string) => void;
  },
) => void;

// @ts-expect-error: svg-to-pdfkit is CommonJS without type declarations; its one export is typed above.
import svgToPdfModule from 'svg-to-pdfkit';
// @ts-expect-error: d3-color ships no type declarations; the one function used is typed below.
import { color as d3Color } from 'd3-color';

const svgToPdf = svgToPdfModule as SvgToPdf;
/** d3's CSS colour parser, the one vega itself reads colours with. */
const parseCssColor = d3Color as (text: string) => { rgb(): { r: number; g: number; b: number; opacity: number } } | null;

/** CSS pixels to PDF points: a chart keeps the physical size a browser gives it. */
export const PX_TO_PT = 72 / 96;

/** Default PDF dates: the Unix epoch, as reproducible builds do when no date is given. */
const EPOCH = new Date(0);

// ---------------------------------------------------------------------------
// Fonts

const fontsByDoc = new WeakMap<PDFKit.PDFDocument, { fonts: FontBytes; fallbacks: Set<string> }>();

/**
 * Registers the four faces in `doc` under their FaceKey names ('regular',
 * 'bold', ...): the process's parsed faces, so shaped words carry over between
 * documents, and pdfkit's word layouts of each face with them (a --watch
 * rebuild or the next report of a batch lays out only words it has not seen).
 */
export function registerFonts(doc: PDFKit.PDFDocument, fonts: FontBytes): void {
  const faces = openFaces(fonts);
  for (const key of FACE_KEYS) doc.registerFont(key, faces[key] as unknown as Buffer);
  fontsByDoc.set(doc, { fonts, fallbacks: new Set() });
  shareFaceLayouts(doc);
}

/**
 * Selects a face of the chain by its name (a FaceKey, or a fallback face's
 * file name), registering a fallback face in `doc` on its first use there, so
 * a document embeds only the faces its text needs.
 */
export function useFace(doc: PDFKit.PDFDocument, name: string): PDFKit.PDFDocument {
  const registered = fontsByDoc.get(doc);
  if (registered && !registered.fallbacks.has(name) && !(FACE_KEYS as readonly string[]).includes(name)) {
    const face = chainFaceNamed(registered.fonts, name);
    if (face) doc.registerFont(name, face.font as unknown as Buffer);
    registered.fallbacks.add(name);
  }
  return doc.font(name);
}

/** The face a text element's font-weight and font-style attributes ask for. */
function faceOfAttributes(attrs: string): FaceKey {
  return faceFor(/\sfont-weight="([^"]*)"/.exec(attrs)?.[1], /\sfont-style="([^"]*)"/.exec(attrs)?.[1]);
}

/**
 * svg-to-pdfkit only recognises the keyword `bold`, but vega writes numeric
 * weights as given (600, 700), so weights are normalised to the keyword the
 * face table would choose.
 */
function normaliseFontAttributes(svg: string): string {
  return svg
    .replace(/font-weight="([^"]*)"/g, (_, weight: string) => {
      const face = faceFor(weight, undefined);
      return `font-weight="${face === 'bold' ? 'bold' : 'normal'}"`;
    })
    .replace(/font-style="oblique"/g, 'font-style="italic"');
}

/** Calls `visit` with each <text> element's attributes and the text of each of its text nodes (decoded), and puts back what it returns (XML). */
function mapTextNodes(svg: string, visit: (attrs: string, text: string) => string | undefined): string {
  return svg.replace(/<text\b([^>]*)>([\s\S]*?)<\/text>/g, (element, attrs: string, content: string) => {
    const parts = content.split(/(<[^>]*>)/);
    let changed = false;
    for (let i = 0; i < parts.length; i += 2) {
      const replaced = parts[i] ? visit(attrs, decodeXml(parts[i]!)) : undefined;
      if (replaced !== undefined) {
        parts[i] = replaced;
        changed = true;
      }
    }
    return changed ? `<text${attrs}>${parts.join('')}</text>` : element;
  });
}

/** Each text run a fallback face draws becomes a <tspan> naming that face, so svg-to-pdfkit switches font inside the text. */
function splitTextByFace(svg: string, fonts: FontBytes): string {
  // Most charts are plain ASCII: nothing to split.
  if (!/[^\x00-\x7e]/.test(svg)) return svg;
  return mapTextNodes(svg, (attrs, text) => {
    const key = faceOfAttributes(attrs);
    const runs = splitByFace(fonts, key, text);
    if (runs.every((run) => run.face.name === key)) return undefined;
    return runs.map((run) => (run.face.name === key ? escapeXml(run.text) : `<tspan font-family="${run.face.name}">${escapeXml(run.text)}</tspan>`)).join('');
  });
}

/** The families of a CSS font-family list, unquoted. */
function fontFamilies(list: string): string[] {
  return decodeXml(list)
    .split(',')
    .map((family) => family.trim().replace(/^["']|["']$/g, ''))
    .filter(Boolean);
}

/**
 * Warnings for a chart's text, each naming `file`: a font family the spec
 * names that the project does not ship (it is set in Source Sans 3, as it was
 * measured; a generic family too, since a viewer of the SVG would show its
 * own), and each character no face of the fallback chain draws.
 */
export function checkChartFonts(svg: string, fonts: FontBytes, file: string): string[] {
  const families = new Set<string>();
  const missing = new Set<string>();
  mapTextNodes(svg, (attrs, text) => {
    const family = fontFamilies(/\sfont-family="([^"]*)"/.exec(attrs)?.[1] ?? '')[0];
    if (family && !FONT_STACK.includes(family)) families.add(family);
    for (const char of missingCharacters(fonts, faceOfAttributes(attrs), text)) missing.add(char);
    return undefined;
  });
  return [
    ...[...families].map((family) => messages.chartWarning(file, messages.chartFontNotShipped(family, FONT_FAMILY))),
    ...[...missing].map((char) => messages.chartWarning(file, messages.chartMissingGlyph(char, FONT_STACK))),
  ];
}

// ---------------------------------------------------------------------------
// Dashes and colours

/** Stands in for a zero-length dash, which pdfkit refuses: a dot with round or square caps, as SVG draws it, and nothing with butt caps. */
const DOT = 0.001;

/**
 * A dash pattern pdfkit accepts for an SVG stroke-dasharray and dashoffset:
 * null for a solid line (all zeros, or no gaps, as vega's "1,0" is); zero
 * gaps join the dashes either side; zero dashes become dots. Undefined for a
 * list that is not a valid dash array (SVG then draws solid, as svg-to-pdfkit does).
 */
export function fitDash(values: readonly number[], offset = 0): { dash: number[]; offset: number } | null | undefined {
  if (!values.length || values.some((value) => !(value >= 0 && Number.isFinite(value)))) return undefined;
  const pattern = values.length % 2 ? [...values, ...values] : [...values];
  const pairs: { dash: number; gap: number }[] = [];
  for (let i = 0; i < pattern.length; i += 2) {
    const last = pairs.at(-1);
    if (last && last.gap === 0) {
      last.dash += pattern[i]!;
      last.gap = pattern[i + 1]!;
    } else pairs.push({ dash: pattern[i]!, gap: pattern[i + 1]! });
  }
  if (pairs.every((pair) => pair.gap === 0)) return null;
  let phase = offset;
  const last = pairs.at(-1)!;
  if (last.gap === 0) {
    // The last dash runs on into the first: one dash, starting where the last did.
    pairs[0]!.dash += last.dash;
    phase += last.dash;
    pairs.pop();
  }
  const dash = pairs.flatMap((pair) => [pair.dash || DOT, pair.gap]);
  const total = dash.reduce((sum, length) => sum + length, 0);
  return { dash, offset: ((phase % total) + total) % total };
}

/** Rewrites every stroke-dasharray into one pdfkit accepts (pdfkit throws at a zero length, and vega writes "1,0" for solid). */
function normaliseDashes(svg: string): string {
  return svg.replace(/<[a-z][^>]*\sstroke-dasharray="([^"]*)"[^>]*>/gi, (tag, list: string) => {
    if (list.trim() === 'none') return tag;
    const values = list.trim().split(/[\s,]+/).map(Number);
    const offset = Number(/\sstroke-dashoffset="([^"]*)"/.exec(tag)?.[1] ?? 0);
    const fitted = fitDash(values, Number.isFinite(offset) ? offset : 0);
    if (fitted === undefined) return tag;
    const withoutOffset = tag.replace(/\sstroke-dashoffset="[^"]*"/, '');
    if (fitted === null) return withoutOffset.replace(/\sstroke-dasharray="[^"]*"/, ' stroke-dasharray="none"');
    return withoutOffset.replace(
      /\sstroke-dasharray="[^"]*"/,
      ` stroke-dasharray="${fitted.dash.join(',')}"${fitted.offset ? ` stroke-dashoffset="${fitted.offset}"` : ''}`,
    );
  });
}

/**
 * Reads every colour form CSS allows (#RGB, #RGBA, #RRGGBB, #RRGGBBAA,
 * rgb()/rgba() with numbers or percentages, hsl()/hsla(), names) with its
 * alpha, which svg-to-pdfkit multiplies with fill-opacity and stroke-opacity;
 * its own parser drops 8-digit hex and hsl() (the fill vanished).
 */
function readColor(parsed: SvgColor | undefined, raw?: string): SvgColor | undefined {
  if (raw === undefined) return parsed;
  const color = parseCssColor(raw.trim());
  if (!color) return parsed;
  const { r, g, b, opacity } = color.rgb();
  const channel = (value: number) => (Number.isFinite(value) ? Math.round(Math.min(255, Math.max(0, value))) : 0);
  return [[channel(r), channel(g), channel(b)], Number.isFinite(opacity) ? Math.min(1, Math.max(0, opacity)) : 1];
}

// ---------------------------------------------------------------------------
// Drawing

export interface DrawSvgOptions {
  width: number;
  height: number;
  /**
   * Image bytes by the href the SVG names, read beforehand; 'refuse' (the
   * default) throws at any image, for an edition that allows only vectors.
   */
  images?: ReadonlyMap<string, Uint8Array> | 'refuse';
  /** Where what svg-to-pdfkit cannot draw is reported, naming `file`; without it that is an error, as a published figure must not lose a part. */
  warnings?: string[];
  file?: string;
}

/** Image bytes for svg-to-pdfkit: never a string it would take for a path to read. */
function imageSource(href: string, images: DrawSvgOptions['images']): Buffer | string {
  if (images === undefined || images === 'refuse') throw new Error(messages.chartPdfImage(href.slice(0, 80)));
  const bytes = images.get(href);
  // PNG and JPEG go as data: URLs, which pdfkit embeds once per document however often a chart shows them (a Buffer, at every use).
  const url = bytes && imageDataUrl(bytes);
  if (url && /^data:image\/(png|jpeg);/.test(url)) return url;
  if (bytes) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // pdfkit decodes base64 PNG and JPEG data itself; anything else fails to open and is warned about.
  return /^data:image\/(png|jpeg);base64,/i.test(href) ? href : Buffer.alloc(0);
}

/** Draws a chart's SVG as vectors at (x, y) in points, scaled to width x height points; fonts must be registered first. */
export function drawSvg(doc: PDFKit.PDFDocument, svg: string, x: number, y: number, options: DrawSvgOptions): void {
  const problems: string[] = [];
  const fonts = fontsByDoc.get(doc)?.fonts;
  // An image without an href (vega writes one when its loader refuses the URL) draws nothing in a browser either.
  let prepared = normaliseDashes(normaliseFontAttributes(svg)).replace(/<image\b[^>]*?\s(?:xlink:)?href=""[^>]*\/>/g, '');
  if (fonts) prepared = splitTextByFace(prepared, fonts);
  svgToPdf(doc, prepared, x, y, {
    width: options.width,
    height: options.height,
    fontCallback: (family, bold, italic) => {
      // A run splitTextByFace gave a fallback face; every other family is set in the face the text was measured with.
      if (fonts && !(FACE_KEYS as readonly string[]).includes(family) && chainFaceNamed(fonts, family)) {
        useFace(doc, family);
        return family;
      }
      return faceFor(bold ? 'bold' : 'normal', italic ? 'italic' : 'normal');
    },
    imageCallback: (href) => imageSource(href, options.images),
    colorCallback: readColor,
    warningCallback: (warning) => problems.push(warning),
  });
  if (!problems.length) return;
  // svg-to-pdfkit warns on markup it cannot draw; silently dropping part of a chart would publish a wrong figure.
  if (!options.warnings) throw new Error(messages.chartPdfWarnings(problems));
  for (const problem of new Set(problems)) options.warnings.push(messages.chartWarning(options.file ?? 'chart', messages.chartPdfWarning(problem)));
}

/** Reads a file by a path relative to the spec's folder (the caller keeps reads inside it). */
export type ChartReadBytes = (relativePath: string) => Promise<Uint8Array>;

export interface ChartPdfOptions {
  creationDate?: Date;
  /** Reads the images the chart shows; without it, images are refused. */
  readFile?: ChartReadBytes;
  /** Where recoverable problems go, each naming `file`. */
  warnings?: string[];
  file?: string;
}

const IMAGE_TAG = /<image\b[^>]*?\s(?:xlink:)?href="([^"]*)"[^>]*\/>/g;

/**
 * The bytes of each image the SVG shows, read through `readFile` after the
 * chart loader's own fence (no URL, nothing outside the spec's folder). An
 * image that cannot be read is left out of the SVG, with a warning.
 */
async function readImages(svg: string, readFile: ChartReadBytes, warn: (detail: string) => void): Promise<{ svg: string; images: Map<string, Uint8Array> }> {
  const fence = createChartLoader(() => Promise.reject(new Error('the fence only checks paths')));
  const images = new Map<string, Uint8Array>();
  const unread = new Set<string>();
  for (const href of imageHrefs(svg)) {
    try {
      const { href: path } = await fence.sanitize(href, { context: 'image' });
      images.set(href, await readFile(path));
    } catch (error) {
      warn(messages.chartPdfImageUnread(href, (error as Error).message));
      unread.add(href);
    }
  }
  const kept = unread.size ? svg.replace(IMAGE_TAG, (tag, attr: string) => (unread.has(decodeXml(attr)) ? '' : tag)) : svg;
  return { svg: kept, images };
}

/** A one-page PDF sized to the chart, drawn as vectors with embedded fonts; byte-identical for the same chart, fonts and date. */
export async function renderChartPdf(chart: RenderedChart, fonts: FontBytes, options: ChartPdfOptions = {}): Promise<Uint8Array> {
  const date = options.creationDate ?? EPOCH;
  const width = chart.width * PX_TO_PT;
  const height = chart.height * PX_TO_PT;
  const file = options.file ?? chart.id;
  const warnings = options.warnings;
  const warn = (detail: string) => {
    if (!warnings) throw new Error(detail);
    warnings.push(messages.chartWarning(file, detail));
  };
  const { svg, images } = options.readFile ? await readImages(chart.svg, options.readFile, warn) : { svg: chart.svg, images: 'refuse' as const };
  // pdfkit derives the file ID from the info dictionary (md5 of CreationDate and
  // the other keys), so fixing the dates fixes the ID; nothing else is random.
  const doc = new PDFDocument({
    size: [width, height],
    margin: 0,
    autoFirstPage: true,
    tagged: true,
    displayTitle: true,
    lang: 'en',
    info: {
      Title: chart.title,
      Subject: chart.description,
      Creator: pkg.name,
      Producer: 'PDFKit',
      CreationDate: date,
      ModDate: date,
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });
  registerFonts(doc, fonts);
  // A tagged Figure with alt text, so a screen reader announces the data, not a heap of glyphs.
  doc.addStructure(doc.struct('Figure', { alt: chart.description }, () => drawSvg(doc, svg, 0, 0, { width, height, images, warnings, file })));
  doc.end();
  await done;
  return new Uint8Array(Buffer.concat(chunks));
}
