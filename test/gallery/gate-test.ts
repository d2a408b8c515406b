/** The gallery gate's own arithmetic (blur, pixel share, text, image marks, outcome of a run), in process and fast. */
import { describe, expect, it } from 'vitest';
import { messages } from '../../src/support/messages.ts';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drawsImage, readExceptions, type GalleryException } from './corpus.ts';
import { boxBlur, comparePixels, missingCharacters, type Raster } from './pixels.ts';
import { countedFaithful, splashOnly, stoppedOutcome, type Outcome, type SpecResult } from './outcome.ts';

function blank(width: number, height: number, value = 0): Raster {
  return { width, height, data: new Uint8Array(width * height * 4).fill(value) };
}

function setPixel(raster: Raster, x: number, y: number, rgba: [number, number, number, number]): void {
  raster.data.set(rgba, (y * raster.width + x) * 4);
}

describe('boxBlur', () => {
  it('spreads one pixel evenly over a 4 x 4 window, keeping the total', () => {
    const raster = blank(10, 10);
    setPixel(raster, 5, 5, [160, 160, 160, 160]);
    const blurred = boxBlur(raster);
    const red = (x: number, y: number) => blurred.data[(y * 10 + x) * 4]!;
    // The window of x is x-1 .. x+2, so the pixel at 5 reaches 3 .. 6.
    for (let y = 0; y < 10; y++) for (let x = 0; x < 10; x++) expect(red(x, y)).toBe(x >= 3 && x <= 6 && y >= 3 && y <= 6 ? 10 : 0);
  });

  it('leaves a flat raster flat, edges included', () => {
    expect(boxBlur(blank(5, 3, 200)).data.every((v) => v === 200)).toBe(true);
  });
});

describe('comparePixels', () => {
  it('scores identical rasters 0 and a missing block by its blurred area', () => {
    const white = blank(40, 40, 255);
    expect(comparePixels(white, blank(40, 40, 255)).ratio).toBe(0);
    const marked = blank(40, 40, 255);
    for (let y = 10; y < 20; y++) for (let x = 10; x < 20; x++) setPixel(marked, x, y, [0, 0, 0, 255]);
    const { ratio, diff } = comparePixels(white, marked);
    // A 10 x 10 black block blurs to at most 13 x 13 changed pixels, at least the 10 x 10 core.
    expect(ratio).toBeGreaterThanOrEqual(100 / 1600);
    expect(ratio).toBeLessThanOrEqual(169 / 1600);
    expect(diff.data.length).toBe(40 * 40 * 4);
  });

  it('forgives a one-pixel shift of a thin rule', () => {
    const a = blank(60, 20, 255);
    const b = blank(60, 20, 255);
    for (let x = 0; x < 60; x++) {
      setPixel(a, x, 9, [128, 128, 128, 255]);
      setPixel(b, x, 10, [128, 128, 128, 255]);
    }
    expect(comparePixels(a, b).ratio).toBe(0);
  });
});

describe('missingCharacters', () => {
  it('ignores whitespace and order, and names each lost character once', () => {
    expect(missingCharacters('0.5 ≥ 3\n0.5', '3\n0 5 0 5')).toEqual(['.', '≥']);
    expect(missingCharacters('a b', 'ba')).toEqual([]);
  });
});

describe('drawsImage', () => {
  it('finds an image mark in a layer, as a string or an object, and not in data', () => {
    expect(drawsImage({ layer: [{ mark: 'point' }, { mark: { type: 'image', width: 5 } }] })).toBe(true);
    expect(drawsImage({ mark: 'image' })).toBe(true);
    expect(drawsImage({ data: { values: [{ mark: 'image' }] }, mark: 'point' })).toBe(false);
  });
});

describe('stoppedOutcome', () => {
  const paths = { spec: '/s/a.vl.json', dir: '/s' };
  it('passes two clean runs, refuses on a message, crashes on an unexpected error', () => {
    const ok = { code: 0, stderr: 'wrote x', thrown: undefined };
    expect(stoppedOutcome([ok, ok], paths)).toBeUndefined();
    const refused = { code: 1, stderr: '/s/a.vl.json: warning: w\n/s/a.vl.json: field "x" missing\n', thrown: undefined };
    expect(stoppedOutcome([ok, refused], paths)).toEqual({ kind: 'refused', stage: 'pdf', message: 'field "x" missing' });
    const crashed = { code: 1, stderr: `${messages.unexpected('boom')}\n`, thrown: undefined };
    expect(stoppedOutcome([crashed, ok], paths)).toMatchObject({ kind: 'crashed', stage: 'svg' });
  });
});

describe('exceptions', () => {
  const pixels = (ratio: number, cairoRatio?: number): Outcome => ({ kind: 'unfaithful', diffRatio: ratio, failures: [{ gate: 'pixels', detail: '' }], cairoRatio });

  it('counts a pdftocairo exception only when it fails the pixel gate alone and passes it under pdftocairo', () => {
    expect(splashOnly(pixels(0.02, 0.0001))).toBe(true);
    expect(splashOnly(pixels(0.02, 0.006))).toBe(false);
    expect(splashOnly(pixels(0.02))).toBe(false);
    expect(splashOnly({ kind: 'unfaithful', diffRatio: 0.02, failures: [{ gate: 'pixels', detail: '' }, { gate: 'text', detail: '' }], cairoRatio: 0 })).toBe(false);
    const results: SpecResult[] = [
      { name: 'a', outcome: { kind: 'faithful', diffRatio: 0 } },
      { name: 'b', outcome: pixels(0.03, 0) },
      { name: 'c', outcome: pixels(0.03, 0) },
      { name: 'd', outcome: pixels(0.03, 0.01) },
    ];
    const listed = new Map<string, GalleryException>([
      ['b', { reason: 'Splash', rasteriser: 'pdftocairo' }],
      ['c', { reason: 'listed without a rasteriser' }],
      ['d', { reason: 'Splash, says the file', rasteriser: 'pdftocairo' }],
    ]);
    expect(countedFaithful(results, listed)).toEqual({ strict: 1, counted: 2 });
  });

  it('reads entries with a reason and an optional rasteriser, and refuses anything else by name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gallery-exceptions-'));
    try {
      const file = join(dir, 'exceptions.yaml');
      await writeFile(file, 'tick_dot:\n  reason: measured\n  rasteriser: pdftocairo\nother:\n  reason: also measured\n');
      expect(await readExceptions(file)).toEqual(new Map([['tick_dot', { reason: 'measured', rasteriser: 'pdftocairo' }], ['other', { reason: 'also measured', rasteriser: undefined }]]));
      await writeFile(file, 'tick_dot: just a string\n');
      await expect(readExceptions(file)).rejects.toThrow(/tick_dot: give the measured reason/);
      await writeFile(file, 'tick_dot:\n  reason: x\n  rasteriser: pdftoppm\n');
      await expect(readExceptions(file)).rejects.toThrow(/rasteriser may only be pdftocairo/);
      await writeFile(file, 'tick_dot:\n  reason: x\n  note: y\n');
      await expect(readExceptions(file)).rejects.toThrow(/unknown field\(s\) note/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
