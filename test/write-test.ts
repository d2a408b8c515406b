import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliError } from '../src/support/error.ts';
import { messages } from '../src/support/messages.ts';
import { commitOutputs, listFiles, recoverOutput, sha256, type OutputFile } from '../src/write.ts';

const file = (path: string, text: string, report = 'r'): OutputFile => ({ path, bytes: new TextEncoder().encode(text), report });
const temps: string[] = [];
const tempOut = () => {
  const dir = mkdtempSync(join(tmpdir(), 'briefing-write-'));
  temps.push(dir);
  return join(dir, 'output');
};
// Some tests make folders read-only; they are made writable again before removal.
afterAll(() => {
  for (const dir of temps) {
    for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) if (entry.isDirectory()) chmodSync(join(entry.parentPath, entry.name), 0o755);
    chmodSync(dir, 0o755);
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('commitOutputs', () => {
  it('writes the set, nested folders included, and leaves no staging behind', async () => {
    const out = tempOut();
    await commitOutputs(out, [file('a.pdf', 'A'), file('charts/x.svg', '<svg/>')], () => true);
    expect(await listFiles(out)).toEqual(['a.pdf', 'charts/x.svg']);
    expect(readFileSync(join(out, 'charts/x.svg'), 'utf8')).toBe('<svg/>');
    expect(readdirSync(join(out, '..')).filter((n) => n !== 'output')).toEqual([]);
  });

  it('keeps what `keep` accepts and drops the rest', async () => {
    const out = tempOut();
    await commitOutputs(out, [file('.gitkeep', ''), file('old.svg', 'old'), file('other.pdf', 'other')], () => true);
    await commitOutputs(out, [file('new.svg', 'new')], (path) => path !== 'old.svg');
    expect(await listFiles(out)).toEqual(['.gitkeep', 'new.svg', 'other.pdf']);
  });

  it('leaves the previous set untouched when writing fails', async () => {
    const out = tempOut();
    await commitOutputs(out, [file('a.pdf', 'first')], () => true);
    const parent = join(out, '..');
    chmodSync(parent, 0o500);
    try {
      if (process.getuid?.() === 0) {
        // root ignores permissions; simulate with a path that cannot be a folder instead
        chmodSync(parent, 0o700);
        writeFileSync(join(parent, 'blocker'), '');
        await expect(commitOutputs(join(parent, 'blocker', 'out'), [file('a.pdf', 'x')], () => true)).rejects.toThrow();
      } else {
        await expect(commitOutputs(out, [file('a.pdf', 'second')], () => true)).rejects.toThrow(CliError);
      }
    } finally {
      chmodSync(parent, 0o700);
    }
    expect(readFileSync(join(out, 'a.pdf'), 'utf8')).toBe('first');
  });

  it('restores the output folder when a build was killed between its two renames', async () => {
    const out = tempOut();
    await commitOutputs(out, [file('a.pdf', 'complete')], () => true);
    // What a kill after the first rename leaves: no output/, a previous folder of a dead process.
    const previous = join(out, '..', '.output.previous-999999999');
    renameSync(out, previous);
    await recoverOutput(out);
    expect(readFileSync(join(out, 'a.pdf'), 'utf8')).toBe('complete');
    expect(existsSync(previous)).toBe(false);
  });

  it('clears a stale lock left by a dead build', async () => {
    const out = tempOut();
    mkdirSync(join(out, '..'), { recursive: true });
    writeFileSync(join(out, '..', '.output.lock'), '999999999');
    await commitOutputs(out, [file('a.pdf', 'ok')], () => true);
    expect(readFileSync(join(out, 'a.pdf'), 'utf8')).toBe('ok');
  });

  it('gives a clear message when the output folder is not writable', () => {
    expect(messages.outputNotWritable('output', 'EACCES')).toMatch(/previous outputs are untouched/);
  });
});

describe('sha256', () => {
  it('is the standard digest', () => {
    expect(sha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
