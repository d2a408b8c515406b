import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chartInProcess } from '../fixtures/charts/cli.ts';
import { messages } from '../../src/support/messages.ts';
import { svgTexts } from '../fixtures/charts/load.ts';
import { readPdf } from '../fixtures/charts/pdf.ts';
import { pngSize } from '../fixtures/charts/png.ts';
import { inProcess } from '../fixtures/in-process.ts';
import { main, type ChartEffects } from '../../src/cli/chart.ts';
import { FONT_FAMILY } from '../../src/text/fonts.ts';

const fontkit = createRequire(import.meta.url)('fontkit') as { create(bytes: Buffer): { familyName: string; hasGlyphForCodePoint(codePoint: number): boolean } };

const RUN = resolve('bin/run.js');
const run = promisify(execFile);

/** Runs `node bin/run.js chart ARGS` in `cwd`; resolves with the exit code and output, whatever the code. */
async function chart(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [RUN, 'chart', ...args], { cwd, env: { ...process.env, SOURCE_DATE_EPOCH: '' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

// A spec that is not one of ours: inline rows and a CSV beside it, layered.
const SPEC = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: 'Tea exports by country, tonnes',
  data: { url: 'exports.csv' },
  encoding: {
    y: { field: 'country', type: 'nominal', sort: '-x' },
    x: { field: 'tonnes', type: 'quantitative' },
  },
  layer: [{ mark: 'bar' }, { mark: { type: 'text', align: 'left', dx: 4 }, encoding: { text: { field: 'tonnes', type: 'quantitative' } } }],
};
const ROWS = [
  ['Kenya', 579],
  ['Sri Lanka', 254],
  ['Vietnam', 127],
] as const;

let dir: string;
afterAll(() => rm(dir, { recursive: true, force: true }));
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chart-cli-'));
  await writeFile(join(dir, 'exports.csv'), `country,tonnes\n${ROWS.map((r) => r.join(',')).join('\n')}\n`);
  await writeFile(join(dir, 'tea.vl.json'), JSON.stringify(SPEC, null, 2));
});

describe('npm run chart', () => {
  it('renders a spec with data beside it to an accessible SVG', async () => {
    const result = await chart(dir, 'tea.vl.json', '-o', 'tea.svg');
    expect(result.stderr).toContain(messages.chartWritten('tea.svg', 0, 0).split(' (')[0]);
    expect(result.code).toBe(0);
    const svg = await readFile(join(dir, 'tea.svg'), 'utf8');
    const texts = svgTexts(svg);
    for (const [country, tonnes] of ROWS) {
      expect(texts).toContain(country);
      expect(texts).toContain(String(tonnes));
    }
    expect(svg).toMatch(/^<svg[^>]*role="img"[^>]*aria-labelledby="chart-tea-title chart-tea-desc"/);
    expect(svg).toContain(`<title id="chart-tea-title">${SPEC.title}</title>`);
    expect(svg).toContain('<desc id="chart-tea-desc">Kenya 579; Sri Lanka 254; Vietnam 127</desc>');
    // Written atomically: no temp file left beside the output.
    expect((await readdir(dir)).sort()).toEqual(['exports.csv', 'tea.svg', 'tea.vl.json']);
  });

  it('renders the same spec to a one-page PDF with embedded fonts and no raster images (in process; the SVG case above spawns)', async () => {
    const result = await chartInProcess(join(dir, 'tea.vl.json'), '-o', join(dir, 'tea.pdf'));
    expect(result.code).toBe(0);
    const bytes = new Uint8Array(await readFile(join(dir, 'tea.pdf')));
    const pdf = await readPdf(bytes);
    expect(pdf.pages).toBe(1);
    expect(pdf.images).toBe(0);
    expect(pdf.raw).not.toMatch(/\/Subtype\s*\/Image/);
    expect(pdf.raw).toMatch(/\/FontFile2/);
    const text = pdf.text.join(' ');
    for (const [country, tonnes] of ROWS) {
      expect(text).toContain(country);
      expect(text).toContain(String(tonnes));
    }
    // Same inputs, same bytes.
    await chartInProcess(join(dir, 'tea.vl.json'), '-o', join(dir, 'again.pdf'));
    expect(Buffer.from(await readFile(join(dir, 'again.pdf'))).equals(Buffer.from(bytes))).toBe(true);
  });

  it.each([
    ['bad-json.vl.json', '{"mark": "bar", ', /^bad-json\.vl\.json: not valid JSON \(/],
    ['bad-mark.vl.json', JSON.stringify({ data: { values: [{ a: 1 }] }, mark: 'pie' }), /^bad-mark\.vl\.json: not a valid Vega-Lite spec: mark: "pie" is not allowed/],
    [
      'bad-field.vl.json',
      JSON.stringify({ data: { values: [{ a: 1 }] }, mark: 'bar', encoding: { x: { field: 'tonnes', type: 'quantitative' } } }),
      /^bad-field\.vl\.json: encoding\.x uses field "tonnes", which is not in the data/,
    ],
    [
      'bad-schema.vl.json',
      // The schema is asked where vega-lite throws or warns (here: it throws at the unknown type).
      JSON.stringify({ data: { values: [{ a: 1 }] }, mark: 'bar', encoding: { x: { field: 'a', type: 'numeric' } } }),
      /^bad-schema\.vl\.json: not a valid Vega-Lite spec: encoding\.x\.type: "numeric" is not allowed/,
    ],
    ['passwd.vl.json', JSON.stringify({ data: { url: '/etc/passwd' }, mark: 'bar' }), /^passwd\.vl\.json: .*refused to load "\/etc\/passwd"/],
    ['remote.vl.json', JSON.stringify({ data: { url: 'https://example.com/x.csv' }, mark: 'bar' }), /^remote\.vl\.json: .*refused to load "https:/],
  ])('%s fails with 1, naming the file and the problem, without a stack trace (in process: the exit-code path is spawned below)', async (file, text, message) => {
    await writeFile(join(dir, file), text);
    const result = await chartInProcess(join(dir, file), '-o', join(dir, 'out.svg'));
    expect(result.code).toBe(1);
    expect(result.stderr.replace(`${dir}/`, '')).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 on usage errors', async () => {
    expect((await chart(dir, 'tea.vl.json')).code).toBe(2);
    const png = await chart(dir, 'tea.vl.json', '-o', 'tea.gif');
    expect(png.code).toBe(2);
    expect(png.stderr).toContain(messages.chartOutputType('tea.gif'));
  });

  it('exits 1 for a spec file that does not exist', async () => {
    const result = await chart(dir, 'missing.vl.json', '-o', 'x.svg');
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(messages.chartSpecMissing('missing.vl.json'));
  });
});

/** The width and height an SVG declares on its root. */
function svgSize(svg: string): { width: number; height: number } {
  const match = /^<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
  return { width: Number(match?.[1]), height: Number(match?.[2]) };
}

/** A small spec with inline data, so a batch renders in milliseconds. */
const inlineSpec = (title: string, rows: readonly (readonly [string, number])[]) =>
  JSON.stringify({ title, data: { values: rows.map(([k, v]) => ({ k, v })) }, mark: 'bar', encoding: { x: { field: 'k', type: 'nominal' }, y: { field: 'v', type: 'quantitative' } } });

describe('npm run chart: PNG, embedded fonts and batches (in process)', () => {
  it('writes a PNG of the chart size times --scale (2 by default)', async () => {
    expect((await chartInProcess(join(dir, 'tea.vl.json'), '-o', join(dir, 'size.svg'), '--no-embed-fonts')).code).toBe(0);
    const size = svgSize(await readFile(join(dir, 'size.svg'), 'utf8'));
    expect(size.width).toBeGreaterThan(100);
    for (const [args, scale] of [[[], 2], [['--scale', '3'], 3]] as const) {
      const result = await chartInProcess(join(dir, 'tea.vl.json'), '-o', join(dir, 'tea.png'), ...args);
      expect(result.code, result.stderr).toBe(0);
      expect(pngSize(new Uint8Array(await readFile(join(dir, 'tea.png'))))).toEqual({ width: Math.ceil(size.width * scale), height: Math.ceil(size.height * scale) });
    }
    expect((await chartInProcess(join(dir, 'tea.vl.json'), '-o', join(dir, 'tea.png'), '--scale', 'big')).stderr).toContain(messages.chartScale('big'));
  });

  it('embeds the faces of an SVG file as @font-face fonts that cover its text, the same bytes each run; --no-embed-fonts leaves them out', async () => {
    await chartInProcess(join(dir, 'tea.vl.json'), '-o', join(dir, 'embedded.svg'));
    const svg = await readFile(join(dir, 'embedded.svg'), 'utf8');
    const fonts = [...svg.matchAll(/@font-face\{font-family:"([^"]+)";[^}]*base64,([A-Za-z0-9+/=]+)\)/g)].map(([, family, data]) => ({ family, font: fontkit.create(Buffer.from(data!, 'base64')) }));
    expect(fonts.length).toBeGreaterThan(0);
    for (const { family, font } of fonts) expect([family, font.familyName]).toEqual([FONT_FAMILY, FONT_FAMILY]);
    const text = svgTexts(svg).join('');
    for (const char of text) expect(fonts.some(({ font }) => font.hasGlyphForCodePoint(char.codePointAt(0)!)), char).toBe(true);
    await chartInProcess(join(dir, 'tea.vl.json'), '-o', join(dir, 'again.svg'));
    expect(await readFile(join(dir, 'again.svg'), 'utf8')).toBe(svg);
    await chartInProcess(join(dir, 'tea.vl.json'), '-o', join(dir, 'plain.svg'), '--no-embed-fonts');
    expect(await readFile(join(dir, 'plain.svg'), 'utf8')).not.toContain('@font-face');
  });

  it('renders a quoted glob of three specs to SVG, PDF and PNG in one process: nine files', async () => {
    await mkdir(join(dir, 'three'));
    for (const [name, rows] of [['a', [['x', 1]]], ['b', [['y', 2]]], ['c', [['z', 3]]]] as const) await writeFile(join(dir, 'three', `${name}.vl.json`), inlineSpec(name, rows));
    const out = join(dir, 'three-out/');
    const result = await chartInProcess(join(dir, 'three', '*.vl.json'), '-o', out, '--format', 'svg,pdf,png');
    expect(result.code, result.stderr).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['a.pdf', 'a.png', 'a.svg', 'b.pdf', 'b.png', 'b.svg', 'c.pdf', 'c.png', 'c.svg']);
    expect(result.stderr).toContain(messages.chartBatchSummary(3, 3, 9, out, 0).split(' in 0')[0]);
    expect((await readPdf(new Uint8Array(await readFile(join(out, 'b.pdf'))))).text.join(' ')).toContain('y');
    // The same batch on a pool of two worker threads (the compiled CLI, spawned) writes the same bytes.
    const pool = await chart(dir, join('three', '*.vl.json'), '-o', 'pool/', '--format', 'svg,pdf,png', '--jobs', '2');
    expect(pool.code, pool.stderr).toBe(0);
    for (const name of await readdir(out)) expect(Buffer.from(await readFile(join(dir, 'pool', name))).equals(await readFile(join(out, name))), name).toBe(true);
  });

  it('renders the other specs of a folder when one is bad, and exits 1 naming it where it is wrong', async () => {
    await mkdir(join(dir, 'mixed'));
    await writeFile(join(dir, 'mixed', 'good.vl.json'), inlineSpec('good', [['x', 1]]));
    await writeFile(join(dir, 'mixed', 'pie.vl.json'), JSON.stringify({ data: { values: [{ a: 1 }] }, mark: 'pie' }));
    await writeFile(join(dir, 'mixed', 'zed.vl.json'), inlineSpec('zed', [['z', 2]]));
    const out = join(dir, 'mixed-out/');
    const result = await chartInProcess(join(dir, 'mixed'), '-o', out);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${join(dir, 'mixed', 'pie.vl.json')}: not a valid Vega-Lite spec: mark: "pie" is not allowed`);
    expect((await readdir(out)).sort()).toEqual(['good.svg', 'zed.svg']);
    expect(result.stderr).toContain(`${messages.chartBatchSummary(2, 3, 2, out, 0).split(' in 0')[0]}`);
    expect(result.stderr).toContain(messages.chartBatchFailed([join(dir, 'mixed', 'pie.vl.json')]));
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('prints an unexpected error as the unexpected-error message alone, stack only with --debug, also one thrown where no caller can catch it', async () => {
    const real: ChartEffects = { readSpec: (path) => readFile(path, 'utf8'), writeFile: (path, bytes) => writeFile(path, bytes) };
    const spec = join(dir, 'quiet.vl.json');
    await writeFile(spec, inlineSpec('quiet', [['x', 1]]));
    const broken: ChartEffects = { ...real, writeFile: async () => { throw new TypeError('the writer broke'); } };
    const plain = await inProcess((argv) => main(argv, broken), [spec, '-o', join(dir, 'broken.svg')]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toBe(`${messages.unexpected(`${spec}: the writer broke`)}\n`);
    const debug = await inProcess((argv) => main(argv, broken), [spec, '-o', join(dir, 'broken.svg'), '--debug']);
    expect(debug.stderr).toMatch(/TypeError: the writer broke\n\s+at /);
    // An exception in a timer callback (as vega's renderer threw for an href) reaches no caller: it fails its spec, and nothing is written.
    const escaping: ChartEffects = {
      ...real,
      // The spec arrives from a timer callback that then throws: no caller of it can catch that.
      readSpec: (path) =>
        new Promise((resolve) =>
          setTimeout(() => {
            resolve(real.readSpec(path));
            throw new TypeError('thrown in a callback');
          }),
        ),
    };
    const escaped = await inProcess((argv) => main(argv, escaping), [spec, '-o', join(dir, 'escaped.svg')]);
    expect(escaped.code).toBe(1);
    expect(escaped.stderr).toBe(`${messages.unexpected(`${spec}: thrown in a callback`)}\n`);
    expect(await readdir(dir)).not.toContain('escaped.svg');
  });
});
