/**
 * Chart SVG -> PDF vectors. The PDF edition and `npm run chart -o X.pdf`
 * both draw chart SVG through here, so a chart looks the same in both.
 *
 * Font naming shared with pdf.ts: the four faces are registered in pdfkit
 * under their FaceKey names ('regular', 'italic', 'bold', 'boldItalic'), and
 * every SVG font-family maps onto them, because chart text was measured with
 * these same files (see charts.ts) and any other face would misalign it.
 */
import pkg from '../../package.json' with { type: 'json' };
import PDFDocument from 'pdfkit';
import type { RenderedChart } from './render.ts';
import { FACE_KEYS, faceFor, openFaces, type FontBytes } from '../text/fonts.ts';
import { messages } from '../support/messages.ts';
import { shareFaceLayouts } from '../pdf/pdfkit-adapter.ts';

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
    imageCallback: (href: string) => never;
    warningCallback: (warning: string) => void;
  },
) => void;

// @ts-expect-error: svg-to-pdfkit is CommonJS without type declarations; its one export is typed above.
import svgToPdfModule from 'svg-to-pdfkit';

const svgToPdf = svgToPdfModule as SvgToPdf;

/** CSS pixels to PDF points: a chart keeps the physical size a browser gives it. */
export const PX_TO_PT = 72 / 96;

/** Default PDF dates: the Unix epoch, as reproducible builds do when no date is given. */
const EPOCH = new Date(0);

/**
 * Registers the four faces in `doc` under their FaceKey names ('regular',
 * 'bold', ...): the process's parsed faces, so shaped words carry over between
 * documents, and pdfkit's word layouts of each face with them (a --watch
 * rebuild or the next report of a batch lays out only words it has not seen).
 */
export function registerFonts(doc: PDFKit.PDFDocument, fonts: FontBytes): void {
  const faces = openFaces(fonts);
  for (const key of FACE_KEYS) doc.registerFont(key, faces[key] as unknown as Buffer);
  shareFaceLayouts(doc);
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

/** Draws a chart's SVG as vectors at (x, y) in points, scaled to width x height points; fonts must be registered first. */
export function drawSvg(
  doc: PDFKit.PDFDocument,
  svg: string,
  x: number,
  y: number,
  options: { width: number; height: number },
): void {
  const warnings: string[] = [];
  svgToPdf(doc, normaliseFontAttributes(svg), x, y, {
    width: options.width,
    height: options.height,
    fontCallback: (_family, bold, italic) => faceFor(bold ? 'bold' : 'normal', italic ? 'italic' : 'normal'),
    // A raster image would defeat the point of vector charts, and fetching one would be a read the spec did not declare.
    imageCallback: (href) => {
      throw new Error(messages.chartPdfImage(href.slice(0, 80)));
    },
    warningCallback: (warning) => warnings.push(warning),
  });
  // svg-to-pdfkit warns on markup it cannot draw; silently dropping part of a chart would publish a wrong figure.
  if (warnings.length) throw new Error(messages.chartPdfWarnings(warnings));
}

/** A one-page PDF sized to the chart, drawn as vectors with embedded fonts; byte-identical for the same chart, fonts and date. */
export async function renderChartPdf(
  chart: RenderedChart,
  fonts: FontBytes,
  options: { creationDate?: Date } = {},
): Promise<Uint8Array> {
  const date = options.creationDate ?? EPOCH;
  const width = chart.width * PX_TO_PT;
  const height = chart.height * PX_TO_PT;
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
  doc.addStructure(doc.struct('Figure', { alt: chart.description }, () => drawSvg(doc, chart.svg, 0, 0, { width, height })));
  doc.end();
  await done;
  return new Uint8Array(Buffer.concat(chunks));
}
