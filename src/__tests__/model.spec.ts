import {
  addedFileText,
  customSteps,
  groupCellsByRole,
  groupDiagnosticsByCell,
  groupDiagnosticsBySeverity,
  parseRoleTag,
  roleChoiceOf,
  roleLabel,
  roleTag,
  suggestedRoleFix,
  summarizeResult,
  tagsWithRole,
  cellHints
} from '../model';
import { ICellPlan, IDiagnostic, IPlan, IPromoteResult, Role } from '../tokens';

function diagnostic(partial: Partial<IDiagnostic>): IDiagnostic {
  return {
    severity: 'warning',
    code: 'PRM002',
    name: 'undefined-name',
    message: 'x is undefined',
    notebook: 'nb.ipynb',
    cell_index: null,
    cell_id: null,
    line: null,
    suggestion: null,
    related_cells: [],
    ...partial
  };
}

function cell(partial: Partial<ICellPlan>): ICellPlan {
  return {
    index: 0,
    id: 'c0',
    cell_type: 'code',
    role: null,
    role_source: null,
    tags: [],
    suggested_role: null,
    step: null,
    first_line: '',
    defines: [],
    uses: [],
    mutates: [],
    ...partial
  };
}

/** The first role tag's role: what the server's tag rule gives (analysis/roles.py). */
function roleFromTags(tags: readonly string[] | undefined) {
  return readRole(tags)?.role ?? null;
}

function readRole(tags: readonly string[] | undefined) {
  for (const tag of tags ?? []) {
    const parsed = parseRoleTag(tag);
    if (parsed) {
      return parsed;
    }
  }
  return null;
}

describe('role tags', () => {
  it('reads promote: tags and the bare parameters tag', () => {
    expect(roleFromTags(['promote:train'])).toBe('train');
    expect(roleFromTags(['parameters'])).toBe('parameters');
    expect(roleFromTags(['promote:parameters'])).toBe('parameters');
    expect(roleFromTags(['promote:skip'])).toBe('skip');
  });

  it('ignores unrelated tags and untagged cells', () => {
    expect(roleFromTags([])).toBeNull();
    expect(roleFromTags(undefined)).toBeNull();
    expect(roleFromTags(['hide-input', 'prev:load'])).toBeNull();
    expect(roleFromTags(['promote:trian'])).toBeNull();
  });

  it('reads Kale aliases', () => {
    expect(readRole(['pipeline-parameters'])).toEqual({
      role: 'parameters',
      step: null,
      source: 'kale'
    });
    expect(roleFromTags(['imports'])).toBe('imports');
    expect(roleFromTags(['functions'])).toBe('functions');
    expect(roleFromTags(['pipeline-metrics'])).toBe('evaluate');
    expect(roleFromTags(['skip'])).toBe('skip');
  });

  it('reads Kale steps and old blocks as custom steps', () => {
    expect(parseRoleTag('step:load-data')).toEqual({
      role: 'step',
      step: 'load_data',
      source: 'kale'
    });
    expect(parseRoleTag('block:train')).toEqual({
      role: 'step',
      step: 'train',
      source: 'kale'
    });
    expect(parseRoleTag('promote:step:clean')).toEqual({
      role: 'step',
      step: 'clean',
      source: 'tag'
    });
    expect(parseRoleTag('step:1bad')).toBeNull();
  });

  it('takes the first role tag when there are several', () => {
    expect(roleFromTags(['hide', 'promote:model', 'promote:train'])).toBe(
      'model'
    );
  });

  it('writes promote:<role>, and parameters without prefix', () => {
    expect(roleTag('train')).toBe('promote:train');
    expect(roleTag('parameters')).toBe('parameters');
  });

  it('replaces any previous role tag and keeps the others', () => {
    expect(tagsWithRole(['hide-input', 'promote:data'], 'model')).toEqual([
      'hide-input',
      'promote:model'
    ]);
    expect(
      tagsWithRole(
        ['parameters', 'pipeline-metrics', 'step:x', 'prev:y', 'promote:oops'],
        'train'
      )
    ).toEqual(['prev:y', 'promote:train']);
    expect(tagsWithRole(['promote:data'], 'parameters')).toEqual([
      'parameters'
    ]);
    expect(tagsWithRole(undefined, 'skip')).toEqual(['promote:skip']);
  });

  it('removes the role tag for role null', () => {
    expect(tagsWithRole(['promote:data', 'keep'], null)).toEqual(['keep']);
    expect(tagsWithRole(['promote:data'], null)).toEqual([]);
  });

  it('labels roles and steps', () => {
    expect(roleLabel({ role: 'train', step: null })).toBe('train');
    expect(roleLabel({ role: 'step', step: 'clean' })).toBe('step: clean');
    expect(roleLabel({ role: null, step: null })).toBe('');
  });
});

describe('groupCellsByRole', () => {
  it('groups code cells in pipeline order, steps before skip, untagged last', () => {
    const groups = groupCellsByRole([
      cell({ index: 0, id: 'a', role: null }),
      cell({ index: 1, id: 'b', role: 'train' }),
      cell({ index: 2, id: 'c', role: 'skip' }),
      cell({ index: 3, id: 'd', role: 'step', step: 'clean' }),
      cell({ index: 4, id: 'e', role: 'data' }),
      cell({ index: 5, id: 'f', cell_type: 'markdown' }),
      cell({ index: 6, id: 'g', role: 'train' }),
      cell({ index: 7, id: 'h', role: 'parameters' })
    ]);
    expect(groups.map(group => group.key)).toEqual([
      'parameters',
      'data',
      'train',
      'step:clean',
      'skip',
      'untagged'
    ]);
    expect(groups[2].cells.map(c => c.id)).toEqual(['b', 'g']);
    expect(groups[3].label).toBe('step: clean');
  });

  it('gives no groups for no cells', () => {
    expect(groupCellsByRole([])).toEqual([]);
  });
});

describe('diagnostics', () => {
  const diagnostics = [
    diagnostic({ severity: 'error', cell_id: 'a', code: 'PRM001' }),
    diagnostic({ severity: 'warning', cell_id: 'b' }),
    diagnostic({ severity: 'info', cell_id: 'a', code: 'PRM010' }),
    diagnostic({ severity: 'warning', cell_id: null, code: 'PRM018' })
  ];

  it('groups by severity', () => {
    const groups = groupDiagnosticsBySeverity(diagnostics);
    expect(groups.error.map(d => d.code)).toEqual(['PRM001']);
    expect(groups.warning.map(d => d.code)).toEqual(['PRM002', 'PRM018']);
    expect(groups.info.map(d => d.code)).toEqual(['PRM010']);
  });

  it('groups by cell, notebook-level under the empty key', () => {
    const groups = groupDiagnosticsByCell(diagnostics);
    expect(groups.get('a')?.map(d => d.code)).toEqual(['PRM001', 'PRM010']);
    expect(groups.get('b')).toHaveLength(1);
    expect(groups.get('')?.map(d => d.code)).toEqual(['PRM018']);
  });

  it('finds set-role suggestions only when valid', () => {
    const fix = diagnostic({
      code: 'PRM003',
      suggestion: {
        action: 'set-role',
        cell_index: 5,
        cell_id: 'x',
        role: 'data'
      }
    });
    expect(suggestedRoleFix(fix)).toEqual({ cellId: 'x', role: 'data' });
    expect(suggestedRoleFix(diagnostic({}))).toBeNull();
    expect(
      suggestedRoleFix(
        diagnostic({
          suggestion: { action: 'set-role', cell_id: 'x', role: 'nope' }
        })
      )
    ).toBeNull();
    expect(
      suggestedRoleFix(
        diagnostic({
          suggestion: { action: 'rename', cell_id: 'x', role: 'data' }
        })
      )
    ).toBeNull();
  });
});

describe('addedFileText', () => {
  it('rebuilds a new file from its diff, lines that look like headers included', () => {
    // What difflib.unified_diff([], ['a\\n', '+++ b\\n', 'c']) gives.
    const diff = '--- /dev/null\n+++ b/x\n@@ -0,0 +1,3 @@\n+a\n++++ b\n+c';
    expect(addedFileText(diff)).toBe('a\n+++ b\nc');
    expect(addedFileText(diff + '\n')).toBe('a\n+++ b\nc\n');
  });

  it('refuses a diff of a modified file', () => {
    expect(addedFileText('--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n')).toBeNull();
    expect(addedFileText('')).toBeNull();
  });
});

describe('role menu choices', () => {
  it('writes a custom step as its step: tag, replacing the old role tag', () => {
    expect(tagsWithRole(['promote:data', 'keep'], 'step:rescale')).toEqual([
      'keep',
      'step:rescale'
    ]);
    expect(tagsWithRole(['step:old'], 'train')).toEqual(['promote:train']);
  });

  it('reads the choice of a cell from the analysis, custom steps included', () => {
    expect(roleChoiceOf(cell({ role: 'step', step: 'rescale' }))).toBe(
      'step:rescale'
    );
    expect(roleChoiceOf(cell({ role: 'data', role_source: 'directive' }))).toBe(
      'data'
    );
    expect(roleChoiceOf(cell({}))).toBe('none');
    expect(roleChoiceOf(undefined)).toBe('none');
  });

  it('lists the custom steps of an analysis in order', () => {
    const steps = [
      { name: 'data', role: 'data' },
      { name: 'rescale', role: 'step' },
      { name: 'report', role: 'step' }
    ];
    expect(customSteps({ steps } as unknown as IPlan)).toEqual([
      'step:rescale',
      'step:report'
    ]);
    expect(customSteps(null)).toEqual([]);
  });
});

describe('summarizeResult', () => {
  const base: IPromoteResult = {
    ok: true,
    output: 'demo_project',
    package: 'demo',
    branch: 'promote/demo',
    commit: '0123456789abcdef',
    merged: false,
    files: ['a.py'],
    conflicts: [],
    hand_edits: [],
    diagnostics: [],
    message: 'done',
    stages: [],
    search_space: {}
  };

  it('names branch, short commit and changed files', () => {
    expect(summarizeResult(base)).toBe(
      'Committed 0123456 on promote/demo: 1 file changed.'
    );
    expect(summarizeResult({ ...base, merged: true })).toContain(', merged');
    expect(summarizeResult({ ...base, seconds: 0.42 })).toBe(
      'Committed 0123456 on promote/demo: 1 file changed (0.4 s).'
    );
  });

  it('reports conflicts and refusals', () => {
    expect(
      summarizeResult({
        ...base,
        ok: false,
        conflicts: ['a.py'],
        message: 'edit by hand'
      })
    ).toBe('Conflicts in a.py: edit by hand');
    expect(
      summarizeResult({ ...base, ok: false, message: 'tests failed' })
    ).toBe('tests failed');
  });

  it('says when the notebook is unchanged', () => {
    expect(summarizeResult({ ...base, files: [] })).toBe(
      'Up to date: the notebook has not changed since 0123456 on promote/demo.'
    );
  });

  it('says when there was nothing to commit', () => {
    expect(summarizeResult({ ...base, commit: null })).toBe(
      'Nothing to commit on promote/demo (1 file changed).'
    );
  });
});

describe('cellHints', () => {
  const cell = (id: string, role: Role | null, suggested: Role | null) => ({
    index: 0,
    id,
    cell_type: 'code',
    role,
    role_source: null,
    tags: [],
    suggested_role: suggested,
    step: null,
    first_line: '',
    defines: [],
    uses: [],
    mutates: []
  });

  it('puts a missing dependency on both cells and skips import suggestions', () => {
    const plan = {
      ok: true,
      notebook: 'n.ipynb',
      package: 'n',
      cells: [
        cell('a', null, 'imports'),
        cell('b', null, 'data'),
        cell('c', 'train', null)
      ],
      steps: [],
      dependencies: [],
      diagnostics: [
        {
          severity: 'warning',
          code: 'PRM003',
          name: 'defined-only-in-untagged-cell',
          message: "'helper' is defined only in untagged cell 1",
          notebook: 'n.ipynb',
          cell_index: 2,
          cell_id: 'c',
          line: 1,
          suggestion: {
            action: 'set-role',
            cell_index: 1,
            cell_id: 'b',
            role: 'train'
          },
          related_cells: [{ index: 1, id: 'b' }]
        }
      ]
    } as unknown as IPlan;
    const hints = cellHints(plan);
    expect(hints.has('a')).toBe(false);
    expect(hints.get('b')?.map(h => h.code)).toEqual(['PRM010', 'PRM003']);
    expect(hints.get('c')?.[0].fix).toEqual({ cellId: 'b', role: 'train' });
  });
});
