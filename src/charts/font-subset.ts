/**
 * Font subsetting with HarfBuzz's hb-subset (the harfbuzzjs package's
 * WebAssembly build, called through hb-subset's public C API): a TrueType
 * font cut down to the characters given, with its cmap, names, metrics and
 * layout tables (kerning, ligatures) kept for those glyphs, so a browser
 * sets the text exactly as the chart measurer did. fontkit's createSubset()
 * is made for PDF embedding and leaves out cmap, name, OS/2, post and GPOS,
 * which a browser needs to use a font at all.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The hb-subset exports used here (harfbuzz's C API, pointers as numbers). */
interface HarfBuzzSubset {
  memory: { buffer: ArrayBuffer };
  _initialize(): void;
  malloc(bytes: number): number;
  free(pointer: number): void;
  hb_blob_create(data: number, length: number, mode: number, userData: number, destroy: number): number;
  hb_blob_destroy(blob: number): void;
  hb_blob_get_data(blob: number, length: number): number;
  hb_blob_get_length(blob: number): number;
  hb_face_create(blob: number, index: number): number;
  hb_face_destroy(face: number): void;
  hb_face_reference_blob(face: number): number;
  hb_set_add(set: number, value: number): void;
  hb_subset_input_create_or_fail(): number;
  hb_subset_input_destroy(input: number): void;
  hb_subset_input_unicode_set(input: number): number;
  hb_subset_or_fail(face: number, input: number): number;
}

// Node's WebAssembly global, which this project's type libraries (ES2023 and @types/node) do not declare.
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
};

// Our own copy in wasm memory, so harfbuzz may edit it in place rather than copy it.
const HB_MEMORY_MODE_WRITABLE = 2;
let harfbuzz: HarfBuzzSubset | undefined;

/** hb-subset, instantiated once per process on first use (about 40 ms). */
function loadHarfBuzz(): HarfBuzzSubset {
  if (!harfbuzz) {
    const wasm = readFileSync(createRequire(import.meta.url).resolve('harfbuzzjs/dist/harfbuzz-subset.wasm'));
    const instance = new WebAssembly.Instance(new WebAssembly.Module(wasm), {});
    harfbuzz = instance.exports as unknown as HarfBuzzSubset;
    harfbuzz._initialize();
  }
  return harfbuzz;
}

/** `sfnt` (TrueType/OpenType bytes) cut down to the glyphs of `codePoints`; same inputs, same bytes. */
export function subsetFont(sfnt: Uint8Array, codePoints: Iterable<number>): Uint8Array {
  const hb = loadHarfBuzz();
  const input = hb.hb_subset_input_create_or_fail();
  if (input === 0) throw new Error('hb-subset could not allocate its input');
  const data = hb.malloc(sfnt.byteLength);
  // The wasm memory may grow on any call, detaching older views: a fresh view at each use.
  new Uint8Array(hb.memory.buffer).set(sfnt, data);
  const blob = hb.hb_blob_create(data, sfnt.byteLength, HB_MEMORY_MODE_WRITABLE, 0, 0);
  const face = hb.hb_face_create(blob, 0);
  hb.hb_blob_destroy(blob);
  let subset = 0;
  try {
    const unicodes = hb.hb_subset_input_unicode_set(input);
    for (const codePoint of codePoints) hb.hb_set_add(unicodes, codePoint);
    subset = hb.hb_subset_or_fail(face, input);
    if (subset === 0) throw new Error('hb-subset could not subset the font');
    const result = hb.hb_face_reference_blob(subset);
    const at = hb.hb_blob_get_data(result, 0);
    const bytes = new Uint8Array(hb.memory.buffer).slice(at, at + hb.hb_blob_get_length(result));
    hb.hb_blob_destroy(result);
    return bytes;
  } finally {
    if (subset !== 0) hb.hb_face_destroy(subset);
    hb.hb_subset_input_destroy(input);
    hb.hb_face_destroy(face);
    hb.free(data);
  }
}
