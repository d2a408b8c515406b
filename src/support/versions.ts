/** The installed version of a dependency, for the adapters' version checks. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { messages } from './messages.ts';

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

/**
 * Whether BRIEFING_PUBLIC_APIS asks this library's adapter for the public
 * path: `1` for every adapter, or a comma-separated list of libraries
 * (`pdfkit,vega`), for measuring what each adapter buys and for tests.
 */
export function publicApisOnly(library?: string): boolean {
  const asked = process.env.BRIEFING_PUBLIC_APIS ?? '';
  return asked === '1' || (library !== undefined && asked.split(',').map((name) => name.trim()).includes(library));
}

/** An adapter's decision, made once per process: use a library's internals only for the version the adapter was written for. */
export interface VersionGate {
  /** True for the expected version with BRIEFING_PUBLIC_APIS unset; warns once (on stderr) for another version. */
  allows(): boolean;
  /** For tests: decide again (after BRIEFING_PUBLIC_APIS changed). */
  reset(): void;
}

/** The gate for `library` at `expected`, `installed` read on first use. */
export function versionGate(library: string, expected: string, installed: () => string): VersionGate {
  let allowed: boolean | undefined;
  return {
    allows() {
      if (allowed === undefined) {
        const version = installed();
        allowed = version === expected && !publicApisOnly(library);
        if (version !== expected) process.stderr.write(`${messages.adapterFallback(library, version, expected)}\n`);
      }
      return allowed;
    },
    reset() {
      allowed = undefined;
    },
  };
}
