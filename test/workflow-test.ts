// The scheduled CI workflow: it must parse, fire on push, on a schedule and by hand, and ship the outputs.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

interface Step {
  run?: string;
  uses?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<string, { steps: Step[]; 'runs-on': string }>;
}

const workflow = parse(readFileSync('.github/workflows/report.yml', 'utf8')) as Workflow;
const runs = (job: string) => workflow.jobs[job]!.steps.map((step) => step.run ?? '').join('\n');

describe('.github/workflows/report.yml', () => {
  it('runs on push, on a weekly schedule and on manual dispatch', () => {
    expect(Object.keys(workflow.on).sort()).toEqual(['push', 'schedule', 'workflow_dispatch']);
    const [cron] = workflow.on.schedule as { cron: string }[];
    // minute hour day-of-month month day-of-week: a fixed weekday means weekly.
    expect(cron!.cron.split(' ')).toHaveLength(5);
    expect(cron!.cron.split(' ')[4]).toMatch(/^[0-6]$/);
  });

  it('installs, tests and builds on Node 20 with the npm cache, then uploads output/ named by the edition date', () => {
    const build = workflow.jobs.build!;
    const node = build.steps.find((step) => step.uses?.startsWith('actions/setup-node'));
    expect(node?.with).toMatchObject({ 'node-version': 20, cache: 'npm' });
    expect(runs('build')).toMatch(/npm ci[\s\S]*npm test[\s\S]*npm run report/);
    const upload = build.steps.find((step) => step.uses?.startsWith('actions/upload-artifact'));
    expect(upload?.with?.path).toBe('output/');
    expect(String(upload?.with?.name)).toContain('steps.edition.outputs.as_of');
  });

  it('runs the e2e suite in a job with Debian chromium', () => {
    expect(runs('e2e')).toMatch(/apt-get install[^\n]*chromium/);
    expect(runs('e2e')).toContain('npm run test:e2e');
  });
});
