/**
 * A role badge on every cell of a notebook. The cell node (which exists from
 * the start, unlike its lazily rendered children) gets a `data-promote-role`
 * attribute and a `--jp-promote-role` CSS variable; style/base.css shows the
 * variable in an ::after of the input area, which inherits it.
 */
import { Cell, ICellModel } from '@jupyterlab/cells';
import { NotebookPanel } from '@jupyterlab/notebook';

import { readRole, roleLabel } from '../model';
import { cellTags } from '../notebook';

const ATTRIBUTE = 'data-promote-role';
const CLASS = 'jp-promote-hasRole';
const VARIABLE = '--jp-promote-role';

export function updateBadge(cell: Cell): void {
  const info = readRole(cellTags(cell.model));
  if (info) {
    const label = roleLabel(info);
    cell.node.setAttribute(ATTRIBUTE, label);
    // A CSS string: JSON quoting is valid CSS for these plain labels.
    cell.node.style.setProperty(VARIABLE, JSON.stringify(label));
    cell.node.classList.add(CLASS);
    cell.node.classList.toggle('jp-promote-skip', info.role === 'skip');
  } else {
    cell.node.removeAttribute(ATTRIBUTE);
    cell.node.style.removeProperty(VARIABLE);
    cell.node.classList.remove(CLASS, 'jp-promote-skip');
  }
}

/** Keeps the badges of one notebook up to date until it is disposed. */
export function trackBadges(panel: NotebookPanel): void {
  const notebook = panel.content;
  const followed = new Set<ICellModel>();

  const updateAll = () => notebook.widgets.forEach(updateBadge);
  const onMetadata = (model: ICellModel) => {
    const cell = notebook.widgets.find(widget => widget.model === model);
    if (cell) {
      updateBadge(cell);
    }
  };
  const follow = () => {
    const cells = notebook.model?.cells;
    for (let index = 0; cells && index < cells.length; index++) {
      const model = cells.get(index);
      if (!followed.has(model)) {
        followed.add(model);
        model.metadataChanged.connect(onMetadata);
      }
    }
    // Cell widgets are created in a handler of the same signal: update after it.
    requestAnimationFrame(updateAll);
  };

  void panel.context.ready.then(() => {
    if (panel.isDisposed || !notebook.model) {
      return;
    }
    notebook.model.cells.changed.connect(follow);
    follow();
    panel.disposed.connect(() => {
      followed.forEach(model => model.metadataChanged.disconnect(onMetadata));
      followed.clear();
    });
  });
}
