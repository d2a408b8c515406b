/** The `schema` command: writes schema/dataset.schema.json from the zod schema (npm run schema). */
import { writeFileSync } from 'node:fs';
import { datasetJsonSchema, JSON_SCHEMA_FILE } from '../dataset/json-schema.ts';
import { EXIT } from '../support/error.ts';
import { messages } from '../support/messages.ts';

/** Writes the JSON Schema file; no arguments. */
export function main(): number {
  writeFileSync(JSON_SCHEMA_FILE, datasetJsonSchema());
  process.stderr.write(`${messages.schemaWritten(JSON_SCHEMA_FILE)}\n`);
  return EXIT.ok;
}
