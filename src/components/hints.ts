/**
 * One-click hints on the notebook's own cells: a role suggestion on an untagged
 * cell, a contradicted tag, or a missing dependency (shown on the cell that
 * needs the name and on the untagged cell that defines it).
 */
import { NotebookPanel } from '@jupyterlab/notebook';

import { cellHints, ICellHint } from '../model';
import { IPlan, Role } from '../tokens';
import { h } from './dom';

const HINT_CLASS = 'jp-promote-hint';

function renderHint(
  hint: ICellHint,
  setRole: (cellId: string, role: Role) => void
): HTMLElement {
  return h(
    'div',
    { className: HINT_CLASS, attrs: { 'data-code': hint.code } },
    h('span', { className: 'jp-promote-hint-text', text: hint.text }),
    h('button', {
      className: 'jp-mod-styled jp-mod-accept jp-promote-accept',
      text: `Tag ${hint.fix.role}`,
      title: `Tag cell ${hint.fix.cellId} as ${hint.fix.role}`,
      onClick: event => {
        event.stopPropagation();
        setRole(hint.fix.cellId, hint.fix.role);
      }
    })
  );
}

/** Replace the hints of every cell with those of the latest plan. */
export function showHints(
  panel: NotebookPanel,
  plan: IPlan,
  setRole: (cellId: string, role: Role) => void
): void {
  const hints = cellHints(plan);
  for (const cell of panel.content.widgets) {
    cell.node.querySelectorAll(`.${HINT_CLASS}`).forEach(node => node.remove());
    const own = hints.get(cell.model.id) ?? [];
    const wrapper = cell.node.querySelector('.jp-Cell-inputWrapper');
    for (const hint of own) {
      cell.node.insertBefore(renderHint(hint, setRole), wrapper);
    }
  }
}
