/**
 * The briefing's typeface: Source Sans 3 from npm (@fontsource), the same
 * files for chart text metrics, the PDF's embedded fonts and the HTML's
 * inline @font-face, so every machine renders the same.
 */
import { createRequire } from 'node:module';

export const FONT_FAMILY = 'Source Sans 3';
export type FaceKey = 'regular' | 'italic' | 'bold' | 'boldItalic';
export const FACE_KEYS: readonly FaceKey[] = ['regular', 'italic', 'bold', 'boldItalic'];

/** The raw .woff bytes of each face, read by the orchestrator. */
export type FontBytes = Record<FaceKey, Uint8Array>;

const FACE_FILES: Record<FaceKey, string> = {
  regular: 'source-sans-3-latin-400-normal.woff',
  italic: 'source-sans-3-latin-400-italic.woff',
  bold: 'source-sans-3-latin-700-normal.woff',
  boldItalic: 'source-sans-3-latin-700-italic.woff',
};

/** Absolute paths of the font files inside node_modules. */
export function fontPaths(): Record<FaceKey, string> {
  const require = createRequire(import.meta.url);
  return Object.fromEntries(
    FACE_KEYS.map((key) => [key, require.resolve(`@fontsource/source-sans-3/files/${FACE_FILES[key]}`)]),
  ) as Record<FaceKey, string>;
}

/** The face for a CSS-style weight and style. */
export function faceFor(weight: number | string | undefined, style: string | undefined): FaceKey {
  const bold = weight === 'bold' || Number(weight) >= 600;
  const italic = style === 'italic' || style === 'oblique';
  return bold ? (italic ? 'boldItalic' : 'bold') : italic ? 'italic' : 'regular';
}
