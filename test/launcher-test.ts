/**
 * bin/load.js: the compiled bundle is loaded through V8's code cache, which
 * is written once, reused, replaced when the source changes, and upgraded
 * from a light run's (help, version) to a build's.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

interface Loaded {
  exports: { twice(n: number): number; name(): number };
  cache: 'none' | 'accepted' | 'rejected';
  saveCache(): void;
}

const LOADER = pathToFileURL(join(import.meta.dirname, '..', 'bin', 'load.js')).href;

/**
 * Loads the bundle in a new Node process, as the CLI does (within one
 * process V8 keeps compiled scripts in memory and would never consult the
 * cache): returns what the child saw, and saves the cache there when asked.
 */
function loadBundle(name: string, options: { light?: boolean; dir: string; save?: boolean }): Loaded {
  const script = `
    const { loadBundle } = await import(${JSON.stringify(LOADER)});
    const loaded = loadBundle(${JSON.stringify(name)}, { light: ${Boolean(options.light)}, dir: ${JSON.stringify(options.dir)} });
    if (${Boolean(options.save)}) loaded.saveCache();
    process.stdout.write(JSON.stringify({ cache: loaded.cache, twice: [1, 2, 4, 5, 21].map((n) => loaded.exports.twice(n)), name: loaded.exports.name?.() }));`;
  const seen = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as { cache: Loaded['cache']; twice: number[]; name?: number };
  const inputs = [1, 2, 4, 5, 21];
  return {
    cache: seen.cache,
    exports: { twice: (n) => seen.twice[inputs.indexOf(n)]!, name: () => seen.name ?? NaN },
    saveCache: () => loadBundle(name, { ...options, save: true }),
  };
}

let dir: string;
const bundle = (body: string) => writeFileSync(join(dir, 'demo.cjs'), `"use strict";\n${body}\n`);
/** The cache file of one kind, if any ('demo.cjs.<stamp>.<kind>.v8'). */
const cacheOf = (kind: 'full' | 'light') => {
  const names = readdirSync(dir).filter((name) => name.startsWith('demo.cjs.') && name.endsWith(`.${kind}.v8`));
  expect(names.length).toBeLessThanOrEqual(1);
  return names[0] ? join(dir, names[0]) : undefined;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'briefing-launcher-'));
  bundle('const helper = require("node:path").basename; exports.twice = (n) => n * 2; exports.name = () => helper(__filename).length;');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('loadBundle', () => {
  it('runs the bundle as CommonJS (exports, require, __filename) and writes a cache only when asked', () => {
    const first = loadBundle('demo', { dir });
    expect(first.exports.twice(21)).toBe(42);
    expect(first.exports.name()).toBe('demo.cjs'.length);
    expect(first.cache).toBe('none');
    expect(cacheOf('full')).toBeUndefined();
    first.saveCache();
    expect(statSync(cacheOf('full')!).size).toBeGreaterThan(0);
  });

  it('reuses its cache on the next load, and does not rewrite it', () => {
    loadBundle('demo', { dir }).saveCache();
    const cache = cacheOf('full')!;
    const mtime = statSync(cache).mtimeMs;
    const second = loadBundle('demo', { dir });
    expect(second.cache).toBe('accepted');
    expect(second.exports.twice(5)).toBe(10);
    second.saveCache();
    expect(statSync(cache).mtimeMs).toBe(mtime);
  });

  it('never gives a rebuilt bundle the cache of the old one, even at the same length', () => {
    loadBundle('demo', { dir }).saveCache();
    const old = readFileSync(join(dir, 'demo.cjs'), 'utf8');
    // Same length, other behaviour: V8's own check (source length) would take the old cache.
    const same = old.replace('n * 2', 'n * 3');
    expect(same.length).toBe(old.length);
    writeFileSync(join(dir, 'demo.cjs'), same);
    const rebuilt = loadBundle('demo', { dir });
    expect(rebuilt.cache).toBe('none');
    expect(rebuilt.exports.twice(2)).toBe(6);
  });

  it('a cache V8 refuses (damaged) is reported, not used, and replaced', () => {
    loadBundle('demo', { dir }).saveCache();
    const cache = cacheOf('full')!;
    writeFileSync(cache, Buffer.alloc(statSync(cache).size, 7));
    const loaded = loadBundle('demo', { dir });
    expect(loaded.cache).toBe('rejected');
    expect(loaded.exports.twice(4)).toBe(8);
    loaded.saveCache();
    expect(loadBundle('demo', { dir }).cache).toBe('accepted');
  });

  it("keeps a light run's cache apart and lets the first full run write its own", () => {
    loadBundle('demo', { dir, light: true }).saveCache();
    expect(cacheOf('light')).toBeDefined();
    const full = loadBundle('demo', { dir });
    expect(full.cache).toBe('accepted'); // the light cache still serves what it has
    full.saveCache();
    const fullCache = cacheOf('full')!;
    // From then on the full cache is used, and light runs do not replace it.
    const later = loadBundle('demo', { dir, light: true });
    expect(later.cache).toBe('accepted');
    const before = readFileSync(fullCache);
    later.saveCache();
    expect(readFileSync(fullCache).equals(before)).toBe(true);
  });

  it('a cache it cannot read or write costs only the cache', () => {
    const stat = statSync(join(dir, 'demo.cjs'), { bigint: true });
    // A folder where the cache file would go: reading and renaming onto it both fail.
    mkdirSync(join(dir, `demo.cjs.${stat.ino}-${stat.size}-${stat.mtimeNs}.full.v8`));
    const loaded = loadBundle('demo', { dir, save: true });
    expect(loaded.cache).toBe('none');
    expect(loaded.exports.twice(21)).toBe(42);
  });
});

describe('the launcher', () => {
  it('sets no V8 flag at run time: npm scripts and the shebang pass bin/flags.js on the command line', async () => {
    const { NODE_FLAGS } = (await import(pathToFileURL(join(import.meta.dirname, '..', 'bin', 'flags.js')).href)) as { NODE_FLAGS: string[] };
    expect(NODE_FLAGS.length).toBeGreaterThan(0);
    const root = join(import.meta.dirname, '..');
    for (const file of ['run.js', 'load.js', 'build.js', 'worker.js']) expect(readFileSync(join(root, 'bin', file), 'utf8'), file).not.toMatch(/setFlagsFromString/);
    const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    for (const name of ['report', 'chart', 'new-report', 'schema']) expect(scripts[name], name).toBe(`node ${NODE_FLAGS.join(' ')} bin/run.js ${name}`);
    expect(readFileSync(join(root, 'bin', 'run.js'), 'utf8').split('\n')[0]).toBe(`#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`);
    // npm ci compiles the bundle (the prepare script), so a fresh clone never builds on first use.
    expect(scripts.prepare).toBe('node bin/build.js');
  });

  it('keeps a code cache per set of V8 flags, so runs with and without them do not replace each other’s', () => {
    const script = `const { loadBundle } = await import(${JSON.stringify(LOADER)}); loadBundle('demo', { dir: ${JSON.stringify(dir)} }).saveCache();`;
    execFileSync(process.execPath, ['--input-type=module', '-e', script]);
    execFileSync(process.execPath, ['--interrupt-budget=540672', '--input-type=module', '-e', script]);
    const caches = readdirSync(dir).filter((name) => name.endsWith('.full.v8'));
    expect(caches).toHaveLength(2);
  });
});
