/**
 * The `report` command: parses flags, selects reports, runs them on a worker
 * pool, commits the outputs, and maps errors to exit codes
 * (0 ok, 1 build or validation failure, 2 usage error).
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { checkReport, loadReports, nodeEffects, type BuildEffects } from '../build.ts';
import { FORMATS, type Format } from '../config.ts';
import { buildOnce, createProgress, reportError, selectReports, type CliOptions } from './build-once.ts';
import { CliError, EXIT } from '../support/error.ts';
import pkg from '../../package.json' with { type: 'json' };
import { messages } from '../support/messages.ts';
import type { RenderedChart } from '../charts/render.ts';

function parsePositiveInt(name: string) {
  return (value: string) => {
    if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError(`${name} must be a whole number of 1 or more`);
    return Number(value);
  };
}

function program(): Command {
  return new Command('report')
    .description('Validate the data and build every report in reports.yaml (PDF, HTML, SVG charts) into output/.')
    .addOption(new Option('--config <file>', 'report config listing the reports').default('reports.yaml'))
    .option('--data <file>', 'build from this dataset instead of each selected report\'s own (with --only when reports differ in shape)')
    .addOption(new Option('--out <dir>', 'output folder').default('output'))
    .option('--format <list>', `formats to write, comma-separated (${FORMATS.join(',')})`, (value: string) => {
      const list = value.split(',').map((f) => f.trim());
      const bad = list.filter((f) => !(FORMATS as readonly string[]).includes(f));
      if (bad.length || list.length === 0) throw new InvalidArgumentError(`unknown format "${bad.join(',')}" (use ${FORMATS.join(', ')})`);
      return list as Format[];
    })
    .addOption(new Option('--paper <size>', 'one PDF on this paper, in place of each report\'s own paper list').choices(['a4', 'letter']))
    .option('--check', 'check the data, derived figures, checks, chart specs and templates; write nothing')
    .option('--watch', 'rebuild when data/, templates/ or the config change')
    .addOption(new Option('--serve [port]', 'serve the output on 127.0.0.1 with live reload (implies --watch)').argParser(parsePositiveInt('--serve port')))
    .option('--only <id...>', 'build only the reports with these ids')
    .option('--jobs <n>', 'reports built at once (default: the number of cores)', parsePositiveInt('--jobs'))
    .option('--shard <i/n>', 'build the i-th of n disjoint slices of the report list', (value: string) => {
      const m = /^(\d+)\/(\d+)$/.exec(value);
      const index = Number(m?.[1]);
      const count = Number(m?.[2]);
      if (!m || count < 1 || index < 1 || index > count) throw new InvalidArgumentError('--shard must be i/n with 1 <= i <= n, e.g. 1/4');
      return { index, count };
    })
    .option('--quiet', 'print nothing but errors')
    .option('--json', 'print a machine-readable summary on stdout')
    .option('--debug', 'print stack traces for unexpected errors')
    .version(pkg.version, '--version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 build or validation failure, 2 usage error.\nExamples:\n  npm run report\n  npm run report -- --check\n  npm run report -- --only REPORT-ID --format pdf --paper letter\n  npm run report -- --serve 4173',
    )
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: () => {} });
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], effects: BuildEffects = nodeEffects): Promise<number> {
  const cmd = program();
  let options: CliOptions;
  try {
    cmd.parse(argv, { from: 'user' });
    options = cmd.opts<CliOptions>();
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT.ok;
      process.stderr.write(`${messages.usage(error.message.replace(/^error: /, ''))}\n${cmd.helpInformation()}`);
      return EXIT.usage;
    }
    throw error;
  }
  const debug = Boolean(options.debug);
  try {
    if (options.check) {
      const reports = selectReports(await loadReports(options.config, effects), options).map((report) => ({ ...report, dataset: options.data ?? report.dataset }));
      // Editions that differ only in paper or formats read the same inputs: each set is checked once.
      const distinct = [...new Map(reports.map((report) => [JSON.stringify([report.dataset, report.templates, report.charts]), report])).values()];
      // In memory only: --check writes nothing, not even the chart cache.
      const cache = new Map<string, RenderedChart>();
      const summaries: string[] = [];
      for (const report of distinct) summaries.push(await checkReport(report, effects, cache));
      if (!options.quiet) for (const line of summaries) effects.log(line);
      if (options.json) process.stdout.write(`${JSON.stringify({ ok: true, check: summaries })}\n`);
      return EXIT.ok;
    }
    const progress = createProgress(options, effects);
    if (options.watch || options.serve !== undefined) {
      const { watchBuild } = await import('./watch.ts');
      return await watchBuild(options, effects, progress);
    }
    const summary = await buildOnce(options, effects, progress);
    if (options.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return EXIT.ok;
  } catch (error) {
    return reportError(error, debug, Boolean(options.json));
  }
}
