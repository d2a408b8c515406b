/** Small text helpers every edition shares: XML escaping and decoding, and the plain text of Markdown inline content. */
import type { PhrasingContent, RootContent } from 'mdast';

/** Escapes text for XML content and double-quoted attributes (SVG titles, XMP). */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Decodes the entities XML text and attributes use (the five named ones, decimal and hex references). */
export function decodeXml(text: string): string {
  return text.replace(/&(?:#(\d+)|#x([0-9a-f]+)|(lt|gt|amp|quot|apos));/gi, (entity, dec: string, hex: string, name: string) => {
    if (dec || hex) return String.fromCodePoint(parseInt(dec ?? hex, dec ? 10 : 16));
    return { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }[name.toLowerCase()] ?? entity;
  });
}

/** The text of inline content, as a reader sees it: an image by its alt text, a line break as a space, a footnote marker as nothing. */
export function plainText(nodes: readonly (PhrasingContent | RootContent)[]): string {
  let text = '';
  for (const node of nodes) {
    if ('value' in node && typeof node.value === 'string') text += node.value;
    else if (node.type === 'image' || node.type === 'imageReference') text += node.alt ?? '';
    else if (node.type === 'break') text += ' ';
    else if ('children' in node) text += plainText(node.children as PhrasingContent[]);
  }
  return text;
}
