/**
 * Pure logic of the panel's Verify action: follow a background verify job to
 * its end, and turn its result into table rows. No DOM, no JupyterLab: the
 * client and the wait between polls are passed in, so jest drives it directly.
 */
import {
  IMetricComparison,
  IVerifyJob,
  IVerifyRequest,
  IVerifyResult
} from './tokens';

/** The two calls the job needs (PromoteClient has them). */
export interface IVerifyClient {
  startVerify(request: IVerifyRequest): Promise<IVerifyJob>;
  verifyStatus(job: string): Promise<IVerifyJob>;
}

export interface IVerifyOptions {
  /** Called with each new progress message ("notebook: cell 3/12"). */
  onProgress?: (message: string) => void;
  /** Waits between polls; a test passes one that resolves at once. */
  wait?: () => Promise<void>;
}

const POLL_MS = 1000;

function defaultWait(): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, POLL_MS));
}

/**
 * Start a verify job and poll it until it is done or failed. Resolves with
 * the result either way: a failed job's result is the core's error reply
 * (`ok: false`, `error`, `message`).
 */
export async function runVerify(
  client: IVerifyClient,
  request: IVerifyRequest,
  options: IVerifyOptions = {}
): Promise<IVerifyResult> {
  const wait = options.wait ?? defaultWait;
  let job = await client.startVerify(request);
  let last = '';
  for (;;) {
    const message = job.progress[job.progress.length - 1];
    if (message && message !== last) {
      last = message;
      options.onProgress?.(message);
    }
    if (job.state !== 'running') {
      return (
        job.result ?? {
          ok: false,
          message: 'The verify job ended without a result.',
          metrics: [],
          differing: []
        }
      );
    }
    await wait();
    job = await client.verifyStatus(job.job);
  }
}

function formatNumber(value: number | string | null): string {
  if (value === null) {
    return '–';
  }
  return typeof value === 'number'
    ? Number(value.toPrecision(6)).toString()
    : value;
}

export interface IMetricRow {
  name: string;
  notebook: string;
  package: string;
  difference: string;
  verdict: string;
  ok: boolean;
}

/** Table rows: each metric, both values, relative difference, verdict. */
export function metricRows(
  metrics: readonly IMetricComparison[]
): IMetricRow[] {
  return metrics.map(metric => {
    const rel = metric.relative_difference;
    return {
      name: metric.name,
      notebook: formatNumber(metric.notebook),
      package: formatNumber(metric.package),
      difference:
        typeof rel === 'number' ? rel.toExponential(1) : formatNumber(rel),
      verdict: metric.verdict,
      ok: metric.verdict === 'ok'
    };
  });
}

/** The one line shown under the buttons. */
export function summarizeVerify(result: IVerifyResult): string {
  if (result.error) {
    return `Not verified: ${result.message}`;
  }
  const times =
    result.notebook_seconds !== undefined &&
    result.package_seconds !== undefined
      ? ` (notebook ${result.notebook_seconds.toFixed(1)} s, package ${result.package_seconds.toFixed(1)} s)`
      : '';
  return `${result.ok ? 'Verified' : 'Differs'}: ${result.message}${times}.`;
}
