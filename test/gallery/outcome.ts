/**
 * What became of each gallery spec, and the summary `npm run test:gallery`
 * prints: counts by outcome and gate, refusals grouped by message, one line
 * per spec that is not faithful.
 */
import { sep } from 'node:path';
import { messages } from '../../src/support/messages.ts';
import type { GalleryException } from './corpus.ts';
import { GATE } from './pixels.ts';

/** The gate's parts, as the corpus README lists them. */
export type GateName = 'pixels' | 'text' | 'fonts' | 'images' | 'unreadable';

export interface GateFailure {
  gate: GateName;
  detail: string;
}

/** One spec's outcome. */
export type Outcome =
  | { kind: 'faithful'; diffRatio: number }
  /** cairoRatio: the pixel share with the PDF rasterised by pdftocairo, measured when pixels are the only failing gate. */
  | { kind: 'unfaithful'; diffRatio: number | undefined; failures: GateFailure[]; cairoRatio?: number }
  /** The chart command exited non-zero with its own message. */
  | { kind: 'refused'; stage: 'svg' | 'pdf'; message: string }
  /** An unexpected error, an error escaping main, a dead worker or a timeout. */
  | { kind: 'crashed'; stage: 'svg' | 'pdf' | 'render'; message: string };

export interface SpecResult {
  name: string;
  outcome: Outcome;
}

/** One run of `chart SPEC -o OUT` as the worker reports it. */
export interface ChartRun {
  code: number;
  stderr: string;
  thrown: string | undefined;
}

const UNEXPECTED = messages.unexpected('\0').split('\0')[0]!;

/** The refusal or crash among a spec's SVG and PDF runs, if any; the scratch paths are cut from messages. */
export function stoppedOutcome(runs: ChartRun[], paths: { spec: string; dir: string }): Outcome | undefined {
  const shorten = (message: string) => message.replaceAll(`${paths.spec}: `, '').replaceAll(`${paths.dir}${sep}`, '');
  const stages = ['svg', 'pdf'] as const;
  for (const [i, run] of runs.entries()) {
    const stage = stages[i]!;
    if (run.thrown !== undefined) return { kind: 'crashed', stage, message: shorten(firstLine(run.thrown)) };
    if (run.code === 0) continue;
    const lines = run.stderr.split('\n').filter((line) => line.trim() && !/: warning: /.test(line));
    const message = shorten(lines.find((line) => line.includes(UNEXPECTED)) ?? lines[0] ?? `exit code ${run.code}, nothing on stderr`);
    return message.includes(UNEXPECTED) ? { kind: 'crashed', stage, message } : { kind: 'refused', stage, message };
  }
  return undefined;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

/** The message with its specifics (quoted names, numbers, lists) blanked, to group like refusals. */
function messagePattern(message: string): string {
  return message
    .replace(/^[\w-]+\.vl\.json[:\d]*\s+/, '')
    .replace(/"[^"]*"/g, '"…"')
    .replace(/\([^)]*\)/g, '(…)')
    .replace(/\[[^\]]*\]/g, '[…]')
    .replace(/\d+(\.\d+)?/g, 'N')
    .slice(0, 140);
}

/** True when the outcome fails the pixel gate alone and passes it with the PDF rasterised by pdftocairo. */
export function splashOnly(outcome: Outcome): boolean {
  return outcome.kind === 'unfaithful' && outcome.failures.every((f) => f.gate === 'pixels') && outcome.cairoRatio !== undefined && outcome.cairoRatio <= GATE.maxDiffRatio;
}

/**
 * The specs that count towards the required share: the faithful, and the
 * exceptions marked `rasteriser: pdftocairo` whose outcome this run shows the
 * difference is Splash's alone.
 */
export function countedFaithful(results: readonly SpecResult[], exceptions: ReadonlyMap<string, GalleryException>): { strict: number; counted: number } {
  const strict = results.filter((r) => r.outcome.kind === 'faithful').length;
  const splash = results.filter((r) => exceptions.get(r.name)?.rasteriser === 'pdftocairo' && splashOnly(r.outcome)).length;
  return { strict, counted: strict + splash };
}

function percent(count: number, total: number): string {
  return `${((100 * count) / total).toFixed(1)}%`;
}

function describe(result: SpecResult): string {
  const { outcome } = result;
  if (outcome.kind === 'faithful') return 'faithful';
  if (outcome.kind === 'unfaithful') {
    const cairo = outcome.cairoRatio === undefined ? '' : ` (pdftocairo: ${(100 * outcome.cairoRatio).toFixed(2)}%)`;
    return outcome.failures.map((f) => `${f.gate}: ${f.detail}`).join('; ') + cairo;
  }
  return `${outcome.kind} (${outcome.stage}): ${outcome.message}`;
}

/** The printed summary: the counts table, refusals grouped by message, then one line per spec not faithful. */
export function formatSummary(results: SpecResult[], seconds: number, exceptions: ReadonlyMap<string, GalleryException>): string {
  const total = results.length;
  const count = (test: (r: SpecResult) => boolean) => results.filter(test).length;
  const row = (label: string, n: number) => `  ${label.padEnd(34)}${String(n).padStart(5)}  ${percent(n, total).padStart(6)}`;
  const unfaithful = results.filter((r) => r.outcome.kind === 'unfaithful');
  const gates: GateName[] = ['pixels', 'text', 'fonts', 'images', 'unreadable'];
  const lines = [
    `Gallery: ${total} specs, ${seconds.toFixed(0)} s`,
    row('faithful', count((r) => r.outcome.kind === 'faithful')),
    row('unfaithful', unfaithful.length),
    ...gates.map((gate) => row(`  failing ${gate}`, unfaithful.filter((r) => r.outcome.kind === 'unfaithful' && r.outcome.failures.some((f) => f.gate === gate)).length)),
    row('refused (SVG)', count((r) => r.outcome.kind === 'refused' && r.outcome.stage === 'svg')),
    row('refused (PDF only)', count((r) => r.outcome.kind === 'refused' && r.outcome.stage === 'pdf')),
    row('crashed', count((r) => r.outcome.kind === 'crashed')),
    row('listed in exceptions.yaml', count((r) => exceptions.has(r.name))),
    row('  Splash only (pdftocairo passes)', count((r) => exceptions.get(r.name)?.rasteriser === 'pdftocairo' && splashOnly(r.outcome))),
    row('faithful or Splash-only exception', countedFaithful(results, exceptions).counted),
  ];
  const groups = new Map<string, string[]>();
  for (const result of results) {
    if (result.outcome.kind !== 'refused' && result.outcome.kind !== 'crashed') continue;
    const key = `${result.outcome.kind} (${result.outcome.stage}): ${messagePattern(result.outcome.message)}`;
    groups.set(key, [...(groups.get(key) ?? []), result.name]);
  }
  if (groups.size > 0) {
    lines.push('', 'Refusals and crashes by message:');
    for (const [pattern, names] of [...groups].sort((a, b) => b[1].length - a[1].length)) {
      lines.push(`  ${String(names.length).padStart(4)}  ${pattern}`, `        e.g. ${names.slice(0, 4).join(', ')}`);
    }
  }
  const failed = results.filter((r) => r.outcome.kind !== 'faithful');
  if (failed.length > 0) lines.push('', 'Not faithful:', ...failed.map((r) => `  ${r.name}${exceptions.has(r.name) ? ' [exception]' : ''}: ${describe(r)}`));
  return lines.join('\n');
}

/** Every spec's outcome as tab-separated lines (name, kind, diff %, detail), for sorting and grepping. */
export function formatTable(results: SpecResult[]): string {
  const rows = results.map(({ name, outcome }) => {
    const diff = 'diffRatio' in outcome && outcome.diffRatio !== undefined ? (100 * outcome.diffRatio).toFixed(3) : '';
    return [name, outcome.kind, diff, describe({ name, outcome }).replace(/\t/g, ' ')].join('\t');
  });
  return ['spec\toutcome\tdiff %\tdetail', ...rows].join('\n') + '\n';
}
