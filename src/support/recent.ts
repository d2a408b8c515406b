/**
 * The one cache mechanism: every process-wide memory of results that depend
 * only on their key (validated datasets, content trees, compiled templates
 * and chart specs, parsed Markdown shapes, cleaned chart SVG, deflated PDF
 * streams, Intl formatters, shaped and measured words) is registered here by
 * name, with a bound on its entries and an estimate of its bytes. A batch's
 * reports and a --watch session's rebuilds share them; the bounds, and one
 * budget over all of them, keep a long session from growing without end.
 */

/**
 * The memory all caches together may hold, by their own estimates. Over it,
 * the cache holding the most is trimmed (its oldest half; a tracked map is
 * cleared) until the total is under it again. A build of the shipped reports
 * uses about a tenth of it.
 */
export const CACHE_BUDGET_BYTES = 192 * 1024 * 1024;

export interface Recent<V> {
  get(key: string): V | undefined;
  /** Stores `value` under `key` and returns it. */
  set(key: string, value: V): V;
}

interface Registered {
  name: string;
  entries(): number;
  bytes(): number;
  /** Frees at least part of what the cache holds. */
  trim(): void;
}

const registry: Registered[] = [];
let setsSinceCheck = 0;

/** What every registered cache holds now, largest first (for the soak benchmark and tests). */
export function cacheStats(): { name: string; entries: number; bytes: number }[] {
  return registry.map((cache) => ({ name: cache.name, entries: cache.entries(), bytes: cache.bytes() })).sort((a, b) => b.bytes - a.bytes);
}

/** Trims the largest caches until all of them together are within the budget (checked every 64 stores). */
function keepWithinBudget(): void {
  if (++setsSinceCheck < 64) return;
  setsSinceCheck = 0;
  for (let round = 0; round < registry.length * 4; round++) {
    const sizes = registry.map((cache) => cache.bytes());
    const total = sizes.reduce((sum, bytes) => sum + bytes, 0);
    if (total <= CACHE_BUDGET_BYTES) return;
    registry[sizes.indexOf(Math.max(...sizes))]!.trim();
  }
}

/** A named cache of the `size` most recently used entries (least recently used leaves first); `bytesOf` estimates an entry. */
export function recent<V>(name: string, size: number, bytesOf: (value: V, key: string) => number = () => 1024): Recent<V> {
  const entries = new Map<string, { value: V; bytes: number }>();
  let bytes = 0;
  const drop = (key: string) => {
    const entry = entries.get(key);
    if (!entry) return;
    bytes -= entry.bytes;
    entries.delete(key);
  };
  registry.push({
    name,
    entries: () => entries.size,
    bytes: () => bytes,
    trim: () => {
      for (const key of [...entries.keys()].slice(0, Math.ceil(entries.size / 2))) drop(key);
    },
  });
  return {
    get(key) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      entries.delete(key);
      entries.set(key, entry);
      return entry.value;
    },
    set(key, value) {
      drop(key);
      const entry = { value, bytes: bytesOf(value, key) };
      entries.set(key, entry);
      bytes += entry.bytes;
      if (entries.size > size) drop(entries.keys().next().value as string);
      keepWithinBudget();
      return value;
    },
  };
}

/** `make`, computed once per key among the `size` most recently used keys, in a named cache. */
export function remembered<V>(name: string, size: number, make: (key: string) => V, bytesOf?: (value: V, key: string) => number): (key: string) => V {
  const kept = recent<V>(name, size, bytesOf);
  return (key) => kept.get(key) ?? kept.set(key, make(key));
}

/**
 * Registers a map a module fills on its hot path (a face's shaped words, its
 * word widths), where a bounded wrapper would cost a lookup per word: it
 * counts toward the budget at `bytesPerEntry` each, and is cleared (it refills
 * on demand; results never depend on it) when it is the largest over budget.
 * Returns the map.
 */
export function trackMap<M extends { size: number; clear(): void }>(name: string, map: M, bytesPerEntry: number): M {
  registry.push({ name, entries: () => map.size, bytes: () => map.size * bytesPerEntry, trim: () => map.clear() });
  return map;
}

/** Counts a store into a tracked map toward the next budget check. */
export function noteStore(): void {
  keepWithinBudget();
}
