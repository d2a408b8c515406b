import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFonts, nodeEffects } from '../../src/build.ts';
import { createRasterizer, type Rasterizer } from '../../src/charts/png.ts';
import { FONT_FAMILY } from '../../src/text/fonts.ts';
import { pngSize } from '../fixtures/charts/png.ts';

const svg = (text: string, extra = '') =>
  `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="120" height="30" viewBox="0 0 120 30"><rect width="120" height="30" fill="#ffffff"/>` +
  `<text x="4" y="20" font-family="&quot;${FONT_FAMILY}&quot;, sans-serif" font-size="14px" fill="#1a1a1a">${text}</text>${extra}</svg>`;

let ours: Rasterizer;
beforeAll(async () => {
  ours = createRasterizer((await loadFonts(nodeEffects)).sfnt);
});
afterAll(() => ours.close());

describe('PNG rasterizer', () => {
  it('draws at the chart size times the scale, with the same bytes each time', async () => {
    expect(pngSize(await ours.render(svg('Kenya 579'), 2))).toEqual({ width: 240, height: 60 });
    expect(pngSize(await ours.render(svg('Kenya 579'), 3))).toEqual({ width: 360, height: 90 });
    expect(Buffer.from(await ours.render(svg('Kenya 579'), 2)).equals(Buffer.from(await ours.render(svg('Kenya 579'), 2)))).toBe(true);
  });

  it('sets text only in the shipped faces, never a system font', async () => {
    const blank = Buffer.from(await ours.render(svg(''), 2));
    const shipped = Buffer.from(await ours.render(svg('Kenya 579'), 2));
    expect(shipped.equals(blank)).toBe(false);
    // A family the machine may have (Debian's fonts-dejavu-core) is set in the default shipped face instead.
    const system = svg('Kenya 579').replace(`&quot;${FONT_FAMILY}&quot;, sans-serif`, 'DejaVu Sans');
    expect(Buffer.from(await ours.render(system, 2)).equals(shipped)).toBe(true);
  });

  it('draws characters the Latin face lacks from the fallback faces: two emoji are two pictures, not the same blank box', async () => {
    const pig = Buffer.from(await ours.render(svg('🐷 ≥'), 2));
    const cow = Buffer.from(await ours.render(svg('🐮 ≥'), 2));
    expect(pig.equals(cow)).toBe(false);
    expect(Buffer.from(await ours.render(svg('≥'), 2)).equals(Buffer.from(await ours.render(svg('≤'), 2)))).toBe(false);
  });

  it('draws images read through the caller, never from the working folder', async () => {
    const png = await ours.render(svg('picture'), 1);
    const asked: string[] = [];
    const image = '<image xlink:href="pics/a.png" x="60" y="0" width="60" height="30"/>';
    const drawn = await ours.render(svg('', image), 1, async (href) => (asked.push(href), png));
    expect(asked).toEqual(['pics/a.png']);
    expect(Buffer.from(drawn).equals(Buffer.from(await ours.render(svg(''), 1)))).toBe(false);
    await expect(ours.render(svg('', image), 1, async () => new TextEncoder().encode('not an image'))).rejects.toThrow(/not a PNG/);
  });
});
