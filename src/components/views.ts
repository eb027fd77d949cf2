/**
 * Render functions for the panel's sections: data in, DOM out. The callbacks
 * let the panel act on the notebook without the views knowing about it.
 */
import {
  groupCellsByRole,
  groupDiagnosticsBySeverity,
  suggestedRoleFix
} from '../model';
import {
  ICellPlan,
  IDiagnostic,
  IFileChange,
  Role,
  SEVERITIES
} from '../tokens';
import { h } from './dom';

export interface ICellActions {
  reveal(cellId: string | null, index: number | null): void;
  setRole(cellId: string, role: Role): void;
}

function location(diagnostic: IDiagnostic): string {
  const parts: string[] = [];
  if (diagnostic.cell_index !== null) {
    parts.push(`cell ${diagnostic.cell_index}`);
  }
  if (diagnostic.line !== null) {
    parts.push(`line ${diagnostic.line}`);
  }
  return parts.join(', ');
}

function renderDiagnostic(
  diagnostic: IDiagnostic,
  actions: ICellActions
): HTMLElement {
  const fix = suggestedRoleFix(diagnostic);
  const where = location(diagnostic);
  const item = h(
    'li',
    {
      className: `jp-promote-diagnostic jp-promote-${diagnostic.severity}`,
      title: diagnostic.name || diagnostic.code,
      attrs: { 'data-code': diagnostic.code }
    },
    h('span', { className: 'jp-promote-code', text: diagnostic.code }),
    h('span', { className: 'jp-promote-message', text: diagnostic.message }),
    where && h('span', { className: 'jp-promote-where', text: where }),
    fix &&
      h('button', {
        className: 'jp-mod-styled jp-mod-accept jp-promote-accept',
        text: `Accept: ${fix.role}`,
        title: `Tag the cell as ${fix.role}`,
        onClick: event => {
          event.stopPropagation();
          actions.setRole(fix.cellId, fix.role);
        }
      })
  );
  if (diagnostic.cell_id !== null || diagnostic.cell_index !== null) {
    item.classList.add('jp-promote-clickable');
    item.addEventListener('click', () =>
      actions.reveal(diagnostic.cell_id, diagnostic.cell_index)
    );
  }
  return item;
}

export function renderDiagnostics(
  diagnostics: readonly IDiagnostic[],
  actions: ICellActions
): HTMLElement {
  const groups = groupDiagnosticsBySeverity(diagnostics);
  const section = h('div', { className: 'jp-promote-diagnostics' });
  if (diagnostics.length === 0) {
    section.append(
      h('p', { className: 'jp-promote-empty', text: 'No diagnostics.' })
    );
  }
  for (const severity of SEVERITIES) {
    if (groups[severity].length === 0) {
      continue;
    }
    section.append(
      h('h4', { text: `${severity} (${groups[severity].length})` }),
      h('ul', {}, ...groups[severity].map(d => renderDiagnostic(d, actions)))
    );
  }
  return section;
}

function renderCell(cell: ICellPlan, actions: ICellActions): HTMLElement {
  const item = h(
    'li',
    {
      className: 'jp-promote-cell jp-promote-clickable',
      title: cell.defines.length ? `defines ${cell.defines.join(', ')}` : '',
      attrs: { 'data-cell-id': cell.id }
    },
    h('span', { className: 'jp-promote-index', text: `[${cell.index}]` }),
    h('code', { text: cell.first_line || '(empty)' })
  );
  const suggested = cell.suggested_role;
  if (cell.role === null && suggested) {
    item.append(
      h('button', {
        className: 'jp-mod-styled jp-promote-accept',
        text: suggested,
        title: `Tag the cell as ${suggested}`,
        onClick: event => {
          event.stopPropagation();
          actions.setRole(cell.id, suggested);
        }
      })
    );
  }
  item.addEventListener('click', () => actions.reveal(cell.id, cell.index));
  return item;
}

export function renderRoleGroups(
  cells: readonly ICellPlan[],
  actions: ICellActions
): HTMLElement {
  const section = h('div', { className: 'jp-promote-roles' });
  for (const group of groupCellsByRole(cells)) {
    section.append(
      h('h4', {
        text: `${group.label} (${group.cells.length})`,
        attrs: { 'data-role': group.key }
      }),
      h('ul', {}, ...group.cells.map(cell => renderCell(cell, actions)))
    );
  }
  return section;
}

/** `open`, when given, adds an Open button to each file that is not deleted. */
export function renderFiles(
  files: readonly IFileChange[],
  open?: (file: IFileChange) => void
): HTMLElement {
  const list = h('div', { className: 'jp-promote-files' });
  for (const file of files) {
    const details = h(
      'details',
      { className: `jp-promote-file jp-promote-${file.status}` },
      h(
        'summary',
        {},
        h('span', { className: 'jp-promote-status', text: file.status }),
        h('span', { className: 'jp-promote-path', text: file.path }),
        open &&
          file.status !== 'deleted' &&
          h('button', {
            className: 'jp-mod-styled jp-promote-open-file',
            text: 'Open',
            title: `Open ${file.path} in the editor`,
            onClick: event => {
              event.preventDefault();
              event.stopPropagation();
              open(file);
            }
          })
      ),
      h('pre', { text: file.diff || '(no changes)' })
    );
    list.append(details);
  }
  return list;
}
