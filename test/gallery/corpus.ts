/**
 * The Vega-Lite gallery corpus for `npm run test:gallery`: where it is, its
 * scratch copy with the vega-datasets data beside the specs, and the
 * checked-in list of exceptions.
 */
import { existsSync } from 'node:fs';
import { chmod, cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';

/** The scratch copy the suite renders from. */
export interface Corpus {
  /** The temp folder holding everything below; removed at the end. */
  scratch: string;
  /**
   * Specs and their data/ folder. Each spec's SVG and PDF are written beside
   * it, as a user would: an image mark's relative URL then resolves from the SVG too.
   */
  specsDir: string;
  /** Spec names, without `.vl.json`, sorted. */
  names: string[];
}

/** The corpus folder: GALLERY_DIR, or ../shared/vega-lite-gallery beside the checkout. */
export function galleryDir(): string {
  return resolve(process.env.GALLERY_DIR || join('..', 'shared', 'vega-lite-gallery'));
}

/** The data folder of the vega-datasets package the corpus README names. */
function datasetsDir(): string {
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    // The package exports only its build/ entry, which sits beside data/.
    entry = require.resolve('vega-datasets');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') throw new Error('vega-datasets is not installed: run npm ci (it is a dev dependency)');
    throw error;
  }
  const data = join(dirname(dirname(entry)), 'data');
  if (!existsSync(join(data, 'cars.json'))) throw new Error(`vega-datasets changed shape: no data/cars.json beside ${entry}`);
  return data;
}

/**
 * Copies the corpus's specs and the vega-datasets data into a temp folder.
 * A copy, not a symlink: the chart command reads nothing outside the spec's
 * folder. CI's copy of shared/ is read-only, so write bits are restored.
 */
export async function prepareCorpus(dir: string): Promise<Corpus> {
  const source = join(dir, 'specs');
  if (!existsSync(source)) {
    throw new Error(`the gallery corpus is not at ${source}: set GALLERY_DIR to the vega-lite-gallery folder (the one holding specs/ and README.md)`);
  }
  const scratch = await mkdtemp(join(tmpdir(), 'gallery-'));
  const specsDir = join(scratch, 'specs');
  try {
    await cp(source, specsDir, { recursive: true });
    await cp(datasetsDir(), join(specsDir, 'data'), { recursive: true });
    await chmodTree(specsDir);
  } catch (error) {
    await rm(scratch, { recursive: true, force: true });
    throw error;
  }
  const names = (await readdir(specsDir))
    .filter((file) => file.endsWith('.vl.json'))
    .map((file) => file.slice(0, -'.vl.json'.length))
    .sort();
  if (names.length === 0) throw new Error(`${source} holds no .vl.json specs`);
  return { scratch, specsDir, names };
}

async function chmodTree(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await chmodTree(path);
    else await chmod(path, 0o644);
  }
}

/** An entry of the exceptions file. */
export interface GalleryException {
  /** The measured reason, with its numbers and how they were taken. */
  reason: string;
  /**
   * `pdftocairo`: the difference is poppler's Splash rasteriser (pdftoppm)
   * alone. The suite re-measures it on every run: the spec must fail only the
   * pixel gate, and pass it with the PDF rasterised by pdftocairo.
   */
  rasteriser?: 'pdftocairo';
}

/** The exceptions file: spec name -> its entry. */
export async function readExceptions(file: string): Promise<Map<string, GalleryException>> {
  const parsed: unknown = parse(await readFile(file, 'utf8'));
  if (parsed === null || parsed === undefined) return new Map();
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${file}: expected a map of spec name to { reason, rasteriser? }`);
  const entries = Object.entries(parsed as Record<string, unknown>).map(([name, value]): [string, GalleryException] => {
    const entry = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
    if (typeof entry.reason !== 'string' || entry.reason.trim() === '') throw new Error(`${file}: ${name}: give the measured reason as reason: "..."`);
    if (entry.rasteriser !== undefined && entry.rasteriser !== 'pdftocairo') throw new Error(`${file}: ${name}: rasteriser may only be pdftocairo`);
    const unknown = Object.keys(entry).filter((key) => key !== 'reason' && key !== 'rasteriser');
    if (unknown.length > 0) throw new Error(`${file}: ${name}: unknown field(s) ${unknown.join(', ')}`);
    return [name, { reason: entry.reason, rasteriser: entry.rasteriser }];
  });
  return new Map(entries);
}

/** True when the spec draws an image mark somewhere (in a layer, a concat, a facet...). */
export function drawsImage(spec: unknown): boolean {
  if (Array.isArray(spec)) return spec.some(drawsImage);
  if (spec === null || typeof spec !== 'object') return false;
  const record = spec as Record<string, unknown>;
  const mark = record.mark;
  if (mark === 'image' || (typeof mark === 'object' && mark !== null && (mark as { type?: unknown }).type === 'image')) return true;
  return Object.entries(record).some(([key, value]) => key !== 'data' && key !== 'datasets' && drawsImage(value));
}
