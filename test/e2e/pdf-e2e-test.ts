/**
 * The PDF edition checked by independent tools: qpdf's structural check,
 * poppler's pdffonts (every font embedded) and pdftoppm (every page renders
 * without a warning). Runs on the fixture briefing always and on the real
 * briefing once its templates exist, in A4 and US Letter.
 *
 * Needs Debian `qpdf` and `poppler-utils`. Set PDF_PNG_DIR=dir to also save
 * page 1 and the first chart page as pdf-page-1.png and pdf-chart-page.png
 * (from the real briefing when it exists): the README's docs/ images.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderPdf, type PdfOptions } from '../../src/pdf/render.ts';
import {
  buildFixtureBriefing,
  buildFixtureCharts,
  hasRealEdition,
  loadRealEdition,
  readFixtureFonts,
} from '../fixtures/pdf/fixture.ts';

const run = promisify(execFile);
const pngDir = process.env.PDF_PNG_DIR;
const creationDate = new Date('2026-11-29T00:00:00Z');

let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'pdf-e2e-'));
});

afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** Runs a tool, returning its output and exit code instead of throwing on a non-zero exit. */
async function tool(command: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(command, args, { maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

async function pageCount(file: string): Promise<number> {
  const { stdout } = await tool('pdfinfo', [file]);
  return Number(/^Pages:\s+(\d+)/m.exec(stdout)?.[1]);
}

/** The first page whose text has a figure caption ("Figure 1."). */
async function firstChartPage(file: string, pages: number): Promise<number> {
  for (let n = 1; n <= pages; n++) {
    const { stdout } = await tool('pdftotext', ['-f', String(n), '-l', String(n), '-layout', file, '-']);
    if (/Figure 1\.\s/.test(stdout)) return n;
  }
  throw new Error(`${file}: no page with a figure caption`);
}

const editions: { name: string; skip: boolean; load: () => Promise<Parameters<typeof renderPdf>> }[] = [
  {
    name: 'fixture',
    skip: false,
    load: async () => [buildFixtureBriefing(), buildFixtureCharts(), readFixtureFonts(), { paper: 'a4', creationDate }],
  },
  {
    name: 'real',
    skip: !hasRealEdition(),
    load: async () => {
      const { briefing, charts, fonts } = await loadRealEdition();
      return [briefing, charts, fonts, { paper: 'a4', creationDate }];
    },
  },
];

for (const edition of editions) {
  for (const paper of ['a4', 'letter'] as PdfOptions['paper'][]) {
    describe.skipIf(edition.skip)(`the ${edition.name} briefing, ${paper}`, () => {
      let file: string;
      let pages: number;

      beforeAll(async () => {
        const [briefing, charts, fonts, options] = await edition.load();
        file = join(workDir, `${edition.name}-${paper}.pdf`);
        await writeFile(file, await renderPdf(briefing, charts, fonts, { ...options, paper }));
        pages = await pageCount(file);
      });

      it('passes qpdf --check without errors or warnings', async () => {
        const result = await tool('qpdf', ['--check', file]);
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
        expect(result.stdout).toContain('No syntax or stream encoding errors found');
        expect(result.stdout).not.toMatch(/WARNING|error:/i);
      });

      it('embeds every font (pdffonts: emb yes), all Source Sans 3', async () => {
        const { code, stdout, stderr } = await tool('pdffonts', [file]);
        expect(code).toBe(0);
        expect(stderr).toBe('');
        const rows = stdout.split('\n').slice(2).filter((line) => line.trim());
        expect(rows.length).toBeGreaterThanOrEqual(2);
        for (const row of rows) {
          // name, type (may contain spaces), encoding, emb, sub, uni, object, id
          const columns = row.trim().split(/\s+/);
          const [emb, sub, uni] = columns.slice(-5, -2);
          expect({ row, emb, sub, uni }).toEqual({ row, emb: 'yes', sub: 'yes', uni: 'yes' });
          expect(columns[0]).toMatch(/^[A-Z]{6}\+SourceSans3-/);
        }
      });

      it('renders every page with pdftoppm without a warning', async () => {
        expect(pages).toBeGreaterThan(1);
        const prefix = join(workDir, `${edition.name}-${paper}-page`);
        const result = await tool('pdftoppm', ['-r', '50', '-png', file, prefix]);
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
        const rendered = (await readdir(workDir)).filter((name) => name.startsWith(`${edition.name}-${paper}-page`) && name.endsWith('.png'));
        expect(rendered).toHaveLength(pages);
      });

      it('renders page 1 and a chart page to PNG with visible content', async () => {
        const chartPage = await firstChartPage(file, pages);
        for (const [page, name] of [
          [1, 'pdf-page-1'],
          [chartPage, 'pdf-chart-page'],
        ] as const) {
          const out = join(workDir, `${edition.name}-${paper}-${name}`);
          const result = await tool('pdftoppm', ['-r', '110', '-png', '-singlefile', '-f', String(page), '-l', String(page), file, out]);
          expect(result.stderr).toBe('');
          const png = await readFile(`${out}.png`);
          expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
          // Not blank: imagemagick's mean brightness of a white page is 1.
          const { stdout } = await tool('convert', [`${out}.png`, '-colorspace', 'Gray', '-format', '%[fx:mean]', 'info:']);
          expect(Number(stdout)).toBeLessThan(0.99);
          const wanted = hasRealEdition() ? 'real' : 'fixture';
          if (pngDir && paper === 'a4' && edition.name === wanted) await copyFile(`${out}.png`, join(pngDir, `${name}.png`));
        }
      });
    });
  }
}
