#!/usr/bin/env node
// Launcher: runs the compiled CLI, compiling src/ first when dist/ is missing
// or older than any source file. Compiling is one esbuild call (~100 ms), so a
// fresh clone needs no separate build step and the hot path runs plain JS.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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
  // run starting at the same moment never imports a half-written file.
  mkdirSync(dist, { recursive: true });
  for (const file of outputFiles) {
    const temp = `${file.path}.tmp-${process.pid}`;
    writeFileSync(temp, file.contents);
    renameSync(temp, file.path);
  }
}

// Vega-Lite's JSON schema, compiled by ajv into a standalone validator beside
// the bundle, once per vega-lite version (and again after a dependency
// change): compiling the schema takes 1-5 s of every cold build that renders a
// chart, loading the compiled file ~60 ms. src/charts.ts loads it from
// ./vega-lite-schema-<version>.cjs and compiles at run time only where it is
// missing (tests run src/ directly). The ajv options match src/charts.ts;
// inlineRefs: false only shapes the code (a third smaller), not the errors.
const requireHere = createRequire(import.meta.url);
const schemaFile = requireHere.resolve('vega-lite/vega-lite-schema.json');
const vegaLiteVersion = JSON.parse(readFileSync(join(dirname(schemaFile), '..', 'package.json'), 'utf8')).version;
const validator = join(root, 'dist', `vega-lite-schema-${vegaLiteVersion}.cjs`);
if (!existsSync(validator) || statSync(validator).mtimeMs < statSync(join(root, 'package.json')).mtimeMs) {
  const Ajv = requireHere('ajv');
  const standaloneCode = requireHere('ajv/dist/standalone').default;
  const ajv = new Ajv({ allErrors: false, strict: false, validateFormats: false, inlineRefs: false, code: { source: true } });
  const code = standaloneCode(ajv, ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8'))));
  const { build } = await import('esbuild');
  // Bundled (ajv's runtime helpers inlined, so dist/ needs nothing else) and minified (parsed faster).
  const { outputFiles } = await build({
    stdin: { contents: code, resolveDir: root, loader: 'js' },
    write: false,
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'error',
  });
  mkdirSync(dirname(validator), { recursive: true });
  const temp = `${validator}.tmp-${process.pid}`;
  writeFileSync(temp, outputFiles[0].contents);
  renameSync(temp, validator);
}

const { main } = await import(pathToFileURL(outfile).href);
process.exitCode = await main(process.argv.slice(3));
