/** "Did you mean": names ordered for a message, the closest to a misspelt one first. */

/** The known names closest to `name` first (edit distance), then the rest alphabetically; each once. */
export function suggest(name: string, known: readonly string[]): string[] {
  return [...new Set(known)].sort((a, b) => distance(name, a) - distance(name, b) || a.localeCompare(b));
}

/** Levenshtein distance, one row at a time. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}
