/**
 * Shared vocabulary of the extension: the roles a cell can play, the JSON
 * shapes the server answers with (defined by jupyterlab_promote/api.schema.json;
 * src/__tests__/schema.spec.ts checks these types against it), command ids and
 * setting names. Types only and constants: no JupyterLab imports, so that the
 * pure logic in model.ts stays testable without a DOM.
 */

/** The roles a cell can play, in pipeline order (mirrors analysis/roles.py). */
export const ROLES = [
  'parameters',
  'imports',
  'functions',
  'data',
  'preprocess',
  'model',
  'train',
  'evaluate',
  'export',
  'skip'
] as const;

export type Role = (typeof ROLES)[number];

/** A cell's role as the server reports it: a built-in role or a custom step. */
export type CellRole = Role | 'step';

export type Severity = 'error' | 'warning' | 'info';

export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'info'];

/** A one-click fix the server proposes. */
export interface ISuggestion {
  action: string;
  cell_index?: number;
  cell_id?: string;
  role?: string;
}

export interface IRelatedCell {
  index: number;
  id: string;
}

export interface IDiagnostic {
  severity: Severity;
  code: string;
  name: string;
  message: string;
  notebook: string;
  cell_index: number | null;
  cell_id: string | null;
  line: number | null;
  suggestion: ISuggestion | null;
  related_cells: IRelatedCell[];
}

export interface ICellPlan {
  index: number;
  id: string;
  cell_type: 'code' | 'markdown' | 'raw';
  role: CellRole | null;
  role_source: 'tag' | 'directive' | 'kale' | null;
  tags: string[];
  suggested_role: Role | null;
  step: string | null;
  first_line: string;
  defines: string[];
  uses: string[];
  mutates: string[];
}

export interface IStep {
  name: string;
  role: CellRole;
  /** Indexes of the cells tagged for the step. */
  cells: number[];
  /** Names the step reads from earlier steps. */
  inputs: string[];
  /** Names the step hands to later steps. */
  outputs: string[];
  /** Parameters (Config fields) the step reads. */
  parameters: string[];
  /** Untagged cells whose code the step needs (PRM003), by index. */
  pulled: number[];
}

/** A parameter of the notebook: a Config field and a CLI flag of the package. */
export interface IParameter {
  name: string;
  /** The literal as written in the notebook. */
  value: string;
  type: string;
  flag: string;
}

/**
 * Answer of `POST analyze`. Names are the server's: the package, the default
 * output (the output pattern expanded) and each cell's role come from here,
 * never from the panel's own reading of the tags.
 */
export interface IPlan {
  ok: boolean;
  notebook: string;
  package: string;
  output: string;
  content_hash: string;
  cells: ICellPlan[];
  steps: IStep[];
  parameters: IParameter[];
  dependencies: string[];
  diagnostics: IDiagnostic[];
}

export type FileStatus = 'added' | 'modified' | 'unchanged' | 'deleted';

export interface IFileChange {
  path: string;
  status: FileStatus;
  diff: string;
}

/** Answer of `POST preview`: what promote would write, nothing written. */
export interface IPreview {
  ok: boolean;
  output: string;
  package: string;
  files: IFileChange[];
  /** Generated files whose working copy differs from the pristine promote branch (hand edits merges keep). */
  hand_edits: string[];
  diagnostics: IDiagnostic[];
  /** The generated project's MLOps stages, in order. */
  stages: IMlopsStage[];
  /** The `# tune:` search space: parameter → its distribution as written. */
  search_space: { [parameter: string]: string };
}

/** One stage of the generated project (`python -m PKG NAME`). */
export interface IMlopsStage {
  name: string;
  help: string;
  /** config.yaml keys the stage reads (DVC re-runs it when one changes). */
  params: string[];
  /** Earlier stages whose outputs it reads. */
  reads: string[];
}

/** Answer of `POST promote`. */
export interface IPromoteResult {
  ok: boolean;
  output: string;
  package: string;
  branch: string | null;
  commit: string | null;
  merged: boolean;
  /** Paths (relative to output) whose generated content changed; empty when up to date. */
  files: string[];
  conflicts: string[];
  /** Generated files whose hand edits the merge kept (working copy ≠ the promote branch). */
  hand_edits: string[];
  diagnostics: IDiagnostic[];
  message: string;
  /** Wall time of the promotion on the server. */
  seconds?: number;
  stages: IMlopsStage[];
  search_space: { [parameter: string]: string };
}

/** Body of `POST preview` and `POST promote`. */
export interface IPromoteRequest {
  path: string;
  output: string;
  name: string;
  /** A project template location from the panel's setting; the server honours only its allow-list. */
  template?: string;
}

/** Body of `POST verify`: a promote request plus the run's parameters. */
export interface IVerifyRequest extends IPromoteRequest {
  /** Parameter overrides for both runs, e.g. `{ epochs: 2 }`. */
  set?: { [name: string]: unknown };
  /** Notebook runs over seeds seed..seed+N-1; their spread widens the tolerance. */
  seeds?: number;
  rtol?: number;
}

export type MetricVerdict =
  'ok' | 'differs' | 'only in notebook' | 'only in package';

/** One row of the fidelity table. Non-finite numbers arrive as strings ("nan", "inf"). */
export interface IMetricComparison {
  name: string;
  notebook: number | string | null;
  package: number | string | null;
  relative_difference: number | string | null;
  tolerance: number;
  spread: number | null;
  verdict: MetricVerdict;
}

/**
 * `result` of a finished verify job (api.schema.json#/$defs/verifyResult). The
 * comparison fields are absent when promotion failed before anything ran.
 */
export interface IVerifyResult {
  ok: boolean;
  message: string;
  metrics: IMetricComparison[];
  differing: string[];
  /** Set when it differs and left-out cells draw random numbers (PRM043): those cells, and what still differs
   * once the notebook runs with their random draws undone. */
  aligned?: { cells: number[]; differing: string[] } | null;
  promotion?: IPromoteResult;
  notebook?: string;
  output?: string;
  package?: string;
  parameters?: { [name: string]: unknown };
  rtol?: number;
  seeds?: number;
  notebook_seconds?: number;
  package_seconds?: number;
  fidelity_file?: string | null;
  note?: string;
  /** Set when the job failed before comparing (the error reply of the core). */
  error?: string;
  details?: unknown[];
}

/** Answer of `POST verify` (a job starts) and of `GET verify?job=ID`. */
export interface IVerifyJob {
  ok: boolean;
  job: string;
  state: 'running' | 'done' | 'failed';
  /** The latest progress message, if any. */
  progress: string[];
  result: IVerifyResult | null;
}

/** What a job runs in a promoted project: its smoke pipeline or its tests. */
export type JobKind = 'smoke' | 'tests';

export type JobState = 'running' | 'passed' | 'failed' | 'cancelled';

/** Body of `POST jobs`. */
export interface IJobRequest {
  /** The promoted project's directory, relative to the server root. */
  output: string;
  kind: JobKind;
}

/**
 * Answer of `POST jobs`, `GET jobs?job=ID&since=N` and `DELETE jobs?job=ID`.
 * `text` is the output from character `offset` on; poll with since=`next`.
 */
export interface IJob {
  ok: boolean;
  job: string;
  kind: JobKind;
  output: string;
  /** The command as the project's CI runs it, e.g. `python -m demo run --smoke`. */
  command: string;
  state: JobState;
  exit_code: number | null;
  seconds: number;
  text: string;
  offset: number;
  next: number;
  /** Characters between `since` and `offset` the server no longer keeps (its output is capped). */
  skipped: number;
}

/** One registered model version and its run's metrics. */
export interface IRegisteredVersion {
  version: string;
  run_id: string;
  /** Milliseconds since the epoch. */
  created: number;
  champion: boolean;
  /** Why the register stage's gate did or did not make it champion. */
  reason: string;
  metrics: { [name: string]: number };
}

/** Answer of `GET registry?output=DIR`: the project's MLflow registry (mlflow.db). */
export interface IRegistry {
  ok: boolean;
  output: string;
  /** The registered model's name: the package. */
  model: string;
  /** False when there is no mlflow.db yet or the server cannot import mlflow; `reason` says which. */
  available: boolean;
  reason: string;
  champion: string | null;
  versions: IRegisteredVersion[];
}

/** Per-notebook target, stored in notebook metadata under METADATA_KEY. */
export interface ITarget {
  output: string;
  name: string;
}

/** Body of a non-2xx answer. */
export interface IErrorReply {
  ok: false;
  error: string;
  message: string;
  details?: unknown[];
}

export const PLUGIN_ID = 'jupyterlab-promote:plugin';
export const API_NAMESPACE = 'jupyterlab-promote';
export const METADATA_KEY = 'jupyterlab-promote';
export const PANEL_ID = 'jp-promote-panel';

export interface ISettings {
  /** Empty: the server's `c.Promoter.output_pattern`. The server expands it either way. */
  outputPattern: string;
  /** Empty: the server's `c.Promoter.template` (else the built-in layout). */
  template: string;
  saveBeforePromote: boolean;
}

export const DEFAULT_SETTINGS: ISettings = {
  outputPattern: '',
  template: '',
  saveBeforePromote: true
};

export namespace CommandIDs {
  export const open = 'jupyterlab-promote:open';
  export const preview = 'jupyterlab-promote:preview';
  export const promote = 'jupyterlab-promote:promote';
  export const setRole = 'jupyterlab-promote:set-role';
}
