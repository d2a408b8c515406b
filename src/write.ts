/**
 * Write stage: OutputFile[] -> the output folder, all or nothing.
 *
 * The new set is written in full to a staging folder beside the output folder
 * (same filesystem), each file to a temp name then renamed; then the output
 * folder is swapped for the staging folder with two renames. A build that
 * fails or is killed before the swap leaves the previous set untouched; the
 * one window (between the two renames) is repaired by the next run, which
 * finds the previous folder and restores it. A lock file keeps two builds
 * from swapping at once.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { access, link, mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CliError } from './support/error.ts';
import { messages } from './support/messages.ts';

export interface OutputFile {
  /** Path inside the output folder, with forward slashes. */
  path: string;
  bytes: Uint8Array;
  /** The report that produced it. */
  report: string;
}

/** sha256 hex digest. */
export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const siblings = (out: string) => {
  const parent = dirname(out);
  const name = basename(out);
  return {
    staging: (tag: string) => join(parent, `.${name}.staging-${tag}`),
    previous: (tag: string) => join(parent, `.${name}.previous-${tag}`),
    lock: join(parent, `.${name}.lock`),
    prefix: `.${name}.`,
    parent,
  };
};

/** How many output files are written and flushed at once (Node's thread pool has four threads). */
const WRITES_AT_ONCE = 8;

/** Writes bytes to a temp file beside `path`, flushes it, then renames it into place. */
export async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const temp = `${path}.tmp-${process.pid}`;
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
}

function isCode(error: unknown, ...codes: string[]): boolean {
  return codes.includes((error as NodeJS.ErrnoException | undefined)?.code ?? '');
}

/** Turns filesystem failures a user can fix into clear messages; rethrows the rest. */
function explain(error: unknown, out: string): never {
  if (isCode(error, 'EACCES', 'EPERM', 'EROFS')) throw new CliError(messages.outputNotWritable(out, (error as NodeJS.ErrnoException).code!));
  if (isCode(error, 'ENOSPC', 'EDQUOT', 'EFBIG')) throw new CliError(messages.outputDiskFull(out));
  if (isCode(error, 'ENOTDIR', 'EEXIST')) throw new CliError(messages.outputNotAFolder(out));
  throw error;
}

/**
 * Restores an output folder left missing by a build killed between its two
 * renames, and removes staging folders of builds that no longer run.
 */
export async function recoverOutput(out: string): Promise<void> {
  const s = siblings(out);
  let names: string[];
  try {
    names = await readdir(s.parent);
  } catch (error) {
    if (isCode(error, 'ENOENT')) return;
    if (isCode(error, 'ENOTDIR')) throw new CliError(messages.outputNotAFolder(out));
    throw error;
  }
  const outExists = await stat(out).then(() => true, () => false);
  for (const name of names.filter((n) => n.startsWith(s.prefix))) {
    const pid = Number(/-(\d+)$/.exec(name)?.[1]);
    if (pid && pid !== process.pid && isAlive(pid)) continue;
    const path = join(s.parent, name);
    if (name.startsWith(`${s.prefix}previous-`) && !outExists) await rename(path, out);
    else if (!name.endsWith('.lock')) await rm(path, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isCode(error, 'EPERM');
  }
}

/** Takes the output folder's lock, waiting for another live build to finish. */
async function acquireLock(out: string, timeoutMs = 120_000): Promise<() => Promise<void>> {
  const { lock } = siblings(out);
  const started = Date.now();
  for (;;) {
    try {
      const handle = await open(lock, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => unlink(lock).catch(() => {});
    } catch (error) {
      if (!isCode(error, 'EEXIST')) explain(error, out);
      const holder = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
      // A lock whose holder is gone (killed build) is stale.
      if (!holder || !isAlive(holder)) {
        await unlink(lock).catch(() => {});
        continue;
      }
      if (Date.now() - started > timeoutMs) throw new CliError(messages.outputLocked(out, holder));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/**
 * Replaces the output folder with `files`, keeping from the current folder
 * whatever `keep` accepts (other reports' files, files the user put there).
 */
export async function commitOutputs(out: string, files: OutputFile[], keep: (path: string) => boolean): Promise<void> {
  const s = siblings(out);
  const tag = String(process.pid);
  const staging = s.staging(tag);
  try {
    await mkdir(s.parent, { recursive: true });
    // access() reports a read-only filesystem even to root, whom permissions do not stop.
    await access(s.parent, constants.W_OK);
    await recoverOutput(out);
    await rm(staging, { recursive: true, force: true });
    // Not recursive: Node's recursive mkdir reports ENOENT, not EROFS, on a read-only mount.
    await mkdir(staging);
    for (const folder of new Set(files.map((file) => dirname(join(staging, file.path))))) await mkdir(folder, { recursive: true });
    // Several at a time: each waits on its own flush to disk, and Node runs
    // those on its thread pool (a batch writes two files per report, and
    // --watch waits for these before it says "rebuilt").
    const queue = [...files];
    const writeNext = async (): Promise<void> => {
      for (let file = queue.shift(); file; file = queue.shift()) await writeAtomic(join(staging, file.path), file.bytes);
    };
    // All settle before a failure is reported, so none is still writing when the staging folder is removed.
    const settled = await Promise.allSettled(Array.from({ length: Math.min(WRITES_AT_ONCE, files.length) }, writeNext));
    const failed = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (error) {
    await rm(staging, { recursive: true, force: true }).catch(() => {});
    explain(error, out);
  }

  let release: (() => Promise<void>) | undefined;
  try {
    release = await acquireLock(out);
    // Carry over what this build does not replace, as hard links (no copying; same filesystem).
    const written = new Set(files.map((f) => f.path));
    for (const path of await listFiles(out)) {
      if (written.has(path) || !keep(path)) continue;
      await mkdir(dirname(join(staging, path)), { recursive: true });
      await link(join(out, path), join(staging, path)).catch(async (error: unknown) => {
        if (!isCode(error, 'EXDEV', 'EPERM')) throw error;
        await writeFile(join(staging, path), await readFile(join(out, path)));
      });
    }
    const previous = s.previous(tag);
    const hadOutput = await stat(out).then(() => true, () => false);
    if (hadOutput) await rename(out, previous);
    await rename(staging, out);
    if (hadOutput) await rm(previous, { recursive: true, force: true });
  } catch (error) {
    await rm(staging, { recursive: true, force: true }).catch(() => {});
    explain(error, out);
  } finally {
    await release?.();
  }
}

/** Every file under `dir`, as forward-slash paths relative to it; none if it does not exist. */
export async function listFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch (error) {
    if (isCode(error, 'ENOENT')) return [];
    if (isCode(error, 'ENOTDIR')) throw new CliError(messages.outputNotAFolder(dir));
    throw error;
  }
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1).split('\\').join('/'))
    .sort();
}
