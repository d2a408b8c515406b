// Drives `report` as users and CI do: outputs, flags, exit codes, atomicity. The first build, one
// failure, one usage error, --version and --watch/--serve run as child processes (their subject is
// the process); the other cases call the same `main` in this process.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { RELOAD_CLIENT } from '../../src/cli/watch.ts';
import { CONTENT_SECURITY_POLICY } from '../../src/html/render.ts';
import { main } from '../../src/cli/report.ts';
import { inProcess } from '../fixtures/in-process.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const RUN = join(ROOT, 'bin/run.js');
const REPORT_IDS = (parseYaml(readFileSync(join(ROOT, 'reports.yaml'), 'utf8')) as { reports: { id: string }[] }).reports.map((r) => r.id);

/** `report ARGS` in this process: the CLI's own `main`, its output captured. */
const inProc = (args: string[], env: Record<string, string> = {}) => inProcess((argv) => main(argv), args, { NO_COLOR: '1', ...env });

function report(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [RUN, 'report', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The body of GET `path` from the local server. */
function get(port: number, path: string): Promise<string> {
  return new Promise<string>((done, fail) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => done(body));
    })
      .on('error', fail)
      .end();
  });
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Every file in a folder with its hash, for before/after comparisons. */
function snapshot(dir: string): Record<string, string> {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  return Object.fromEntries(files.map((e) => [join(e.parentPath, e.name).slice(dir.length + 1), sha(join(e.parentPath, e.name))]).sort());
}

let work: string;
let out: string;

afterAll(() => rmSync(work, { recursive: true, force: true }));
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'briefing-build-'));
  out = join(work, 'out');
  const first = report(['--out', out, '--quiet']);
  expect(first.stderr).toBe('');
  expect(first.code).toBe(0);
});

describe('report (full build)', () => {
  it('writes both editions, the charts and a manifest whose hashes match', () => {
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    const paths = manifest.files.map((f: { path: string }) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['catl-ai-stack-briefing.pdf', 'catl-ai-stack-briefing.html', 'catl-ai-stack-briefing-letter.pdf']));
    expect(paths.filter((p: string) => p.startsWith('charts/') && p.endsWith('.svg')).length).toBeGreaterThanOrEqual(5);
    for (const f of manifest.files) {
      expect(sha(join(out, f.path)), f.path).toBe(f.sha256);
      expect(readFileSync(join(out, f.path)).byteLength).toBe(f.bytes);
    }
    expect(manifest.reports.map((r: { id: string }) => r.id)).toEqual([...REPORT_IDS].sort());
    expect(manifest.reports[0].dataset_sha256).toBe(sha(join(ROOT, 'data/catl-ai-stack.yaml')));
    expect(manifest.libraries.pdfkit).toMatch(/^\d+\.\d+\.\d+$/);
    expect(typeof manifest.duration_ms).toBe('number');
  });

  it('is reproducible: a second build (in this process) gives the editions of the first (a child process) byte for byte', async () => {
    const again = join(work, 'again');
    expect((await inProc(['--out', again, '--quiet', '--jobs', '1'])).code).toBe(0);
    const a = snapshot(out);
    const b = snapshot(again);
    delete a['manifest.json'];
    delete b['manifest.json'];
    expect(b).toEqual(a);
  });

  it('--check validates and writes nothing', async () => {
    const dir = join(work, 'check');
    const result = await inProc(['--check', '--out', dir]);
    expect(result.code).toBe(0);
    expect(existsSync(dir)).toBe(false);
  });

  it('--json prints a summary that lists the outputs', async () => {
    const dir = join(work, 'json');
    const result = await inProc(['--out', dir, '--json', '--only', 'catl-ai-stack-briefing', '--format', 'pdf']);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.ok).toBe(true);
    expect(summary.reports.map((r: { id: string }) => r.id)).toEqual(['catl-ai-stack-briefing']);
    // One PDF per paper the report lists: the first under the report's id.
    expect(summary.reports[0].files.map((f: { path: string }) => f.path).sort()).toEqual(['catl-ai-stack-briefing-letter.pdf', 'catl-ai-stack-briefing.pdf']);
  });

  it('--shard 1/2 and 2/2 together build every report exactly once', async () => {
    const ids: string[] = [];
    for (const i of [1, 2]) {
      const result = await inProc(['--out', join(work, `shard${i}`), '--json', '--shard', `${i}/2`]);
      expect(result.code).toBe(0);
      ids.push(...(JSON.parse(result.stdout).reports.map((r: { id: string }) => r.id) as string[]));
    }
    expect([...ids].sort()).toEqual([...REPORT_IDS].sort());
  });

  it('--format, --paper and --only shape what is written', async () => {
    const dir = join(work, 'letter');
    const result = await inProc(['--out', dir, '--only', 'catl-ai-stack-briefing', '--format', 'pdf', '--paper', 'letter', '--quiet']);
    expect(result.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['catl-ai-stack-briefing.pdf', 'manifest.json']);
    // US Letter is 612 x 792 points.
    expect(readFileSync(join(dir, 'catl-ai-stack-briefing.pdf'), 'latin1')).toMatch(/\/MediaBox \[0 0 612 792\]/);
  });

  it('a failure in the PDF stage leaves the previous output byte-identical', () => {
    const before = snapshot(out);
    const result = report(['--out', out], { BRIEFING_FAIL_STAGE: 'pdf' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('injected failure in stage pdf');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(snapshot(out)).toEqual(before);
  });

  it('prints a stack trace only with --debug', async () => {
    const result = await inProc(['--out', join(work, 'dbg'), '--debug', '--jobs', '1'], { BRIEFING_FAIL_STAGE: 'content' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/\n\s+at /);
  });

  it('reports usage errors with exit 2', async () => {
    // The exit code of the process, once; the other mistakes through the same main.
    const spawned = report(['--paper', 'a5']);
    expect(spawned.code).toBe(2);
    expect(spawned.stderr).toContain('--help');
    for (const args of [['--format', 'docx'], ['--jobs', '0'], ['--shard', '3/2'], ['--only', 'nope'], ['stray']]) {
      const result = await inProc(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toContain('--help');
    }
  });

  it('--version and --help exit 0', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(report(['--version']).stdout.trim()).toBe(pkg.version);
    const help = await inProc(['--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--data', '--out', '--format', '--paper', '--check', '--watch', '--serve', '--only', '--jobs', '--shard', '--quiet', '--json', '--debug', '--version']) {
      expect(help.stdout).toContain(flag);
    }
  });

  it('prints each stage with its time on stderr, and nothing with --quiet', async () => {
    const loud = await inProc(['--out', join(work, 'loud'), '--only', 'catl-ai-stack-briefing']);
    expect(loud.stderr).toMatch(/catl-ai-stack-briefing: validate \d+ms · charts \d+ms · content \d+ms · pdf \d+ms · html \d+ms/);
    expect((await inProc(['--out', join(work, 'quiet'), '--quiet', '--only', 'catl-ai-stack-briefing'])).stderr).toBe('');
  });
});

/** Starts a long-running `report` and collects its stderr. */
function start(args: string[]) {
  const child = spawn(process.execPath, [RUN, 'report', ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const waitFor = async (pattern: RegExp, from = 0, timeoutMs = 60_000) => {
    const started = Date.now();
    while (!pattern.test(stderr.slice(from))) {
      if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${pattern}; stderr:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return stderr.length;
  };
  return { child, waitFor, get stderr() { return stderr; } };
}

describe('report --watch and --serve', () => {
  let data: string;
  let dir: string;
  const children: ReturnType<typeof start>['child'][] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'briefing-watch-'));
    data = join(dir, 'data.yaml');
    cpSync(join(ROOT, 'data/catl-ai-stack.yaml'), data);
  });
  afterAll(() => {
    children.forEach((c) => c.kill('SIGTERM'));
    rmSync(dir, { recursive: true, force: true });
  });

  it('rebuilds after an edit, reusing every chart when no chart changed', async () => {
    const run = start(['--watch', '--data', data, '--out', join(dir, 'out'), '--only', 'catl-ai-stack-briefing']);
    children.push(run.child);
    const mark = await run.waitFor(/watching/);
    // A chart figure changes: that chart is rendered again. The value is new to
    // this run, since the on-disk chart cache remembers values from earlier runs.
    const value = 600 + (process.pid % 5000);
    writeFileSync(data, readFileSync(data, 'utf8').replace('value: 541', `value: ${value}`));
    const end = await run.waitFor(/rebuilt/, mark);
    expect(run.stderr.slice(mark, end)).toMatch(/[1-9]\d* charts? rendered/);
    const rebuiltHtml = readFileSync(join(dir, 'out', 'catl-ai-stack-briefing.html'), 'utf8');
    expect(rebuiltHtml).toContain(new Intl.NumberFormat('en-US').format(value));
    // Only prose-level data changes: every chart comes from the cache.
    const before = run.stderr.length;
    writeFileSync(data, readFileSync(data, 'utf8').replace('author: Briefing pipeline analysts', 'author: Briefing pipeline analysts team'));
    await run.waitFor(/rebuilt/, before);
    expect(run.stderr.slice(before), run.stderr).toMatch(/\(0 charts rendered, \d+ from cache\)/);
  });

  it('--serve answers on 127.0.0.1 and fires live reload after a rebuild', async () => {
    const port = 40000 + (process.pid % 20000);
    const run = start(['--serve', String(port), '--data', data, '--out', join(dir, 'served'), '--only', 'catl-ai-stack-briefing']);
    children.push(run.child);
    await run.waitFor(/serving/);
    const page = await get(port, '/catl-ai-stack-briefing.html');
    expect(page).toContain('<script src="/__reload.js"></script>');
    // The built CSP, with only the reload client's own origin added: no inline script runs in serve mode either.
    const csp = (/http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(page)?.[1] ?? '').replace(/&#x27;/g, "'");
    expect(csp).toBe(`${CONTENT_SECURITY_POLICY}; script-src 'self'; connect-src 'self'`);
    expect(csp).not.toContain("script-src 'unsafe-inline'");
    const client = await get(port, '/__reload.js');
    expect(client).toBe(RELOAD_CLIENT);
    // The built file itself never carries the live-reload script.
    expect(readFileSync(join(dir, 'served', 'catl-ai-stack-briefing.html'), 'utf8')).not.toContain('/__reload');
    const reloaded = new Promise<string>((done, fail) => {
      request({ host: '127.0.0.1', port, path: '/__reload' }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
          if (body.includes('event: reload')) {
            done(body);
            res.destroy();
          }
        });
      }).on('error', fail).end();
    });
    await new Promise((r) => setTimeout(r, 200));
    writeFileSync(data, readFileSync(data, 'utf8').replace('language: en', 'language: en '));
    await expect(reloaded).resolves.toContain('event: reload');
  });
});
