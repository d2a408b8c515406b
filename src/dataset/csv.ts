/**
 * CSV tables beside a dataset (RFC 4180), with the line and column of every
 * cell so a bad value is reported where the editor shows it. Written by hand
 * because the job needs each cell's position, which CSV libraries do not
 * report (csv-parse gives a record's line only), and it is small.
 * Cells stay text here; their declared types are checked later.
 */
import { InputError } from '../support/error.ts';
import { messages, type Located } from '../support/messages.ts';

/** One cell: its text and where its first character is (the opening quote of a quoted cell), 1-based. */
export interface CsvCell {
  value: string;
  line: number;
  column: number;
}

export interface CsvRow {
  line: number;
  cells: CsvCell[];
}

export interface CsvTable {
  file: string;
  header: CsvCell[];
  rows: CsvRow[];
}

/** Abuse guard: a report's table is a few thousand rows; more is a wrong file or a runaway export. */
export const MAX_CSV_ROWS = 100_000;

/** Where the scan is; `column` counts UTF-16 code units, as editors do. */
interface Cursor {
  text: string;
  i: number;
  line: number;
  column: number;
}

type Report = (line: number, column: number, message: string) => void;

/** A record as read; `broken` marks one whose cells could not be read as written, so its width is not judged. */
interface ReadRecord extends CsvRow {
  broken: boolean;
}

/** Parses RFC 4180 CSV into located cells; throws InputError listing every structural problem, located. */
export function parseCsv(file: string, text: string): CsvTable {
  const issues: Located[] = [];
  const records = readRecords(text, (record, line, column, message) => issues.push({ file, line, column, path: rowPath(record), message }));
  const [header, ...rows] = records;
  if (!header) issues.push({ file, line: 1, column: 1, path: '', message: messages.csvNoHeader });
  else {
    issues.push(...checkHeader(file, header.cells));
    rows.forEach((row, i) => {
      if (!row.broken && row.cells.length !== header.cells.length)
        issues.push({ file, line: row.line, column: 1, path: rowPath(i + 1), message: messages.csvRowWidth(row.cells.length, header.cells.length) });
    });
  }
  if (issues.length > 0) throw new InputError(file, issues.sort((a, b) => a.line - b.line || a.column - b.column));
  return { file, header: header?.cells ?? [], rows: rows.map(({ line, cells }) => ({ line, cells })) };
}

/** `row N` counts data rows from 1 (the header is row 0, shown as no path). */
function rowPath(record: number): string {
  return record === 0 ? '' : `row ${record}`;
}

function checkHeader(file: string, cells: CsvCell[]): Located[] {
  const issues: Located[] = [];
  const seen = new Map<string, number>();
  cells.forEach((cell, i) => {
    const at = { file, line: cell.line, column: cell.column, path: '' };
    const first = seen.get(cell.value);
    if (cell.value.trim() === '') issues.push({ ...at, message: messages.csvEmptyHeader(i + 1) });
    else if (first !== undefined) issues.push({ ...at, message: messages.csvDuplicateHeader(cell.value, first + 1, i + 1) });
    else seen.set(cell.value, i);
  });
  return issues;
}

/** Every record, header first (record 0). */
function readRecords(text: string, report: (record: number, line: number, column: number, message: string) => void): ReadRecord[] {
  // A UTF-8 byte order mark is invisible in editors, so columns start after it.
  const at: Cursor = { text, i: text.charCodeAt(0) === 0xfeff ? 1 : 0, line: 1, column: 1 };
  const records: ReadRecord[] = [];
  while (at.i < text.length) {
    if (skipBlankLine(at)) continue;
    if (records.length > MAX_CSV_ROWS) {
      report(records.length, at.line, 1, messages.csvTooManyRows(MAX_CSV_ROWS));
      break;
    }
    const record: ReadRecord = { line: at.line, cells: [], broken: false };
    const problem: Report = (line, column, message) => {
      record.broken = true;
      report(records.length, line, column, message);
    };
    record.cells.push(readCell(at, problem));
    while (text[at.i] === ',') {
      step(at);
      record.cells.push(readCell(at, problem));
    }
    skipLineBreak(at);
    records.push(record);
  }
  return records;
}

function readCell(at: Cursor, report: Report): CsvCell {
  const start = { line: at.line, column: at.column };
  if (at.text[at.i] !== '"') return { ...start, value: readUntilEnd(at) };
  step(at);
  let value = '';
  for (;;) {
    if (at.i >= at.text.length) {
      report(start.line, start.column, messages.csvUnterminatedQuote);
      return { ...start, value };
    }
    const ch = step(at);
    if (ch !== '"') value += ch;
    else if (at.text[at.i] === '"') value += step(at);
    else break;
  }
  if (!atEnd(at)) {
    report(at.line, at.column, messages.csvTextAfterQuote);
    readUntilEnd(at);
  }
  return { ...start, value };
}

/** Text up to the next comma or line break. */
function readUntilEnd(at: Cursor): string {
  const from = at.i;
  while (!atEnd(at)) step(at);
  return at.text.slice(from, at.i);
}

function atEnd(at: Cursor): boolean {
  const ch = at.text[at.i];
  return ch === undefined || ch === ',' || ch === '\n' || ch === '\r';
}

/** Consumes one character, keeping line and column; any line break inside a quoted cell reads as "\n". */
function step(at: Cursor): string {
  const ch = at.text[at.i++] ?? '';
  if (ch === '\r' && at.text[at.i] === '\n') at.i++;
  if (ch === '\r' || ch === '\n') {
    at.line++;
    at.column = 1;
    return '\n';
  }
  at.column++;
  return ch;
}

function skipLineBreak(at: Cursor): void {
  if (at.text[at.i] === '\r' || at.text[at.i] === '\n') step(at);
}

const BLANK_LINE = /[ \t]*(?:\r\n|\n|\r|$)/y;

/** Skips a line holding nothing but spaces or tabs; false when the line has content. */
function skipBlankLine(at: Cursor): boolean {
  BLANK_LINE.lastIndex = at.i;
  if (!BLANK_LINE.test(at.text)) return false;
  at.i = BLANK_LINE.lastIndex;
  at.line++;
  at.column = 1;
  return true;
}
