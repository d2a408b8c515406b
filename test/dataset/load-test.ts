import { describe, expect, it } from 'vitest';
import { CliError, InputError } from '../../src/support/error.ts';
import { locate, MAX_INPUT_BYTES, parseYaml } from '../../src/dataset/load.ts';
import { messages } from '../../src/support/messages.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

function thrown(fn: () => unknown): CliError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    return error as CliError;
  }
  throw new Error('expected an error');
}

describe('parseYaml', () => {
  it('keeps positions of values and of missing keys', () => {
    const source = parseYaml('x.yaml', bytes('a:\n  b: 1\n  c:\n    - 10\n    - 20\n'));
    expect(locate(source, ['a', 'b'])).toEqual({ line: 2, column: 6 });
    expect(locate(source, ['a', 'c', 1])).toEqual({ line: 5, column: 7 });
    expect(locate(source, ['a', 'b'], { key: true })).toEqual({ line: 2, column: 3 });
    // A key that is not there points at the mapping that should hold it.
    expect(locate(source, ['a', 'missing'])).toEqual({ line: 2, column: 3 });
  });

  it('locates syntax errors', () => {
    const error = thrown(() => parseYaml('bad.yaml', bytes('a: 1\nb: [1, 2\nc: 3\n'))) as InputError;
    expect(error).toBeInstanceOf(InputError);
    expect(error.issues[0]!.file).toBe('bad.yaml');
    expect(error.issues[0]!.line).toBeGreaterThanOrEqual(2);
    expect(error.message).toMatch(/^bad\.yaml:\d+:\d+ {2}YAML: /);
  });

  it('reports a duplicate id at the second key', () => {
    const error = thrown(() => parseYaml('d.yaml', bytes('deals:\n  vnet: 1\n  vnet: 2\n'))) as InputError;
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatchObject({ line: 3, column: 3 });
    expect(error.issues[0]!.message).toBe(messages.yamlSyntax('DUPLICATE_KEY', ''));
  });

  it('refuses aliases, which could expand a small file into a huge one', () => {
    const error = thrown(() => parseYaml('a.yaml', bytes('a: &x [1, 2]\nb: *x\n'))) as InputError;
    expect(error.issues[0]).toMatchObject({ line: 2, column: 4, message: messages.yamlAnchor });
  });

  it('gives one clear message for empty, binary, non-UTF-8 and oversized files', () => {
    expect(thrown(() => parseYaml('e.yaml', bytes(''))).message).toBe(messages.fileEmpty('e.yaml'));
    expect(thrown(() => parseYaml('e.yaml', bytes('  \n# only a comment\n'))).message).toBe(messages.fileEmpty('e.yaml'));
    expect(thrown(() => parseYaml('b.bin', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]))).message).toBe(messages.fileBinary('b.bin'));
    expect(thrown(() => parseYaml('l.yaml', new Uint8Array([0x61, 0x3a, 0x20, 0xff, 0xfe]))).message).toBe(messages.fileBinary('l.yaml'));
    const big = new Uint8Array(MAX_INPUT_BYTES + 1).fill(0x20);
    expect(thrown(() => parseYaml('big.yaml', big)).message).toBe(messages.fileTooLarge('big.yaml', MAX_INPUT_BYTES + 1, MAX_INPUT_BYTES));
  });

  it('requires a mapping at the top level', () => {
    const error = thrown(() => parseYaml('l.yaml', bytes('- 1\n- 2\n'))) as InputError;
    expect(error.issues[0]).toMatchObject({ line: 1, column: 1, message: messages.notAMapping });
  });
});
