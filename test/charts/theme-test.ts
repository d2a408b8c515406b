import { describe, expect, it } from 'vitest';
import { BACKGROUND, CONTEXT_GREY, PALETTE, STATUS_COLOURS, THEME } from '../../src/charts/theme.ts';
import { FONT_FAMILY } from '../../src/text/fonts.ts';

/** WCAG 2.1 relative luminance of #rrggbb. */
function luminance(hex: string): number {
  const channels = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  const [r, g, b] = channels.map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

type Node = Record<string, unknown>;
const at = (path: string): unknown => path.split('.').reduce<unknown>((node, key) => (node as Node | undefined)?.[key], THEME);

/** Every colour the theme gives to text: label, title and subtitle colours, text marks, and text styles. */
function textColours(): [string, string][] {
  const found: [string, string][] = [];
  const visit = (node: unknown, path: string) => {
    if (typeof node !== 'object' || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      const here = path ? `${path}.${key}` : key;
      if (typeof value === 'string' && /^(label|title|subtitle)Color$/.test(key)) found.push([here, value]);
      else visit(value, here);
    }
  };
  visit(THEME, '');
  found.push(['title.color', at('title.color') as string], ['text.color', at('text.color') as string]);
  for (const [name, style] of Object.entries(THEME.style ?? {})) {
    if (name.endsWith('-label')) found.push([`style.${name}.color`, (style as Node).color as string]);
  }
  return found;
}

describe('chart theme', () => {
  it('gives every text colour at least 4.5:1 contrast on the chart background', () => {
    const colours = textColours();
    expect(colours.length).toBeGreaterThanOrEqual(8);
    for (const [path, colour] of colours) {
      expect(colour, path).toMatch(/^#[0-9a-f]{6}$/i);
      expect(contrast(colour, BACKGROUND), path).toBeGreaterThanOrEqual(4.5);
    }
  });

  it('draws bars in colours with at least 3:1 contrast (the WCAG minimum for graphics)', () => {
    for (const colour of [THEME.mark?.color, THEME.bar?.color, CONTEXT_GREY, ...STATUS_COLOURS.slice(0, 3)]) {
      expect(contrast(String(colour), BACKGROUND), String(colour)).toBeGreaterThanOrEqual(3);
    }
  });

  it('uses the Okabe-Ito colours for categories, each distinct', () => {
    const okabeIto = ['#E69F00', '#56B4E9', '#009E73', '#F0E442', '#0072B2', '#D55E00', '#CC79A7', '#000000'];
    expect([...PALETTE].sort()).toEqual([...okabeIto].sort());
    expect(THEME.range?.category).toEqual([...PALETTE]);
  });

  it('sets the briefing typeface first, then the fallback chain and a generic fallback, on a white background', () => {
    const families = String(THEME.font).split(', ');
    expect(families[0]).toBe(`"${FONT_FAMILY}"`);
    expect(families.slice(1, -1)).toEqual(['"Noto Sans Math"', '"Noto Sans Symbols 2"', '"Noto Emoji"']);
    expect(families.at(-1)).toBe('sans-serif');
    expect(luminance(BACKGROUND)).toBe(1);
  });
});
