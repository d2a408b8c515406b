// Loads a compiled bundle (dist/<name>.cjs) with V8's code cache, so a cold
// process skips parsing and compiling the functions earlier runs compiled:
// what Node 22's module.enableCompileCache() does for every module, done here
// for our one bundle because Node 20 has no compile cache.
//
// The cache sits beside the bundle (dist/<name>.cjs.<stamp>.<kind>.v8). It is made at
// the end of a run from the functions that run compiled, so a cache made by
// `--version` would lack the stages: a run that builds replaces a cache that a
// light run (help, version, check) made, once. V8 rejects a cache that does
// not match the source, Node or V8 flags; then the run compiles as usual and
// writes a fresh one. A folder it cannot write (a read-only checkout) only
// costs the cache.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

export const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');

/**
 * The exports of <dir>/<name>.cjs (dir: dist/), with `cache` telling how the
 * code cache was used ('none', 'accepted' or 'rejected') and `saveCache()`;
 * `light` says this run compiles little (help, version, check).
 */
export function loadBundle(name, { light = false, dir = DIST } = {}) {
  const file = join(dir, `${name}.cjs`);
  // V8 checks a cache against the source's length only, so each cache is
  // named after the bundle file it was made from (inode, size, mtime): a
  // recompiled bundle never meets a cache of the old one, even of equal length.
  const fd = openSync(file, 'r');
  let source;
  let stamp;
  try {
    const stat = fstatSync(fd, { bigint: true });
    stamp = `${stat.ino}-${stat.size}-${stat.mtimeNs}`;
    source = readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
  // V8 also rejects a cache made under other flags, so a run with the launcher's
  // flags and one without (a test starting bin/run.js with plain node) keep one each.
  const flags = process.execArgv.filter((arg) => arg.startsWith('--') && !arg.startsWith('--import')).join(' ');
  const variant = flags ? `.${createHash('sha256').update(flags).digest('hex').slice(0, 8)}` : '';
  const caches = { full: `${file}.${stamp}${variant}.full.v8`, light: `${file}.${stamp}${variant}.light.v8` };
  const found = existsSync(caches.full) ? 'full' : existsSync(caches.light) ? 'light' : undefined;
  let cachedData;
  try {
    cachedData = found ? readFileSync(caches[found]) : undefined;
  } catch {
    cachedData = undefined; // unreadable: compile as if there were none
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData,
  });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  const kind = light ? 'light' : 'full';
  const stale = !cachedData || script.cachedDataRejected || (found === 'light' && kind === 'full');
  let saved = !stale;
  return {
    exports: module.exports,
    cache: !cachedData ? 'none' : script.cachedDataRejected ? 'rejected' : 'accepted',
    /** Writes the code cache if this run should (at most once; ~25 ms when it does). */
    saveCache() {
      if (saved) return;
      saved = true;
      try {
        const temp = `${caches[kind]}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
        writeFileSync(temp, script.createCachedData());
        renameSync(temp, caches[kind]);
      } catch {
        // An optimisation only.
      }
    },
  };
}
