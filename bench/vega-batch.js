// The floor for bench/chart.js's batch: Vega-Lite and Vega alone (as vl2svg
// renders, vega's own file loader from each spec's folder) rendering every
// spec of a folder to an SVG string in this one process. Prints one JSON line.
//   node bench/vega-batch.js SPECS_DIR
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vega from 'vega';
import { compile } from 'vega-lite';

const dir = process.argv[2];
const specs = readdirSync(dir).filter((name) => name.endsWith('.vl.json')).sort();
const started = performance.now();
let rendered = 0;
for (const name of specs) {
  try {
    const spec = compile(JSON.parse(readFileSync(join(dir, name), 'utf8'))).spec;
    const view = new vega.View(vega.parse(spec), { loader: vega.loader({ baseURL: `${dir}/` }), logger: vega.logger(vega.None), renderer: 'none' });
    await view.toSVG();
    view.finalize();
    rendered++;
  } catch {
    // counted as not rendered
  }
}
console.log(JSON.stringify({ specs: specs.length, rendered, wallMs: Math.round(performance.now() - started) }));
