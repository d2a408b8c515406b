import { formatLocated, messages, type Located } from './messages.ts';

/** Exit codes, as documented in the README. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** An error the CLI prints as its message alone (no stack unless --debug), then exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** One or more located problems in an input file: all of them, not only the first. */
export class InputError extends CliError {
  constructor(
    readonly file: string,
    readonly issues: Located[],
  ) {
    super([...issues.map(formatLocated), messages.invalidData(issues.length, file)].join('\n'), EXIT.failure);
    this.name = 'InputError';
  }
}
