/**
 * The narrow layout: the same spec, drawn for a phone. No spec is written
 * for it; it is derived from the spec the author wrote, knowing no chart:
 *
 *   spec ──narrowSpec──▶ spec at NARROW.width
 *     one view or layer: `width` fitted to the whole chart (autosize fit-x)
 *     facets, repeats, concats: one column, each view given a width
 *     legends at the side ──▶ below, entries listed down; band-axis labels and text marks wrapped
 *   title (filled) ──wrapTitle──▶ lines that fit the width
 *
 * Lines are broken with the briefing's own font measurements, through the
 * `wrapText` expression function (registered with vega: its expressions
 * may call functions the host defines), so a label breaks where it would
 * overflow, and only then.
 */
import * as vega from 'vega';
import type { FaceKey } from '../text/fonts.ts';
import { THEME } from './theme.ts';

/** How a narrow chart is drawn. */
export interface NarrowLayout {
  /** Width of the whole chart, padding included, in CSS px. */
  width: number;
  /** Widest a band-axis label line may be before it breaks. */
  labelWidth: number;
  /** Widest a text mark's line may be before it breaks. */
  textWidth: number;
}

/**
 * 340 px: whole on a 360 px phone (the chart card is 352 px wide there), and
 * at 312/340 of its size on a 320 px one, where 12 px labels still draw 11 px.
 * A band label gets two fifths of it, a text mark half.
 */
export const NARROW: NarrowLayout = { width: 340, labelWidth: 136, textWidth: 170 };

/** The name a spec's expressions call to break a text into lines: wrapText(text, width, size, weight, style). */
export const WRAP_FUNCTION = 'wrapText';

export type Measure = (text: string, size: number, face: FaceKey) => number;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Breaks `text` at spaces into lines no wider than `width` (a word wider
 * than that keeps a line of its own). A run with no letter or digit (a
 * separator such as "·" or "–") stays with the word before it, so no line
 * starts with one.
 */
export function wrapLines(text: string, width: number, measure: (line: string) => number): string[] {
  const words: string[] = [];
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (words.length && !/[\p{L}\p{N}]/u.test(word)) words[words.length - 1] += ` ${word}`;
    else words.push(word);
  }
  const lines: string[] = [];
  for (const word of words) {
    const last = lines.at(-1);
    if (last !== undefined && measure(`${last} ${word}`) <= width) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines.length ? lines : [text];
}

let measureNow: Measure | undefined;

/**
 * Makes `wrapText` in a spec's expressions measure with `measure` (one chart
 * at a time, like vega's text measurer). Registered once per process.
 */
export function wrapTextWith(measure: Measure, faceFor: (weight: unknown, style: unknown) => FaceKey): void {
  if (!measureNow) {
    vega.expressionFunction(WRAP_FUNCTION, (text: unknown, width: number, size: number, weight?: unknown, style?: unknown) => {
      if (typeof text !== 'string' || !measureNow) return text;
      const face = faceFor(weight, style);
      const lines = wrapLines(text, width, (line) => measureNow!(line, size, face));
      return lines.length > 1 ? lines : text;
    });
  }
  measureNow = measure;
}

// ---------------------------------------------------------------------------
// Titles

type Title = string | string[] | Json;

/** The spec's title with its text and subtitle broken into lines that fit the narrow chart, in the theme's title type. */
export function wrapTitle(title: Title, layout: NarrowLayout, measure: Measure): Title {
  const padding = THEME.padding as { left: number; right: number };
  const width = layout.width - padding.left - padding.right;
  const own = isObject(title) ? title : {};
  const wrap = (value: unknown, size: number, weight: unknown): unknown => {
    if (typeof value !== 'string' && !Array.isArray(value)) return value;
    const face: FaceKey = weight === 'bold' || Number(weight) >= 600 ? 'bold' : 'regular';
    const lines = (Array.isArray(value) ? value : [value]).flatMap((line) => wrapLines(String(line), width, (l) => measure(l, size, face)));
    return lines.length > 1 ? lines : lines[0];
  };
  const text = wrap(isObject(title) ? title.text : title, Number(own.fontSize ?? THEME.title!.fontSize), own.fontWeight ?? THEME.title!.fontWeight);
  if (!isObject(title)) return text as Title;
  const subtitle = wrap(title.subtitle, Number(own.subtitleFontSize ?? THEME.title!.subtitleFontSize), own.subtitleFontWeight ?? 'normal');
  return { ...title, text, ...(title.subtitle !== undefined ? { subtitle } : {}) };
}

// ---------------------------------------------------------------------------
// The spec

const COMPOSITE_KEYS = ['facet', 'repeat', 'concat', 'hconcat', 'vconcat'] as const;
/** Whether a spec is a facet, repeat or concat (Vega-Lite cannot fit those to a width). */
export const isComposite = (spec: Json) => COMPOSITE_KEYS.some((key) => key in spec);

/**
 * The spec drawn at `layout.width`: a copy, the author's spec untouched.
 * Only layout changes; data, encodings and marks stay as written.
 */
export function narrowSpec(spec: Json, layout: NarrowLayout): Json {
  const copy = structuredClone(spec);
  moveSideLegends(copy);
  wrapTextMarks(copy, layout);
  const config = isObject(copy.config) ? copy.config : {};
  // In the theme's band-label type; a bolder label comes out a little wider, which the fitted width takes in.
  const band = { size: Number(THEME.axisBand!.labelFontSize), weight: String(THEME.axisBand!.labelFontWeight ?? 'normal') };
  copy.config = {
    ...config,
    axisBand: { labelExpr: wrapCall('datum.label', layout.labelWidth, band.size, band.weight), ...(isObject(config.axisBand) ? config.axisBand : {}) },
    // A legend above or below lists its entries down, not across: a row of them is wider than a phone.
    legend: { direction: 'vertical', ...(isObject(config.legend) ? config.legend : {}) },
  };
  // One view (or a layer): the width is fitted by Vega (NARROW_AUTOSIZE).
  if (!isComposite(copy)) return { ...copy, width: layout.width };
  stackViews(copy, viewWidth(layout.width));
  return copy;
}

/**
 * How a single view's narrow width is fitted: the whole chart, labels and
 * padding, is the width. Set on the compiled Vega spec: Vega-Lite, asked for
 * it, warns that it drops fit-y from a chart with a discrete height, which
 * `fit-x` never asked for.
 */
export const NARROW_AUTOSIZE = { type: 'fit-x', contains: 'padding' } as const;

/** A first guess at a stacked view's plot width: the chart less room for axis labels; the caller corrects it by what overflows. */
export const viewWidth = (width: number) => Math.max(80, width - 120);

/**
 * Puts a composite's views in one column, each `width` wide: side by side
 * becomes one above another, a wrapped facet or concat gets one column.
 */
export function stackViews(spec: Json, width: number): void {
  if (Array.isArray(spec.hconcat)) {
    spec.vconcat = spec.hconcat;
    delete spec.hconcat;
  }
  if ('columns' in spec || Array.isArray(spec.concat) || (isObject(spec.facet) && !('row' in spec.facet) && !('column' in spec.facet))) spec.columns = 1;
  if (isObject(spec.facet) && 'column' in spec.facet && !('row' in spec.facet)) {
    // A column facet becomes a wrapped facet: its panels then stack in one column.
    spec.facet = spec.facet.column;
    spec.columns = 1;
  }
  const children = [spec.spec, ...(Array.isArray(spec.concat) ? spec.concat : []), ...(Array.isArray(spec.vconcat) ? spec.vconcat : [])];
  for (const child of children) {
    if (!isObject(child)) continue;
    if (isComposite(child)) stackViews(child, width);
    else child.width = width;
  }
}

/** Legends at the left or right take width a phone lacks: they go below the chart. */
function moveSideLegends(node: unknown): void {
  if (Array.isArray(node)) for (const child of node) moveSideLegends(child);
  if (!isObject(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'data' || key === 'datasets') continue;
    if (key === 'legend' && isObject(value) && (value.orient === 'left' || value.orient === 'right')) value.orient = 'bottom';
    moveSideLegends(value);
  }
}

const wrapCall = (text: string, width: number, size: number, weight: string, style = 'normal') =>
  `${WRAP_FUNCTION}(${text}, ${width}, ${size}, ${JSON.stringify(weight)}, ${JSON.stringify(style)})`;

/** Breaks long text-mark labels (a nominal text field) into lines, in the view that draws them. */
function wrapTextMarks(node: unknown, layout: NarrowLayout): void {
  if (Array.isArray(node)) for (const child of node) wrapTextMarks(child, layout);
  if (!isObject(node)) return;
  const mark = typeof node.mark === 'string' ? { type: node.mark } : isObject(node.mark) ? node.mark : undefined;
  const text = isObject(node.encoding) ? node.encoding.text : undefined;
  // A plain field name only: a path (a.b) or an escaped name is left as written.
  if (mark?.type === 'text' && isObject(text) && typeof text.field === 'string' && !/[.[\]\\]/.test(text.field) && (text.type ?? 'nominal') === 'nominal' && !text.format) {
    const style = typeof mark.style === 'string' ? (THEME.style?.[mark.style] as Json | undefined) : undefined;
    const size = Number(mark.fontSize ?? style?.fontSize ?? THEME.text?.fontSize ?? 11);
    const weight = String(mark.fontWeight ?? style?.fontWeight ?? 'normal');
    const field = `__narrow_${text.field.replace(/\W/g, '_')}`;
    const transform = Array.isArray(node.transform) ? node.transform : [];
    node.transform = [...transform, { calculate: wrapCall(`datum[${JSON.stringify(text.field)}]`, layout.textWidth, size, weight, String(mark.fontStyle ?? 'normal')), as: field }];
    node.encoding = { ...(node.encoding as Json), text: { ...text, field } };
  }
  for (const key of ['layer', 'spec', 'concat', 'hconcat', 'vconcat']) wrapTextMarks(node[key], layout);
}
