/**
 * `npm run test:gallery`: every spec of the Vega-Lite example gallery
 * (../shared/vega-lite-gallery, or GALLERY_DIR) through the chart command to
 * SVG and PDF, judged by the faithful-render gate of the corpus's README.
 *
 *   corpus --copy, with vega-datasets' data/--> scratch specs/
 *     --worker pool (2 threads, dist/chart.cjs main)--> X.svg, X.pdf
 *     --Chromium (SVG) | pdftoppm (PDF), blurred, pixelmatch--> diff ratio
 *     --visible SVG text vs pdftotext; pdffonts; pdfimages--> Outcome
 *     --> summary printed, results.tsv and each failure's images in output/gallery-failures/
 *
 * Passes when no spec crashes, at least 99.5% of all specs are faithful
 * (counting an exception marked `rasteriser: pdftocairo` only when this run
 * shows it fails the pixel gate alone and passes it with pdftocairo), every
 * spec that is not faithful is listed with its measured reason in
 * exceptions.yaml, and every listed spec still fails (a stale entry fails the
 * suite, so the list never outlives its reason). The summary prints the
 * share faithful by pdftoppm alone beside it. Needs Debian's `chromium`
 * and `poppler-utils`, like test:e2e. Not named *-test.ts: `npm test` must not run it.
 */
import { mkdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Tinypool } from 'tinypool';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawsImage, galleryDir, prepareCorpus, readExceptions, type Corpus, type GalleryException } from './corpus.ts';
import { imageCount, pdfText, rasterisePdf, rasterisePdfCairo, SvgPainter, unembeddedFonts } from './gate.ts';
import { comparePixels, encodePng, GATE, missingCharacters, type Raster } from './pixels.ts';
import { countedFaithful, formatSummary, formatTable, splashOnly, stoppedOutcome, type ChartRun, type GateFailure, type Outcome, type SpecResult } from './outcome.ts';

const EXCEPTIONS_FILE = 'test/gallery/exceptions.yaml';
const FAILURES_DIR = resolve('output/gallery-failures');
/** Faithful share of all specs the suite requires (issue 15). */
const REQUIRED_SHARE = 0.995;
/** A render slower than this counts as a crash (its worker is stopped), so one spec cannot hang the run. */
const RENDER_TIMEOUT_MS = 120_000;
const THREADS = Math.max(1, Math.min(2, availableParallelism()));

let corpus: Corpus | undefined;
let painter: SvgPainter | undefined;
let pool: Tinypool | undefined;
let selected: string[] = [];
let results: SpecResult[] = [];
let exceptions = new Map<string, GalleryException>();

/** Wall time summed over specs, by step: where a slow run spends it. */
const spent = new Map<string, number>();

async function timed<T>(step: string, work: Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work;
  } finally {
    spent.set(step, (spent.get(step) ?? 0) + performance.now() - started);
  }
}

/** Rebuilds dist/ when src/ is newer, as the launcher does: the workers run the compiled chart command. */
async function ensureBundle(): Promise<void> {
  const build = (await import(pathToFileURL(resolve('bin/build.js')).href)) as { isStale(): boolean; compile(): Promise<void> };
  if (build.isStale()) await build.compile();
}

/** Renders one spec in the pool; a refusal or crash ends its judging there. */
async function renderSpec(name: string, dir: string, rendering: Slots): Promise<Outcome | undefined> {
  const spec = join(dir, `${name}.vl.json`);
  // Handed to the pool only when a thread is free, so the timeout counts this spec's time alone.
  const release = await rendering();
  try {
    const runs = (await timed('render (SVG + PDF, in a worker)', pool!.run({ spec, outputs: [join(dir, `${name}.svg`), join(dir, `${name}.pdf`)] }, { signal: AbortSignal.timeout(RENDER_TIMEOUT_MS) }))) as ChartRun[];
    return stoppedOutcome(runs, { spec, dir });
  } catch (error) {
    return { kind: 'crashed', stage: 'render', message: `worker: ${(error as Error).message}` };
  } finally {
    release();
  }
}

/** The root <svg>'s width and height in CSS pixels. */
function svgSize(svg: string): { width: number; height: number } {
  const root = /<svg\b[^>]*>/.exec(svg)?.[0] ?? '';
  const [width, height] = ['width', 'height'].map((attr) => Math.round(Number(new RegExp(`\\s${attr}="([\\d.]+)`).exec(root)?.[1])));
  if (!width || !height) throw new Error('the SVG has no width and height on its root element');
  return { width, height };
}

async function writeFailureImages(name: string, svg: Raster, pdf: Raster, diff: Raster): Promise<void> {
  await Promise.all([
    writeFile(join(FAILURES_DIR, `${name}.svg.png`), encodePng(svg)),
    writeFile(join(FAILURES_DIR, `${name}.pdf.png`), encodePng(pdf)),
    writeFile(join(FAILURES_DIR, `${name}.diff.png`), encodePng(diff)),
  ]);
}

/** Applies the README's gate to a spec's SVG and PDF. */
async function judgeSpec(name: string, dir: string): Promise<Outcome> {
  const [svgFile, pdfFile] = [join(dir, `${name}.svg`), join(dir, `${name}.pdf`)];
  const svg = await readFile(svgFile, 'utf8');
  const { width, height } = svgSize(svg);
  const [painted, pdfRaster, [text, fonts, images], spec] = await Promise.all([
    timed('chromium', painter!.paint(svg, width, height)),
    timed('pdftoppm', rasterisePdf(pdfFile, width, height)),
    timed('poppler text, fonts, images', Promise.all([pdfText(pdfFile), unembeddedFonts(pdfFile), imageCount(pdfFile)])),
    readFile(join(dir, `${name}.vl.json`), 'utf8'),
  ]);
  const compared = performance.now();
  const { ratio, diff } = comparePixels(painted.raster, pdfRaster);
  spent.set('blur and pixelmatch', (spent.get('blur and pixelmatch') ?? 0) + performance.now() - compared);
  const failures: GateFailure[] = [];
  if (ratio > GATE.maxDiffRatio) failures.push({ gate: 'pixels', detail: `${(100 * ratio).toFixed(2)}% of pixels differ (blurred)` });
  const missing = missingCharacters(painted.text, text);
  if (missing.length > 0) failures.push({ gate: 'text', detail: `pdftotext lacks ${missing.map((c) => JSON.stringify(c)).join(' ')}` });
  if (fonts.length > 0) failures.push({ gate: 'fonts', detail: `not embedded: ${fonts.join('; ')}` });
  if (images > 0 && !drawsImage(JSON.parse(spec))) failures.push({ gate: 'images', detail: `${images} raster image(s), the spec draws none` });
  if (failures.length === 0) return { kind: 'faithful', diffRatio: ratio };
  await writeFailureImages(name, painted.raster, pdfRaster, diff);
  if (failures.every((failure) => failure.gate === 'pixels')) {
    const cairo = await timed('pdftocairo (pixel failures only)', rasterisePdfCairo(pdfFile, width, height));
    return { kind: 'unfaithful', diffRatio: ratio, failures, cairoRatio: comparePixels(painted.raster, cairo).ratio };
  }
  if (missing.length > 0) {
    await writeFile(join(FAILURES_DIR, `${name}.svg.txt`), `${painted.text}\n`);
    await writeFile(join(FAILURES_DIR, `${name}.pdf.txt`), text);
  }
  return { kind: 'unfaithful', diffRatio: ratio, failures };
}

/** Renders and judges one spec, removing its outputs afterwards. */
async function runSpec(name: string, dir: string, slots: { rendering: Slots; judging: Slots }): Promise<SpecResult> {
  const stopped = await renderSpec(name, dir, slots.rendering);
  if (stopped) return { name, outcome: stopped };
  const release = await slots.judging();
  try {
    return { name, outcome: await judgeSpec(name, dir) };
  } catch (error) {
    // A PDF poppler cannot read, or an SVG without a size, is not faithful.
    return { name, outcome: { kind: 'unfaithful', diffRatio: undefined, failures: [{ gate: 'unreadable', detail: (error as Error).message.split('\n')[0]! }] } };
  } finally {
    release();
    await Promise.all([`${name}.svg`, `${name}.pdf`].map((file) => unlink(join(dir, file)).catch(() => undefined)));
  }
}

/** Waits for a free slot; resolves with the function that frees it. */
type Slots = () => Promise<() => void>;

/** A counting semaphore. */
function semaphore(slots: number): Slots {
  const waiting: (() => void)[] = [];
  let free = slots;
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };
  return () =>
    new Promise((grant) => {
      if (free > 0) {
        free--;
        grant(release);
      } else waiting.push(() => grant(release));
    });
}

/** GALLERY_SPECS=a,b,c runs only those specs (to retry a few while fixing them); otherwise all. */
function selectSpecs(all: string[]): string[] {
  const wanted = process.env.GALLERY_SPECS?.split(',').map((name) => name.trim().replace(/\.vl\.json$/, '')).filter(Boolean);
  if (!wanted?.length) return all;
  const unknown = wanted.filter((name) => !all.includes(name));
  if (unknown.length > 0) throw new Error(`GALLERY_SPECS names specs the corpus lacks: ${unknown.join(', ')}`);
  return wanted;
}

beforeAll(async () => {
  const started = performance.now();
  exceptions = await readExceptions(EXCEPTIONS_FILE);
  await ensureBundle();
  corpus = await prepareCorpus(galleryDir());
  await rm(FAILURES_DIR, { recursive: true, force: true });
  await mkdir(FAILURES_DIR, { recursive: true });
  const { specsDir } = corpus;
  const names = (selected = selectSpecs(corpus.names));
  const pageFile = join(specsDir, 'gallery-page.html');
  painter = await SvgPainter.launch(pageFile, (html) => writeFile(pageFile, html));
  pool = new Tinypool({ filename: new URL('./render-worker.js', import.meta.url).href, minThreads: THREADS, maxThreads: THREADS });
  // Judging holds rasters in memory and shares the cores with the renders: two specs at a time.
  const slots = { rendering: semaphore(THREADS), judging: semaphore(2) };
  let done = 0;
  results = await Promise.all(
    names.map(async (name) => {
      const result = await runSpec(name, specsDir, slots);
      if (++done % 100 === 0) process.stderr.write(`gallery: ${done}/${names.length} specs, ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
      return result;
    }),
  );
  await writeFile(join(FAILURES_DIR, 'results.tsv'), formatTable(results));
  const seconds = (performance.now() - started) / 1000;
  const steps = [...spent].map(([step, ms]) => `${step} ${(ms / 1000).toFixed(0)} s`).join(', ');
  process.stdout.write(`${formatSummary(results, seconds, exceptions)}\n\nTime summed over specs: ${steps}.\nEvery spec's outcome: ${join(FAILURES_DIR, 'results.tsv')}; failures' rasters (X.svg.png, X.pdf.png, X.diff.png) beside it.\n`);
});

afterAll(async () => {
  await pool?.destroy();
  await painter?.close();
  if (corpus) await rm(corpus.scratch, { recursive: true, force: true });
});

const notFaithful = () => results.filter((r) => r.outcome.kind !== 'faithful');

describe('the Vega-Lite gallery through the chart command', () => {
  it('crashes on no spec', () => {
    expect(results.map((r) => r.name)).toEqual(selected);
    const crashed = results.flatMap(({ name, outcome }) => (outcome.kind === 'crashed' ? [`${name} (${outcome.stage}): ${outcome.message}`] : []));
    expect(crashed).toEqual([]);
  });

  it(`renders at least ${100 * REQUIRED_SHARE}% of the specs faithfully (SVG and PDF), counting an exception only where pdftocairo shows the difference is Splash's alone`, () => {
    const { strict, counted } = countedFaithful(results, exceptions);
    expect(results.length).toBeGreaterThan(0);
    process.stdout.write(`faithful by pdftoppm alone: ${strict}/${results.length} (${((100 * strict) / results.length).toFixed(1)}%); with the Splash-only exceptions: ${counted}/${results.length} (${((100 * counted) / results.length).toFixed(1)}%)\n`);
    expect(counted / results.length).toBeGreaterThanOrEqual(REQUIRED_SHARE);
  });

  it('finds every exception marked rasteriser: pdftocairo failing the pixel gate alone and passing it under pdftocairo, as its reason says', () => {
    const wrong = results.filter((r) => exceptions.get(r.name)?.rasteriser === 'pdftocairo' && r.outcome.kind !== 'faithful' && !splashOnly(r.outcome));
    expect(wrong.map((r) => `${r.name}: ${JSON.stringify(r.outcome)}`)).toEqual([]);
  });

  it(`lists every spec that is not faithful in ${EXCEPTIONS_FILE}, with its measured reason`, () => {
    expect(notFaithful().map((r) => r.name).filter((name) => !exceptions.has(name))).toEqual([]);
  });

  it(`lists no spec in ${EXCEPTIONS_FILE} that is faithful now or is not in the corpus`, () => {
    expect([...exceptions.keys()].filter((name) => !corpus?.names.includes(name))).toEqual([]);
    const failing = new Set(notFaithful().map((r) => r.name));
    const run = new Set(results.map((r) => r.name));
    expect([...exceptions.keys()].filter((name) => run.has(name) && !failing.has(name))).toEqual([]);
  });
});
