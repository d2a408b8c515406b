/**
 * The JSON Schema of the dataset format, generated from the zod schema, so
 * editors (the YAML language server) complete and check a dataset as it is
 * typed. Kept in the repo as schema/dataset.schema.json; `npm run schema`
 * writes it and a test keeps the two equal. It checks the core: a
 * collection's records are checked against their declared fields by the
 * build, which JSON Schema cannot express.
 */
import { z } from 'zod';
import { coreSchema } from './schema.ts';

/** Where the committed copy lives, relative to the project. */
export const JSON_SCHEMA_FILE = 'schema/dataset.schema.json';

/** The JSON Schema as the text written to schema/dataset.schema.json. */
export function datasetJsonSchema(): string {
  const schema = z.toJSONSchema(coreSchema, { io: 'input', unrepresentable: 'any', target: 'draft-7' }) as Record<string, unknown>;
  const described = {
    ...schema,
    $id: 'https://briefing-pipeline.invalid/schema/dataset.schema.json',
    title: 'Report dataset',
    description: 'A report dataset: edition, units, sources, entities, metrics, collections, derived figures, checks and views (docs/report-format.md).',
  };
  return `${JSON.stringify(described, null, 2)}\n`;
}
