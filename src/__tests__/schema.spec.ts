/**
 * The TypeScript shapes of tokens.ts against the one definition of the replies,
 * jupyterlab_promote/api.schema.json (which pytest validates real replies with).
 * Each table below must name exactly the keys of its interface, or the test does
 * not compile; the test then checks that the schema names exactly those keys.
 */
// A JSON import: the schema is outside src/, but jest reads it like any module.
import SCHEMA from '../../jupyterlab_promote/api.schema.json';
import {
  ICellPlan,
  IDiagnostic,
  IErrorReply,
  IFileChange,
  IJob,
  IMetricComparison,
  IMlopsStage,
  IParameter,
  IPlan,
  IPreview,
  IPromoteResult,
  IRegisteredVersion,
  IRegistry,
  IRelatedCell,
  IStep,
  IVerifyJob,
  IVerifyResult
} from '../tokens';

type Fields<T> = { [K in keyof Required<T>]: true };

const diagnostic: Fields<IDiagnostic> = {
  severity: true,
  code: true,
  name: true,
  message: true,
  notebook: true,
  cell_index: true,
  cell_id: true,
  line: true,
  suggestion: true,
  related_cells: true
};
const relatedCell: Fields<IRelatedCell> = { index: true, id: true };
const cell: Fields<ICellPlan> = {
  index: true,
  id: true,
  cell_type: true,
  role: true,
  role_source: true,
  tags: true,
  suggested_role: true,
  step: true,
  first_line: true,
  defines: true,
  uses: true,
  mutates: true
};
const step: Fields<IStep> = {
  name: true,
  role: true,
  cells: true,
  inputs: true,
  outputs: true,
  parameters: true,
  pulled: true
};
const parameter: Fields<IParameter> = {
  name: true,
  value: true,
  type: true,
  flag: true
};
const analysis: Fields<IPlan> = {
  ok: true,
  notebook: true,
  package: true,
  output: true,
  content_hash: true,
  cells: true,
  steps: true,
  parameters: true,
  dependencies: true,
  diagnostics: true
};
const fileChange: Fields<IFileChange> = {
  path: true,
  status: true,
  diff: true
};
const preview: Fields<IPreview> = {
  ok: true,
  output: true,
  package: true,
  files: true,
  hand_edits: true,
  diagnostics: true,
  stages: true,
  search_space: true
};
const mlopsStage: Fields<IMlopsStage> = {
  name: true,
  help: true,
  params: true,
  reads: true
};
const promoteResult: Fields<IPromoteResult> = {
  ok: true,
  output: true,
  package: true,
  branch: true,
  commit: true,
  merged: true,
  files: true,
  conflicts: true,
  hand_edits: true,
  diagnostics: true,
  message: true,
  seconds: true,
  stages: true,
  search_space: true
};
const metricComparison: Fields<IMetricComparison> = {
  name: true,
  notebook: true,
  package: true,
  relative_difference: true,
  tolerance: true,
  spread: true,
  verdict: true
};
/** A failed job's result is an error reply: those two keys live in `error`. */
const verifyResult: Omit<Fields<IVerifyResult>, 'error' | 'details'> = {
  ok: true,
  message: true,
  metrics: true,
  differing: true,
  aligned: true,
  promotion: true,
  notebook: true,
  output: true,
  package: true,
  parameters: true,
  rtol: true,
  seeds: true,
  notebook_seconds: true,
  package_seconds: true,
  fidelity_file: true,
  note: true
};
const verifyJob: Fields<IVerifyJob> = {
  ok: true,
  job: true,
  state: true,
  progress: true,
  result: true
};
const job: Fields<IJob> = {
  ok: true,
  job: true,
  kind: true,
  output: true,
  command: true,
  state: true,
  exit_code: true,
  seconds: true,
  text: true,
  offset: true,
  next: true,
  skipped: true
};
const registeredVersion: Fields<IRegisteredVersion> = {
  version: true,
  run_id: true,
  created: true,
  champion: true,
  reason: true,
  metrics: true
};
const registry: Fields<IRegistry> = {
  ok: true,
  output: true,
  model: true,
  available: true,
  reason: true,
  champion: true,
  versions: true
};
const error: Fields<IErrorReply> = {
  ok: true,
  error: true,
  message: true,
  details: true
};

const TABLES: { [definition: string]: object } = {
  diagnostic,
  relatedCell,
  cell,
  step,
  parameter,
  analysis,
  fileChange,
  preview,
  mlopsStage,
  promoteResult,
  metricComparison,
  verifyResult,
  verifyJob,
  job,
  registeredVersion,
  registry,
  error
};

describe('tokens.ts matches api.schema.json', () => {
  it.each(Object.keys(TABLES))('%s has the same fields', definition => {
    const properties = (SCHEMA.$defs as any)[definition]?.properties;
    expect(properties).toBeDefined();
    expect(Object.keys(TABLES[definition]).sort()).toEqual(
      Object.keys(properties).sort()
    );
  });

  it.each([
    'analysis',
    'step',
    'cell',
    'diagnostic',
    'preview',
    'job',
    'registeredVersion',
    'registry'
  ])(
    '%s: the server always sends every field (none is optional in TypeScript)',
    definition => {
      const schema = (SCHEMA.$defs as any)[definition];
      expect([...schema.required].sort()).toEqual(
        Object.keys(schema.properties).sort()
      );
    }
  );
});
