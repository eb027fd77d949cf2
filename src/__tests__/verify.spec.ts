import { IMetricComparison, IVerifyJob, IVerifyRequest } from '../tokens';
import {
  IVerifyClient,
  metricRows,
  runVerify,
  summarizeVerify
} from '../verify';

const REQUEST: IVerifyRequest = {
  path: 'nb.ipynb',
  output: 'nb_project',
  name: 'nb',
  set: { epochs: 2 },
  seeds: 2
};

function metric(partial: Partial<IMetricComparison>): IMetricComparison {
  return {
    name: 'acc',
    notebook: 0.75,
    package: 0.75,
    relative_difference: 0,
    tolerance: 7.5e-7,
    spread: null,
    verdict: 'ok',
    ...partial
  };
}

/** A server that answers a fixed sequence of job states, recording what it was asked. */
class ScriptedServer implements IVerifyClient {
  started: IVerifyRequest[] = [];
  polled: string[] = [];
  constructor(private readonly answers: IVerifyJob[]) {}

  async startVerify(request: IVerifyRequest): Promise<IVerifyJob> {
    this.started.push(request);
    return this.answers.shift()!;
  }

  async verifyStatus(job: string): Promise<IVerifyJob> {
    this.polled.push(job);
    return this.answers.shift()!;
  }
}

function job(partial: Partial<IVerifyJob>): IVerifyJob {
  return {
    ok: true,
    job: 'j1',
    state: 'running',
    progress: [],
    result: null,
    ...partial
  };
}

describe('runVerify', () => {
  it('polls the job until it is done, reporting each new progress message once', async () => {
    const result = {
      ok: true,
      message: 'the package reproduces the notebook',
      metrics: [metric({})],
      differing: []
    };
    const server = new ScriptedServer([
      job({}),
      job({ progress: ['notebook: cell 1/3'] }),
      job({ progress: ['notebook: cell 1/3'] }),
      job({ progress: ['running the package'] }),
      job({ state: 'done', progress: ['recording fidelity.json'], result })
    ]);
    const messages: string[] = [];
    let waits = 0;
    const answer = await runVerify(server, REQUEST, {
      onProgress: message => messages.push(message),
      wait: async () => {
        waits++;
      }
    });
    expect(answer).toEqual(result);
    expect(server.started).toEqual([REQUEST]);
    expect(server.polled).toEqual(['j1', 'j1', 'j1', 'j1']);
    expect(waits).toBe(4);
    expect(messages).toEqual([
      'notebook: cell 1/3',
      'running the package',
      'recording fidelity.json'
    ]);
  });

  it('resolves with the error reply of a failed job', async () => {
    const error = {
      ok: false,
      error: 'VerifyError',
      message: 'nb.ipynb failed when run top to bottom, in cell 4 (id c4)',
      metrics: [],
      differing: []
    };
    const server = new ScriptedServer([
      job({ state: 'failed', result: error })
    ]);
    const answer = await runVerify(server, REQUEST, { wait: async () => {} });
    expect(server.polled).toEqual([]);
    expect(summarizeVerify(answer)).toBe(`Not verified: ${error.message}`);
  });
});

describe('metricRows', () => {
  it('formats values, relative difference and verdict for the table', () => {
    const rows = metricRows([
      metric({}),
      metric({
        name: 'loss',
        notebook: 0.123456789,
        package: 0.2,
        relative_difference: 0.62,
        verdict: 'differs'
      }),
      metric({
        name: 'extra',
        notebook: null,
        package: 'nan',
        relative_difference: null,
        verdict: 'only in package'
      })
    ]);
    expect(rows).toEqual([
      {
        name: 'acc',
        notebook: '0.75',
        package: '0.75',
        difference: '0.0e+0',
        verdict: 'ok',
        ok: true
      },
      {
        name: 'loss',
        notebook: '0.123457',
        package: '0.2',
        difference: '6.2e-1',
        verdict: 'differs',
        ok: false
      },
      {
        name: 'extra',
        notebook: '–',
        package: 'nan',
        difference: '–',
        verdict: 'only in package',
        ok: false
      }
    ]);
  });
});

describe('summarizeVerify', () => {
  it('says which way it went, with both run times', () => {
    const text = summarizeVerify({
      ok: false,
      message: 'the package differs from the notebook in acc (rtol 1e-06)',
      metrics: [metric({ verdict: 'differs' })],
      differing: ['acc'],
      notebook_seconds: 12.34,
      package_seconds: 9.5
    });
    expect(text).toBe(
      'Differs: the package differs from the notebook in acc (rtol 1e-06) (notebook 12.3 s, package 9.5 s).'
    );
  });
});
