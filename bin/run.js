#!/usr/bin/env node
// Launcher: runs the compiled CLI, compiling src/ first when dist/ is missing
// or older than any source file. Compiling is one esbuild call (~100 ms), so a
// fresh clone needs no separate build step and the hot path runs plain JS.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entries = { report: 'src/cli.ts', chart: 'src/chart-cli.ts' };
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

if (!existsSync(outfile) || statSync(outfile).mtimeMs < Math.max(newestSource(join(root, 'src')), statSync(join(root, 'package.json')).mtimeMs)) {
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(root, entries[command])],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    logLevel: 'error',
  });
}
const { main } = await import(pathToFileURL(outfile).href);
process.exitCode = await main(process.argv.slice(3));
