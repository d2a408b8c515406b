import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chartInProcess } from '../fixtures/charts/cli.ts';
import { messages } from '../../src/support/messages.ts';
import { svgTexts } from '../fixtures/charts/load.ts';
import { readPdf } from '../fixtures/charts/pdf.ts';

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
      // Vega-Lite fails on it, and the schema check (run only then) says where and what is allowed.
      JSON.stringify({ data: { values: [{ a: 1 }] }, mark: 'bar', encoding: { x: { field: 'a', type: 'quantitive' } } }),
      /^bad-schema\.vl\.json: not a valid Vega-Lite spec: encoding\.x\.type: "quantitive" is not allowed/,
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
