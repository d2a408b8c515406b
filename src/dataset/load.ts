/**
 * Load stage: bytes of a YAML file -> a parsed document that remembers where
 * every value came from, so later stages can point at file:line:column.
 */
import { isAlias, isCollection, isMap, isPair, isScalar, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import { InputError, CliError } from '../support/error.ts';
import { messages, type Located } from '../support/messages.ts';

/** Largest input file accepted; a dataset is a few kilobytes, so this only stops accidents and abuse. */
export const MAX_INPUT_BYTES = 2 * 1024 * 1024;

/** A parsed YAML file with its source positions. */
export interface YamlSource {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
  /** The document as plain data (YAML 1.2 core schema: dates stay strings). */
  value: unknown;
}

export type PathKey = string | number;

/** Decodes and parses a YAML file; throws InputError listing every syntax problem, located. */
export function parseYaml(file: string, bytes: Uint8Array): YamlSource {
  if (bytes.byteLength > MAX_INPUT_BYTES) throw new CliError(messages.fileTooLarge(file, bytes.byteLength, MAX_INPUT_BYTES));
  if (bytes.includes(0)) throw new CliError(messages.fileBinary(file));
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new CliError(messages.fileBinary(file));
  }
  if (text.trim() === '') throw new CliError(messages.fileEmpty(file));

  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, schema: 'core' });
  const at = (offset: number) => lines.linePos(offset);
  const issues: Located[] = doc.errors.map((error) => {
    const { line, col } = at(error.pos[0]);
    return { file, line, column: col, path: '', message: messages.yamlSyntax(error.code, error.message.split('\n')[0] ?? '') };
  });
  // Anchors and aliases would let a small file expand into a huge one.
  visit(doc, {
    Alias(_key, node) {
      const { line, col } = at(node.range?.[0] ?? 0);
      issues.push({ file, line, column: col, path: '', message: messages.yamlAnchor });
    },
  });
  if (issues.length > 0) throw new InputError(file, issues);
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    throw new CliError(messages.fileEmpty(file));
  }
  if (!isMap(doc.contents)) {
    const { line, col } = at(doc.contents.range?.[0] ?? 0);
    throw new InputError(file, [{ file, line, column: col, path: '', message: messages.notAMapping }]);
  }
  return { file, doc, lines, value: doc.toJS() };
}

function position(source: YamlSource, node: Node | null | undefined): { line: number; column: number } {
  const offset = node?.range?.[0] ?? 0;
  const { line, col } = source.lines.linePos(offset);
  return { line, column: col };
}

/**
 * The line and column of the value at `path`; for a path that does not exist
 * (a missing key), those of the deepest mapping or sequence that does.
 * With `key: true`, the position of the key itself rather than its value.
 */
export function locate(source: YamlSource, path: readonly PathKey[], options: { key?: boolean } = {}): { line: number; column: number } {
  let node: unknown = source.doc.contents;
  for (let i = 0; i < path.length; i++) {
    if (!isCollection(node)) break;
    const seg = path[i]!;
    const pair = isMap(node) ? node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(seg)) : undefined;
    if (isMap(node)) {
      if (!pair) break;
      if (options.key && i === path.length - 1) return position(source, pair.key as Node);
      node = pair.value;
    } else {
      const item = node.items[Number(seg)];
      if (item === undefined) break;
      node = item;
    }
    if (isAlias(node)) break;
  }
  return position(source, node as Node);
}
