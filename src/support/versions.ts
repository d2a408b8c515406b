/** The installed version of a dependency, for the adapters' version checks. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Reads the version from the package.json above the package's entry point
 * (pdfkit and fontkit do not export their package.json): the first one up
 * the tree that names the package.
 */
export function installedVersion(name: string): string {
  let dir = dirname(createRequire(import.meta.url).resolve(name));
  for (let depth = 0; depth < 6; depth++, dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === name && manifest.version) return manifest.version;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return 'unknown';
}

/** Whether BRIEFING_PUBLIC_APIS=1 asks every adapter for the public path (for measuring what the adapters buy, and for tests). */
export function publicApisOnly(): boolean {
  return process.env.BRIEFING_PUBLIC_APIS === '1';
}
