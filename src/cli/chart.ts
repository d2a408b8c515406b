/**
 * The `chart` command: any Vega-Lite spec -> one SVG, or one PDF page sized
 * to the chart, with the briefing's theme and fonts. Data comes inline or
 * from files beside the spec; nothing outside the spec's folder is read.
 */
import { readFile, realpath } from 'node:fs/promises';
import { basename, dirname, extname, resolve, sep } from 'node:path';
import { Command, CommanderError } from 'commander';
import { renderChart, type ChartReadFile } from '../charts/render.ts';
import { CliError, EXIT } from '../support/error.ts';
import type { FontBytes } from '../text/fonts.ts';
import { loadFonts, nodeEffects } from '../build.ts';
import { messages } from '../support/messages.ts';
import { renderChartPdf, type ChartReadBytes } from '../charts/svg-pdf.ts';
import { writeAtomic } from '../write.ts';

interface ChartCliOptions {
  output: string;
  debug?: boolean;
}

function program(): Command {
  return new Command('chart')
    .description('Render one Vega-Lite spec to SVG or PDF with the briefing theme and fonts.')
    .argument('<spec>', 'Vega-Lite spec (.vl.json); data inline or in files beside it')
    .requiredOption('-o, --output <file>', 'output file: .svg, or .pdf for a page sized to the chart')
    .option('--debug', 'print stack traces for unexpected errors')
    .helpOption('-h, --help', 'show this help')
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: () => {} });
}

/**
 * Reads paths relative to the spec's folder, after resolving symlinks, so a
 * link inside the folder cannot lead a spec to a file outside it.
 */
function createFolderReader(folder: string): ChartReadBytes {
  return async (relativePath) => {
    const root = await realpath(folder);
    const target = await realpath(resolve(root, relativePath));
    if (!target.startsWith(root + sep)) throw new Error(messages.chartLoadRefused(relativePath, messages.chartLoadOutside));
    return readFile(target);
  };
}

async function readFonts(): Promise<FontBytes> {
  return (await loadFonts(nodeEffects)).sfnt;
}

/** SOURCE_DATE_EPOCH (seconds), the reproducible-builds convention, dates the PDF; otherwise the epoch. */
function pdfDate(): Date {
  const epoch = Number(process.env.SOURCE_DATE_EPOCH);
  return new Date(Number.isFinite(epoch) && process.env.SOURCE_DATE_EPOCH ? epoch * 1000 : 0);
}

async function run(specPath: string, output: string): Promise<void> {
  const format = extname(output).toLowerCase();
  if (format !== '.svg' && format !== '.pdf') throw new CliError(messages.usage(messages.chartOutputType(output)), EXIT.usage);
  let text: string;
  try {
    text = await readFile(specPath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(messages.chartSpecMissing(specPath));
    if (code === 'EISDIR') throw new CliError(messages.fileIsDirectory(specPath));
    throw error;
  }
  const id = basename(specPath).replace(/\.vl\.json$|\.json$/i, '');
  const fonts = await readFonts();
  const warnings: string[] = [];
  const readBytes = createFolderReader(dirname(specPath));
  const readText: ChartReadFile = async (path) => new TextDecoder().decode(await readBytes(path));
  const chart = await renderChart({ id, file: specPath, text }, {}, { fonts, readFile: readText, warnings });
  let bytes: Uint8Array;
  try {
    bytes = format === '.svg' ? new TextEncoder().encode(chart.svg) : await renderChartPdf(chart, fonts, { creationDate: pdfDate(), readFile: readBytes, warnings, file: specPath });
  } catch (error) {
    // drawSvg refuses images and markup it cannot draw faithfully; that is the spec's doing, not a bug.
    throw new CliError(`${specPath}: ${(error as Error).message}`);
  }
  for (const warning of warnings) process.stderr.write(`${warning}\n`);
  await writeAtomic(output, bytes);
  process.stderr.write(`${messages.chartWritten(output, chart.width, chart.height)}\n`);
}

/** Runs `chart SPEC -o OUT` with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const cmd = program();
  let spec: string;
  let options: ChartCliOptions;
  try {
    cmd.parse(argv, { from: 'user' });
    spec = cmd.args[0]!;
    options = cmd.opts<ChartCliOptions>();
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
    await run(spec, options.output);
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
