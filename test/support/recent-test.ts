import { describe, expect, it } from 'vitest';
import { CACHE_BUDGET_BYTES, cacheStats, recent, remembered, trackMap } from '../../src/support/recent.ts';

describe('recent', () => {
  it('keeps the most recently used entries and drops the least recently used first', () => {
    const kept = recent<number>('test: lru', 2);
    expect(kept.set('a', 1)).toBe(1);
    kept.set('b', 2);
    expect(kept.get('a')).toBe(1); // a is now the most recently used
    kept.set('c', 3); // drops b
    expect(kept.get('b')).toBeUndefined();
    expect(kept.get('a')).toBe(1);
    expect(kept.get('c')).toBe(3);
    kept.set('a', 10); // replacing keeps one entry per key
    kept.set('d', 4); // drops c
    expect([kept.get('a'), kept.get('c'), kept.get('d')]).toEqual([10, undefined, 4]);
  });
});

describe('remembered', () => {
  it('computes once per key while the key is among the most recent, again after it left', () => {
    const made: string[] = [];
    const upper = remembered('test: remembered', 2, (key: string) => {
      made.push(key);
      return key.toUpperCase();
    });
    expect([upper('x'), upper('x'), upper('y'), upper('x')]).toEqual(['X', 'X', 'Y', 'X']);
    expect(made).toEqual(['x', 'y']);
    upper('z'); // drops y
    upper('y');
    expect(made).toEqual(['x', 'y', 'z', 'y']);
  });
});

describe('the cache registry', () => {
  it('lists every named cache with its entries and estimated bytes', () => {
    const kept = recent<string>('test: sized', 4, (value) => value.length);
    kept.set('a', 'x'.repeat(10));
    kept.set('b', 'x'.repeat(5));
    expect(cacheStats().find((cache) => cache.name === 'test: sized')).toEqual({ name: 'test: sized', entries: 2, bytes: 15 });
  });

  it('keeps all caches together within the budget, trimming the largest first', () => {
    const big = recent<number>('test: big', 1000, () => CACHE_BUDGET_BYTES / 100);
    const small = recent<number>('test: small', 1000, () => 1);
    for (let i = 0; i < 10; i++) small.set(`s${i}`, i);
    for (let i = 0; i < 300; i++) big.set(`b${i}`, i);
    const stats = cacheStats();
    const total = stats.reduce((sum, cache) => sum + cache.bytes, 0);
    // Checked every 64 stores, so the total may pass the budget by at most that many entries' worth between checks.
    expect(total).toBeLessThanOrEqual(CACHE_BUDGET_BYTES + 64 * (CACHE_BUDGET_BYTES / 100));
    expect(stats.find((cache) => cache.name === 'test: big')!.entries).toBeLessThan(300);
    expect(stats.find((cache) => cache.name === 'test: small')!.entries).toBe(10);
    expect(big.get('b299')).toBe(299); // the newest stay
  });

  it('counts a tracked map by its size and clears it when it is the largest over budget', () => {
    const words = trackMap('test: tracked', new Map<string, number>(), CACHE_BUDGET_BYTES / 10);
    for (let i = 0; i < 5; i++) words.set(`w${i}`, i);
    expect(cacheStats().find((cache) => cache.name === 'test: tracked')!.bytes).toBe(5 * (CACHE_BUDGET_BYTES / 10));
    const filler = recent<number>('test: filler', 1000, () => 1);
    for (let i = 0; i < 64 * 20; i++) filler.set(`f${i}`, i);
    words.set('late', 1);
    // 6 tenths of the budget: within it, so nothing was cleared.
    expect(words.size).toBe(6);
    for (let i = 0; i < 6; i++) words.set(`more${i}`, i);
    for (let i = 0; i < 64; i++) filler.set(`g${i}`, i);
    expect(words.size).toBe(0);
  });
});
