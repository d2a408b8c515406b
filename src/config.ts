/**
 * The report config (reports.yaml): what users write (`ReportsSpec`) is
 * validated like the dataset and normalised into `Report`s with every
 * option filled, which is all later stages see.
 */
import { z } from 'zod';
import { locate, type YamlSource } from './dataset/load.ts';
import type { Located } from './support/messages.ts';
import { validateWith, type Problem } from './support/validate.ts';

export const FORMATS = ['pdf', 'html', 'svg'] as const;
export type Format = (typeof FORMATS)[number];
export type Paper = 'a4' | 'letter';
export const RASTER_IMAGES = ['refuse', 'allow'] as const;

const relativePath = z
  .string({ message: 'must be a path relative to the project, e.g. data/my-report.yaml' })
  .min(1, { message: 'must not be empty' })
  .refine((value) => !value.startsWith('/') && !value.split(/[\\/]/).includes('..'), {
    message: 'must stay inside the project: no absolute paths and no ".." segments',
  });

const PAPERS: readonly Paper[] = ['a4', 'letter'];
const paperSpec = z.enum(PAPERS as [Paper, ...Paper[]], { message: 'must be a4 or letter' });

/** `a4` or `[a4, letter]` as a list without repeats; a bad item is located at its own position in the list. */
function paperList(value: string | unknown[], ctx: z.RefinementCtx): Paper[] {
  const list = typeof value === 'string' ? [value] : value;
  if (list.length === 0) ctx.addIssue({ code: 'custom', message: 'must list at least one paper' });
  list.forEach((item, i) => {
    if (!PAPERS.includes(item as Paper)) ctx.addIssue({ code: 'custom', message: 'must be a4 or letter', path: [i] });
  });
  return [...new Set(list as Paper[])];
}

const reportSpec = z.strictObject({
  id: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, { message: 'must be a lowercase id of letters, digits and "-" (it names the output files)' }),
  title: z.string().min(1).optional(),
  dataset: relativePath,
  templates: relativePath,
  charts: relativePath.optional(),
  editions: relativePath.optional(),
  /** Where the HTML edition is published: the PDF's first page gives this address. */
  html_url: z.string().regex(/^https?:\/\/\S+$/i, { message: 'must be an http(s) address, e.g. https://example.com/briefing.html' }).optional(),
  /** One paper, or a list: one PDF per paper, the first as <id>.pdf, the others as <id>-<paper>.pdf. */
  paper: z
    .union([paperSpec, z.array(z.unknown())], { message: 'must be a4 or letter, or a list of them such as [a4, letter]' })
    .default('a4')
    .transform(paperList),
  /**
   * Whether the editions may show raster images: refuse (the default, so the
   * PDF's charts stay vectors) fails the build at any image mark; allow draws
   * PNG and JPEG files from the charts folder in the PDF, the HTML and the chart SVGs.
   */
  raster_images: z.enum(RASTER_IMAGES, { message: `must be ${RASTER_IMAGES.join(' or ')}` }).default('refuse'),
  formats: z
    .array(z.enum(FORMATS, { message: `must be one of ${FORMATS.join(', ')}` }))
    .min(1, { message: 'must list at least one format' })
    .default([...FORMATS]),
});

export const reportsSpec = z.strictObject({
  reports: z.array(reportSpec).min(1, { message: 'must list at least one report' }),
});

export type ReportsSpec = z.input<typeof reportsSpec>;
export type Report = Required<Omit<z.infer<typeof reportSpec>, 'title' | 'editions' | 'charts' | 'html_url'>> & {
  title: string;
  /** Where the HTML edition is published, if the config says. */
  html_url?: string;
  editions: string;
  /** The charts folder; none when the report has no charts. */
  charts?: string;
  /** Where reports.yaml names the templates folder, for a located error when it is missing. */
  templatesAt?: Located;
  /** Folder (inside the output) for this report's chart SVGs. */
  chartsOut: string;
};

/** The file name of a report's PDF on `paper`: the first paper's is <id>.pdf, another's <id>-<paper>.pdf. */
export function pdfFileName(report: Pick<Report, 'id' | 'paper'>, paper: Paper): string {
  return paper === report.paper[0] ? `${report.id}.pdf` : `${report.id}-${paper}.pdf`;
}

function checkUniqueIds(raw: unknown): Problem[] {
  const reports = (raw as { reports?: unknown } | undefined)?.reports;
  if (!Array.isArray(reports)) return [];
  const seen = new Map<string, number>();
  const problems: Problem[] = [];
  reports.forEach((report, i) => {
    const id = (report as { id?: unknown } | null)?.id;
    if (typeof id !== 'string') return;
    if (seen.has(id)) problems.push({ path: ['reports', i, 'id'], message: `duplicate report id "${id}" (also report ${seen.get(id)! + 1}); ids name output files, so each must be unique` });
    else seen.set(id, i);
  });
  return problems;
}

/** Validates reports.yaml and fills defaults. */
export function normalizeReports(source: YamlSource): Report[] {
  const spec = validateWith(source, reportsSpec, checkUniqueIds);
  // One report with SVG charts writes them to charts/; several would overwrite
  // each other there, so each then gets charts/<report id>/.
  const svgReports = spec.reports.filter((report) => report.formats.includes('svg')).length;
  return spec.reports.map((report, i) => ({
    ...report,
    templatesAt: { file: source.file, ...locate(source, ['reports', i, 'templates']), path: `reports.${i}.templates`, message: '' },
    title: report.title ?? report.id,
    editions: report.editions ?? `${report.dataset.replace(/\/[^/]*$/, '')}/editions`,
    chartsOut: svgReports > 1 ? `charts/${report.id}` : 'charts',
  }));
}

/** The i-th (1-based) of n disjoint, deterministic slices of the report list. */
export function shardReports(reports: Report[], index: number, count: number): Report[] {
  return reports.filter((_, i) => i % count === index - 1);
}
