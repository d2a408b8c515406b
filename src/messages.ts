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
  unsupportedCharacter: (char: string, code: string) =>
    `contains "${char}" (${code}), which the briefing's typeface cannot draw (replace it with plain Latin text; a PDF must not show missing glyphs)`,
  bidiControl: (code: string) => `contains a bidirectional control character (${code}), which can make text read differently from how it is stored (remove it)`,
  invalidData: (count: number, file: string) =>
    `${file}: ${count} ${count === 1 ? 'problem' : 'problems'} found; the build stopped before writing anything`,

  // Build and outputs
  fontMissing: (file: string) => `font file not found: ${file} (run npm ci to reinstall the @fontsource packages)`,
  fontInvalid: (file: string) => `font file is damaged or not a font: ${file} (run npm ci to reinstall the @fontsource packages)`,
  outputNotAFolder: (dir: string) => `${dir}: the output path runs through a file, not a folder (pass --out DIR with a folder path)`,
  outputNotWritable: (dir: string, code: string) =>
    `${dir}: the output folder cannot be written (${code}); the previous outputs are untouched (check its permissions, or pass --out DIR)`,
  outputDiskFull: (dir: string) => `${dir}: the disk is full; nothing was replaced and the previous outputs are untouched (free some space and build again)`,
  outputLocked: (dir: string, pid: number) =>
    `${dir}: another build (process ${pid}) has held the output folder's lock for too long (wait for it to finish, or stop it)`,
  noReportsSelected: (what: string) => `no report matches ${what} (see the ids in reports.yaml)`,
  reportFailed: (id: string, detail: string) => `report ${id} failed:\n${detail}`,

  // Watch and serve
  watchRebuilt: () => 'rebuilt; watching for changes',
  watchKeptPrevious: () => 'build failed; the previous outputs are kept; watching for changes',
  watching: (targets: readonly string[]) => `watching ${targets.join(', ')} (Ctrl-C to stop)`,
  serving: (url: string) => `serving the output at ${url} with live reload`,

  // Content templates (content.ts)
  templateMainMissing: (file: string) =>
    `the main template ${file} is missing (the briefing starts from it; the other templates are partials it includes with {{> name}})`,
  templateSyntax: (detail: string) => `Handlebars syntax: ${detail} (check the braces and block tags near here)`,
  templatePlantedFigure: (kind: string, text: string) =>
    `hard-coded ${kind} "${text}" in the prose (every figure must come from the dataset through a helper, e.g. {{money deals.vnet.amount}}, {{pct metrics.share_q1_2026}} or {{period metrics.shipments_ev_2025}} for a year)`,
  templateBareValue: (text: string) =>
    `${text} prints a raw value (data must pass through a helper that formats and escapes it: {{text path}} for words, {{money path}}, {{pct path}}, {{gwh path}} or {{pp path}} for figures)`,
  templateTripleStash: (text: string) => `${text} uses {{{ }}}, which skips escaping (use {{ }} with a helper)`,
  templateUnknownHelper: (name: string, known: readonly string[]) => `unknown helper "${name}" (available: ${known.join(', ')})`,
  templateUnknownBlock: (name: string) => `block helper "#${name}" is not available in briefing templates (use #if, #unless, #each or #with)`,
  templateUnknownPartial: (name: string, known: readonly string[]) =>
    `partial "${name}" does not exist (partials are the other files in templates/briefing/, named without .md.hbs: ${known.join(', ') || 'none'})`,
  templateUnsupported: (kind: string) => `${kind} is not supported in briefing templates (remove it)`,
  templateMissingData: (path: string, known: readonly string[]) =>
    `"${path}" is not in the dataset (check the spelling; defined at that level: ${known.join(', ') || 'nothing'})`,
  templateHelperUsage: (text: string, usage: string) => `${text}: expects ${usage}`,
  templateWrongKind: (text: string, expected: string, got: string) => `${text}: this helper formats ${expected}, but the value is ${got} (pick the helper for its unit)`,
  templateUntracked: (text: string) =>
    `${text}: the value is not a fact from the dataset, so it cannot be cited (pass a dataset path such as deals.vnet.amount, not a computed or literal value)`,
  templateUnknownChart: (id: string, known: readonly string[]) =>
    `unknown chart "${id}" (charts: ${known.join(', ') || 'none'}; each is templates/charts/<id>.vl.json)`,
  templateChartTwice: (id: string) => `chart "${id}" is placed twice (place each figure once; refer to it elsewhere with {{ref "${id}"}})`,
  templateRefUnplaced: (id: string) => `{{ref "${id}"}} refers to a chart that is never placed (add {{chart "${id}"}} to the briefing)`,
  templateChartInline: (id: string) =>
    `{{chart "${id}"}} must stand alone between blank lines at the top level (a figure is a block, not part of a sentence, list or table)`,
  templateNotStandalone: (text: string) =>
    `${text} must stand alone on its own line, between blank lines (it makes a block: a figure, a table or a list)`,
  templateUnusedPartial: (name: string) => `this template is never included (add {{> ${name}}} to the main template, or delete the file)`,
  templateRawHtml: (html: string) => `raw HTML ${JSON.stringify(html)} in the prose (write Markdown instead; HTML would bypass escaping in both editions)`,
  templateNode: (kind: string) => `${kind} is not allowed in the prose (place charts with {{chart "id"}} and link with [text](https://...))`,
  templateLinkScheme: (url: string) =>
    `link to "${url}" (only http:// and https:// links, or #anchors of headings and figures in the briefing, may appear)`,

  // CLI
  usage: (detail: string) => `${detail}\nRun with --help for usage.`,
  checkSummary: (file: string, counts: { entities: number; deals: number; figures: number; derived: number }) =>
    `${file}: valid: ${counts.entities} entities, ${counts.deals} deals, ${counts.figures} figures, ${counts.derived} derived figures`,
  unexpected: (detail: string) =>
    `unexpected error: ${detail}\nThis is a bug in the pipeline; run again with --debug for the stack trace and report it.`,

  // HTML edition
  htmlChartMissing: (chartId: string, known: readonly string[]) =>
    `figure refers to chart "${chartId}", which was not rendered (rendered: ${known.join(', ') || 'none'}); check the {{chart}} id in the template`,
  htmlChartNotSvg: (chartId: string) => `chart "${chartId}" did not render to an <svg> element; check its Vega-Lite spec`,
  htmlBadPort: (port: number) => `live-reload port ${port} is not a TCP port (use an integer from 1 to 65535)`,
  // Charts
  chartBadJson: (file: string, detail: string) => `${file}: not valid JSON (${detail}); a chart spec is one Vega-Lite JSON object`,
  chartNotObject: (file: string) => `${file}: a chart spec must be a JSON object (a Vega-Lite spec), not an array or a single value`,
  chartSchema: (file: string, detail: string) => `${file}: not a valid Vega-Lite spec: ${detail}`,
  chartInvalid: (file: string, detail: string) => `${file}: Vega-Lite could not compile the spec: ${detail}`,
  chartRenderFailed: (file: string, detail: string) => `${file}: Vega could not render the chart: ${detail}`,
  chartUnknownField: (file: string, field: string, where: string, known: readonly string[]) =>
    `${file}: ${where} uses field "${field}", which is not in the data (fields: ${known.join(', ') || 'none'}); check the spelling or add the field`,
  chartMissingData: (file: string, name: string, known: readonly string[]) =>
    `${file}: the spec asks for data "${name}", which the build does not provide (provided: ${known.join(', ') || 'none'})`,
  chartTemplateField: (file: string, field: string, name: string) =>
    `${file}: {{${field}}} in the title or usermeta is not a field of data "${name}"`,
  chartTemplateVaries: (file: string, template: string) =>
    `${file}: "${template}" gives different text for different rows; title and caption fields must be the same in every row`,
  chartTemplateNoData: (file: string) =>
    `${file}: {{field}} placeholders need the spec's top-level data to be named or inline`,
  chartLoadRefused: (uri: string, reason: string) => `refused to load "${uri}": ${reason}`,
  chartLoadUrl: 'charts never fetch from the network or other schemes; bind the data by name or put the file beside the spec',
  chartLoadOutside: "only files inside the spec's own folder may be read",
  chartLoadNone: 'data is bound by name in the briefing; specs may not read files',
  chartPdfImage: (href: string) => `the chart contains an image (${href}); charts must be vectors, so image marks are not supported in PDF output`,
  chartPdfWarnings: (warnings: readonly string[]) => `the chart SVG could not be drawn faithfully into the PDF: ${warnings.join('; ')}`,
  chartWarning: (file: string, detail: string) => `${file}: warning: ${detail}`,
  chartWritten: (out: string, width: number, height: number) => `wrote ${out} (${width}×${height} px)`,
  chartOutputType: (out: string) => `cannot tell the output format of "${out}": name it .svg or .pdf`,
  chartSpecMissing: (file: string) => `${file}: file not found (check the path to the .vl.json spec)`,

  // PDF edition
  pdfChartMissing: (chartId: string, known: readonly string[]) =>
    `figure refers to chart "${chartId}", which was not rendered (rendered: ${known.join(', ') || 'none'}); check the {{chart}} id in the template`,
  pdfMissingGlyph: (char: string, text: string) =>
    `the character "${char}" (U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}) in "${text.slice(0, 60)}" has no glyph in the embedded Source Sans 3 Latin fonts, and PDF/A forbids missing glyphs; write it another way in the template or data`,
} as const;
