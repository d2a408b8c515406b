import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFonts, nodeEffects } from '../../src/build.ts';
import { briefingFaces } from '../../src/charts/embed-fonts.ts';
import { createRasterizer, type Rasterizer } from '../../src/charts/png.ts';
import { FONT_FAMILY } from '../../src/text/fonts.ts';
import { pngSize } from '../fixtures/charts/png.ts';

const svg = (text: string, extra = '') =>
  `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="120" height="30" viewBox="0 0 120 30"><rect width="120" height="30" fill="#ffffff"/>` +
  `<text x="4" y="20" font-family="&quot;${FONT_FAMILY}&quot;, sans-serif" font-size="14px" fill="#1a1a1a">${text}</text>${extra}</svg>`;

let ours: Rasterizer;
let none: Rasterizer;
beforeAll(async () => {
  ours = createRasterizer(briefingFaces((await loadFonts(nodeEffects)).sfnt));
  none = createRasterizer([]);
});
afterAll(() => {
  ours.close();
  none.close();
});

describe('PNG rasterizer', () => {
  it('draws at the chart size times the scale, with the same bytes each time', async () => {
    expect(pngSize(await ours.render(svg('Kenya 579'), 2))).toEqual({ width: 240, height: 60 });
    expect(pngSize(await ours.render(svg('Kenya 579'), 3))).toEqual({ width: 360, height: 90 });
    expect(Buffer.from(await ours.render(svg('Kenya 579'), 2)).equals(Buffer.from(await ours.render(svg('Kenya 579'), 2)))).toBe(true);
  });

  it('sets text only in the faces it is given, never a system font', async () => {
    const blank = Buffer.from(await ours.render(svg(''), 2));
    expect(Buffer.from(await ours.render(svg('Kenya 579'), 2)).equals(blank)).toBe(false);
    // Without faces there is nothing to set the text in: the machine's fonts are not looked at.
    expect(Buffer.from(await none.render(svg('Kenya 579'), 2)).equals(Buffer.from(await none.render(svg(''), 2)))).toBe(true);
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
