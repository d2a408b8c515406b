/**
 * Chart SVG -> PNG, rasterised by resvg (@resvg/resvg-js, a Rust renderer
 * shipped as prebuilt binaries in npm packages; no browser) with the
 * briefing's own faces and no system font, so a PNG comes out the same on
 * every machine. Its pixel size is the chart's size times the scale.
 *
 *   SVG ─images inlined (read through the caller's fence)─▶ SVG
 *     ─resvg(fontFiles: the faces as sfnt files, loadSystemFonts: false)─▶ PNG
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FACE_KEYS, FONT_FAMILY, type FontBytes } from '../text/fonts.ts';
import { textByFace } from './embed-fonts.ts';

type ResvgModule = typeof import('@resvg/resvg-js');

/** Reads the bytes of an image a chart names, by the href vega wrote (a path the chart loader has already fenced). */
export type ReadImage = (href: string) => Promise<Uint8Array>;

export interface Rasterizer {
  /** The PNG of `svg` at `scale` device pixels per CSS pixel. */
  render(svg: string, scale: number, readImage?: ReadImage): Promise<Uint8Array>;
  /** Removes the font files; the rasterizer is unusable after. */
  close(): void;
}

/** The image type of some bytes by their signature, for a data: URL. */
function imageType(bytes: Uint8Array): string | undefined {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(16, bytes.byteLength));
  if (head.toString('latin1', 1, 4) === 'PNG') return 'image/png';
  if (head[0] === 0xff && head[1] === 0xd8) return 'image/jpeg';
  if (head.toString('latin1', 0, 3) === 'GIF') return 'image/gif';
  if (head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(512, bytes.byteLength)).toString('utf8');
  return /<svg[\s>]/.test(text) ? 'image/svg+xml' : undefined;
}

/**
 * resvg would read a relative href from the process's working folder, not
 * the spec's: every image is inlined as a data: URL from `readImage` first,
 * so what it draws is exactly what the caller's fence allows.
 */
async function inlineImages(svg: string, readImage: ReadImage | undefined): Promise<string> {
  const hrefs = [...new Set([...svg.matchAll(/<image\b[^>]*?\s(?:xlink:)?href="([^"]*)"/g)].map((m) => m[1]!))].filter((href) => !href.startsWith('data:'));
  if (hrefs.length === 0) return svg;
  const urls = new Map<string, string>();
  for (const href of hrefs) {
    const path = href.replace(/&amp;/g, '&');
    if (!readImage) throw new Error(`cannot read image "${path}": no image reader given`);
    const bytes = await readImage(path);
    const type = imageType(bytes);
    if (!type) throw new Error(`"${path}" is not a PNG, JPEG, GIF, WebP or SVG image`);
    urls.set(href, `data:${type};base64,${Buffer.from(bytes).toString('base64')}`);
  }
  return svg.replace(/(<image\b[^>]*?\s(?:xlink:)?href=")([^"]*)"/g, (match, start: string, href: string) => (urls.has(href) ? `${start}${urls.get(href)}"` : match));
}

/**
 * A rasterizer with the briefing's faces, and each fallback face of the chain
 * (fonts.ts) that a chart's text needs, written on its first use.
 */
export function createRasterizer(fonts: FontBytes): Rasterizer {
  // resvg-js takes fonts as files only (and reads no WOFF): the unpacked faces go to a private temp folder for the rasterizer's life.
  const dir = mkdtempSync(join(tmpdir(), 'briefing-png-fonts-'));
  const files = new Map<string, string>();
  const fileOf = (name: string, sfnt: Uint8Array) => {
    let file = files.get(name);
    if (!file) {
      file = join(dir, `${name}.${new TextDecoder().decode(sfnt.subarray(0, 4)) === 'OTTO' ? 'otf' : 'ttf'}`);
      writeFileSync(file, sfnt);
      files.set(name, file);
    }
    return file;
  };
  const own = FACE_KEYS.map((key) => fileOf(key, fonts[key]));
  const family = FONT_FAMILY;
  // Native code, loaded from node_modules on first use (bin/build.js keeps it out of the bundle).
  let resvg: ResvgModule | undefined;
  let closed = false;
  return {
    async render(svg, scale, readImage) {
      if (closed) throw new Error('the rasterizer is closed');
      resvg ??= createRequire(import.meta.url)('@resvg/resvg-js') as ResvgModule;
      const fallbacks = textByFace(svg, fonts).flatMap(({ face }) => ((FACE_KEYS as readonly string[]).includes(face.name) ? [] : [fileOf(face.name, face.sfnt)]));
      const fontFiles = [...own, ...new Set(fallbacks)];
      const renderer = new resvg.Resvg(await inlineImages(svg, readImage), {
        font: { loadSystemFonts: false, fontFiles, defaultFontFamily: family, sansSerifFamily: family, serifFamily: family, monospaceFamily: family },
        fitTo: { mode: 'zoom', value: scale },
        logLevel: 'off',
      });
      return new Uint8Array(renderer.render().asPng());
    },
    close() {
      closed = true;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
