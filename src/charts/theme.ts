/**
 * The one chart theme: palette, type sizes, gridlines and padding for every
 * chart, applied as the Vega-Lite config under each spec's own config.
 *
 * Colours are Okabe-Ito (safe for the common colour-vision deficiencies);
 * text colours are dark greys with at least 4.5:1 contrast on the white chart
 * background (test/theme-test.ts computes it). Charts keep a white background
 * even in the HTML's dark mode: the HTML places them on a light card.
 */
import type { Config } from 'vega-lite';
import { FONT_STACK } from '../text/fonts.ts';

/** Okabe & Ito (2008), blue first because it carries the briefing's main series. */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'] as const;

export const BACKGROUND = '#ffffff';
export const INK = '#1a1a1a';
export const INK_SOFT = '#4d4d4d';
/** Context bars that should recede; 3.3:1 on white still meets the 3:1 rule for graphics. */
export const CONTEXT_GREY = '#8c8c8c';
const RULE = '#d9d9d9';

/**
 * An ordinal scale from firmest to softest (four steps, the last for none);
 * specs ask for it with `"range": "ordinal"`. The first three have 3:1 on
 * white, the WCAG minimum for graphics; the status is also written out.
 */
export const STATUS_COLOURS = [PALETTE[0], PALETTE[2], CONTEXT_GREY, RULE] as const;

/**
 * CSS font-family: the fallback chain, in the order the PDF and the text
 * measurer take its faces, so a browser with the fonts draws each character
 * from the same face; then a generic fallback. The HTML inlines @font-face
 * for the first name.
 */
export const FONT = [...FONT_STACK.map((family) => `"${family}"`), 'sans-serif'].join(', ');

/** The Vega-Lite config every chart is compiled with. */
export const THEME: Config = {
  font: FONT,
  background: BACKGROUND,
  padding: { top: 8, right: 16, bottom: 8, left: 8 },
  // The accessible name and description live on the root <svg>; per-mark ARIA would repeat them mark by mark.
  aria: false,
  view: { stroke: null, continuousWidth: 480, continuousHeight: 240, step: 32 },
  title: {
    anchor: 'start',
    frame: 'bounds',
    fontSize: 16,
    fontWeight: 'bold',
    color: INK,
    subtitleFontSize: 13,
    subtitleColor: INK_SOFT,
    subtitlePadding: 4,
    offset: 14,
  },
  axis: {
    labelFontSize: 12,
    labelColor: INK_SOFT,
    titleFontSize: 12,
    titleFontWeight: 'normal',
    titleColor: INK_SOFT,
    domainColor: CONTEXT_GREY,
    tickColor: CONTEXT_GREY,
    gridColor: RULE,
    labelPadding: 6,
    labelLimit: 240,
  },
  // Category names on a band axis are what the reader looks up, so they read as body text.
  axisBand: { domain: false, ticks: false, grid: false, labelFontSize: 13, labelColor: INK },
  axisQuantitative: { domain: false, ticks: false, grid: true, tickCount: 5 },
  legend: {
    orient: 'top',
    labelFontSize: 12,
    labelColor: INK_SOFT,
    titleFontSize: 12,
    titleColor: INK_SOFT,
    symbolType: 'square',
  },
  range: { category: [...PALETTE], ordinal: [...STATUS_COLOURS] },
  mark: { color: PALETTE[0] },
  bar: { color: PALETTE[0], discreteBandSize: { band: 0.7 } },
  text: { fontSize: 12, color: INK },
  // Named text styles specs use with `"style": NAME`, so a spec never types a size or colour.
  style: {
    'value-label': { fontSize: 13, color: INK },
    'strong-label': { fontSize: 14, fontWeight: 'bold', color: INK },
    'note-label': { fontSize: 12, color: INK_SOFT },
    // Bars that give context to the highlighted one recede.
    'context-bar': { color: CONTEXT_GREY },
  },
};
