#!/usr/bin/env node
// Launcher: runs the compiled CLI, compiling src/ first when dist/ is missing
// or older than any source file (or this launcher, or package.json).
// Compiling is one esbuild call (about a second: it bundles the npm packages
// too), so a fresh clone needs no separate build step and the hot path runs
// plain JS from one file per thread.
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entries = { report: 'src/cli.ts', chart: 'src/chart-cli.ts' };
// Built alongside: the worker-pool task, loaded by dist/report.js at run time.
const extra = { worker: 'src/worker.ts' };
const command = process.argv[2];
if (!(command in entries)) {
  process.stderr.write(`usage: node bin/run.js ${Object.keys(entries).join('|')} [options]\n`);
  process.exit(2);
}
const outfile = join(root, 'dist', `${command}.js`);

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

if (!existsSync(outfile) || statSync(outfile).mtimeMs < Math.max(newestSource(join(root, 'src')), statSync(join(root, 'package.json')).mtimeMs, statSync(fileURLToPath(import.meta.url)).mtimeMs)) {
  const { build } = await import('esbuild');
  const dist = join(root, 'dist');
  const { outputFiles } = await build({
    entryPoints: Object.fromEntries(Object.entries({ ...entries, ...extra }).map(([name, file]) => [name, join(root, file)])),
    outdir: dist,
    write: false,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Stages imported with import() become chunks loaded on first use.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    // npm packages go into the bundle too: Node resolves, reads and links
    // hundreds of ESM files for vega and vega-lite otherwise, ~0.4 s of every
    // cold start (and of every worker thread). Kept out: pdfkit reads its
    // font data beside its own file, tinypool starts its worker from its own
    // folder, esbuild is only this launcher's.
    external: ['pdfkit', 'tinypool', 'esbuild'],
    // Bundled CommonJS packages call require() for Node built-ins.
    banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
    sourcemap: 'linked',
    logLevel: 'error',
  });
  // Each file goes to a private name, then is renamed into place, so a second
  // run starting at the same moment never imports a half-written file; the
  // entry points last, since their age is what marks dist/ as current.
  mkdirSync(dist, { recursive: true });
  const entryFiles = new Set(Object.keys(entries).map((name) => join(dist, `${name}.js`)));
  for (const file of [...outputFiles].sort((a, b) => Number(entryFiles.has(a.path)) - Number(entryFiles.has(b.path)))) {
    mkdirSync(dirname(file.path), { recursive: true });
    const temp = `${file.path}.tmp-${process.pid}`;
    writeFileSync(temp, file.contents);
    renameSync(temp, file.path);
  }
}

const { main } = await import(pathToFileURL(outfile).href);
process.exitCode = await main(process.argv.slice(3));
