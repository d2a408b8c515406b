/**
 * A fast shaper for plain words: what fontkit's full OpenType shaping gives
 * for text that no substitution touches, computed from the cmap, the advance
 * widths and the font's pair kerning, with no per-call shaping plan.
 *
 *   font + word ──plain?──▶ glyphs (cmap) + positions (advance + pair kerning)
 *               └─not sure─▶ undefined (the caller asks fontkit)
 *
 * "Plain" is decided from the font's own lookups, once per font: a word is
 * plain when its characters are ordinary Latin text and no GSUB lookup of the
 * features fontkit applies (ccmp, liga, ...) could match it, and the only
 * GPOS lookups that could touch it are pair adjustments, which are applied
 * here as fontkit applies them. Anything the analysis does not model makes
 * the word "not plain". test/shaping-test.ts checks the results against
 * fontkit word by word.
 */

/** The fontkit objects this module reads (fontkit ships no type declarations). */
interface Coverage {
  version: 1 | 2;
  glyphs?: number[];
  rangeRecords?: { start: number; end: number; startCoverageIndex: number }[];
}
interface ClassDef {
  version: 1 | 2;
  startGlyph?: number;
  classValueArray?: number[];
  classRangeRecord?: { start: number; end: number; class: number }[];
}
interface ValueRecord {
  xPlacement?: number;
  yPlacement?: number;
  xAdvance?: number;
  yAdvance?: number;
  xPlaDevice?: unknown;
  yPlaDevice?: unknown;
  xAdvDevice?: unknown;
  yAdvDevice?: unknown;
}
interface LazyList<T> {
  get(index: number): T;
  length: number;
  toArray(): T[];
}
type SubTable = Record<string, unknown> & { version?: number; coverage?: Coverage; lookupType?: number; extension?: SubTable };
interface Lookup {
  lookupType: number;
  flags: { ignoreBaseGlyphs?: boolean; ignoreLigatures?: boolean; ignoreMarks?: boolean };
  markFilteringSet?: number;
  subTables: SubTable[];
}
interface LayoutTable {
  scriptList: { tag: string; script: { defaultLangSys: { featureIndexes: number[] } } }[];
  featureList: { tag: string; feature: { lookupListIndexes: number[] } }[];
  lookupList: LazyList<Lookup>;
  featureVariations?: unknown;
}
interface Glyph {
  id: number;
  advanceWidth: number;
}
export interface ShapableFont {
  GSUB?: LayoutTable;
  GPOS?: LayoutTable;
  GDEF?: { glyphClassDef?: ClassDef };
  _variationProcessor?: unknown;
  glyphForCodePoint(codePoint: number): Glyph;
  getGlyph(id: number, codePoints?: number[]): Glyph;
}

export interface PlainRun {
  glyphs: Glyph[];
  positions: { xAdvance: number; yAdvance: number; xOffset: number; yOffset: number }[];
}

/** Features fontkit's default shaper applies to horizontal left-to-right text (fractions only around U+2044, excluded below). */
const GSUB_FEATURES = new Set(['rvrn', 'ltra', 'ltrm', 'ccmp', 'locl', 'rlig', 'calt', 'clig', 'liga', 'rclt']);
const GPOS_FEATURES = new Set(['rvrn', 'ltra', 'ltrm', 'mark', 'mkmk', 'curs', 'kern']);

/**
 * Characters taken as plain: printable ASCII, Latin-1 and Latin Extended-A
 * letters and signs, and common punctuation. Excluded: controls, combining
 * marks, soft hyphen and other default ignorables, the fraction slash (it
 * turns on fraction features), and everything else.
 */
function isPlainCharacter(code: number): boolean {
  if (code >= 0x20 && code <= 0x7e) return true;
  if (code >= 0xa0 && code <= 0x17f) return code !== 0xad;
  return (code >= 0x2010 && code <= 0x2027) || (code >= 0x2030 && code <= 0x203a) || code === 0x20ac || code === 0x2122;
}

function coverageSet(coverage: Coverage | undefined): Set<number> {
  const set = new Set<number>();
  if (!coverage) return set;
  if (coverage.version === 1) for (const glyph of coverage.glyphs ?? []) set.add(glyph);
  else for (const range of coverage.rangeRecords ?? []) for (let glyph = range.start; glyph <= range.end; glyph++) set.add(glyph);
  return set;
}

function coverageIndex(coverage: Coverage, glyph: number): number {
  if (coverage.version === 1) return (coverage.glyphs ?? []).indexOf(glyph);
  for (const range of coverage.rangeRecords ?? []) if (range.start <= glyph && glyph <= range.end) return range.startCoverageIndex + glyph - range.start;
  return -1;
}

/** fontkit's getClassID: 0 for a glyph the class definition does not list. */
function classOf(glyph: number, classDef: ClassDef | undefined): number {
  if (!classDef) return 0;
  if (classDef.version === 1) {
    const i = glyph - (classDef.startGlyph ?? 0);
    const values = classDef.classValueArray ?? [];
    return i >= 0 && i < values.length ? values[i]! : 0;
  }
  for (const range of classDef.classRangeRecord ?? []) if (range.start <= glyph && glyph <= range.end) return range.class;
  return 0;
}

/** The lookups fontkit would run for `tags` under `script`'s default language, in its order (by index); undefined if fontkit would use variations. */
function lookupsFor(table: LayoutTable | undefined, script: string, tags: Set<string>): number[] | undefined {
  if (!table) return [];
  if (table.featureVariations) return undefined;
  const entry = table.scriptList.find((s) => s.tag === script) ?? table.scriptList.find((s) => ['DFLT', 'dflt', 'latn'].includes(s.tag));
  if (!entry) return [];
  const indexes: number[] = [];
  for (const featureIndex of entry.script.defaultLangSys.featureIndexes) {
    const record = table.featureList[featureIndex]!;
    if (tags.has(record.tag)) indexes.push(...record.feature.lookupListIndexes);
  }
  return indexes.sort((a, b) => a - b);
}

/** The subtables of a lookup, with extension subtables (GSUB 7, GPOS 9) unwrapped, and their real type. */
function unwrap(lookup: Lookup, extensionType: number): { type: number; tables: SubTable[] } {
  if (lookup.lookupType !== extensionType) return { type: lookup.lookupType, tables: lookup.subTables };
  const tables = lookup.subTables.map((table) => table.extension!);
  return { type: Number(lookup.subTables[0]?.lookupType), tables };
}

/** A test a word's glyphs must pass to be plain. */
type Check = (glyphs: number[], present: Set<number>) => boolean;

/** What could make a GSUB lookup fire on a word: false means it cannot. */
function gsubChecks(lookup: Lookup, checks: Check[]): boolean {
  const { type, tables } = unwrap(lookup, 7);
  for (const table of tables) {
    if (type === 4) {
      // Ligatures: exactly whether one would match at some position.
      if (lookup.flags.ignoreBaseGlyphs) return false;
      const coverage = table.coverage!;
      const sets = table.ligatureSets as LazyList<{ components: number[] }[]>;
      checks.push((glyphs) => {
        for (let i = 0; i < glyphs.length; i++) {
          const index = coverageIndex(coverage, glyphs[i]!);
          if (index === -1) continue;
          for (const ligature of sets.get(index)) {
            if (ligature.components.every((component, k) => glyphs[i + 1 + k] === component)) return false;
          }
        }
        return true;
      });
    } else if ((type === 5 || type === 6) && table.version === 3) {
      // Context by coverage: it needs a glyph of every listed coverage.
      const all = [...((table.backtrackCoverage as Coverage[]) ?? []), ...((table.inputCoverage as Coverage[]) ?? (table.coverages as Coverage[]) ?? []), ...((table.lookaheadCoverage as Coverage[]) ?? [])].map(coverageSet);
      checks.push((_, present) => !all.every((set) => [...present].some((glyph) => set.has(glyph))));
    } else if ([1, 2, 3, 5, 6, 8].includes(type) && table.coverage) {
      // Anything else: not plain if the word has a glyph the lookup starts on.
      const set = coverageSet(table.coverage);
      checks.push((glyphs) => !glyphs.some((glyph) => set.has(glyph)));
    } else {
      return false; // a lookup this module does not model
    }
  }
  return true;
}

interface PairTable {
  coverage: Coverage;
  version: 1 | 2;
  pairSets?: LazyList<{ secondGlyph: number; value1?: ValueRecord; value2?: ValueRecord }[]>;
  classDef1?: ClassDef;
  classDef2?: ClassDef;
  classRecords?: LazyList<LazyList<{ value1?: ValueRecord; value2?: ValueRecord }>>;
}

/** GPOS: pair lookups are collected to apply; for others, what could make them touch a word. */
function gposChecks(lookup: Lookup, checks: Check[], pairs: PairTable[][]): boolean {
  const { type, tables } = unwrap(lookup, 9);
  if (type === 2) {
    if (lookup.flags.ignoreBaseGlyphs) return false;
    pairs.push(tables as unknown as PairTable[]);
    return true;
  }
  for (const table of tables) {
    // Mark attachment acts on marks; single, cursive and context positioning on their coverage.
    const sets = [table.markCoverage, table.mark1Coverage, table.coverage, ...((table.inputCoverage as Coverage[]) ?? []), ...((table.coverages as Coverage[]) ?? [])]
      .filter((coverage): coverage is Coverage => Boolean(coverage))
      .map(coverageSet);
    if (sets.length === 0) return false;
    const first = type === 4 || type === 5 || type === 6 ? [sets[0]!] : sets;
    checks.push((glyphs) => !glyphs.some((glyph) => first.some((set) => set.has(glyph))));
  }
  return true;
}

const sameList = (a: number[] | undefined, b: number[] | undefined) => a !== undefined && b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The plain shaper of one fontkit font, or undefined when the font has what
 * this module does not model (variations, unknown lookups, scripts whose
 * lookups differ); then every word goes to fontkit.
 */
export function createPlainShaper(font: ShapableFont): ((text: string) => PlainRun | undefined) | undefined {
  if (font._variationProcessor) return undefined;
  // A word with Latin letters shapes as 'latn', one of digits and signs only as DFLT: both must run the same lookups.
  const gsub = lookupsFor(font.GSUB, 'latn', GSUB_FEATURES);
  const gpos = lookupsFor(font.GPOS, 'latn', GPOS_FEATURES);
  if (!sameList(gsub, lookupsFor(font.GSUB, 'DFLT', GSUB_FEATURES)) || !sameList(gpos, lookupsFor(font.GPOS, 'DFLT', GPOS_FEATURES))) return undefined;
  const checks: Check[] = [];
  for (const index of gsub!) if (!gsubChecks(font.GSUB!.lookupList.get(index), checks)) return undefined;
  const pairs: PairTable[][] = [];
  for (const index of gpos!) if (!gposChecks(font.GPOS!.lookupList.get(index), checks, pairs)) return undefined;
  const classDef = font.GDEF?.glyphClassDef;

  // The adjustments all pair lookups make to a glyph and the one after it; additions, so their order does not matter.
  type Adjust = [number, number, number, number, number, number, number, number] | null;
  const kerning = new Map<number, Adjust>();
  const pairAdjust = (first: number, second: number): Adjust => {
    const key = first * 65536 + second;
    let adjust = kerning.get(key);
    if (adjust !== undefined) return adjust;
    let sum: Adjust = null;
    const add = (value1: ValueRecord | undefined, value2: ValueRecord | undefined) => {
      sum ??= [0, 0, 0, 0, 0, 0, 0, 0];
      for (const [value, at] of [[value1, 0], [value2, 4]] as const) {
        if (!value) continue;
        if (value.xPlaDevice || value.yPlaDevice || value.xAdvDevice || value.yAdvDevice) throw new Error('device tables');
        const total: number[] = sum;
        total[at] = total[at]! + (value.xAdvance ?? 0);
        total[at + 1] = total[at + 1]! + (value.yAdvance ?? 0);
        total[at + 2] = total[at + 2]! + (value.xPlacement ?? 0);
        total[at + 3] = total[at + 3]! + (value.yPlacement ?? 0);
      }
    };
    for (const lookup of pairs) {
      // fontkit: the first subtable that applies to the pair ends the lookup at this glyph.
      for (const table of lookup) {
        const index = coverageIndex(table.coverage, first);
        if (index === -1) continue;
        if (table.version === 1) {
          const pair = table.pairSets!.get(index).find((p) => p.secondGlyph === second);
          if (!pair) continue;
          add(pair.value1, pair.value2);
          break;
        }
        const record = table.classRecords!.get(classOf(first, table.classDef1)).get(classOf(second, table.classDef2));
        add(record.value1, record.value2);
        break;
      }
    }
    kerning.set(key, (adjust = sum));
    return adjust;
  };

  return (text) => {
    const ids: number[] = [];
    const codePoints: number[] = [];
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (!isPlainCharacter(code)) return undefined;
      const id = font.glyphForCodePoint(code).id;
      if (!id) return undefined;
      const glyphClass = classOf(id, classDef);
      if (glyphClass === 2 || glyphClass === 3) return undefined; // ligature or mark glyphs change how lookups step
      ids.push(id);
      codePoints.push(code);
    }
    const present = new Set(ids);
    for (const check of checks) if (!check(ids, present)) return undefined;
    const glyphs = ids.map((id, i) => font.getGlyph(id, [codePoints[i]!]));
    const positions = glyphs.map((glyph) => ({ xAdvance: glyph.advanceWidth, yAdvance: 0, xOffset: 0, yOffset: 0 }));
    try {
      for (let i = 0; i + 1 < ids.length; i++) {
        const adjust = pairAdjust(ids[i]!, ids[i + 1]!);
        if (!adjust) continue;
        const a = positions[i]!;
        const b = positions[i + 1]!;
        a.xAdvance += adjust[0];
        a.yAdvance += adjust[1];
        a.xOffset += adjust[2];
        a.yOffset += adjust[3];
        b.xAdvance += adjust[4];
        b.yAdvance += adjust[5];
        b.xOffset += adjust[6];
        b.yOffset += adjust[7];
      }
    } catch {
      return undefined; // a device table (variable fonts): fontkit's business
    }
    return { glyphs, positions };
  };
}
