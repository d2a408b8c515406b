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
import { imageDataUrl, imageHrefs, inlineSvgImages } from './images.ts';

type ResvgModule = typeof import('@resvg/resvg-js');

/** Reads the bytes of an image a chart names, by the href vega wrote (a path the chart loader has already fenced). */
export type ReadImage = (href: string) => Promise<Uint8Array>;

export interface Rasterizer {
  /** The PNG of `svg` at `scale` device pixels per CSS pixel. */
  render(svg: string, scale: number, readImage?: ReadImage): Promise<Uint8Array>;
  /** Removes the font files; the rasterizer is unusable after. */
  close(): void;
}

/**
 * resvg would read a relative href from the process's working folder, not
 * the spec's: every image is inlined as a data: URL from `readImage` first,
 * so what it draws is exactly what the caller's fence allows.
 */
async function inlineImages(svg: string, readImage: ReadImage | undefined): Promise<string> {
  const hrefs = imageHrefs(svg);
  if (hrefs.length === 0) return svg;
  const urls = new Map<string, string>();
  for (const path of hrefs) {
    if (!readImage) throw new Error(`cannot read image "${path}": no image reader given`);
    const url = imageDataUrl(await readImage(path));
    if (!url) throw new Error(`"${path}" is not a PNG, JPEG, GIF, WebP or SVG image`);
    urls.set(path, url);
  }
  return inlineSvgImages(svg, urls);
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
