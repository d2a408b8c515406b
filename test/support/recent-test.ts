import { describe, expect, it } from 'vitest';
import { recent, remembered } from '../../src/support/recent.ts';

describe('recent', () => {
  it('keeps the most recently used entries and drops the least recently used first', () => {
    const kept = recent<number>(2);
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
    const upper = remembered(2, (key) => {
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
