/**
 * Every user-facing message in one place. Each says what happened and what to
 * do; tests assert against these same functions, so wording changes here only.
 */

/** A problem tied to a place in an input file. */
export interface Located {
  file: string;
  line: number;
  column: number;
  /** Dotted field path, e.g. `orders.o17.amount.value`; empty for the document itself. */
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
  fileEmpty: (file: string) => `${file}: the file is empty (it should hold the dataset as YAML; see docs/report-format.md)`,
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
  unknownUnit: (unit: string, known: readonly string[]) =>
    `unknown unit "${unit}" (use an ISO 4217 currency code such as USD, one of ${known.join(', ')}, or declare it under units)`,
  percentRange: 'must be between 0 and 100 (a percent share; use unit percent_change for growth)',
  changeRange: 'must be greater than -100 (nothing shrinks by more than all of it)',
  scaleNotAllowed: (unit: string) => `a ${unit} figure takes no scale (remove scale)`,
  collectionReserved: (name: string, reserved: readonly string[]) =>
    `"${name}" cannot name a collection: templates and formulas use it for something else (rename it; reserved: ${reserved.join(', ')})`,
  collectionName: (name: string) => `"${name}" cannot name a collection: formulas write it as a name, so use lowercase letters, digits and "_" (for example "${name.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^[^a-z]+/, '') || 'records'}")`,
  fieldSourceReserved: 'a field cannot be named "source": every record names its source there (rename the field; a CSV column called source can be read with column: source)',
  viewNameTaken: (name: string) => `view "${name}" has the name of a collection; charts and tables name their data, so each name must be one thing (rename the view)`,
  tableMissing: (file: string) => `table file ${file} not found beside the dataset (put the CSV file in the dataset's folder, or fix the name)`,
  tableUnknownColumn: (column: string, fields: readonly string[]) =>
    `column "${column}" is not declared (declare it under the collection's fields, or remove the column; declared: ${fields.join(', ')})`,
  tableMissingColumn: (field: string) => `the header has no column "${field}", which the collection declares (add the column, or make the field optional)`,
  tableFigureUnit: (field: string) => `figure column "${field}" needs a unit (a table's cells are plain numbers, so the column declares unit and scale)`,
  formulaProblem: (detail: string) => `formula: ${detail}`,
  formulaNotFinite: 'the result is not a finite number (an input is far too large, or a divisor is close to zero; check the inputs)',
  figureOutOfRange: 'is too large or too small to compute with, with its scale (check the value and the scale)',
  formulaCycle: (id: string, chain: readonly string[]) => `derived.${id} depends on itself (through ${[...chain, id].map((x) => `derived.${x}`).join(' -> ')}); break the cycle`,
  formulaNotFigure: (found: string) => `the formula gives ${found}, not a number (a derived figure is arithmetic over figures)`,
  formulaUnit: (unit: string, found: string) =>
    `the result is in ${found || 'no unit'} but the figure declares unit ${unit} (percent, percent_change and percentage_points need a ratio or difference without a unit; money or a declared unit needs a result in that unit)`,
  formulaFormatArgument: (found: string) => `format() needs a figure, but got ${found}`,
  formulaPeriodArgument: (found: string) => `period() needs a period, or a figure or timing with one, but got ${found}`,
  checkFailed: (id: string, label: string, detail: string, tolerance: string) =>
    `check ${id} (“${label}”) fails: ${detail} (tolerance: ${tolerance}; correct the data, or the check under checks.${id})`,
  unsupportedCharacter: (char: string, code: string) =>
    `contains "${char}" (${code}), which no face the briefing ships can draw (Source Sans 3 and its fallbacks for symbols and emoji; CJK is not shipped): write it another way, as a PDF must not show missing glyphs`,
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
  reportImageRefused: (file: string, href: string, report: string) =>
    `${file}: the chart shows the image "${href}", but report ${report} refuses raster images in its editions (raster_images: refuse, the default); set raster_images: allow for the report in reports.yaml to draw PNG and JPEG files from its charts folder, or take the image mark out`,
  reportImageOutside: (file: string, href: string, folder: string) =>
    `${file}: the image "${href}" leads outside the charts folder ${folder} (through a symbolic link); copy the file into the folder`,
  reportImageMissing: (file: string, href: string, folder: string) => `${file}: the image "${href}" is not in the charts folder ${folder} (check the name, or put the file there)`,
  reportImageType: (file: string, href: string, type: string | undefined) =>
    `${file}: the image "${href}" is ${type ? `an ${type} file` : 'not a PNG or JPEG file'}; the PDF edition draws PNG and JPEG images only (convert it to PNG${type === 'image/svg+xml' ? ', or draw its shapes with marks in the spec' : ''})`,

  // Watch and serve
  watchRebuilt: () => 'rebuilt; watching for changes',
  watchKeptPrevious: () => 'build failed; the previous outputs are kept; watching for changes',
  watching: (targets: readonly string[]) => `watching ${targets.join(', ')} (Ctrl-C to stop)`,
  serving: (url: string) => `serving the output at ${url} with live reload`,

  // Content templates (src/content/)
  templateMainMissing: (file: string) =>
    `the main template ${file} is missing (the briefing starts from it; the other templates are partials it includes with {{> name}})`,
  templateSyntax: (detail: string) => `Handlebars syntax: ${detail} (check the braces and block tags near here)`,
  templatePlantedFigure: (kind: string, text: string) =>
    `hard-coded ${kind} "${text}" in the prose (every figure must come from the dataset through a helper, e.g. {{figure metrics.revenue_2025}}, {{count collection words=true}} or {{period metrics.revenue_2025}} for a year)`,
  templateBareValue: (text: string) =>
    `${text} prints a raw value (data must pass through a helper that formats and escapes it: {{text path}} for words, {{figure path}} for figures)`,
  templateTripleStash: (text: string) => `${text} uses {{{ }}}, which skips escaping (use {{ }} with a helper)`,
  templateUnknownHelper: (name: string, known: readonly string[]) => `unknown helper "${name}" (available: ${known.join(', ')})`,
  templateUnknownBlock: (name: string) => `block helper "#${name}" is not available in briefing templates (use #if, #unless, #each or #with)`,
  templateUnknownPartial: (name: string, known: readonly string[]) =>
    `partial "${name}" does not exist (partials are the other files in the templates folder, named without .md.hbs: ${known.join(', ') || 'none'})`,
  templateUnsupported: (kind: string) => `${kind} is not supported in briefing templates (remove it)`,
  templateMissingData: (path: string, known: readonly string[]) =>
    `"${path}" is not in the dataset (check the spelling; defined at that level: ${known.join(', ') || 'nothing'})`,
  templateHelperUsage: (text: string, usage: string) => `${text}: expects ${usage}`,
  /** The heading of the source list the engine adds when no template placed it. */
  sourceListHeading: () => 'Sources',
  templateWrongKind: (text: string, expected: string, got: string) => `${text}: this helper formats ${expected}, but the value is ${got} (pick the helper for its unit)`,
  templateUntracked: (text: string) =>
    `${text}: the value is not a fact from the dataset, so it cannot be cited (pass a dataset path such as metrics.revenue_2025, not a computed or literal value)`,
  templateUnknownChart: (id: string, known: readonly string[]) =>
    `unknown chart "${id}" (charts: ${known.join(', ') || 'none'}; each is <id>.vl.json in the report's charts folder)`,
  templateUnknownView: (name: string, known: readonly string[]) =>
    `unknown view "${name}" (views: ${known.join(', ') || 'none'}; declare it under views in the dataset)`,
  templatesMissing: (folder: string) =>
    `the templates folder ${folder} does not exist or holds no .md.hbs templates (create it with a briefing.md.hbs, or correct the path; npm run new-report -- NAME makes a working package)`,
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
  checkSummary: (file: string, counts: { collections: number; records: number; figures: number; derived: number; checks: number; views: number }) =>
    `${file}: valid: ${counts.collections} collections, ${counts.records} records and rows, ${counts.figures} metrics, ${counts.derived} derived figures, ${counts.checks} checks passed, ${counts.views} views`,
  checkContent: (templates: string, charts: number) => `templates in ${templates} and ${charts} ${charts === 1 ? 'chart' : 'charts'} render`,
  newReportUsage: 'usage: npm run new-report -- NAME (a lowercase id such as quarterly-review; it names the data and templates folders and the report)',
  newReportExists: (name: string, taken: readonly string[]) => `cannot create report "${name}": ${taken.join(', ')} already exist (choose another name, or remove them)`,
  newReportWritten: (name: string, files: readonly string[]) =>
    `created report "${name}": ${files.join(', ')}, and its entry in reports.yaml; build it with npm run report -- --only ${name}`,
  schemaWritten: (file: string) => `wrote ${file}`,
  adapterFallback: (library: string, installed: string, expected: string) =>
    `warning: ${library} ${installed} is installed, not ${expected}, which the pipeline's ${library} adapter was written for; using ${library}'s public API instead (same output, slower; update the adapter to restore the speed)`,
  unexpected: (detail: string) =>
    `unexpected error: ${detail}\nThis is a bug in the pipeline; run again with --debug for the stack trace and report it.`,

  // HTML edition
  htmlChartMissing: (chartId: string, known: readonly string[]) =>
    `figure refers to chart "${chartId}", which was not rendered (rendered: ${known.join(', ') || 'none'}); check the {{chart}} id in the template`,
  htmlChartNotSvg: (chartId: string) => `chart "${chartId}" did not render to an <svg> element; check its Vega-Lite spec`,
  // Charts
  chartBadJson: (file: string, detail: string) => `${file}: not valid JSON (${detail}); a chart spec is one Vega-Lite JSON object`,
  chartNotObject: (file: string) => `${file}: a chart spec must be a JSON object (a Vega-Lite spec), not an array or a single value`,
  chartSchema: (file: string, detail: string) => `${file}: not a valid Vega-Lite spec: ${detail}`,
  chartSchemaWarning: (file: string, version: string, detail: string) =>
    `${file}: warning: not valid by the schema of Vega-Lite ${version}: ${detail}; the chart is drawn with the fallback Vega-Lite's warning names (fix the spec, or update vega-lite if it is newer)`,
  chartInvalid: (file: string, detail: string) => `${file}: Vega-Lite could not compile the spec: ${detail}`,
  chartRenderFailed: (file: string, detail: string) => `${file}: Vega could not render the chart: ${detail}`,
  chartUnknownField: (file: string, field: string, where: string, known: readonly string[]) =>
    `${file}: ${where} uses field "${field}", which is not in the data (fields: ${known.join(', ') || 'none'}); check the spelling or add the field`,
  chartMissingData: (name: string, known: readonly string[]) =>
    `the spec asks for data "${name}", which the dataset does not have (name one of its views, collections or tables: ${known.join(', ') || 'none'})`,
  chartTemplateField: (file: string, field: string, name: string) =>
    `${file}: {{${field}}} in the title or usermeta is not a field of data "${name}"`,
  chartTemplateVaries: (file: string, template: string) =>
    `${file}: "${template}" gives different text for different rows; title and caption fields must be the same in every row`,
  chartTemplateNoData: (file: string) =>
    `${file}: {{field}} placeholders need the spec's top-level data to be named or inline`,
  chartLoadRefused: (uri: string, reason: string) => `refused to load "${uri}": ${reason}`,
  chartLoadUrl: 'charts never fetch from the network or other schemes; bind the data by name or put the file beside the spec',
  chartLoadOutside: "only files inside the spec's own folder may be read",
  chartLinkDropped: (uri: string) => `left out the link "${uri}": a chart links only to web (http, https) and mail addresses`,
  chartEventSourceStatic: (source: string) =>
    `the chart listens for events on ${source} (a drag or a brush, say), which only a browser running the spec has; a chart file is a still image, so it is drawn as it stands before any interaction`,
  chartTimerBlocked:
    "the chart uses timer events (an animation, or a geographic brush's initial value); a chart file is a still image, so it is drawn as it stands before the first tick",
  chartLoadNone: 'data is bound by name in the briefing; specs may not read files',
  chartImageRefused: (file: string, detail: string) => `${file}: image mark: ${detail} (name a PNG or JPEG file inside the spec's folder by a relative path)`,
  chartNarrowNoRoom: (file: string, narrow: number) =>
    `${file}: warning: the chart's labels and text are wider than the ${narrow} px of its narrow layout, leaving its plot no room, so phones show the full-width chart, smaller (shorten the longest label, title word or text)`,
  chartNarrowTooWide: (file: string, width: number, narrow: number) =>
    `${file}: warning: the chart's narrow layout is ${width} px wide, more than the ${narrow} px a phone gives it, so a phone draws it smaller (shorten the longest label or title word, or give the spec less fixed width)`,
  chartPdfImage: (href: string) => `the chart contains an image (${href}); charts must be vectors, so image marks are not supported in PDF output`,
  chartPdfWarnings: (warnings: readonly string[]) => `the chart SVG could not be drawn faithfully into the PDF: ${warnings.join('; ')}`,
  chartPdfWarning: (detail: string) => `the PDF leaves out part of the chart SVG: ${detail}`,
  chartPdfImageUnread: (href: string, reason: string) => `the image "${href}" is left out of the PDF: ${reason}`,
  chartFontNotShipped: (family: string, shipped: string) =>
    `font "${family}" is not shipped with the briefing, so the chart is measured and drawn in ${shipped} (name "${shipped}" in the spec, or leave the font out, to silence this)`,
  chartMissingGlyph: (char: string, faces: readonly string[]) =>
    `the character "${char}" (U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}) has no glyph in any shipped face (${faces.join(', ')}); it shows as a blank box in the PDF`,
  chartWarning: (file: string, detail: string) => `${file}: warning: ${detail}`,
  chartWritten: (out: string, width: number, height: number) => `wrote ${out} (${+width.toFixed(2)}×${+height.toFixed(2)} px)`,
  chartOutputType: (out: string) => `cannot tell the output format of "${out}": name it .svg, .pdf or .png, or a folder ending in /`,
  chartOutputNotFolder: (out: string, specs: number) => `${specs} specs cannot all be written to "${out}": pass -o a folder ending in / (for example -o charts/)`,
  chartFormatWithFile: (out: string) => `--format is for a folder output; "${out}" already names its format (use -o DIR/ --format svg,pdf,png for several)`,
  chartFormatUnknown: (formats: readonly string[]) => `unknown format "${formats.join(',')}" (use svg, pdf and png, comma-separated)`,
  chartJobs: (value: string) => `--jobs must be a whole number of 1 or more, not "${value}"`,
  chartScale: (value: string) => `--scale must be a number from 0.1 to 16 (PNG pixels per chart pixel), not "${value}"`,
  chartNoMatch: (pattern: string) => `no spec matches "${pattern}" (check the pattern, and quote it so the CLI expands it)`,
  chartNoSpecs: (folder: string) => `${folder}: no .vl.json specs in this folder`,
  chartSameId: (id: string, files: readonly string[]) => `${files.join(' and ')} would both be written as "${id}" in the output folder (rename one, or render them in two runs)`,
  chartCannotWrite: (file: string, reason: string) => `cannot write ${file}: ${reason} (check that the folder exists and is writable)`,
  chartBatchSummary: (ok: number, total: number, files: number, out: string, seconds: number) =>
    `rendered ${ok} of ${total} ${total === 1 ? 'spec' : 'specs'} into ${out} (${files} ${files === 1 ? 'file' : 'files'}) in ${seconds.toFixed(1)} s`,
  chartBatchFailed: (files: readonly string[]) => `${files.length} failed: ${files.join(', ')}`,
  chartSpecMissing: (file: string) => `${file}: file not found (check the path to the .vl.json spec)`,

  // PDF edition
  pdfChartMissing: (chartId: string, known: readonly string[]) =>
    `figure refers to chart "${chartId}", which was not rendered (rendered: ${known.join(', ') || 'none'}); check the {{chart}} id in the template`,
  pdfMissingGlyph: (char: string, text: string) =>
    `the character "${char}" (U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}) in "${text.slice(0, 60)}" has no glyph in the embedded fonts (Source Sans 3 and its fallback faces), and PDF/A forbids missing glyphs; write it another way in the template or data`,

  // CSV tables (src/dataset/csv.ts)
  csvNoHeader: 'the file has no header line (its first line must name the columns, separated by commas)',
  csvUnterminatedQuote: 'this quoted cell has no closing quote (add the closing ", and write a quote inside a quoted cell as "")',
  csvTextAfterQuote: 'text follows the closing quote of a cell (put the whole cell inside the quotes, and write a quote inside it as "")',
  csvRowWidth: (cells: number, columns: number) =>
    `this row has ${cells} ${cells === 1 ? 'cell' : 'cells'}, but the header names ${columns} ${columns === 1 ? 'column' : 'columns'} (add or remove cells; quote a cell that holds a comma)`,
  csvEmptyHeader: (position: number) => `header cell ${position} is empty (give every column a name on the first line)`,
  csvDuplicateHeader: (name: string, first: number, again: number) =>
    `"${name}" names two columns (header cells ${first} and ${again}); give each column its own name`,
  csvTooManyRows: (limit: number) => `the table has more than ${limit} rows, the most a CSV table may hold (split it, or aggregate the rows before adding them)`,

  // Periods (src/dataset/period.ts): fragments, shown in parentheses after a field's own message
  periodUnknown: (part: string) => `"${part}" is not a year, quarter, half, month, day or fiscal year`,
  periodMonth: (part: string) => `${part} has no such month (months are 01 to 12)`,
  periodDay: (part: string, days: number) => `${part} is not a calendar day (that month has ${days} days)`,
  periodQuarter: (part: string) => `${part}: quarters are Q1 to Q4`,
  periodHalf: (part: string) => `${part}: halves are H1 and H2`,
  periodFiscalMonth: (part: string) => `${part}: a fiscal period is a year, quarter or half (FY2025, FY2025-Q3, FY2025-H1), not a month or day`,
  periodNeedsFiscalYear: (part: string) => `${part} needs edition.fiscal_year (the month the fiscal year starts)`,
  periodRangeParts: (value: string) => `${value} has more than one "/" (a range is FROM/TO)`,
  periodRangeOrder: (from: string, to: string) => `${from} starts after ${to} (write the earlier period first)`,

  // Formulas (src/dataset/expression.ts)
  formulaTooLong: (length: number, limit: number) =>
    `the formula is ${length} characters long, over the ${limit}-character limit (split it into derived figures that use each other)`,
  formulaTooDeep: (limit: number) => `the formula nests more than ${limit} levels deep (split it into derived figures that use each other)`,
  formulaSyntax: (detail: string, column: number) => `formula syntax: ${detail} at column ${column}`,
  formulaDisabled: 'this is not allowed in a formula (no assignment, ++ or --, commas outside a call, this, typeof or new)',
  formulaTrailing: 'unexpected text after the end of the formula (is an operator missing between two terms?)',
  formulaUnsupported: (what: string) => `${what} is not supported in formulas`,
  formulaUnknownName: (name: string, known: readonly string[]) =>
    `unknown name "${name}" (known: ${known.join(', ') || 'none'}; inside a collection, the current record is datum)`,
  formulaNoDatum: 'datum is only defined where a formula runs once per record: for_each checks, views and aggregate conditions',
  formulaUnknownField: (path: string, field: string, fields: readonly string[]) =>
    `${path} has no field "${field}" (fields: ${fields.join(', ') || 'none'})`,
  formulaUnknownMember: (path: string, key: string, fields: readonly string[], ids: readonly string[]) =>
    `${path} has no field or record "${key}" (fields: ${fields.join(', ') || 'none'}; records: ${ids.join(', ') || 'none'})`,
  formulaNoMembers: (what: string, kind: string, key: string) => `${what} is ${kind}, which has no field "${key}"`,
  formulaBadKey: (what: string, kind: string) => `${what}[...] needs a field name or record id in the brackets, not ${kind}`,
  formulaNotSet: (what: string) => `${what} is not set (test it first: isValid(${what}) ? ... : ...)`,
  formulaUnitMismatch: (verb: string, a: string, b: string) =>
    `cannot ${verb} ${a} and ${b} (both sides need one unit; a percent enters a formula as a unitless fraction)`,
  formulaMultiplyUnits: (a: string, b: string) => `cannot multiply ${a} by ${b} (at most one side of * may have a unit)`,
  formulaDivideUnits: (a: string, b: string) =>
    `cannot divide ${a} by ${b} (a ratio needs both sides in one unit, or a unitless divisor)`,
  formulaDivideByZero: (what: string) => `division by zero: ${what} is 0 (guard it with a condition, e.g. x != 0 ? ... : ...)`,
  formulaNeedsUnitless: (what: string, unit: string) => `${what} needs unitless numbers, not ${unit}`,
  formulaOperand: (operator: string, kind: string) => `${operator} needs a number or a figure, not ${kind}`,
  formulaFigureInText: (what: string) => `${what} is a figure, which cannot be joined to text as it is (write format(${what}))`,
  formulaCompare: (a: string, b: string) => `cannot compare ${a} with ${b}`,
  formulaUnknownFunction: (name: string, known: readonly string[]) => `unknown function "${name}" (known: ${known.join(', ') || 'none'})`,
  formulaArity: (name: string, min: number, max: number, count: number) =>
    `${name}() takes ${min === max ? min : `${min} to ${max}`} ${max === 1 ? 'argument' : 'arguments'}, not ${count}`,
  formulaArgument: (name: string, expected: string, kind: string) => `${name} needs ${expected}, not ${kind}`,
  formulaAggregateTarget: (name: string) =>
    `${name}() needs a collection or a column as its first argument, e.g. ${name}(generation.net_generation)${name === 'min' || name === 'max' ? ', or two or more numbers' : ''}`,
  formulaAggregateColumn: (name: string, path: string, fields: readonly string[]) =>
    `${name}(${path}) needs a column: write ${name}(${path}.FIELD) (fields: ${fields.join(', ') || 'none'})`,
  formulaAggregateEmpty: (name: string, column: string) =>
    `${name}(${column}) has no values (no record passes the condition with the field set); guard it with count(...) > 0 ? ... : ...`,
  formulaAggregateValue: (name: string, path: string, kind: string) => `${name}() needs figures or numbers, but ${path} is ${kind}`,
  formulaAggregateUnits: (name: string, column: string, a: string, b: string) => `${name}(${column}) mixes ${a} and ${b}`,
  formulaScale: (scale: string) => `unknown scale "${scale}" (use thousand, million or billion)`,
  formulaNoYear: (text: string) => `${JSON.stringify(text)} holds no four-digit year`,
} as const;
