/**
 * The vega adapter: vega measures chart text through one process-wide
 * object, `textMetrics` (vega-scenegraph's, re-exported by vega, absent from
 * its type declarations, and with no per-view option to replace it). Setting
 * its `width` is what makes labels fit with the briefing's real fonts, so it
 * is done here only for the vega it was written against (VEGA_WRITTEN_FOR);
 * for another, the warning says so and vega's own estimate (a fixed
 * character width) measures the text: the charts still render, less exactly.
 */
import * as vega from 'vega';
import { versionGate } from '../support/versions.ts';

/** The vega release whose text measurer this adapter sets. */
export const VEGA_WRITTEN_FOR = '6.4.0';

export interface TextItem {
  fontSize?: number | string;
  fontWeight?: number | string;
  fontStyle?: string;
  limit?: number;
}

type Measure = (item: TextItem, text: unknown) => number;

const gate = versionGate('vega', VEGA_WRITTEN_FOR, () => vega.version);

/** Whether the internal path is used in this process: the right vega, and BRIEFING_PUBLIC_APIS unset (warns once for another version). */
export function usesVegaTextMetrics(): boolean {
  return gate.allows();
}

/** For tests: decide again (after BRIEFING_PUBLIC_APIS changed). */
export function resetVegaAdapter(): void {
  gate.reset();
}

/** Makes vega measure text with `width` from now on (one chart at a time: the measurer is process-wide). */
export function measureTextWith(width: Measure): void {
  if (!usesVegaTextMetrics()) return;
  (vega as unknown as { textMetrics: { width: Measure } }).textMetrics.width = width;
}
