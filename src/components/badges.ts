/**
 * A role badge on every cell of a notebook, as the analysis reports it. The cell node (which exists from
 * the start, unlike its lazily rendered children) gets a `data-promote-role`
 * attribute and a `--jp-promote-role` CSS variable; style/base.css shows the
 * variable in an ::after of the input area, which inherits it.
 */
import { Cell } from '@jupyterlab/cells';
import { Notebook } from '@jupyterlab/notebook';

import { roleLabel } from '../model';
import { ICellPlan, IPlan } from '../tokens';

const ATTRIBUTE = 'data-promote-role';
const SOURCE = 'data-promote-role-source';
const CLASS = 'jp-promote-hasRole';
const VARIABLE = '--jp-promote-role';

/** One cell's badge from the server's verdict on it (tag, directive or Kale tag). */
export function updateBadge(cell: Cell, plan: ICellPlan | undefined): void {
  if (plan && plan.role !== null) {
    const label = roleLabel(plan);
    cell.node.setAttribute(ATTRIBUTE, label);
    cell.node.setAttribute(SOURCE, plan.role_source ?? '');
    // A CSS string: JSON quoting is valid CSS for these plain labels.
    cell.node.style.setProperty(VARIABLE, JSON.stringify(label));
    cell.node.classList.add(CLASS);
    cell.node.classList.toggle('jp-promote-skip', plan.role === 'skip');
  } else {
    cell.node.removeAttribute(ATTRIBUTE);
    cell.node.removeAttribute(SOURCE);
    cell.node.style.removeProperty(VARIABLE);
    cell.node.classList.remove(CLASS, 'jp-promote-skip');
  }
}

/**
 * The badges of a notebook from an analysis of it. Roles are never read from
 * the tags here: a `# promote: ROLE` directive counts as the server says.
 */
export function showBadges(notebook: Notebook, plan: IPlan): void {
  const byId = new Map(plan.cells.map(cell => [cell.id, cell]));
  for (const cell of notebook.widgets) {
    updateBadge(cell, byId.get(cell.model.id));
  }
}
