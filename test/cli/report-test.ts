import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { normalizeReports } from '../../src/config.ts';
import { parseYaml } from '../../src/dataset/load.ts';
import { messages } from '../../src/support/messages.ts';
import { loadDatasetFile } from '../fixtures/dataset/load.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const RUN = join(ROOT, 'bin/run.js');
const DATASET = 'data/catl-ai-stack.yaml';

/** Runs `report` as a user would, in `cwd`, and captures everything. */
function report(args: string[], cwd = ROOT) {
  const result = spawnSync(process.execPath, [RUN, 'report', ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const temps: string[] = [];
const temp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'briefing-cli-'));
  temps.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** 1-based line where `needle` first occurs in `text`. */
const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;
/** `line:column` (1-based) where `value` starts, on the first line holding `needle`. */
const at = (text: string, needle: string, value: string) => {
  const line = lineOf(text, needle);
  return `${line}:${text.split('\n')[line - 1]!.indexOf(value) + 1}`;
};

describe('report --check', () => {
  it('checks every shipped report once per set of inputs and prints a one-line summary of each', () => {
    // The counts, taken from each dataset itself, loaded in this process.
    const summaryOf = (report: ReturnType<typeof normalizeReports>[number]) => {
      const { data, derived } = loadDatasetFile(join(ROOT, report.dataset));
      const collections = Object.values(data.collections);
      const counts = {
        collections: collections.length,
        records: Object.keys(data.entities).length + collections.reduce((n, c) => n + Object.keys(c.records ?? {}).length + (c.rows?.length ?? 0), 0),
        figures: Object.keys(data.metrics).length,
        derived: Object.keys(derived.figures).length,
        checks: Object.keys(data.checks).length,
        views: Object.keys(derived.views).length,
      };
      const chartCount = report.charts ? readdirSync(join(ROOT, report.charts)).filter((name) => name.endsWith('.vl.json')).length : 0;
      return `${messages.checkSummary(report.dataset, counts)}; ${messages.checkContent(report.templates, chartCount)}`;
    };
    // Reports that read the same dataset, templates and charts are checked once: the shipped ones, and a copy of the first under another id and paper.
    const shipped = readFileSync(join(ROOT, 'reports.yaml'), 'utf8');
    const first = shipped.slice(shipped.indexOf('  - id: '), shipped.indexOf('  - id: ', shipped.indexOf('  - id: ') + 1));
    const config = join(temp(), 'reports.yaml');
    writeFileSync(config, `${shipped.trimEnd()}\n${first.replace(/id: (\S+)/, 'id: $1-copy').replace(/paper: .*/, 'paper: letter')}`);
    const reports = normalizeReports(parseYaml(config, readFileSync(config)));
    const distinct = [...new Map(reports.map((r) => [JSON.stringify([r.dataset, r.templates, r.charts]), r])).values()];
    expect(distinct.length).toBeLessThan(reports.length);
    const { code, stderr } = report(['--check', '--config', config]);
    expect(code).toBe(0);
    expect(stderr.trim().split('\n')).toEqual(distinct.map(summaryOf));
  });

  it('exits 1 with every located problem and no stack trace', () => {
    const dir = temp();
    const file = join(dir, 'bad.yaml');
    const text = readFileSync(join(ROOT, DATASET), 'utf8')
      .replace('stake: { value: 38,', 'stake: { value: 380,')
      .replace('counterparty: zhongheng', 'counterparty: nobody');
    writeFileSync(file, text);
    const { code, stderr } = report(['--check', '--data', file]);
    expect(code).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines.filter((l) => /^\S+:\d+:\d+  /.test(l) && l.startsWith(file))).toHaveLength(2);
    expect(stderr).toContain(`${file}:${at(text, 'counterparty: nobody', 'nobody')}  collections.deals.records.zhongheng.counterparty  `);
    expect(stderr).toContain(`${file}:${at(text, 'stake: { value: 380,', '380')}  collections.deals.records.vnet.stake.value  ${messages.percentRange}`);
    expect(lines.at(-1)).toBe(messages.invalidData(2, file));
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses text the typeface cannot draw, at its line, as the build would', () => {
    const dir = temp();
    const file = join(dir, 'cjk.yaml');
    const text = readFileSync(join(ROOT, DATASET), 'utf8').replace('name: Zhongheng Electric', 'name: Zhongheng Electric \u5b81');
    writeFileSync(file, text);
    const { code, stderr } = report(['--check', '--data', file]);
    expect(code).toBe(1);
    expect(stderr).toContain(`${file}:${lineOf(text, 'Zhongheng Electric \u5b81')}:`);
    expect(stderr).toContain(messages.unsupportedCharacter('\u5b81', 'U+5B81'));
  });

  it('gives one clear message for a missing file and for a directory', () => {
    const dir = temp();
    expect(report(['--check', '--data', join(dir, 'nope.yaml')]).stderr.trim()).toBe(messages.fileMissing(join(dir, 'nope.yaml')));
    mkdirSync(join(dir, 'sub'));
    const asDir = report(['--check', '--data', join(dir, 'sub')]);
    expect(asDir.code).toBe(1);
    expect(asDir.stderr.trim()).toBe(messages.fileIsDirectory(join(dir, 'sub')));
  });

  it('treats an unknown flag as a usage error with the usage text', () => {
    const { code, stderr } = report(['--chek']);
    expect(code).toBe(2);
    expect(stderr).toContain("unknown option '--chek'");
    expect(stderr).toContain('Usage: report');
  });

  it('prints usage on --help and exits 0', () => {
    const { code, stdout } = report(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('--check');
    expect(stdout).toContain('--data <file>');
  });
});
