// Compiles src/ into one CommonJS bundle per command (dist/<command>.cjs, and
// dist/worker.cjs for the pool) with esbuild. `npm ci` runs it (the prepare
// script), and the launcher runs it again whenever dist/ is missing or older
// than src/, the launcher, package.json or package-lock.json, so neither a
// source edit nor a dependency upgrade ever runs an old bundle. One esbuild
// call, about a second: it bundles the npm packages too.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DIST } from './load.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The commands, by the name bin/run.js takes, and their entry modules. */
export const ENTRIES = { report: 'src/cli/report.ts', chart: 'src/cli/chart.ts', 'new-report': 'src/cli/new-report.ts', schema: 'src/cli/schema.ts' };
// Built alongside: the worker-pool task, loaded by bin/worker.js in each worker thread.
const EXTRA = { worker: 'src/cli/worker.ts' };

function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

// vega-canvas's Node build probes for the optional node-canvas package with
// a top-level await, which a CommonJS bundle cannot hold. node-canvas is not
// a dependency (charts are SVG, text measured with our fonts), so that probe
// always finds nothing, and the package's other published build (its
// "default" export, which only looks for a DOM canvas, absent here) behaves
// the same. The bundle takes that build: no library source is rewritten.
const vegaCanvasWithoutNodeCanvas = {
  name: 'vega-canvas-without-node-canvas',
  setup(build) {
    const other = join(root, 'node_modules', 'vega-canvas', 'build', 'vega-canvas.browser.js');
    build.onResolve({ filter: /^vega-canvas$/ }, () => {
      if (!existsSync(other)) throw new Error(`vega-canvas changed shape: ${other} (its default export) is missing`);
      return { path: other };
    });
  },
};

// pdfkit finds its colour profile (PDF/A) and standard-font data from its own
// file's URL; in the bundle, import.meta.url would be the bundle's. For the
// pdfkit release this was written for, the plugin points pdfkit's
// import.meta.url at its installed file, which sits beside that data, and
// pdfkit goes into the bundle (one parse, one code cache). For any other
// release pdfkit is left out of the bundle and loaded from node_modules as
// published (a little slower to start, never wrong), with a warning.
// `BRIEFING_PUBLIC_APIS=1 node bin/build.js` builds that variant on purpose,
// to measure it (delete dist/ afterwards: the staleness check reads no env).
export const PDFKIT_BUNDLED_FOR = '0.20.2';
const pdfkitBesideItsData = {
  name: 'pdfkit-beside-its-data',
  setup(build) {
    build.onLoad({ filter: /pdfkit[\\/]js[\\/]pdfkit\.node\.mjs$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.url')) throw new Error(`pdfkit changed shape: ${args.path} no longer reads import.meta.url`);
      return { contents: text.replaceAll('import.meta.url', "require('node:url').pathToFileURL(require.resolve('pdfkit')).href"), loader: 'js' };
    });
  },
};

// Modules the bundle imports but a build never calls: WOFF2 decompression
// (fontkit; the fonts are WOFF), pdfkit's line breaker (the PDF stage breaks
// lines itself) and pdfkit's AES (for encrypted PDFs; ours are not). Each
// builds tables when it loads (~30 ms together), so each is replaced by a
// stand-in (a function, a class, or named functions) that loads the real
// module on first use.
const LAZY = { 'brotli/decompress.js': 'function', linebreak: 'class', '@noble/ciphers/aes': ['cbc', 'ecb'] };
const loadOnFirstUse = {
  name: 'load-on-first-use',
  setup(build) {
    const specifiers = new RegExp(`^(${Object.keys(LAZY).map((s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`);
    // The stand-in's own require() of the module resolves as usual (pluginData marks it).
    build.onResolve({ filter: specifiers }, (args) => (args.pluginData === 'real' ? undefined : { path: args.path, namespace: 'lazy', pluginData: args.resolveDir }));
    build.onLoad({ filter: /.*/, namespace: 'lazy' }, (args) => {
      const load = `require(${JSON.stringify(args.path)})`;
      const kind = LAZY[args.path];
      const contents = Array.isArray(kind)
        ? `let real; module.exports = { ${kind.map((name) => `${name}: function (...args) { return (real ??= ${load}).${name}.apply(this, args); }`).join(', ')} };`
        : {
            function: `let real; module.exports = function (...args) { return (real ??= ${load}).apply(this, args); };`,
            class: `let real; module.exports = function (...args) { return new (real ??= ${load})(...args); };`,
          }[kind];
      return { contents, loader: 'js', resolveDir: args.pluginData, pluginData: 'real' };
    });
  },
};

/** True when dist/ lacks a bundle or is older than anything it is built from. */
export function isStale() {
  const inputs = [join(root, 'src'), join(root, 'package.json'), join(root, 'package-lock.json'), ...['run.js', 'load.js', 'worker.js', 'build.js'].map((name) => join(root, 'bin', name))];
  const built = Object.keys(ENTRIES).map((name) => join(DIST, `${name}.cjs`));
  if (!built.every(existsSync)) return true;
  const oldest = Math.min(...built.map((file) => statSync(file).mtimeMs));
  return oldest < Math.max(...inputs.filter(existsSync).map(newest));
}

/** Compiles every bundle into dist/. */
export async function compile() {
  // Read when compiling only: a launcher start with a current dist/ needs none of this.
  const pdfkitVersion = JSON.parse(readFileSync(join(root, 'node_modules', 'pdfkit', 'package.json'), 'utf8')).version;
  const bundlePdfkit = pdfkitVersion === PDFKIT_BUNDLED_FOR && process.env.BRIEFING_PUBLIC_APIS !== '1';
  if (!bundlePdfkit && pdfkitVersion !== PDFKIT_BUNDLED_FOR) process.stderr.write(`warning: pdfkit ${pdfkitVersion} is installed, not ${PDFKIT_BUNDLED_FOR}; it is loaded from node_modules rather than bundled\n`);
  const { build } = await import('esbuild');
  const { outputFiles } = await build({
    entryPoints: Object.fromEntries(Object.entries({ ...ENTRIES, ...EXTRA }).map(([name, file]) => [name, join(root, file)])),
    outdir: DIST,
    outExtension: { '.js': '.cjs' },
    write: false,
    bundle: true,
    platform: 'node',
    // One CommonJS file per entry (no chunks): a classic script is what V8's
    // code cache takes. Stages imported with import() stay lazy: esbuild
    // wraps them so they run on first use, and V8 only pre-parses them until then.
    format: 'cjs',
    target: 'node20',
    // npm packages go into the bundle too: Node resolves, reads and links
    // hundreds of ESM files for vega and vega-lite otherwise, ~0.4 s of every
    // cold start (and of every worker thread), and the code cache covers only
    // the bundle. Kept out: tinypool starts its worker from its own folder,
    // esbuild is only this launcher's.
    external: ['tinypool', 'esbuild', ...(bundlePdfkit ? [] : ['pdfkit'])],
    define: { 'import.meta.url': '__bundle_url' },
    banner: { js: "const __bundle_url = require('node:url').pathToFileURL(__filename).href;" },
    plugins: [vegaCanvasWithoutNodeCanvas, ...(bundlePdfkit ? [pdfkitBesideItsData] : []), loadOnFirstUse],
    sourcemap: 'linked',
    // Names are kept (stack traces, profiles); whitespace and redundant syntax
    // go: a third less source for every process to read and scan (7.7 -> 4.9 MB).
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'error',
  });
  // Each file goes to a private name, then is renamed into place, so a second
  // run starting at the same moment never loads a half-written file; the
  // entry points last, since their age is what marks dist/ as current. Files
  // of earlier compiles (and their code caches) are removed.
  mkdirSync(DIST, { recursive: true });
  const entryFiles = new Set(Object.keys(ENTRIES).map((name) => join(DIST, `${name}.cjs`)));
  const written = new Set(outputFiles.map((file) => file.path));
  for (const name of readdirSync(DIST)) {
    const path = join(DIST, name);
    if (!written.has(path)) rmSync(path, { recursive: true, force: true });
  }
  for (const file of [...outputFiles].sort((a, b) => Number(entryFiles.has(a.path)) - Number(entryFiles.has(b.path)))) {
    const temp = `${file.path}.tmp-${process.pid}`;
    writeFileSync(temp, file.contents);
    renameSync(temp, file.path);
  }
}

// Run directly (the prepare script): compile.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await compile();
