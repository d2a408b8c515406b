/**
 * Markdown for data: escaping, so a dataset string is always literal text,
 * and literal tokens, so a document is parsed once per shape.
 */
import type { Node, Parent, Root, Text } from 'mdast';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmFromMarkdown } from 'mdast-util-gfm';
import { gfm } from 'micromark-extension-gfm';
import { remembered } from '../support/recent.ts';

// ---------------------------------------------------------------------------
// Markdown escaping

// Every ASCII punctuation character may be backslash-escaped in CommonMark,
// and an escaped one is always literal: no emphasis, link, code, HTML, heading,
// list marker, table pipe or footnote can start from it. Whitespace runs
// (newlines included) collapse, so data cannot start a new block either.
const ASCII_PUNCTUATION = /[!-/:-@[-`{-~]/g;

/** Escapes a data string so Markdown reads it as literal text. */
export function escapeMarkdown(value: string): string {
  return escapeAscii(normaliseSpace(value));
}

/** Control characters and whitespace runs become one space; no space at either end. */
export function normaliseSpace(value: string): string {
  return value
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Backslash-escapes every ASCII punctuation character. */
export function escapeAscii(text: string): string {
  return text.replace(ASCII_PUNCTUATION, (char) => `\\${char}`);
}

/** A dataset path inside a code span: ids are slugs, so only these characters can occur. */
export function codePath(path: string): string {
  return /^[a-z0-9_.-]+$/.test(path) ? `\`${path}\`` : escapeMarkdown(path);
}

// ---------------------------------------------------------------------------
// Literals: parsing the Markdown once per shape
//
// Parsing the rendered Markdown is most of the content stage, and a data edit
// or the next report of a batch changes only the literal text that came from
// the dataset (figures, names, notes), not the Markdown around it. So each
// literal of three or more characters is rendered as a token: its first
// character, U+E000, its number, U+E001, its last character. An ASCII letter
// or digit at either end is written as `a`, and ASCII punctuation is escaped,
// as escapeMarkdown would. Documents of the same shape then have the same
// source, parsed once (`parseShape`), and the tree gets the literals back.
//
// This gives the tree the direct parse gives, because nothing in an escaped
// literal is syntax: its middle only ever reads as text, and its two ends,
// which are all the surrounding syntax looks at (emphasis flanking, block
// starts), are kept or replaced by a character of the same class. The
// exception is GFM's autolinks (www., scheme://, e-mail addresses), which
// escapes do not stop: text that could hold one is never a token, a token
// must sit between characters that cannot continue one from the template
// (`TOKEN_NEIGHBOURS`), and every token must come back whole in a text node;
// otherwise the document is parsed directly, as escaped text.
// test/content/markdown-test.ts compares the two ways on every context it can
// think of and on random Markdown.

const TOKEN_OPEN = '\ue000';
const TOKEN_CLOSE = '\ue001';
/** A token as written in the Markdown source, with its ends: each an escaped ASCII punctuation character or one other character. */
const TOKEN_WRITTEN = /(?:\\[!-/:-@[-`{-~]|[^\\])\ue000(\d+)\ue001(?:\\[!-/:-@[-`{-~]|.)/gsu;
/** A token as it reads in a text node, escapes resolved. */
const TOKEN_READ = /.\ue000(\d+)\ue001./gsu;
/** Half a surrogate pair without the other half (written out: a Unicode property class costs milliseconds to compile). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** What may stand just before and just after a token for it to be used. */
const TOKEN_NEIGHBOURS = { before: /^$|[\s([“‘"'*_~|]$/u, after: /^(?:$|[\s)\][”’"'*_~|,;!?]|[.:](?:\s|$))/u };

export interface Literals {
  /** The Markdown for a data string: escaped if short, otherwise a token. */
  literal(value: string): string;
  /** Each token's text (whitespace normalised, not escaped), by number. */
  texts: string[];
}

/** A fresh set of literals for one rendering (exported for test/content/markdown-test.ts). */
export function createLiterals(): Literals {
  const texts: string[] = [];
  const end = (char: string) => (/^[A-Za-z0-9]$/.test(char) ? 'a' : escapeAscii(char));
  return {
    texts,
    literal(value) {
      const text = normaliseSpace(value);
      const chars = [...text];
      // GFM reads www., scheme:// and e-mail addresses as links even through escapes: such text is parsed as itself.
      // A lone surrogate could pair with a neighbour's across the token: also parsed as itself (validation refuses them anyway).
      if (chars.length < 3 || /www\.|[:@]/i.test(text) || LONE_SURROGATE.test(text)) return escapeAscii(text);
      texts.push(text);
      return `${end(chars[0]!)}${TOKEN_OPEN}${texts.length - 1}${TOKEN_CLOSE}${end(chars.at(-1)!)}`;
    },
  };
}

const MARKDOWN_OPTIONS = { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] };

/** The pristine tree of each recent document shape; callers get a copy. */
const parseShape = remembered('content: parsed Markdown shapes', 8, (source): Root => fromMarkdown(source, MARKDOWN_OPTIONS), (_tree, source) => source.length * 40);

/** The Markdown with every token written out as escaped text: what escapeMarkdown alone gives. */
export function writeOut(markdown: string, texts: readonly string[]): string {
  // A token-shaped run that is not one of ours (private-use characters in a template) stays as written.
  return markdown.replace(TOKEN_WRITTEN, (run, number: string) => {
    const text = texts[Number(number)];
    return text === undefined ? run : escapeAscii(text);
  });
}

/**
 * Parses Markdown whose literals may be tokens: through the shape cache with
 * the literals put back when that is exact, directly otherwise. Positions in
 * the tree refer to the `source` returned.
 */
export function parseWithLiterals(markdown: string, texts: readonly string[]): { tree: Root; source: string } {
  const tokens = [...markdown.matchAll(TOKEN_WRITTEN)];
  const whole = tokens.length === texts.length && markdown.split(TOKEN_OPEN).length === texts.length + 1 && markdown.split(TOKEN_CLOSE).length === texts.length + 1;
  const apart = tokens.every(({ index, 0: token }) => {
    const after = index + token.length;
    return TOKEN_NEIGHBOURS.before.test(markdown.slice(Math.max(0, index - 2), index)) && TOKEN_NEIGHBOURS.after.test(markdown.slice(after, after + 2));
  });
  if (texts.length > 0 && whole && apart) {
    const tree = structuredClone(parseShape(markdown));
    if (restoreLiterals(tree, texts) === texts.length) return { tree, source: markdown };
  }
  const direct = writeOut(markdown, texts);
  return { tree: structuredClone(parseShape(direct)), source: direct };
}

/** Puts each literal back in place of its token, in text nodes only: how many it put back, or -1 if a token is elsewhere. */
function restoreLiterals(tree: Root, texts: readonly string[]): number {
  let count = 0;
  const visit = (node: Node): boolean => {
    if (node.type === 'text') {
      const text = node as Text;
      text.value = text.value.replace(TOKEN_READ, (_, number: string) => {
        count += 1;
        return texts[Number(number)]!;
      });
      return !text.value.includes(TOKEN_OPEN) && !text.value.includes(TOKEN_CLOSE);
    }
    const fields = node as unknown as Record<string, unknown>;
    for (const key of ['value', 'url', 'title', 'alt', 'label', 'identifier']) {
      const field = fields[key];
      if (typeof field === 'string' && (field.includes(TOKEN_OPEN) || field.includes(TOKEN_CLOSE))) return false;
    }
    return ((node as Parent).children ?? []).every(visit);
  };
  return visit(tree) ? count : -1;
}
