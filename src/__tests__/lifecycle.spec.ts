import {
  appendOutput,
  IJobClient,
  jobSummary,
  registryRows,
  registrySummary,
  runJob,
  searchSpaceLines,
  stageRows
} from '../lifecycle';
import { IJob, IJobRequest, IRegistry } from '../tokens';

function job(partial: Partial<IJob>): IJob {
  return {
    ok: true,
    job: 'j1',
    kind: 'tests',
    output: 'demo_project',
    command: 'python -m pytest -q',
    state: 'running',
    exit_code: null,
    seconds: 1.25,
    text: '',
    offset: 0,
    next: 0,
    skipped: 0,
    ...partial
  };
}

/** A server that answers a fixed sequence of job replies, recording the `since` of every poll. */
class ScriptedJobs implements IJobClient {
  started: IJobRequest[] = [];
  polled: Array<[string, number]> = [];
  constructor(private readonly answers: IJob[]) {}

  async startJob(request: IJobRequest): Promise<IJob> {
    this.started.push(request);
    return this.answers.shift()!;
  }

  async jobStatus(id: string, since: number): Promise<IJob> {
    this.polled.push([id, since]);
    return this.answers.shift()!;
  }
}

describe('runJob', () => {
  it('polls with since = the last next and joins the output until the job ends', async () => {
    const server = new ScriptedJobs([
      job({ text: 'collecting', next: 10 }),
      job({ text: ' ...', offset: 10, next: 14 }),
      job({
        state: 'passed',
        exit_code: 0,
        text: '\n9 passed in 23.3s\n',
        offset: 14,
        next: 33
      })
    ]);
    const seen: string[] = [];
    const outcome = await runJob(
      server,
      { output: 'demo_project', kind: 'tests' },
      { wait: async () => undefined, onUpdate: (_, text) => seen.push(text) }
    );
    expect(server.started).toEqual([{ output: 'demo_project', kind: 'tests' }]);
    expect(server.polled).toEqual([
      ['j1', 10],
      ['j1', 14]
    ]);
    expect(outcome.output).toBe('collecting ...\n9 passed in 23.3s\n');
    expect(outcome.job.state).toBe('passed');
    expect(seen).toEqual([
      'collecting',
      'collecting ...',
      'collecting ...\n9 passed in 23.3s\n'
    ]);
  });

  it('stops at a cancelled job', async () => {
    const server = new ScriptedJobs([
      job({ kind: 'smoke' }),
      job({ kind: 'smoke', state: 'cancelled', exit_code: -15 })
    ]);
    const outcome = await runJob(
      server,
      { output: 'p', kind: 'smoke' },
      { wait: async () => undefined }
    );
    expect(outcome.job.state).toBe('cancelled');
    expect(server.polled).toHaveLength(1);
  });
});

describe('appendOutput', () => {
  it('says how much output the server no longer kept', () => {
    expect(appendOutput('abc', job({ text: 'xyz', skipped: 5 }))).toBe(
      'abc\n[… 5 characters of output not kept …]\nxyz'
    );
  });
});

describe('jobSummary', () => {
  it('names the command, the outcome and the time', () => {
    expect(jobSummary(job({}))).toBe('python -m pytest -q: running… (1.3 s)');
    expect(jobSummary(job({ state: 'passed', exit_code: 0 }))).toBe(
      'python -m pytest -q: passed in 1.3 s.'
    );
    expect(jobSummary(job({ state: 'failed', exit_code: 1 }))).toBe(
      'python -m pytest -q: failed (exit 1) after 1.3 s.'
    );
    expect(jobSummary(job({ state: 'cancelled', exit_code: -15 }))).toBe(
      'python -m pytest -q: cancelled after 1.3 s.'
    );
  });
});

describe('stageRows', () => {
  it("marks each config key with the server's search-space distribution", () => {
    const rows = stageRows(
      [
        {
          name: 'data',
          help: 'data step',
          params: ['n_samples', 'seed'],
          reads: []
        },
        {
          name: 'train',
          help: 'train step',
          params: ['epochs', 'lr'],
          reads: ['data']
        }
      ],
      { lr: 'loguniform(0.001, 0.1)', hidden: 'choice(16, 32, 64)' }
    );
    expect(rows[1]).toEqual({
      name: 'train',
      help: 'train step',
      reads: ['data'],
      params: [
        { name: 'epochs', distribution: null },
        { name: 'lr', distribution: 'loguniform(0.001, 0.1)' }
      ]
    });
    expect(rows[0].params.every(p => p.distribution === null)).toBe(true);
    expect(searchSpaceLines({ lr: 'loguniform(0.001, 0.1)' })).toEqual([
      'lr: loguniform(0.001, 0.1)'
    ]);
  });
});

describe('registry', () => {
  const registry: IRegistry = {
    ok: true,
    output: 'demo_project',
    model: 'demo',
    available: true,
    reason: '',
    champion: '1',
    versions: [
      {
        version: '2',
        run_id: 'r2',
        created: 2,
        champion: false,
        reason: "test_acc 0.8 does not beat champion v1's 0.818 (max)",
        metrics: { correct: 400, test_acc: 0.80000001 }
      },
      {
        version: '1',
        run_id: 'r1',
        created: 1,
        champion: true,
        reason: 'no champion yet',
        metrics: { test_acc: 0.818 }
      }
    ]
  };

  it('lists versions with their metrics and the champion', () => {
    expect(registryRows(registry)).toEqual([
      {
        version: 'v2',
        champion: false,
        metrics: 'correct 400, test_acc 0.8',
        reason: "test_acc 0.8 does not beat champion v1's 0.818 (max)"
      },
      {
        version: 'v1',
        champion: true,
        metrics: 'test_acc 0.818',
        reason: 'no champion yet'
      }
    ]);
    expect(registrySummary(registry)).toBe(
      'Registry (demo): 2 versions, champion v1.'
    );
  });

  it("gives the server's reason when there is no registry", () => {
    expect(
      registrySummary({
        ...registry,
        available: false,
        champion: null,
        versions: [],
        reason: 'no mlflow.db yet: run the pipeline (its register stage)'
      })
    ).toBe(
      'Registry (demo): no mlflow.db yet: run the pipeline (its register stage).'
    );
  });
});
