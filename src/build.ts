/**
 * The orchestrator: the only module that touches the filesystem, through
 * `BuildEffects`, which tests replace with an in-memory version.
 *
 *   data/*.yaml ──read──▶ Uint8Array
 *     ──parseYaml──▶ YamlSource            (load.ts: positions kept)
 *     ──validateDataset──▶ Dataset         (validate.ts: every problem, located)
 *     ──deriveFigures──▶ Derived           (derive.ts: formulas and inputs)
 */
import { CliError } from './error.ts';
import { parseYaml } from './load.ts';
import { messages } from './messages.ts';
import { countDataset, deriveFigures, type Derived } from './derive.ts';
import type { Dataset } from './schema.ts';
import { validateDataset } from './validate.ts';

/** Everything the build does to the outside world. */
export interface BuildEffects {
  readFile(path: string): Promise<Uint8Array>;
  log(line: string): void;
}

export interface CheckOptions {
  data: string;
}

export interface CheckResult {
  data: Dataset;
  derived: Derived;
  summary: string;
}

/** Reads a dataset file, turning the errors a user can cause into clear messages. */
export async function readInput(path: string, effects: BuildEffects): Promise<Uint8Array> {
  try {
    return await effects.readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(messages.fileMissing(path));
    if (code === 'EISDIR') throw new CliError(messages.fileIsDirectory(path));
    if (code === 'EACCES' || code === 'EPERM') throw new CliError(messages.fileUnreadable(path, 'permission denied'));
    throw error;
  }
}

/** Load -> validate -> derive, writing nothing. */
export async function loadDataset(path: string, effects: BuildEffects): Promise<CheckResult> {
  // 1. read, 2. parse with positions, 3. validate, 4. derive
  const bytes = await readInput(path, effects);
  const source = parseYaml(path, bytes);
  const data = validateDataset(source);
  const derived = deriveFigures(data);
  return { data, derived, summary: messages.checkSummary(path, countDataset(data, derived)) };
}
