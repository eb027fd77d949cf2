/**
 * Small operations on an open notebook: find a cell by id, reveal it, write
 * its role tag, and read/write the per-notebook target in the metadata.
 */
import { ICellModel } from '@jupyterlab/cells';
import { INotebookModel, Notebook } from '@jupyterlab/notebook';

import { tagsWithRole } from './model';
import { ITarget, METADATA_KEY, Role } from './tokens';

export function findCellIndex(notebook: Notebook, cellId: string): number {
  const cells = notebook.model?.cells;
  if (!cells) {
    return -1;
  }
  for (let index = 0; index < cells.length; index++) {
    if (cells.get(index).id === cellId) {
      return index;
    }
  }
  return -1;
}

/**
 * Select a cell and scroll it into view. The id is preferred; the index is a
 * fallback for a plan computed before cells moved.
 */
export async function revealCell(
  notebook: Notebook,
  cellId: string | null,
  fallbackIndex: number | null = null
): Promise<boolean> {
  let index = cellId ? findCellIndex(notebook, cellId) : -1;
  if (
    index < 0 &&
    fallbackIndex !== null &&
    fallbackIndex < notebook.widgets.length
  ) {
    index = fallbackIndex;
  }
  if (index < 0) {
    return false;
  }
  notebook.deselectAll();
  notebook.activeCellIndex = index;
  notebook.mode = 'command';
  await notebook.scrollToCell(notebook.widgets[index], 'center');
  return true;
}

export function cellTags(cell: ICellModel): string[] {
  const tags = cell.getMetadata('tags');
  return Array.isArray(tags) ? tags.filter(tag => typeof tag === 'string') : [];
}

/** Replace the cell's role tag; `null` removes it. */
export function setCellRole(cell: ICellModel, role: Role | null): void {
  const tags = tagsWithRole(cellTags(cell), role);
  if (tags.length > 0) {
    cell.setMetadata('tags', tags);
  } else {
    cell.deleteMetadata('tags');
  }
}

export function setRoleById(
  notebook: Notebook,
  cellId: string,
  role: Role | null
): boolean {
  const index = findCellIndex(notebook, cellId);
  if (index < 0 || !notebook.model) {
    return false;
  }
  setCellRole(notebook.model.cells.get(index), role);
  return true;
}

export function readTarget(model: INotebookModel): Partial<ITarget> {
  const stored = model.getMetadata(METADATA_KEY);
  if (!stored || typeof stored !== 'object') {
    return {};
  }
  const target: Partial<ITarget> = {};
  if (typeof stored.output === 'string') {
    target.output = stored.output;
  }
  if (typeof stored.name === 'string') {
    target.name = stored.name;
  }
  return target;
}

/** Writes only on change, so that re-saving the same target keeps the notebook clean. */
export function writeTarget(model: INotebookModel, target: ITarget): void {
  const stored = readTarget(model);
  if (stored.output === target.output && stored.name === target.name) {
    return;
  }
  model.setMetadata(METADATA_KEY, { output: target.output, name: target.name });
}
