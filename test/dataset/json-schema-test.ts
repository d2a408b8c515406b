/** The committed JSON Schema is the one the zod schema gives, and it checks the shipped datasets. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { datasetJsonSchema, JSON_SCHEMA_FILE } from '../../src/dataset/json-schema.ts';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'editions' ? [] : yamlFiles(path);
    return path.endsWith('.yaml') ? [path] : [];
  });
}

const validator = () => new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(JSON_SCHEMA_FILE, 'utf8')));

describe('schema/dataset.schema.json', () => {
  it('is what the zod schema generates (run npm run schema after changing src/dataset/schema.ts)', () => {
    expect(readFileSync(JSON_SCHEMA_FILE, 'utf8')).toBe(datasetJsonSchema());
  });

  it('accepts every shipped dataset, and each points its editor at it', () => {
    const files = yamlFiles('data');
    expect(files.length).toBeGreaterThanOrEqual(1);
    const validate = validator();
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      expect(validate(parse(text)), `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
      expect(text.split('\n')[0]).toMatch(/^# yaml-language-server: \$schema=(?:\.\.\/)+schema\/dataset\.schema\.json$/);
    }
  });

  it('rejects a misspelt key', () => {
    const data = parse(readFileSync('data/catl-ai-stack.yaml', 'utf8')) as { edition: Record<string, unknown> };
    data.edition.titel = data.edition.title;
    delete data.edition.title;
    const validate = validator();
    expect(validate(data)).toBe(false);
    expect(validate.errors?.map((error) => error.params)).toEqual(expect.arrayContaining([{ additionalProperty: 'titel' }, { missingProperty: 'title' }]));
  });
});
