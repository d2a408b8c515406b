import { describe, expect, it } from 'vitest';
import { encodedFields, fieldRoot, findUnknownField, type FieldSources } from '../../src/charts/fields.ts';

const rows = [{ a: { b: 1 }, 'c.d': 2, t: '2024-01-15', g: 'x' }];
const inputFields = Object.keys(rows[0]!);
const files: Record<string, string> = {
  'wide.csv': 'k,"quoted, name",v\n1,2,3\n"broken\n',
  'geo.json': JSON.stringify({ features: [{ properties: { name: 'n' }, id: 1 }] }),
};
const sources: FieldSources = {
  named: (name) => (name === 'bound' ? rows : undefined),
  read: async (url) => files[url] ?? Promise.reject(new Error(`no ${url}`)),
};
/** The first unknown field of `spec` when the rendered view's data shows nothing: only the input and the transforms count. */
const unknown = (spec: object) => findUnknownField(encodedFields(spec), new Set(), sources);
const point = (encoding: object, extra: object = {}) => ({ data: { values: rows }, mark: 'point', encoding, ...extra });

describe('fieldRoot', () => {
  it.each([
    ['a.b', 'a'],
    ['a\\.b', 'a.b'],
    ['a[0]', 'a'],
    ['plain', 'plain'],
  ])('%s reads %s', (field, root) => expect(fieldRoot(field)).toBe(root));
});

describe('findUnknownField', () => {
  it.each([
    ['aggregate as', { aggregate: [{ op: 'sum', field: 'c\\.d', as: 's' }], groupby: ['g'] }, ['s', 'g']],
    ['joinaggregate and window as', [{ joinaggregate: [{ op: 'max', field: 'c\\.d', as: 'top' }] }, { window: [{ op: 'rank', as: 'r' }] }], ['top', 'r']],
    ['bin as and its _end', { bin: true, field: 'c\\.d', as: 'bucket' }, ['bucket', 'bucket_end']],
    ['bin as a pair', { bin: true, field: 'c\\.d', as: ['lo', 'hi'] }, ['lo', 'hi']],
    ['fold by default', { fold: ['g'] }, ['key', 'value']],
    ['fold as', { fold: ['g'], as: ['k', 'v'] }, ['k', 'v']],
    ['timeUnit as', { timeUnit: 'month', field: 't', as: 'month_t' }, ['month_t']],
    ['calculate as', { calculate: '1', as: 'one' }, ['one']],
    ['lookup from.fields', { lookup: 'g', from: { data: { values: [] }, key: 'g', fields: ['w'] } }, ['w']],
    ['lookup as', { lookup: 'g', from: { data: { values: [] }, key: 'g' }, as: 'rec' }, ['rec.w']],
    ['flatten', { flatten: ['a'] }, ['a']],
    ['density by default', { density: 'c\\.d' }, ['value', 'density']],
    ['quantile by default', { quantile: 'c\\.d' }, ['prob', 'value']],
    ['regression with params', { regression: 'c\\.d', on: 'g', params: true }, ['coef', 'rSquared']],
    ['stack as', { stack: 'c\\.d', groupby: ['g'], as: 'st' }, ['st', 'st_end']],
    ['stack by default', { stack: 'n', groupby: ['g'] }, ['n_start', 'n_end']],
  ])('knows what %s makes', async (_, transform, made) => {
    const encoding = Object.fromEntries(made.map((field, i) => [['x', 'y', 'color'][i], { field }]));
    expect(await unknown(point(encoding, { transform: [transform].flat() }))).toBeUndefined();
  });

  it('reads the input before transforms: nested and escaped paths, and a misspelt field named with where it is', async () => {
    expect(await unknown(point({ x: { field: 'a.b' }, y: { field: 'c\\.d' }, color: { field: 't', timeUnit: 'month' } }))).toBeUndefined();
    expect(await unknown(point({ x: { field: 'c.d' } }))).toEqual({ field: 'c.d', where: 'encoding.x', known: [...inputFields].sort() });
    const aggregated = point({ x: { field: 'sum' } }, { transform: [{ aggregate: [{ op: 'sum', field: 'c\\.d', as: 'total' }], groupby: ['g'] }] });
    expect(await unknown(aggregated)).toEqual({ field: 'sum', where: 'encoding.x', known: [...inputFields, 'total'].sort() });
  });

  it('scopes each view to its own data and transforms, and its parents', async () => {
    const spec = {
      data: { values: rows },
      transform: [{ calculate: '1', as: 'one' }],
      hconcat: [
        { layer: [{ mark: 'point', encoding: { x: { field: 'one' } } }, { data: { values: [{ z: 1 }] }, mark: 'rule', encoding: { y: { field: 'z' } } }] },
        { repeat: ['g', 't'], spec: { mark: 'bar', encoding: { x: { field: { repeat: 'repeat' } }, y: { field: 'z' } } } },
      ],
    };
    expect(await unknown(spec)).toEqual({ field: 'z', where: 'hconcat[1].spec.encoding.y', known: [...inputFields, 'one'].sort() });
  });

  it("takes a layer parent's shared encoding as read in any of its layers", async () => {
    const layers = [{ mark: 'point' }, { data: { values: [{ z: 1 }] }, mark: 'rule' }];
    expect(await unknown({ data: { values: rows }, encoding: { x: { field: 'z' } }, layer: layers })).toBeUndefined();
    expect(await unknown({ data: { values: rows }, encoding: { x: { field: 'nope' } }, layer: layers })).toEqual({ field: 'nope', where: 'encoding.x', known: [...inputFields, 'z'].sort() });
  });

  it('reads named data, a CSV header (only its first records) and a JSON property', async () => {
    expect(await unknown({ data: { name: 'bound' }, mark: 'point', encoding: { x: { field: 'nope' } } })).toMatchObject({ known: [...inputFields].sort() });
    expect(await unknown({ data: { url: 'wide.csv' }, mark: 'point', encoding: { x: { field: 'nope' } } })).toMatchObject({ known: ['k', 'quoted, name', 'v'] });
    const geo = { data: { url: 'geo.json', format: { property: 'features' } }, mark: 'point', encoding: { x: { field: 'properties.name' }, y: { field: 'nope' } } };
    expect(await unknown(geo)).toEqual({ field: 'nope', where: 'encoding.y', known: ['id', 'properties'] });
  });

  it('claims nothing where the fields cannot be known: a pivot, empty or generated data, an unbound name', async () => {
    const cases = [
      point({ x: { field: 'x' } }, { transform: [{ pivot: 'g', value: 'c\\.d' }] }),
      { data: { values: [] }, mark: 'point', encoding: { x: { field: 'nope' } } },
      { data: { graticule: true }, mark: 'geoshape', encoding: { color: { field: 'nope' } } },
      { data: { name: 'unbound' }, mark: 'point', encoding: { x: { field: 'nope' } } },
      { data: { url: 'x.arrow', format: { type: 'arrow' } }, mark: 'point', encoding: { x: { field: 'nope' } } },
      { data: { url: 'missing.json' }, mark: 'point', encoding: { x: { field: 'nope' } } },
    ];
    for (const spec of cases) expect(await unknown(spec)).toBeUndefined();
  });

  it('needs no input for a field the rendered data already shows', async () => {
    const failing: FieldSources = { named: () => undefined, read: () => Promise.reject(new Error('must not read')) };
    const spec = { data: { url: 'anything.csv' }, mark: 'point', encoding: { x: { field: 'sum_people' } } };
    expect(await findUnknownField(encodedFields(spec), new Set(['sum_people']), failing)).toBeUndefined();
  });
});
