import { describe, expect, it } from 'vitest';
import { chartImageHrefs, imageDataUrl, imageHrefs, imageType, inlineChartImages } from '../../src/charts/images.ts';
import type { RenderedChart } from '../../src/charts/render.ts';
import { tinyPng } from '../fixtures/charts/png.ts';

const svgShowing = (...hrefs: string[]) => `<svg xmlns="http://www.w3.org/2000/svg">${hrefs.map((href) => `<image xlink:href="${href}" width="4" height="4"/>`).join('')}</svg>`;
const chartOf = (svg: string, narrow?: string): RenderedChart => ({ id: 'c', title: 't', description: 'd', caption: 'c', source: '', svg, width: 10, height: 10, ...(narrow ? { narrow: { svg: narrow, width: 5, height: 5 } } : {}), hash: 'h' });

describe('chart images', () => {
  it('finds each href once, decoded from XML, leaving out empty ones and data: URLs', () => {
    expect(imageHrefs(svgShowing('a.png', 'b&amp;c.png', 'a.png', '', 'data:image/png;base64,AA=='))).toEqual(['a.png', 'b&c.png']);
    expect(chartImageHrefs(chartOf(svgShowing('a.png'), svgShowing('a.png', 'n.png')))).toEqual(['a.png', 'n.png']);
  });

  it('types bytes by their signature', () => {
    expect(imageType(tinyPng(2, [0, 0, 0]))).toBe('image/png');
    expect(imageType(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('image/jpeg');
    expect(imageType(new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBe('image/svg+xml');
    expect(imageType(new TextEncoder().encode('hello'))).toBeUndefined();
    expect(imageDataUrl(new TextEncoder().encode('hello'))).toBeUndefined();
  });

  it('inlines both drawings and folds the bytes into the hash, leaving a chart without images as it is', () => {
    const png = tinyPng(2, [1, 2, 3]);
    const url = `data:image/png;base64,${png.toString('base64')}`;
    const chart = chartOf(svgShowing('a.png', 'b&amp;c.png'), svgShowing('a.png'));
    const inlined = inlineChartImages(chart, new Map([['a.png', png], ['b&c.png', png]]));
    expect(imageHrefs(inlined.svg)).toEqual([]);
    expect(inlined.svg).toBe(svgShowing(url, url));
    expect(inlined.narrow!.svg).toBe(svgShowing(url));
    expect(inlined.hash).not.toBe(chart.hash);
    expect(inlineChartImages(chart, new Map([['a.png', tinyPng(2, [9, 9, 9])], ['b&c.png', png]])).hash).not.toBe(inlined.hash);
    const plain = chartOf(svgShowing());
    expect(inlineChartImages(plain, new Map([['a.png', png]]))).toBe(plain);
  });
});
