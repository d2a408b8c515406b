/**
 * Chart images: the files a chart's image marks show, and the chart with them
 * inlined as data: URLs, for the outputs that request nothing (the HTML
 * edition, chart SVG files, resvg's PNG). Reading is the caller's: an href
 * here is a path vega's fenced loader let through, relative to the spec's
 * folder, so these functions only find and replace.
 *
 *   SVG ─imageHrefs─▶ href[] ─(caller reads bytes)─▶ Map<href, bytes> ─inlineSvgImages─▶ SVG with data: URLs
 */
import { createHash } from 'node:crypto';
import { decodeXml, escapeXml } from '../support/text.ts';
import type { ChartDrawing, RenderedChart } from './render.ts';

const IMAGE_HREF = /(<image\b[^>]*?\s(?:xlink:)?href=")([^"]*)"/g;

/** The image type of some bytes by their signature, for a data: URL. */
export function imageType(bytes: Uint8Array): string | undefined {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(16, bytes.byteLength));
  if (head.toString('latin1', 1, 4) === 'PNG') return 'image/png';
  if (head[0] === 0xff && head[1] === 0xd8) return 'image/jpeg';
  if (head.toString('latin1', 0, 3) === 'GIF') return 'image/gif';
  if (head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(512, bytes.byteLength)).toString('utf8');
  return /<svg[\s>]/.test(text) ? 'image/svg+xml' : undefined;
}

/** The distinct hrefs (decoded from XML) of the images an SVG shows, leaving out empty ones (vega refused them) and data: URLs (already inline). */
export function imageHrefs(svg: string): string[] {
  const hrefs = [...svg.matchAll(IMAGE_HREF)].map((match) => decodeXml(match[2]!));
  return [...new Set(hrefs)].filter((href) => href && !href.startsWith('data:'));
}

/** The hrefs of the images in both drawings of a chart. */
export function chartImageHrefs(chart: RenderedChart): string[] {
  return [...new Set([...imageHrefs(chart.svg), ...(chart.narrow ? imageHrefs(chart.narrow.svg) : [])])];
}

/** The data: URL of image bytes, typed by their signature (undefined when they are no image `imageType` knows). */
export function imageDataUrl(bytes: Uint8Array): string | undefined {
  const type = imageType(bytes);
  return type && `data:${type};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`;
}

/** `svg` with each image whose (decoded) href `urls` holds pointing at that URL instead. */
export function inlineSvgImages(svg: string, urls: ReadonlyMap<string, string>): string {
  if (urls.size === 0) return svg;
  return svg.replace(IMAGE_HREF, (match, start: string, href: string) => {
    const url = urls.get(decodeXml(href));
    return url === undefined ? match : `${start}${escapeXml(url)}"`;
  });
}

/**
 * The chart with its images (bytes by href) inlined in both drawings. Its
 * hash then covers the bytes too, so what is keyed on it changes with an image.
 */
export function inlineChartImages(chart: RenderedChart, images: ReadonlyMap<string, Uint8Array>): RenderedChart {
  const hrefs = chartImageHrefs(chart).filter((href) => images.has(href));
  if (hrefs.length === 0) return chart;
  const urls = new Map(hrefs.map((href) => [href, imageDataUrl(images.get(href)!) ?? '']));
  const inline = (drawing: ChartDrawing): ChartDrawing => ({ ...drawing, svg: inlineSvgImages(drawing.svg, urls) });
  const hash = createHash('sha256').update(chart.hash);
  for (const href of hrefs) hash.update(href).update(images.get(href)!);
  return {
    ...chart,
    svg: inlineSvgImages(chart.svg, urls),
    ...(chart.narrow ? { narrow: inline(chart.narrow) } : {}),
    hash: hash.digest('hex'),
  };
}
