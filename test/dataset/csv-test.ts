import { describe, expect, it } from 'vitest';
import { MAX_CSV_ROWS, parseCsv, type CsvTable } from '../../src/dataset/csv.ts';
import { InputError } from '../../src/support/error.ts';
import { formatLocated, messages, type Located } from '../../src/support/messages.ts';

const FILE = 'data/table.csv';

const values = (table: CsvTable) => [table.header.map((cell) => cell.value), ...table.rows.map((row) => row.cells.map((cell) => cell.value))];

function issuesOf(text: string): Located[] {
  try {
    parseCsv(FILE, text);
  } catch (error) {
    if (error instanceof InputError) return error.issues;
    throw error;
  }
  throw new Error('expected an InputError');
}

describe('parseCsv: cells', () => {
  it('reads the header and rows with each cell\'s line and column', () => {
    const table = parseCsv(FILE, 'year,source,value\n2017,Nuclear,5\n2018,Wind,12\n');
    expect(table.file).toBe(FILE);
    expect(values(table)).toEqual([['year', 'source', 'value'], ['2017', 'Nuclear', '5'], ['2018', 'Wind', '12']]);
    expect(table.header[1]).toEqual({ value: 'source', line: 1, column: 6 });
    expect(table.rows[1]).toEqual({
      line: 3,
      cells: [{ value: '2018', line: 3, column: 1 }, { value: 'Wind', line: 3, column: 6 }, { value: '12', line: 3, column: 11 }],
    });
  });

  it('reads the same table from CRLF, with or without a final newline', () => {
    const lf = parseCsv(FILE, 'a,b\n1,2\n');
    expect(parseCsv(FILE, 'a,b\r\n1,2\r\n')).toEqual(lf);
    expect(parseCsv(FILE, 'a,b\n1,2')).toEqual(lf);
    expect(parseCsv(FILE, 'a,b\r\n1,2')).toEqual(lf);
  });

  it('drops a UTF-8 byte order mark and counts columns after it', () => {
    const table = parseCsv(FILE, '\uFEFFyear,value\n2017,5\n');
    expect(table.header[0]).toEqual({ value: 'year', line: 1, column: 1 });
  });

  it('skips blank lines, keeping the lines of the rows after them', () => {
    const table = parseCsv(FILE, '\na,b\n\n1,2\n   \n\t\n3,4\n\n');
    expect(values(table)).toEqual([['a', 'b'], ['1', '2'], ['3', '4']]);
    expect(table.header[0]?.line).toBe(2);
    expect(table.rows.map((row) => row.line)).toEqual([4, 7]);
  });

  it('keeps empty cells, including a last one', () => {
    expect(values(parseCsv(FILE, 'a,b,c\n1,,\n,,3\n'))).toEqual([['a', 'b', 'c'], ['1', '', ''], ['', '', '3']]);
  });

  it('reads quoted cells with commas and "" escapes, located at the opening quote', () => {
    const table = parseCsv(FILE, 'name,note\nacme,"says ""hello"", twice"\n');
    expect(table.rows[0]?.cells[1]).toEqual({ value: 'says "hello", twice', line: 2, column: 6 });
    expect(values(parseCsv(FILE, 'a,b\n"",""""\n'))).toEqual([['a', 'b'], ['', '"']]);
  });

  it('keeps a quoted cell\'s line breaks (as \\n) and locates the cells after it', () => {
    const text = 'name,note,value\na,"line one\nline two",1\nb,x,2\n';
    const table = parseCsv(FILE, text);
    expect(table.rows[0]).toEqual({
      line: 2,
      cells: [{ value: 'a', line: 2, column: 1 }, { value: 'line one\nline two', line: 2, column: 3 }, { value: '1', line: 3, column: 11 }],
    });
    expect(table.rows[1]).toEqual({ line: 4, cells: [{ value: 'b', line: 4, column: 1 }, { value: 'x', line: 4, column: 3 }, { value: '2', line: 4, column: 5 }] });
    // The same file saved with CRLF reads the same, line breaks in values included.
    expect(parseCsv(FILE, text.replaceAll('\n', '\r\n'))).toEqual(table);
  });

  it('keeps spaces around unquoted cells (types are checked later)', () => {
    expect(values(parseCsv(FILE, 'a,b\n 1 ,2\n'))).toEqual([['a', 'b'], [' 1 ', '2']]);
  });

  it('accepts a header with no rows', () => {
    expect(parseCsv(FILE, 'a,b\n').rows).toEqual([]);
  });
});

describe('parseCsv: problems', () => {
  it('locates an unterminated quote at its opening quote', () => {
    expect(issuesOf('a,b\n1,2\n3,"open\n4,5\n')).toEqual([{ file: FILE, line: 3, column: 3, path: 'row 2', message: messages.csvUnterminatedQuote }]);
  });

  it('locates text after a closing quote where the text starts', () => {
    expect(issuesOf('a,b\n"1"x,2\n')).toEqual([{ file: FILE, line: 2, column: 4, path: 'row 1', message: messages.csvTextAfterQuote }]);
    expect(issuesOf('"a" ,b\n1,2\n')).toEqual([{ file: FILE, line: 1, column: 4, path: '', message: messages.csvTextAfterQuote }]);
  });

  it('locates a row with a different number of cells at the row, saying both counts', () => {
    expect(issuesOf('a,b,c\n1,2,3\n4,5\n6,7,8,9\n')).toEqual([
      { file: FILE, line: 3, column: 1, path: 'row 2', message: messages.csvRowWidth(2, 3) },
      { file: FILE, line: 4, column: 1, path: 'row 3', message: messages.csvRowWidth(4, 3) },
    ]);
    expect(messages.csvRowWidth(2, 3)).toMatch(/2 cells, but the header names 3 columns/);
  });

  it('counts a row after a multi-line cell from the file\'s real lines', () => {
    expect(issuesOf('a,b\n"x\ny",1\n2\n')).toEqual([{ file: FILE, line: 4, column: 1, path: 'row 2', message: messages.csvRowWidth(1, 2) }]);
  });

  it('locates an empty header name at its cell', () => {
    expect(issuesOf('a,,c\n1,2,3\n')).toEqual([{ file: FILE, line: 1, column: 3, path: '', message: messages.csvEmptyHeader(2) }]);
    expect(issuesOf('a, \n1,2\n')).toEqual([{ file: FILE, line: 1, column: 3, path: '', message: messages.csvEmptyHeader(2) }]);
  });

  it('locates a duplicate header name at its second use', () => {
    expect(issuesOf('year,value,year\n1,2,3\n')).toEqual([{ file: FILE, line: 1, column: 12, path: '', message: messages.csvDuplicateHeader('year', 1, 3) }]);
  });

  it('refuses a file with no header', () => {
    for (const text of ['', '\n\n', '\uFEFF', '  \r\n'])
      expect(issuesOf(text)).toEqual([{ file: FILE, line: 1, column: 1, path: '', message: messages.csvNoHeader }]);
  });

  it(`refuses more than ${MAX_CSV_ROWS} rows, at the first row over`, () => {
    expect(parseCsv(FILE, 'a\n' + '1\n'.repeat(MAX_CSV_ROWS)).rows).toHaveLength(MAX_CSV_ROWS);
    expect(issuesOf('a\n' + '1\n'.repeat(MAX_CSV_ROWS + 5))).toEqual([
      { file: FILE, line: MAX_CSV_ROWS + 2, column: 1, path: `row ${MAX_CSV_ROWS + 1}`, message: messages.csvTooManyRows(MAX_CSV_ROWS) },
    ]);
  });

  it('lists every problem in the file, in file order, in one InputError', () => {
    const text = 'a,a,\n1,"2"x,3\n4,5\n6,"7\n';
    let error: unknown;
    try {
      parseCsv(FILE, text);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InputError);
    const { issues, message } = error as InputError;
    expect(issues.map((issue) => [issue.line, issue.column, issue.message])).toEqual([
      [1, 3, messages.csvDuplicateHeader('a', 1, 2)],
      [1, 5, messages.csvEmptyHeader(3)],
      [2, 6, messages.csvTextAfterQuote],
      [3, 1, messages.csvRowWidth(2, 3)],
      [4, 3, messages.csvUnterminatedQuote],
    ]);
    for (const issue of issues) expect(message).toContain(formatLocated(issue));
    expect(message).toContain(messages.invalidData(5, FILE));
  });
});
