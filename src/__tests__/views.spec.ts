import {
  ICellActions,
  renderDiagnostics,
  renderFiles,
  renderRoleGroups
} from '../components/views';
import { ICellPlan, IDiagnostic } from '../tokens';

function actions(): ICellActions & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    reveal: (cellId, index) => calls.push(`reveal ${cellId} ${index}`),
    setRole: (cellId, role) => calls.push(`setRole ${cellId} ${role}`)
  };
}

const missing: IDiagnostic = {
  severity: 'error',
  code: 'PRM003',
  name: 'defined-only-in-untagged-cell',
  message: 'X is defined only in untagged cell 5',
  notebook: 'nb.ipynb',
  cell_index: 7,
  cell_id: 'abc',
  line: 2,
  suggestion: { action: 'set-role', cell_index: 5, cell_id: 'x', role: 'data' },
  related_cells: [{ index: 5, id: 'x' }]
};

describe('renderDiagnostics', () => {
  it('offers Accept for a set-role suggestion and writes that role', () => {
    const spy = actions();
    const node = renderDiagnostics([missing], spy);
    const button = node.querySelector(
      'button.jp-promote-accept'
    ) as HTMLButtonElement;
    expect(button.textContent).toBe('Accept: data');
    button.click();
    // The button acts alone: it does not also reveal the diagnostic's cell.
    expect(spy.calls).toEqual(['setRole x data']);
  });

  it('reveals the cell when a diagnostic is clicked', () => {
    const spy = actions();
    const node = renderDiagnostics([{ ...missing, suggestion: null }], spy);
    expect(node.querySelector('button')).toBeNull();
    (node.querySelector('li') as HTMLElement).click();
    expect(spy.calls).toEqual(['reveal abc 7']);
    expect(node.querySelector('.jp-promote-where')?.textContent).toBe(
      'cell 7, line 2'
    );
  });

  it('says when there is nothing to report', () => {
    expect(renderDiagnostics([], actions()).textContent).toContain(
      'No diagnostics.'
    );
  });
});

describe('renderRoleGroups', () => {
  it('lists cells under their role with the first line', () => {
    const cell: ICellPlan = {
      index: 3,
      id: 'c3',
      cell_type: 'code',
      role: null,
      role_source: null,
      tags: [],
      suggested_role: 'model',
      step: null,
      first_line: 'class Net(nn.Module):',
      defines: ['Net'],
      uses: [],
      mutates: []
    };
    const spy = actions();
    const node = renderRoleGroups(
      [cell, { ...cell, index: 4, id: 'c4', role: 'train' }],
      spy
    );
    expect([...node.querySelectorAll('h4')].map(h => h.textContent)).toEqual([
      'train (1)',
      'untagged (1)'
    ]);
    expect(node.textContent).toContain('class Net(nn.Module):');
    (
      node.querySelector('li[data-cell-id="c3"] button') as HTMLButtonElement
    ).click();
    expect(spy.calls).toEqual(['setRole c3 model']);
  });
});

describe('renderFiles', () => {
  it('shows one collapsible diff per file', () => {
    const node = renderFiles([
      { path: 'src/demo/model.py', status: 'added', diff: '+class Net: ...' },
      { path: 'README.md', status: 'unchanged', diff: '' }
    ]);
    const details = node.querySelectorAll('details');
    expect(details).toHaveLength(2);
    expect(details[0].querySelector('pre')?.textContent).toBe(
      '+class Net: ...'
    );
    expect(details[0].classList).toContain('jp-promote-added');
    expect(details[1].querySelector('pre')?.textContent).toBe('(no changes)');
  });
});
