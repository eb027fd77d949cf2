/**
 * Pure logic of the panel's lifecycle section: follow a background job (the
 * promoted project's smoke pipeline or tests) while its output grows, and turn
 * the server's stages, search space and registry into rows. No DOM, no
 * JupyterLab: the client and the wait between polls are passed in, so jest
 * drives it directly. Every fact shown comes from the server's replies.
 */
import { IJob, IJobRequest, IMlopsStage, IRegistry, JobKind } from './tokens';

/** The calls a job needs (PromoteClient has them). */
export interface IJobClient {
  startJob(request: IJobRequest): Promise<IJob>;
  jobStatus(job: string, since: number): Promise<IJob>;
}

export interface IJobOptions {
  /** Called after every reply with the job and all its output so far. */
  onUpdate?: (job: IJob, output: string) => void;
  /** Waits between polls; a test passes one that resolves at once. */
  wait?: () => Promise<void>;
}

export interface IJobOutcome {
  job: IJob;
  output: string;
}

const POLL_MS = 500;

function defaultWait(): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, POLL_MS));
}

/** The output so far plus a reply's new text (asked for `since` the last `next`). */
export function appendOutput(output: string, job: IJob): string {
  const gap =
    job.skipped > 0
      ? `\n[… ${job.skipped} characters of output not kept …]\n`
      : '';
  return output + gap + job.text;
}

/**
 * Start a job and poll it, asking only for output not seen yet, until it has
 * passed, failed or been cancelled (a cancel is a separate call: DELETE jobs).
 */
export async function runJob(
  client: IJobClient,
  request: IJobRequest,
  options: IJobOptions = {}
): Promise<IJobOutcome> {
  const wait = options.wait ?? defaultWait;
  let job = await client.startJob(request);
  let output = appendOutput('', job);
  options.onUpdate?.(job, output);
  while (job.state === 'running') {
    await wait();
    job = await client.jobStatus(job.job, job.next);
    output = appendOutput(output, job);
    options.onUpdate?.(job, output);
  }
  return { job, output };
}

export const JOB_LABELS: { [kind in JobKind]: string } = {
  smoke: 'Run pipeline (smoke)',
  tests: 'Run tests'
};

/** The one line above a job's output. */
export function jobSummary(job: IJob): string {
  const took = `${job.seconds.toFixed(1)} s`;
  switch (job.state) {
    case 'running':
      return `${job.command}: running… (${took})`;
    case 'passed':
      return `${job.command}: passed in ${took}.`;
    case 'cancelled':
      return `${job.command}: cancelled after ${took}.`;
    default:
      return `${job.command}: failed (exit ${job.exit_code ?? '?'}) after ${took}.`;
  }
}

export interface IStageParameter {
  name: string;
  /** The `# tune:` distribution when the tune stage searches this parameter. */
  distribution: string | null;
}

export interface IStageRow {
  name: string;
  help: string;
  params: IStageParameter[];
  reads: string[];
}

/** One row per stage, each config key it reads marked with its search-space distribution if it has one. */
export function stageRows(
  stages: readonly IMlopsStage[],
  searchSpace: { [parameter: string]: string }
): IStageRow[] {
  return stages.map(stage => ({
    name: stage.name,
    help: stage.help,
    reads: stage.reads,
    params: stage.params.map(name => ({
      name,
      distribution: searchSpace[name] ?? null
    }))
  }));
}

/** `name: distribution` for each searched parameter, in the server's order. */
export function searchSpaceLines(searchSpace: {
  [parameter: string]: string;
}): string[] {
  return Object.entries(searchSpace).map(([name, text]) => `${name}: ${text}`);
}

export interface IVersionRow {
  version: string;
  champion: boolean;
  metrics: string;
  reason: string;
}

function formatMetric(value: number): string {
  return Number.isInteger(value)
    ? String(value)
    : Number(value.toPrecision(4)).toString();
}

/** Registry rows, newest first as the server sends them. */
export function registryRows(registry: IRegistry): IVersionRow[] {
  return registry.versions.map(version => ({
    version: `v${version.version}`,
    champion: version.champion,
    metrics: Object.entries(version.metrics)
      .map(([name, value]) => `${name} ${formatMetric(value)}`)
      .join(', '),
    reason: version.reason
  }));
}

/** The registry's heading line. */
export function registrySummary(registry: IRegistry): string {
  if (!registry.available) {
    return `Registry (${registry.model}): ${registry.reason}.`;
  }
  const count = registry.versions.length;
  const champion = registry.champion
    ? `champion v${registry.champion}`
    : 'no champion';
  return `Registry (${registry.model}): ${count} version${count === 1 ? '' : 's'}, ${champion}.`;
}
