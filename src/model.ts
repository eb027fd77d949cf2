/**
 * Pure logic of the panel: writing role tags, grouping and summaries.
 * Nothing here touches the DOM or JupyterLab, so it is unit-tested directly.
 * Which role a cell has is the server's answer (ICellPlan.role); the tag
 * parsing here only finds the role tags a new role replaces.
 */
import {
  CellRole,
  ICellPlan,
  IDiagnostic,
  IPlan,
  IPromoteResult,
  Role,
  ROLES,
  Severity,
  SEVERITIES
} from './tokens';

/** What a tag says about a cell's role. */
export interface IRoleTag {
  role: CellRole;
  /** Name of a custom step (role 'step'), else null. */
  step: string | null;
  source: 'tag' | 'kale';
}

/** Kale's tags (and our bare `parameters`) mapped to roles. */
const ALIASES: { [tag: string]: Role } = {
  parameters: 'parameters',
  'pipeline-parameters': 'parameters',
  imports: 'imports',
  functions: 'functions',
  'pipeline-metrics': 'evaluate',
  skip: 'skip'
};

const PREFIX = 'promote:';
const STEP = /^(step|block):([A-Za-z_][\w-]*)$/;

export function isRole(value: unknown): value is Role {
  return (
    typeof value === 'string' && (ROLES as readonly string[]).includes(value)
  );
}

/** The role one tag names, or null when the tag is not a role tag. */
export function parseRoleTag(tag: string): IRoleTag | null {
  const trimmed = tag.trim();
  if (Object.prototype.hasOwnProperty.call(ALIASES, trimmed)) {
    const source = trimmed === 'parameters' ? 'tag' : 'kale';
    return { role: ALIASES[trimmed], step: null, source };
  }
  if (trimmed.startsWith(PREFIX)) {
    const value = trimmed.slice(PREFIX.length);
    if (isRole(value)) {
      return { role: value, step: null, source: 'tag' };
    }
    const step = STEP.exec(value);
    return step
      ? { role: 'step', step: stepName(step[2]), source: 'tag' }
      : null;
  }
  const step = STEP.exec(trimmed);
  return step
    ? { role: 'step', step: stepName(step[2]), source: 'kale' }
    : null;
}

function stepName(raw: string): string {
  return raw.replace(/-/g, '_');
}

/**
 * Whether a tag decides a cell's role, including typos such as
 * `promote:trian`, which a new role must replace too.
 */
export function isRoleTag(tag: string): boolean {
  return parseRoleTag(tag) !== null || tag.trim().startsWith(PREFIX);
}

/**
 * A role the panel can assign: a built-in role or `step:NAME`, a custom step
 * the analysis reported (the tag the server writes for one, roles.tag_for).
 */
export type RoleChoice = Role | `step:${string}`;

export function isRoleChoice(value: unknown): value is RoleChoice {
  return (
    isRole(value) ||
    (typeof value === 'string' && parseRoleTag(value)?.role === 'step')
  );
}

/** The tag we write for a role (`parameters` keeps papermill's bare tag). */
export function roleTag(role: RoleChoice): string {
  if (!isRole(role)) {
    return role;
  }
  return role === 'parameters' ? 'parameters' : `${PREFIX}${role}`;
}

/**
 * The tags with every previous role tag removed and, unless role is null,
 * the new role's tag appended. Other tags (and Kale's `prev:`) are kept.
 */
export function tagsWithRole(
  tags: readonly string[] | undefined,
  role: RoleChoice | null
): string[] {
  const kept = (tags ?? []).filter(tag => !isRoleTag(tag));
  return role ? [...kept, roleTag(role)] : kept;
}

/** Short text for a role badge: `train`, or `step: load` for custom steps. */
export function roleLabel(info: {
  role: CellRole | null;
  step: string | null;
}): string {
  if (info.role === 'step') {
    return `step: ${info.step ?? '?'}`;
  }
  return info.role ?? '';
}

/** The choice of the role menu that a cell of the analysis has, `none` when untagged. */
export function roleChoiceOf(cell: ICellPlan | undefined): RoleChoice | 'none' {
  if (!cell || cell.role === null) {
    return 'none';
  }
  return cell.role === 'step' ? `step:${cell.step}` : cell.role;
}

/** The custom steps of an analysis, in pipeline order: the menu offers them beside the roles. */
export function customSteps(plan: IPlan | null): RoleChoice[] {
  return (plan?.steps ?? [])
    .filter(step => step.role === 'step')
    .map(step => `step:${step.name}` as const);
}

export interface IRoleGroup {
  /** Stable key: the role, `step:NAME`, or `untagged`. */
  key: string;
  label: string;
  cells: ICellPlan[];
}

/**
 * Code cells grouped by role in pipeline order; custom steps (in notebook
 * order) go before `skip`, untagged cells last. Empty groups are left out.
 */
export function groupCellsByRole(cells: readonly ICellPlan[]): IRoleGroup[] {
  const groups = new Map<string, IRoleGroup>();
  const add = (key: string, label: string, cell: ICellPlan) => {
    const group = groups.get(key) ?? { key, label, cells: [] };
    group.cells.push(cell);
    groups.set(key, group);
  };
  for (const cell of cells) {
    if (cell.cell_type !== 'code') {
      continue;
    }
    if (cell.role === null) {
      add('untagged', 'untagged', cell);
    } else if (cell.role === 'step') {
      add(`step:${cell.step}`, roleLabel(cell), cell);
    } else {
      add(cell.role, cell.role, cell);
    }
  }
  const rank = (key: string): number => {
    if (key === 'untagged') {
      return ROLES.length + 1;
    }
    if (key.startsWith('step:')) {
      return ROLES.indexOf('skip') - 0.5;
    }
    return ROLES.indexOf(key as Role);
  };
  // Array.sort is stable, so steps keep their notebook order.
  return [...groups.values()].sort((a, b) => rank(a.key) - rank(b.key));
}

export type DiagnosticsBySeverity = { [S in Severity]: IDiagnostic[] };

export function groupDiagnosticsBySeverity(
  diagnostics: readonly IDiagnostic[]
): DiagnosticsBySeverity {
  const groups: DiagnosticsBySeverity = { error: [], warning: [], info: [] };
  for (const diagnostic of diagnostics) {
    const severity = SEVERITIES.includes(diagnostic.severity)
      ? diagnostic.severity
      : 'info';
    groups[severity].push(diagnostic);
  }
  return groups;
}

/** Notebook-level diagnostics (no cell) are keyed by the empty string. */
export function groupDiagnosticsByCell(
  diagnostics: readonly IDiagnostic[]
): Map<string, IDiagnostic[]> {
  const groups = new Map<string, IDiagnostic[]>();
  for (const diagnostic of diagnostics) {
    const key = diagnostic.cell_id ?? '';
    groups.set(key, [...(groups.get(key) ?? []), diagnostic]);
  }
  return groups;
}

/** The role a diagnostic proposes to set with one click, if any. */
export function suggestedRoleFix(
  diagnostic: IDiagnostic
): { cellId: string; role: Role } | null {
  const suggestion = diagnostic.suggestion;
  if (
    !suggestion ||
    suggestion.action !== 'set-role' ||
    !suggestion.cell_id ||
    !isRole(suggestion.role)
  ) {
    return null;
  }
  return { cellId: suggestion.cell_id, role: suggestion.role };
}

export function shortCommit(sha: string | null | undefined): string {
  return (sha ?? '').slice(0, 7);
}

/** Files a promote actually changed (unchanged files are listed too). */
export function changedFiles<T extends { status: string }>(
  files: readonly T[]
): T[] {
  return files.filter(file => file.status !== 'unchanged');
}

/**
 * The content of an added file from its unified diff against nothing: every
 * `+` line. Null for a diff that also removes or keeps lines (not a new file).
 */
export function addedFileText(diff: string): string | null {
  // difflib writes no "\\ No newline" marker: a last line without its newline ends the diff.
  const lines = diff.split('\n');
  const endsWithNewline = lines[lines.length - 1] === '';
  if (endsWithNewline) {
    lines.pop();
  }
  const hunk = lines.findIndex(line => line.startsWith('@@'));
  if (hunk < 0) {
    return null;
  }
  const body = lines.slice(hunk + 1);
  if (!body.every(line => line.startsWith('+'))) {
    return null;
  }
  const text = body.map(line => line.slice(1)).join('\n');
  return endsWithNewline && body.length > 0 ? `${text}\n` : text;
}

/** The one-line outcome shown under the Promote button. */
export function summarizeResult(result: IPromoteResult): string {
  if (result.conflicts && result.conflicts.length > 0) {
    return `Conflicts in ${result.conflicts.join(', ')}: ${result.message}`;
  }
  if (!result.ok) {
    return result.message || 'Promotion refused.';
  }
  const count = (result.files ?? []).length;
  const files = `${count} file${count === 1 ? '' : 's'} changed`;
  if (!result.commit) {
    return `Nothing to commit on ${result.branch ?? '?'} (${files}).`;
  }
  if (count === 0) {
    return `Up to date: the notebook has not changed since ${shortCommit(result.commit)} on ${result.branch ?? '?'}.`;
  }
  const merged = result.merged ? ', merged' : '';
  const took =
    result.seconds !== undefined ? ` (${result.seconds.toFixed(1)} s)` : '';
  return `Committed ${shortCommit(result.commit)} on ${result.branch ?? '?'}${merged}: ${files}${took}.`;
}

/** A one-click fix shown on a notebook cell. */
export interface ICellHint {
  code: string;
  text: string;
  fix: { cellId: string; role: Role };
}

/**
 * Hints per cell id: role suggestions for untagged cells (imports need no tag),
 * and every diagnostic that proposes a role, on its own cell and on the cells
 * it relates to (a missing dependency shows where it is used and where it is defined).
 */
export function cellHints(plan: IPlan): Map<string, ICellHint[]> {
  const hints = new Map<string, ICellHint[]>();
  const add = (cellId: string | null, hint: ICellHint) => {
    if (cellId) {
      hints.set(cellId, [...(hints.get(cellId) ?? []), hint]);
    }
  };
  for (const cell of plan.cells) {
    const role = cell.suggested_role;
    if (cell.role === null && role && role !== 'imports') {
      add(cell.id, {
        code: 'PRM010',
        text: `Looks like ${role}.`,
        fix: { cellId: cell.id, role }
      });
    }
  }
  for (const diagnostic of plan.diagnostics) {
    const fix = suggestedRoleFix(diagnostic);
    if (!fix) {
      continue;
    }
    const hint = { code: diagnostic.code, text: diagnostic.message, fix };
    add(diagnostic.cell_id, hint);
    for (const related of diagnostic.related_cells ?? []) {
      if (related.id !== diagnostic.cell_id) {
        add(related.id, hint);
      }
    }
  }
  return hints;
}
