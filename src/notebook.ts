/**
 * Small operations on an open notebook: find a cell by id, reveal it, write
 * its role tag, and read/write the per-notebook target in the metadata.
 */
import { ICellModel } from '@jupyterlab/cells';
import { INotebookModel, Notebook } from '@jupyterlab/notebook';

import { RoleChoice, tagsWithRole } from './model';
import { ITarget, METADATA_KEY } from './tokens';

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

/** Select exactly these cells (by id), the first one active and in view. */
export async function selectCells(
  notebook: Notebook,
  cellIds: readonly string[]
): Promise<number> {
  const indexes = cellIds
    .map(id => findCellIndex(notebook, id))
    .filter(index => index >= 0)
    .sort((a, b) => a - b);
  if (indexes.length === 0) {
    return 0;
  }
  notebook.mode = 'command';
  notebook.activeCellIndex = indexes[0];
  notebook.deselectAll();
  for (const index of indexes) {
    notebook.select(notebook.widgets[index]);
  }
  await notebook.scrollToCell(notebook.widgets[indexes[0]], 'center');
  return indexes.length;
}

const HIGHLIGHT = 'jp-promote-flow';

/**
 * Mark cells (by id) with `data-promote-flow` = `defines`, `uses` or both;
 * every other cell loses the mark. An empty map clears all.
 */
export function markFlowCells(
  notebook: Notebook,
  marks: ReadonlyMap<string, string>
): void {
  for (const cell of notebook.widgets) {
    const mark = marks.get(cell.model.id);
    cell.toggleClass(HIGHLIGHT, mark !== undefined);
    if (mark) {
      cell.node.dataset.promoteFlow = mark;
    } else {
      delete cell.node.dataset.promoteFlow;
    }
  }
}

export function cellTags(cell: ICellModel): string[] {
  const tags = cell.getMetadata('tags');
  return Array.isArray(tags) ? tags.filter(tag => typeof tag === 'string') : [];
}

/** Replace the cell's role tag; `null` removes it. */
export function setCellRole(cell: ICellModel, role: RoleChoice | null): void {
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
  role: RoleChoice | null
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
