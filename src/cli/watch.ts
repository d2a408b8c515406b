/**
 * --watch and --serve: rebuild when inputs change, on one build thread that
 * keeps its caches warm (so unchanged charts are not re-rendered) and is
 * replaced now and then to hand its memory back (build-worker.ts), and
 * optionally serve the output folder on 127.0.0.1 with live reload.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import { basename, dirname, extname, join, normalize, resolve, sep } from 'node:path';
import type { BuildEffects } from '../build.ts';
import { buildOnce, reportError, workerTaskFile, type CliOptions, type Progress } from './build-once.ts';
import { createBuildWorker } from './build-worker.ts';
import { messages } from '../support/messages.ts';

// Long enough to merge the truncate-then-write of one save, short enough not to be felt.
const DEBOUNCE_MS = 25;
const DEFAULT_PORT = 4173;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.pdf': 'application/pdf',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

/** The reload client the server answers at /__reload.js: reload on each rebuild. */
export const RELOAD_CLIENT = "new EventSource('/__reload').addEventListener('reload', () => location.reload());\n";

/**
 * The page as served (never the built file): the built CSP, plus
 * `script-src 'self'` and `connect-src 'self'` for the reload client, which
 * comes as an external script; no inline script can run, in serve mode either.
 */
export function injectLiveReload(html: string): string {
  return html
    .replace(/<meta http-equiv="Content-Security-Policy" content="([^"]*)">/i, (_m, policy: string) => `<meta http-equiv="Content-Security-Policy" content="${policy}; script-src 'self'; connect-src 'self'">`)
    .replace(/<\/body>/i, '<script src="/__reload.js"></script></body>');
}

/** Watches and rebuilds until interrupted; returns the exit code. */
export async function watchBuild(options: CliOptions, effects: BuildEffects, progress: Progress): Promise<number> {
  const clients = new Set<ServerResponse>();
  // Under vitest (no compiled bundle) the builds run in this thread.
  const taskFile = workerTaskFile();
  const runner = taskFile ? createBuildWorker(taskFile) : undefined;
  let first = true;
  const rebuild = async () => {
    try {
      await buildOnce(options, effects, progress, true, runner);
      for (const client of clients) client.write('event: reload\ndata: 1\n\n');
      if (!first) progress.done(messages.watchRebuilt());
    } catch (error) {
      reportError(error, Boolean(options.debug), false);
      progress.done(messages.watchKeptPrevious());
    }
  };
  await rebuild();
  first = false;

  const targets = [...new Set(['data', 'templates', options.config, ...(options.data ? [options.data] : [])])];
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void queue(), DEBOUNCE_MS);
  };
  let running: Promise<void> | undefined;
  let again = false;
  const queue = async () => {
    if (running) {
      again = true;
      return;
    }
    running = rebuild();
    await running;
    running = undefined;
    if (again) {
      again = false;
      await queue();
    }
  };
  const watchers = await watchTargets(targets, schedule);
  const server = options.serve !== undefined ? await startServer(options.serve === true ? DEFAULT_PORT : options.serve, resolve(options.out), clients) : undefined;
  if (server) progress.done(messages.serving(`http://127.0.0.1:${server.port}/`));

  progress.done(messages.watching(targets));
  await new Promise<void>((stop) => {
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  clearTimeout(timer);
  for (const watcher of watchers) watcher.close();
  for (const client of clients) client.end();
  server?.server.close();
  await running;
  await runner?.close();
  return 0;
}

/** Watches each target; files through their folder, since editors and `sed -i` replace a file with a new one, which a watcher on the old file would never see. */
async function watchTargets(targets: string[], schedule: () => void): Promise<FSWatcher[]> {
  const watchers: FSWatcher[] = [];
  for (const target of targets) {
    const isDir = await stat(target).then((s) => s.isDirectory(), () => false);
    try {
      if (isDir) watchers.push(watch(target, { recursive: true }, schedule));
      else watchers.push(watch(dirname(target), (_event, name) => name === basename(target) && schedule()));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return watchers;
}

/** Serves the output folder on 127.0.0.1, with the live-reload event stream at /__reload. */
async function startServer(port: number, root: string, clients: Set<ServerResponse>): Promise<{ server: ReturnType<typeof createServer>; port: number }> {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/__reload.js') {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' }).end(RELOAD_CLIENT);
      return;
    }
    if (url.pathname === '/__reload') {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      response.write(': connected\n\n');
      clients.add(response);
      request.on('close', () => clients.delete(response));
      return;
    }
    const path = normalize(join(root, decodeURIComponent(url.pathname === '/' ? '/index' : url.pathname)));
    if (path !== root && !path.startsWith(root + sep)) {
      response.writeHead(403).end();
      return;
    }
    void serveFile(path, root, response);
  });
  await new Promise<void>((ready, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', ready);
  });
  return { server, port };
}

async function serveFile(path: string, root: string, response: ServerResponse): Promise<void> {
  try {
    let file = path;
    if (file === join(root, 'index')) {
      // The index is the first HTML edition in the folder.
      const manifest = JSON.parse(await readFile(join(root, 'manifest.json'), 'utf8')) as { files: { path: string }[] };
      const html = manifest.files.find((f) => f.path.endsWith('.html'));
      file = join(root, html?.path ?? 'manifest.json');
    }
    const type = TYPES[extname(file)] ?? 'application/octet-stream';
    const bytes = await readFile(file);
    response.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
    response.end(extname(file) === '.html' ? injectLiveReload(bytes.toString('utf8')) : bytes);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EISDIR') throw error;
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  }
}
