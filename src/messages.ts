/**
 * Every user-facing message in one place. Each says what happened and what to
 * do; tests assert against these same functions, so wording changes here only.
 */

/** A problem tied to a place in an input file. */
export interface Located {
  file: string;
  line: number;
  column: number;
  /** Dotted field path, e.g. `deals.vnet.stake.value`; empty for the document itself. */
  path: string;
  message: string;
}

/** `file:line:column  field.path  what is wrong (how to fix it)`. */
export function formatLocated(issue: Located): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`;
  return issue.path ? `${where}  ${issue.path}  ${issue.message}` : `${where}  ${issue.message}`;
}

export const messages = {
  // Input files
  fileMissing: (file: string) => `${file}: file not found (check the path, or pass another with --data FILE)`,
  fileIsDirectory: (file: string) => `${file}: is a directory, not a file (name the .yaml file inside it)`,
  fileEmpty: (file: string) => `${file}: the file is empty (it should hold the dataset as YAML; see data/catl-ai-stack.yaml)`,
  fileBinary: (file: string) =>
    `${file}: not a text file (it holds binary data or is not UTF-8; save it as UTF-8 YAML)`,
  fileTooLarge: (file: string, bytes: number, limit: number) =>
    `${file}: ${bytes} bytes is over the ${limit}-byte limit for an input file (split it, or check you passed the right file)`,
  fileUnreadable: (file: string, reason: string) => `${file}: cannot be read (${reason})`,
  notAMapping: 'the document must be a YAML mapping (key: value pairs) at the top level',

  // YAML syntax, keyed by the yaml package's error codes
  yamlSyntax: (code: string, detail: string) => {
    const hints: Record<string, string> = {
      DUPLICATE_KEY: 'this key appears twice in the same mapping; ids must be unique, so rename or remove one',
      BAD_INDENT: 'indentation is off; align the key with its siblings using spaces',
      TAB_AS_INDENT: 'tabs cannot indent YAML; use spaces',
      MISSING_CHAR: 'a closing quote or bracket is missing',
      BLOCK_AS_IMPLICIT_KEY: 'a key spans lines or lacks its colon; check the line above',
    };
    const hint = hints[code];
    return hint ? `YAML: ${hint} (${code})` : `YAML: ${detail} (${code})`;
  },
  yamlAnchor: 'YAML anchors and aliases are not allowed in the dataset (write each value out)',

  // Validation beyond single fields
  unknownKey: (key: string, allowed: readonly string[]) =>
    allowed.length
      ? `unknown field "${key}" (check the spelling; allowed here: ${allowed.join(', ')})`
      : `unknown field "${key}" (remove it or check the spelling)`,
  missingField: (key: string) => `required field "${key}" is missing (add it here)`,
  unknownReference: (kind: string, value: string, known: readonly string[]) =>
    `refers to ${kind} "${value}", which is not defined (defined: ${known.join(', ') || 'none'})`,
  stakeMismatch: (amount: string, stake: number, valuation: string, implied: string) =>
    `amount ${amount} for a ${stake}% stake implies ${implied}, but valuation is ${valuation} (they must agree within rounding; correct one of the three)`,
  roundNotForCounterparty: (round: string, company: string, counterparty: string) =>
    `round "${round}" is for "${company}", not this deal's counterparty "${counterparty}"`,
  layerNotInStack: (layer: string) =>
    `layer "${layer}" is not part of the AI stack (in_ai_stack is false); a deal must sit in a stack layer`,
  derivedUnits: (op: string, need: string, units: readonly string[]) =>
    `op ${op} ${need}, but its inputs are in ${units.join(', ')} (choose metrics with compatible units)`,
  invalidData: (count: number, file: string) =>
    `${file}: ${count} ${count === 1 ? 'problem' : 'problems'} found; the build stopped before writing anything`,

  // CLI
  usage: (detail: string) => `${detail}\nRun with --help for usage.`,
  checkSummary: (file: string, counts: { entities: number; deals: number; figures: number; derived: number }) =>
    `${file}: valid: ${counts.entities} entities, ${counts.deals} deals, ${counts.figures} figures, ${counts.derived} derived figures`,
  unexpected: (detail: string) =>
    `unexpected error: ${detail}\nThis is a bug in the pipeline; run again with --debug for the stack trace and report it.`,
} as const;
