/** The engine knows no report: nothing under src/ names the CATL briefing's ids or its domain's words. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The issue's own pattern: the shipped report's ids and the words of its domain. */
const REPORT_WORDS = /catl|zhongheng|vnet|deepseek|\bdeals?\b|\bstakes?\b|valuation|gwh|battery/i;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : [path];
  });
}

describe('src/', () => {
  it('names no report id and no word of one report’s domain', () => {
    const files = sourceFiles('src');
    expect(files.length).toBeGreaterThan(10);
    const hits = files.flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) => (REPORT_WORDS.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(hits).toEqual([]);
  });

  it('the pattern itself finds those words (so the test above can fail)', () => {
    for (const word of ['CATL', 'the deals', 'stake', 'Evaluation', '541 GWh', 'battery']) expect(REPORT_WORDS.test(word)).toBe(true);
    expect(REPORT_WORDS.test('orders, revenue, TWh')).toBe(false);
  });
});
