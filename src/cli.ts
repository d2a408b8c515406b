/** The `report` command: parses flags, runs the orchestrator, maps errors to exit codes. */
import { readFile } from 'node:fs/promises';
import { Command, CommanderError, Option } from 'commander';
import { loadDataset, type BuildEffects } from './build.ts';
import { CliError, EXIT } from './error.ts';
import { messages } from './messages.ts';

const DEFAULT_DATA = 'data/catl-ai-stack.yaml';

interface CliOptions {
  data: string;
  check?: boolean;
  debug?: boolean;
}

function program(): Command {
  return new Command('report')
    .description('Validate the dataset and build the briefing (PDF, HTML, SVG charts) into output/.')
    .addOption(new Option('--data <file>', 'dataset to build from').default(DEFAULT_DATA))
    .option('--check', 'validate and derive only; write nothing')
    .option('--debug', 'print stack traces for unexpected errors')
    .helpOption('-h, --help', 'show this help')
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: () => {} });
}

const nodeEffects: BuildEffects = {
  readFile: (path) => readFile(path),
  log: (line) => process.stderr.write(`${line}\n`),
};

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], effects: BuildEffects = nodeEffects): Promise<number> {
  const cmd = program();
  let options: CliOptions;
  try {
    cmd.parse(argv, { from: 'user' });
    options = cmd.opts<CliOptions>();
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
      process.stderr.write(`${messages.usage(error.message.replace(/^error: /, ''))}\n${cmd.helpInformation()}`);
      return EXIT.usage;
    }
    throw error;
  }
  const debug = options.debug || argv.includes('--debug');
  try {
    const result = await loadDataset(options.data, effects);
    effects.log(result.summary);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CliError) {
      process.stderr.write(`${error.message}\n`);
      if (debug && error.stack) process.stderr.write(`${error.stack}\n`);
      return error.exitCode;
    }
    const detail = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${messages.unexpected(detail)}\n`);
    if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return EXIT.failure;
  }
}
