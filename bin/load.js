// Loads a compiled bundle (dist/<name>.cjs) with V8's code cache, so a cold
// process skips parsing and compiling the functions earlier runs compiled:
// what Node 22's module.enableCompileCache() does for every module, done here
// for our one bundle because Node 20 has no compile cache.
//
// The cache sits beside the bundle (dist/<name>.cjs.<kind>.v8). It is made at
// the end of a run from the functions that run compiled, so a cache made by
// `--version` would lack the stages: a run that builds replaces a cache that a
// light run (help, version, check) made, once. V8 rejects a cache that does
// not match the source, Node or V8 flags; then the run compiles as usual and
// writes a fresh one. A folder it cannot write (a read-only checkout) only
// costs the cache.
import { createRequire } from 'node:module';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

export const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');

/** The exports of dist/<name>.cjs; `light` says this run compiles little (help, version, check). */
export function loadBundle(name, { light = false } = {}) {
  const file = join(DIST, `${name}.cjs`);
  const caches = { full: `${file}.full.v8`, light: `${file}.light.v8` };
  const found = existsSync(caches.full) ? 'full' : existsSync(caches.light) ? 'light' : undefined;
  let cachedData;
  try {
    cachedData = found ? readFileSync(caches[found]) : undefined;
  } catch {
    cachedData = undefined; // unreadable: compile as if there were none
  }
  const source = readFileSync(file, 'utf8');
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
