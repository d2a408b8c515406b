/**
 * Content stage: Dataset + Derived + RenderedChart[] -> Briefing.
 * Handlebars templates emit Markdown once; it is parsed into an mdast tree
 * that both editions (html.ts, pdf.ts) render, so their words are the same.
 *
 * CONTRACT (shared with html.ts and pdf.ts; implementation in progress):
 * - Headings carry their anchor id in `heading.data.hProperties.id`.
 * - A chart is a `figure` node (below) at block level, numbered in order.
 * - Cross-references are `link` nodes whose url is `#<anchor>` (a figure's
 *   `identifier` or a heading id).
 * - Citations are GFM footnotes: `footnoteReference` in the text and
 *   `footnoteDefinition` nodes at the end of the root.
 */
import type { Node, Root } from 'mdast';

/** A numbered chart placed in the content. */
export interface FigureNode extends Node {
  type: 'figure';
  /** Chart id, as in templates/charts/<chartId>.vl.json. */
  chartId: string;
  /** 1-based, in order of appearance. */
  number: number;
  /** Anchor id, e.g. `fig-deals`. */
  identifier: string;
  caption: string;
  /** Source line, e.g. "Source: Vector, ...". */
  source: string;
  /** Alt text: the chart's data in words. */
  alt: string;
}

declare module 'mdast' {
  interface RootContentMap {
    figure: FigureNode;
  }
  interface BlockContentMap {
    figure: FigureNode;
  }
}

export interface BriefingMeta {
  title: string;
  subtitle: string;
  /** YYYY-MM-DD */
  asOf: string;
  /** Human date, e.g. "29 November 2026". */
  asOfLabel: string;
  author: string;
  keywords: string[];
  /** BCP 47 tag, e.g. "en". */
  language: string;
  /** One-sentence description for metadata. */
  subject: string;
}

export interface OutlineEntry {
  depth: number;
  id: string;
  text: string;
}

/** The content both editions render. */
export interface Briefing {
  meta: BriefingMeta;
  tree: Root;
  outline: OutlineEntry[];
}
