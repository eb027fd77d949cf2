import { expect, test } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

/** Binder's link (`urlpath=lab/tree/demo.ipynb`) on the server the simulation started. */
const LAB_URL = process.env.BINDER_LAB_URL!;
const PANEL = '#jp-promote-panel';

test('binder: the demo opens from the home directory and promotes from the panel', async ({ page }) => {
  expect(LAB_URL, 'BINDER_LAB_URL is set by .ci/binder_build.py').toBeTruthy();
  await page.goto(LAB_URL);
  const button = page.locator('.jp-NotebookPanel-toolbar [data-command="jupyterlab-promote:open"]');
  await expect(button).toBeVisible({ timeout: 120_000 });
  await button.click();
  await expect(page.locator(`${PANEL} .jp-promote-header`)).toContainText('demo.ipynb');

  await page.locator(`${PANEL} .jp-promote-promote-button`).click();
  const result = page.locator(`${PANEL} .jp-promote-result`);
  await expect(result).toBeVisible({ timeout: 9 * 60 * 1000 });
  const shot = path.resolve(__dirname, '..', 'test-results', 'binder-promote-panel.png');
  fs.mkdirSync(path.dirname(shot), { recursive: true });
  await page.locator(PANEL).screenshot({ path: shot });
  await expect(result).toHaveAttribute('data-state', 'ok');
  await expect(result).toContainText(/Committed [0-9a-f]{7}/);
  // The simulation checks this commit on disk.
  const output = await page.locator(`${PANEL} .jp-promote-output`).inputValue();
  const sha = (await result.textContent())!.match(/Committed ([0-9a-f]{7})/)![1];
  fs.writeFileSync(process.env.BINDER_RESULT_FILE!, JSON.stringify({ output, sha }));
});
