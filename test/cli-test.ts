import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { messages } from '../src/messages.ts';

const ROOT = resolve(import.meta.dirname, '..');
const RUN = join(ROOT, 'bin/run.js');

/** Runs `report` as a user would, in `cwd`, and captures everything. */
function report(args: string[], cwd = ROOT) {
  const result = spawnSync(process.execPath, [RUN, 'report', ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const temp = () => mkdtempSync(join(tmpdir(), 'briefing-cli-'));

describe('report --check', () => {
  it('validates the shipped dataset and prints a one-line summary', () => {
    const { code, stderr } = report(['--check']);
    expect(code).toBe(0);
    expect(stderr.trim().split('\n').at(-1)).toMatch(/^data\/catl-ai-stack\.yaml: valid: 6 entities, 3 deals, \d+ figures, \d+ derived figures$/);
  });

  it('exits 1 with every located problem and no stack trace', () => {
    const dir = temp();
    const file = join(dir, 'bad.yaml');
    const text = readFileSync(join(ROOT, 'data/catl-ai-stack.yaml'), 'utf8')
      .replace('stake: { value: 38,', 'stake: { value: 380,')
      .replace('counterparty: zhongheng', 'counterparty: nobody');
    writeFileSync(file, text);
    const { code, stderr } = report(['--check', '--data', file]);
    expect(code).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines.filter((l) => /^\S+:\d+:\d+  /.test(l) && l.startsWith(file))).toHaveLength(2);
    expect(stderr).toContain('deals.vnet.stake.value');
    expect(stderr).toContain('deals.zhongheng.counterparty');
    expect(lines.at(-1)).toBe(messages.invalidData(2, file));
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses text the typeface cannot draw, at its line, as the build would', () => {
    const dir = temp();
    const file = join(dir, 'emoji.yaml');
    const text = readFileSync(join(ROOT, 'data/catl-ai-stack.yaml'), 'utf8').replace('name: Zhongheng Electric', 'name: Zhongheng Electric \u{1F600}');
    writeFileSync(file, text);
    const { code, stderr } = report(['--check', '--data', file]);
    expect(code).toBe(1);
    const line = text.slice(0, text.indexOf('Zhongheng Electric \u{1F600}')).split('\n').length;
    expect(stderr).toContain(`${file}:${line}:`);
    expect(stderr).toContain(messages.unsupportedCharacter('\u{1F600}', 'U+1F600'));
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
