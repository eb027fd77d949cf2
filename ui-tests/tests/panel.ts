/**
 * Opening a notebook with the Promote panel beside it, shared by the specs.
 */
import { expect, IJupyterLabPageFixture } from '@jupyterlab/galata';

export const PANEL = '#jp-promote-panel';

/** Upload `content` as `notebookPath`, open it, open the panel, and wait until its analysis has arrived. */
export async function openWithPanel(
  page: IJupyterLabPageFixture,
  notebookPath: string,
  content: string
): Promise<void> {
  expect(await page.contents.uploadContent(content, 'text', notebookPath)).toBe(true);
  // Galata's openByPath looks the name up in the file browser, where `(v2)` trips it: open by command.
  await page.evaluate(
    notebook => (window as any).jupyterapp.commands.execute('docmanager:open', { path: notebook }),
    notebookPath
  );
  await expect(page.locator('.jp-NotebookPanel .jp-Cell').first()).toBeVisible();
  await page
    .locator('.jp-NotebookPanel-toolbar [data-command="jupyterlab-promote:open"]')
    .click();
  await expect(page.locator(PANEL)).toBeVisible();
  // The analysis has arrived once the graph shows a step.
  await expect(page.locator(`${PANEL} .jp-promote-graph-node`).first()).toBeVisible({
    timeout: 60_000
  });
}
