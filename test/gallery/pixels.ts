/**
 * The faithful-render gate's arithmetic (the corpus README): rasters 4x4
 * box-blurred and compared with pixelmatch, and the SVG's visible text
 * against the PDF's. No browser or tool here, so unit tests load it fast.
 */
import pixelmatch from 'pixelmatch';
import { PNG } from 'pngjs';

/** The README's thresholds. */
export const GATE = { blur: 4, threshold: 0.2, maxDiffRatio: 0.005 } as const;

/** An RGBA raster. */
export interface Raster {
  width: number;
  height: number;
  data: Uint8Array;
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
