/**
 * Bounded in-process memory for results that depend only on their key: the
 * validated dataset, the content tree, compiled templates and chart specs,
 * parsed Markdown shapes, cleaned chart SVG and deflated PDF streams.
 * A batch's reports and a --watch session's rebuilds share them; the bound
 * keeps a long session from growing without end.
 */

export interface Recent<V> {
  get(key: string): V | undefined;
  /** Stores `value` under `key` and returns it. */
  set(key: string, value: V): V;
}

/** Keeps the `size` most recently used entries (least recently used leaves first). */
export function recent<V>(size: number): Recent<V> {
  const entries = new Map<string, V>();
  return {
    get(key) {
      const value = entries.get(key);
      if (value !== undefined) {
        entries.delete(key);
        entries.set(key, value);
      }
      return value;
    },
    set(key, value) {
      entries.delete(key);
      entries.set(key, value);
      if (entries.size > size) entries.delete(entries.keys().next().value as string);
      return value;
    },
  };
}

/** `make`, computed once per key among the `size` most recently used keys. */
export function remembered<V>(size: number, make: (key: string) => V): (key: string) => V {
  const kept = recent<V>(size);
  return (key) => kept.get(key) ?? kept.set(key, make(key));
}
