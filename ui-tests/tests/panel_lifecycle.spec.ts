/**
 * The generated project's lifecycle from the panel: its stages and search
 * space, then, once promoted, its tests and smoke pipeline run on the server
 * with live output, and the model registry the pipeline fills.
 */
import { expect, test } from '@jupyterlab/galata';
import * as fs from 'fs';
import * as path from 'path';

import { openWithPanel, PANEL } from './panel';

const DEMO = path.resolve(__dirname, '..', '..', 'examples', 'demo.ipynb');

test.describe('The promoted project from the panel', () => {
  test('stages and tuning, then its tests and smoke pipeline run, and the registry shows the champion', async ({
    page,
    tmpPath
  }) => {
    test.setTimeout(10 * 60_000);
    await openWithPanel(page, `${tmpPath}/demo.ipynb`, fs.readFileSync(DEMO, 'utf-8'));

    await page.locator(`${PANEL} .jp-promote-preview-button`).click();
    const stages = page.locator(`${PANEL} .jp-promote-stage-name`);
    await expect(stages.first()).toBeVisible({ timeout: 2 * 60_000 });
    const names = await stages.allTextContents();
    for (const stage of ['data', 'model', 'tune', 'train', 'evaluate', 'final', 'register', 'export']) {
      expect(names).toContain(stage);
    }
    await expect(page.locator(`${PANEL} [data-stage="train"] .jp-promote-tuned`)).toHaveText('lr');
    await expect(page.locator(`${PANEL} .jp-promote-search-space`)).toContainText('lr: loguniform');
    const runTests = page.locator(`${PANEL} .jp-promote-run-tests`);
    await expect(runTests).toBeDisabled(); // nothing promoted yet

    await page.locator(`${PANEL} .jp-promote-promote-button`).click();
    await expect(page.locator(`${PANEL} .jp-promote-result`)).toHaveAttribute('data-state', 'ok', {
      timeout: 5 * 60_000
    });
    await expect(page.locator(`${PANEL} .jp-promote-registry-summary`)).toContainText(
      'no mlflow.db yet'
    );

    const status = page.locator(`${PANEL} .jp-promote-job-status`);
    const output = page.locator(`${PANEL} .jp-promote-job-output`);
    await runTests.click();
    await expect(status).toContainText('python -m pytest -q');
    await expect(status).not.toHaveAttribute('data-state', 'running', { timeout: 5 * 60_000 });
    await expect(output).toContainText(/\d+ passed/);
    await expect(status).toHaveAttribute('data-state', 'passed');

    await page.locator(`${PANEL} .jp-promote-run-smoke`).click();
    await expect(status).toContainText('python -m demo run --smoke');
    await expect(status).not.toHaveAttribute('data-state', 'running', { timeout: 5 * 60_000 });
    await expect(output).toContainText('register: demo v1 is the new champion');
    await expect(status).toHaveAttribute('data-state', 'passed');
    await expect(page.locator(`${PANEL} .jp-promote-registry-summary`)).toHaveText(
      'Registry (demo): 1 version, champion v1.',
      { timeout: 60_000 }
    );
    await expect(page.locator(`${PANEL} .jp-promote-version[data-champion="true"]`)).toContainText(
      'test_acc'
    );

    // Cancel stops a running job; it is offered only while one runs.
    const cancel = page.locator(`${PANEL} .jp-promote-cancel-job`);
    await expect(cancel).toBeHidden();
    await runTests.click();
    await expect(status).toHaveAttribute('data-state', 'running');
    await cancel.click();
    await expect(status).toHaveAttribute('data-state', 'cancelled', { timeout: 30_000 });
    await expect(output).toContainText('[cancelled]');
    await expect(cancel).toBeHidden();
    await expect(runTests).toBeEnabled();

    const shot = path.resolve(__dirname, '..', 'test-results', 'promote-lifecycle.png');
    await page.locator(`${PANEL} .jp-promote-lifecycle`).screenshot({ path: shot });
    await test.info().attach('promote-lifecycle.png', { path: shot, contentType: 'image/png' });
  });
});
