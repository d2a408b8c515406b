/**
 * The fontkit adapter: the one module that reads fontkit's internal tables
 * (and one private field, `_variationProcessor`), and only when the installed
 * fontkit is the version it mirrors (FONTKIT_WRITTEN_FOR). Otherwise, or with
 * BRIEFING_PUBLIC_APIS=1, `usesFontkitInternals()` is false, the faces lay
 * out every word with fontkit's own public `font.layout` (same output,
 * slower), after a one-line warning.
 *
 * A fast shaper for plain words: exactly what fontkit's `font.layout(text)`
 * gives for text no substitution touches, computed from the cmap, the advance
 * widths and the font's pair kerning, without fontkit's per-call shaping plan.
 *
 *   font ──once──▶ analysis (lookups fontkit would run, as glyph tests and pair tables)
 *   word ──plain?──▶ glyphs (cmap) + positions (advance + pair kerning, cached per pair)
 *        └─not sure─▶ undefined (the caller asks fontkit)
 *
 * The analysis mirrors fontkit 2.0.4 (OTLayoutEngine with its DefaultShaper):
 * the features it plans for left-to-right text, its choice of script entry
 * ('latn' for a word with a Latin letter; 'zzzz', which falls back to DFLT,
 * for one of digits and signs only: both must run the same lookups), and the
 * lookups of those features. A word is plain when its characters are on an
 * allow-list, no GSUB lookup could fire on it (ligatures are matched exactly,
 * everything else by its coverage, conservatively) and the only GPOS lookups
 * that could touch it are pair adjustments, which are applied here as fontkit
 * applies them. Whatever the analysis does not model makes the font or the
 * word "not plain". The shaper also makes fontkit's shared glyph objects in
 * the order fontkit's layout would, since fontkit reads code points from
 * them. test/text/fontkit-adapter-test.ts checks the results against fontkit word by word,
 * pair by pair and on random text.
 */

import { installedVersion, versionGate } from '../support/versions.ts';

/** The fontkit release whose shaping this module mirrors and was tested against. */
export const FONTKIT_WRITTEN_FOR = '2.0.4';

const gate = versionGate('fontkit', FONTKIT_WRITTEN_FOR, () => installedVersion('fontkit'));

/** Whether the internal path is used in this process: the right fontkit, and BRIEFING_PUBLIC_APIS unset (warns once for another version). */
export function usesFontkitInternals(): boolean {
  return gate.allows();
}

/** For tests: decide again (after BRIEFING_PUBLIC_APIS changed). */
export function resetFontkitAdapter(): void {
  gate.reset();
}

/** The fontkit objects this module reads (fontkit ships no type declarations). */
interface Coverage {
  version: number;
  glyphs?: number[];
  rangeRecords?: { start: number; end: number; startCoverageIndex: number }[];
}
interface ClassDef {
  version: number;
  startGlyph?: number;
  classValueArray?: number[];
  classRangeRecord?: { start: number; end: number; class: number }[];
}
interface ValueRecord {
  xPlacement?: number;
  yPlacement?: number;
  xAdvance?: number;
  yAdvance?: number;
}
interface LazyList<T> {
  get(index: number): T;
}
type SubTable = Record<string, unknown> & { version?: number; coverage?: Coverage; lookupType?: number; extension?: SubTable };
interface Lookup {
  lookupType: number;
  flags: { flags: { ignoreBaseGlyphs: boolean } };
  subTables: SubTable[];
}
interface Feature {
  lookupListIndexes: number[];
}
interface LayoutTable {
  scriptList: { tag: string; script: { defaultLangSys: { featureIndexes: number[] } | null } }[] | null;
  featureList: { tag: string; feature: Feature }[];
  lookupList: LazyList<Lookup>;
}
interface Glyph {
  id: number;
  codePoints: number[];
  advanceWidth: number;
}
/** The slice of a fontkit font the shaper reads. */
export interface ShapableFont {
  GSUB?: LayoutTable | null;
  GPOS?: LayoutTable | null;
  GDEF?: { glyphClassDef?: ClassDef | null } | null;
  kern?: unknown;
  morx?: unknown;
  _variationProcessor?: unknown;
  glyphForCodePoint(codePoint: number): Glyph;
}

/** A shaped run as fontkit's layout gives it (glyph objects and positions in font units). */
export interface PlainRun {
  glyphs: Glyph[];
  positions: { xAdvance: number; yAdvance: number; xOffset: number; yOffset: number }[];
}

/**
 * The features fontkit's DefaultShaper plans for horizontal left-to-right
 * text; GSUB and GPOS both run all of them. The fraction features (frac,
 * numr, dnom) are planned too but only for glyphs around U+2044 FRACTION
 * SLASH, which is never plain.
 */
const PLANNED_FEATURES = ['rvrn', 'ltra', 'ltrm', 'ccmp', 'locl', 'rlig', 'mark', 'mkmk', 'calt', 'clig', 'liga', 'rclt', 'curs', 'kern'];

/**
 * Characters taken as plain: printable ASCII, Latin-1 and Latin Extended-A
 * letters and signs, and common punctuation (dashes, quotes, bullet,
 * ellipsis, per mille, guillemets), the euro and trade mark signs. All are
 * script Latin or Common, and none is a mark, a default ignorable (fontkit
 * hides those) or U+2044 (it turns fractions on). Excluded: controls, the soft
 * hyphen, combining marks, joiners, bidi controls, variation selectors,
 * surrogates and everything else.
 */
function isPlainCharacter(code: number): boolean {
  if (code >= 0x20 && code <= 0x7e) return true;
  if (code >= 0xa0 && code <= 0x17f) return code !== 0xad;
  return (code >= 0x2010 && code <= 0x2027) || (code >= 0x2030 && code <= 0x203a) || code === 0x20ac || code === 0x2122;
}

/** The glyphs a coverage lists. */
function listCoverage(coverage: Coverage | undefined): number[] {
  if (!coverage) return [];
  if (coverage.version === 1) return coverage.glyphs ?? [];
  const glyphs: number[] = [];
  if (coverage.version === 2) for (const range of coverage.rangeRecords ?? []) for (let glyph = range.start; glyph <= range.end; glyph++) glyphs.push(glyph);
  return glyphs;
}

/** fontkit's coverage index of every glyph a coverage lists (where indexOf or the first range finds it). */
function mapCoverage(coverage: Coverage): Map<number, number> {
  const indexes = new Map<number, number>();
  if (coverage.version === 1) (coverage.glyphs ?? []).forEach((glyph, i) => indexes.has(glyph) || indexes.set(glyph, i));
  else if (coverage.version === 2) {
    for (const range of coverage.rangeRecords ?? []) {
      for (let glyph = range.start; glyph <= range.end; glyph++) if (!indexes.has(glyph)) indexes.set(glyph, range.startCoverageIndex + glyph - range.start);
    }
  }
  return indexes;
}

/** fontkit's class of every glyph a class definition lists (where the first range finds it); a glyph not listed is class 0. */
function mapClasses(classDef: ClassDef | undefined): Map<number, number> {
  const classes = new Map<number, number>();
  if (classDef?.version === 1) (classDef.classValueArray ?? []).forEach((value, i) => classes.set((classDef.startGlyph ?? 0) + i, value));
  else if (classDef?.version === 2) {
    for (const range of classDef.classRangeRecord ?? []) for (let glyph = range.start; glyph <= range.end; glyph++) if (!classes.has(glyph)) classes.set(glyph, range.class);
  }
  return classes;
}

/**
 * The features fontkit selects for a word of `script` (OTProcessor.selectScript:
 * the script's entry, else the first of DFLT, dflt, latn; its default
 * language; the last feature record of a tag wins). Undefined when the table
 * has none of those scripts: fontkit then keeps what the previous call selected.
 */
function selectFeatures(table: LayoutTable, script: string): Map<string, Feature> | undefined {
  const find = (tag: string) => table.scriptList?.find((entry) => entry.tag === tag);
  const entry = find(script) ?? find('DFLT') ?? find('dflt') ?? find('latn');
  if (!entry) return undefined;
  const features = new Map<string, Feature>();
  for (const index of entry.script.defaultLangSys?.featureIndexes ?? []) features.set(table.featureList[index]!.tag, table.featureList[index]!.feature);
  return features;
}

/** The lookup indexes of the planned features, sorted; a lookup listed under two features runs twice (fontkit's lookupsForFeatures). */
function listPlannedLookups(features: Map<string, Feature>): number[] {
  return PLANNED_FEATURES.flatMap((tag) => features.get(tag)?.lookupListIndexes ?? []).sort((a, b) => a - b);
}

const sameList = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

interface PairTable {
  coverage: Coverage;
  version: number;
  pairSets?: LazyList<{ secondGlyph: number; value1: ValueRecord; value2: ValueRecord }[]>;
  classDef1?: ClassDef;
  classDef2?: ClassDef;
  classRecords?: LazyList<LazyList<{ value1: ValueRecord; value2: ValueRecord }>>;
}

/** What the lookups a word could meet require of it, gathered once per font. */
interface Analysis {
  /** Glyphs a plain word never holds: GDEF ligatures and marks (lookup flags skip those) and glyphs a lookup could start on (substitutions, positioning other than pairs). */
  excluded: Set<number>;
  /** Ligatures by first glyph (their other components); matched exactly. */
  ligatures: Map<number, number[][]>;
  /** Context lookups by coverage (format 3): each could fire only on a word with a glyph in every one of its coverages. */
  contexts: Set<number>[][];
  /** The pair adjustment lookups, each a list of PairPos subtables, in the order fontkit tries them. */
  pairs: PairTable[][];
}

/** The subtables of a lookup, with extension subtables (GSUB 7, GPOS 9) unwrapped, and their real type. */
function unwrap(lookup: Lookup, extensionType: number): { type: number; tables: SubTable[] } {
  if (lookup.lookupType !== extensionType) return { type: lookup.lookupType, tables: lookup.subTables };
  return { type: Number(lookup.subTables[0]?.lookupType), tables: lookup.subTables.map((table) => table.extension!) };
}

/** Context and chaining context subtables (GSUB 5/6, GPOS 7/8): format 3 by all its coverages, formats 1 and 2 by the first glyph's coverage. */
function addContext(table: SubTable, analysis: Analysis): void {
  if (table.version === 3) {
    const coverages = [...((table.backtrackCoverage ?? []) as Coverage[]), ...((table.inputCoverage ?? table.coverages ?? []) as Coverage[]), ...((table.lookaheadCoverage ?? []) as Coverage[])];
    analysis.contexts.push(coverages.map((coverage) => new Set(listCoverage(coverage))));
  } else {
    for (const glyph of listCoverage(table.coverage)) analysis.excluded.add(glyph);
  }
}

/** Adds what a GSUB lookup requires of a plain word; false for a lookup this module does not model. */
function addSubstitution(lookup: Lookup, analysis: Analysis): boolean {
  const { type, tables } = unwrap(lookup, 7);
  for (const table of tables) {
    if (type === 4) {
      // Exactly as fontkit matches: the first glyph in the coverage, then the components on adjacent glyphs (a plain word has no marks or ligatures for the lookup flags to skip).
      const sets = table.ligatureSets as LazyList<{ components: number[] }[]>;
      for (const [glyph, index] of mapCoverage(table.coverage!)) {
        const list = analysis.ligatures.get(glyph) ?? [];
        for (const ligature of sets.get(index)) list.push(ligature.components);
        analysis.ligatures.set(glyph, list);
      }
    } else if (type === 5 || type === 6) addContext(table, analysis);
    else if (type === 1 || type === 2 || type === 3) for (const glyph of listCoverage(table.coverage)) analysis.excluded.add(glyph);
    else return false; // fontkit throws on reverse chaining (8), for every text
  }
  return true;
}

/** Adds what a GPOS lookup requires of a plain word, or collects it when it is pair adjustment; false for a lookup this module does not model. */
function addPositioning(lookup: Lookup, analysis: Analysis): boolean {
  const { type, tables } = unwrap(lookup, 9);
  if (type === 2) {
    // fontkit falls through to cursive attachment for another format.
    if (!tables.every((table) => table.version === 1 || table.version === 2)) return false;
    analysis.pairs.push(tables as unknown as PairTable[]);
    return true;
  }
  for (const table of tables) {
    // Single and cursive positioning start on their coverage, mark attachment on a mark.
    const start = type === 1 || type === 3 ? table.coverage : type === 4 || type === 5 ? table.markCoverage : type === 6 ? table.mark1Coverage : undefined;
    if (type === 7 || type === 8) addContext(table, analysis);
    else if (start) for (const glyph of listCoverage(start as Coverage)) analysis.excluded.add(glyph);
    else return false;
  }
  return true;
}

/** The adjustments all pair lookups make to a glyph and the next: [xAdvance, yAdvance, xOffset, yOffset] of each; null for none. */
type Adjustment = number[] | null;

/** fontkit's PairPos (GPOSProcessor.applyLookup case 2 and applyPositionValue) for a pair of adjacent glyphs, every pair lookup in turn. */
function createPairAdjuster(pairs: PairTable[][]): (first: number, second: number) => Adjustment {
  const lookups = pairs.map((tables) =>
    tables.map((table) => ({ table, coverage: mapCoverage(table.coverage), class1: mapClasses(table.classDef1), class2: mapClasses(table.classDef2) })),
  );
  return (first, second) => {
    const sum = [0, 0, 0, 0, 0, 0, 0, 0];
    const add = (value: ValueRecord, at: number) => {
      // Device tables count only with font variations (fontkit's rule), and this module declines variable fonts.
      sum[at] = sum[at]! + (value.xAdvance ?? 0);
      sum[at + 1] = sum[at + 1]! + (value.yAdvance ?? 0);
      sum[at + 2] = sum[at + 2]! + (value.xPlacement ?? 0);
      sum[at + 3] = sum[at + 3]! + (value.yPlacement ?? 0);
    };
    for (const subtables of lookups) {
      // The first subtable that applies ends the lookup at this glyph; the iterator then moves on by one glyph, whatever value2 held.
      for (const { table, coverage, class1, class2 } of subtables) {
        const index = coverage.get(first);
        if (index === undefined) continue;
        if (table.version === 1) {
          const pair = table.pairSets!.get(index).find((record) => record.secondGlyph === second);
          if (!pair) continue;
          add(pair.value1, 0);
          add(pair.value2, 4);
        } else {
          const record = table.classRecords!.get(class1.get(first) ?? 0).get(class2.get(second) ?? 0);
          add(record.value1, 0);
          add(record.value2, 4);
        }
        break;
      }
    }
    return sum.some((value) => value !== 0) ? sum : null;
  };
}

/** What a plain character of a word needs, worked out on its first use. */
interface CharacterEntry {
  glyph: Glyph;
  id: number;
  advance: number;
  /** The components of ligatures that start on this glyph. */
  ligatures: number[][] | undefined;
  /** The glyph is in some coverage of a context lookup. */
  inContext: boolean;
}

/** Works the analysis out from the font, or undefined when the font has what this module does not model. */
function analyse(font: ShapableFont): Analysis | undefined {
  // Variations, an AAT morx table or no GPOS take other paths through fontkit.
  if (font._variationProcessor || font.morx || !font.GPOS) return undefined;
  // A word with a Latin letter shapes as 'latn', one of digits and signs only as 'zzzz' (fontkit's Unknown): both must run the same lookups.
  const gsubFeatures = ['latn', 'zzzz'].map((script) => (font.GSUB ? selectFeatures(font.GSUB, script) : new Map<string, Feature>()));
  const gposFeatures = ['latn', 'zzzz'].map((script) => selectFeatures(font.GPOS!, script));
  const [latnGsub, zzzzGsub, latnGpos, zzzzGpos] = [...gsubFeatures, ...gposFeatures].map((features) => features && listPlannedLookups(features));
  if (!latnGsub || !zzzzGsub || !latnGpos || !zzzzGpos || !sameList(latnGsub, zzzzGsub) || !sameList(latnGpos, zzzzGpos)) return undefined;
  // A legacy kern table counts when the GPOS features lack kern.
  if (font.kern && !gposFeatures.every((features) => features?.has('kern'))) return undefined;
  const analysis: Analysis = { excluded: new Set(), ligatures: new Map(), contexts: [], pairs: [] };
  const classDef = font.GDEF?.glyphClassDef;
  for (const [glyph, glyphClass] of mapClasses(classDef ?? undefined)) if (glyphClass === 2 || glyphClass === 3) analysis.excluded.add(glyph);
  for (const [table, indexes, add] of [
    [font.GSUB, latnGsub, addSubstitution],
    [font.GPOS, latnGpos, addPositioning],
  ] as const) {
    for (const index of indexes) {
      const lookup = table!.lookupList.get(index);
      // Skipping base glyphs would change which glyphs are adjacent.
      if (lookup.flags.flags.ignoreBaseGlyphs || !add(lookup, analysis)) return undefined;
    }
  }
  // Ligatures and contexts that need an excluded glyph can never fire on a plain word.
  const possible = (glyph: number) => !analysis.excluded.has(glyph);
  for (const [glyph, list] of analysis.ligatures) {
    const kept = list.filter((components) => components.every(possible));
    if (kept.length && possible(glyph)) analysis.ligatures.set(glyph, kept);
    else analysis.ligatures.delete(glyph);
  }
  analysis.contexts = analysis.contexts.filter((coverages) => coverages.every((set) => [...set].some(possible)));
  return analysis;
}

/**
 * The plain shaper of one fontkit font, or undefined when the font has what
 * this module does not model (variations, unknown lookups, scripts whose
 * lookups differ); then every word goes to fontkit. The shaper answers
 * undefined for a word it is not sure of.
 */
export function createPlainShaper(font: ShapableFont): ((text: string) => PlainRun | undefined) | undefined {
  const analysis = analyse(font);
  if (!analysis) return undefined;
  const contextGlyphs = new Set(analysis.contexts.flat().flatMap((set) => [...set]));

  // fontkit keeps one glyph object per glyph id, holding the code points it
  // was first made for, and its layout reads those: after a soft hyphen made
  // the hyphen glyph, fontkit hides every hyphen. So the glyph object decides
  // what is plain, and the shaper makes glyph objects exactly as fontkit's
  // layout would: each character's in text order, then the space's
  // (hideDefaultIgnorables asks for it at the end of every non-empty run).
  const characters = new Map<number, CharacterEntry | null>();
  const characterEntry = (code: number): CharacterEntry | null => {
    const glyph = font.glyphForCodePoint(code);
    const id = glyph.id;
    if (id === 0 || glyph.codePoints.length !== 1 || !isPlainCharacter(glyph.codePoints[0]!) || analysis.excluded.has(id)) return null;
    return { glyph, id, advance: glyph.advanceWidth, ligatures: analysis.ligatures.get(id), inContext: contextGlyphs.has(id) };
  };
  let spaceMade = false;
  const adjustPair = createPairAdjuster(analysis.pairs);
  const kerning = new Map<number, Adjustment>();

  return (text) => {
    const length = text.length;
    // First every character must be plain, before any glyph object is made:
    // fontkit makes a character's glyph only after seeing the next character
    // (with a variation selector after it, it makes another one).
    for (let i = 0; i < length; i++) {
      const code = text.charCodeAt(i);
      const entry = characters.get(code);
      if (entry === null || (entry === undefined && !isPlainCharacter(code))) return undefined;
    }
    const entries: CharacterEntry[] = new Array(length);
    let inContext = false;
    for (let i = 0; i < length; i++) {
      const code = text.charCodeAt(i);
      let entry = characters.get(code);
      if (entry === undefined) characters.set(code, (entry = characterEntry(code)));
      if (entry === null) return undefined;
      entries[i] = entry;
      if (entry.inContext) inContext = true;
    }
    if (substitutionApplies(entries, analysis, inContext)) return undefined;

    if (!spaceMade && length > 0) {
      font.glyphForCodePoint(0x20);
      spaceMade = true;
    }

    const glyphs: Glyph[] = new Array(length);
    const positions: PlainRun['positions'] = new Array(length);
    for (let i = 0; i < length; i++) {
      glyphs[i] = entries[i]!.glyph;
      positions[i] = { xAdvance: entries[i]!.advance, yAdvance: 0, xOffset: 0, yOffset: 0 };
    }
    applyKerning(entries, positions, (first, second) => {
      const key = first * 65536 + second;
      let adjustment = kerning.get(key);
      if (adjustment === undefined) kerning.set(key, (adjustment = adjustPair(first, second)));
      return adjustment;
    });
    return { glyphs, positions };
  };
}

/** Whether a ligature or a contextual lookup of the font would touch these characters (then fontkit shapes the run). */
function substitutionApplies(entries: CharacterEntry[], analysis: NonNullable<ReturnType<typeof analyse>>, inContext: boolean): boolean {
  const length = entries.length;
  for (let i = 0; i < length; i++) {
    const ligatures = entries[i]!.ligatures;
    if (!ligatures) continue;
    for (const components of ligatures) {
      if (i + components.length >= length) continue;
      let k = 0;
      while (k < components.length && entries[i + 1 + k]!.id === components[k]) k++;
      if (k === components.length) return true;
    }
  }
  return inContext && analysis.contexts.some((coverages) => coverages.every((set) => entries.some((entry) => set.has(entry.id))));
}

/** Adds each neighbouring pair's adjustment (first glyph's four values, then the second's), as fontkit's GPOS pair positioning does. */
function applyKerning(entries: CharacterEntry[], positions: PlainRun['positions'], adjust: (first: number, second: number) => Adjustment): void {
  for (let i = 0; i + 1 < entries.length; i++) {
    const adjustment = adjust(entries[i]!.id, entries[i + 1]!.id);
    if (adjustment === null) continue;
    const a = positions[i]!;
    const b = positions[i + 1]!;
    a.xAdvance += adjustment[0]!;
    a.yAdvance += adjustment[1]!;
    a.xOffset += adjustment[2]!;
    a.yOffset += adjustment[3]!;
    b.xAdvance += adjustment[4]!;
    b.yAdvance += adjustment[5]!;
    b.xOffset += adjustment[6]!;
    b.yOffset += adjustment[7]!;
  }
}
