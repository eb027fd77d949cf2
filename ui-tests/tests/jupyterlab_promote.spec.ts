import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** The repository's own fixture notebooks (tests/fixtures): present in every clone. */
const FIXTURES = path.resolve(__dirname, '..', '..', 'tests', 'fixtures');

/** The notebook to promote: PROMOTE_TEST_NOTEBOOK, else the demo. */
function testNotebook(): string {
  const candidates = [
    process.env.PROMOTE_TEST_NOTEBOOK,
    path.resolve(__dirname, '..', '..', 'examples', 'demo.ipynb')
  ];
  const found = candidates.find(candidate => candidate && fs.existsSync(candidate));
  if (!found) {
    throw new Error(`No test notebook among ${candidates.join(', ')}`);
  }
  return found;
}

/** Index of the first code cell that imports something: `imports` suits it. */
function importCellIndex(notebookPath: string): number {
  const notebook = JSON.parse(fs.readFileSync(notebookPath, 'utf-8'));
  const index = notebook.cells.findIndex((cell: any) => {
    const source = Array.isArray(cell.source) ? cell.source.join('') : cell.source;
    // The first line of Python, past comments and magics such as %matplotlib.
    const code = source
      .split('\n')
      .map((line: string) => line.trim())
      .filter((line: string) => line && !/^[#%!]/.test(line));
    return cell.cell_type === 'code' && /^(import|from)\s/.test(code[0] ?? '');
  });
  if (index < 0) {
    throw new Error(`${notebookPath} has no import cell to tag`);
  }
  return index;
}

const NOTEBOOK = testNotebook();
const NAME = 'demo.ipynb';
const PANEL = '#jp-promote-panel';

/** Upload the notebook into the test folder, open it and the Promote panel. */
async function openNotebookAndPanel(page: IJupyterLabPageFixture, tmpPath: string) {
  const content = fs.readFileSync(NOTEBOOK, 'utf-8');
  expect(await page.contents.uploadContent(content, 'text', `${tmpPath}/${NAME}`)).toBe(true);
  expect(await page.notebook.openByPath(`${tmpPath}/${NAME}`)).toBe(true);
  await page.notebook.activate(NAME);

  // The toolbar button comes from schema/plugin.json (jupyter.lab.toolbars).
  await page
    .locator('.jp-NotebookPanel-toolbar [data-command="jupyterlab-promote:open"]')
    .click();
  await expect(page.locator(PANEL)).toBeVisible();
  await expect(page.locator(`${PANEL} .jp-promote-header`)).toContainText(NAME);
}

/** Set a cell's role through the cell context menu's "Promote role" submenu. */
async function setRoleFromContextMenu(
  page: IJupyterLabPageFixture,
  cellIndex: number,
  role: string
) {
  const cell = await page.notebook.getCellLocator(cellIndex);
  expect(cell).not.toBeNull();
  const prompt = cell!.locator('.jp-InputPrompt');
  await prompt.click();
  await prompt.click({ button: 'right' });
  await page.locator('.lm-Menu-item', { hasText: 'Promote role' }).hover();
  await page
    .locator('#jp-promote-role-menu .lm-Menu-itemLabel', { hasText: new RegExp(`^${role}$`) })
    .click();
  return cell!;
}

async function screenshotPanel(page: IJupyterLabPageFixture, name: string) {
  const file = path.resolve(__dirname, '..', 'test-results', name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await page.locator(PANEL).screenshot({ path: file });
  await test.info().attach(name, { path: file, contentType: 'image/png' });
}

test.describe('Promote panel', () => {
  test('panel: opens, sets a role from the context menu, shows the badge', async ({
    page,
    tmpPath
  }) => {
    await openNotebookAndPanel(page, tmpPath);
    const index = importCellIndex(NOTEBOOK);
    const cell = await setRoleFromContextMenu(page, index, 'imports');

    await expect(cell).toHaveAttribute('data-promote-role', 'imports');
    const tags = await page.evaluate(
      ([cellIndex]) => {
        const app = (window as any).jupyterapp;
        const notebook = app.shell.currentWidget.content;
        return notebook.model.cells.get(cellIndex).getMetadata('tags');
      },
      [index]
    );
    expect(tags).toContain('promote:imports');

    await screenshotPanel(page, 'promote-panel-open.png');
    const whole = path.resolve(__dirname, '..', 'test-results', 'promote-notebook.png');
    await page.screenshot({ path: whole });
    await test.info().attach('promote-notebook.png', { path: whole, contentType: 'image/png' });
  });

  test('promote: preview, promote & commit, then a commit exists on disk', async ({
    page,
    tmpPath
  }) => {
    await openNotebookAndPanel(page, tmpPath);
    await setRoleFromContextMenu(page, importCellIndex(NOTEBOOK), 'imports');

    // The panel saves the notebook first (saveBeforePromote), then previews.
    await page.locator(`${PANEL} .jp-promote-preview-button`).click();
    await expect(page.locator(`${PANEL} .jp-promote-file`).first()).toBeVisible({
      timeout: 120_000
    });
    expect(await page.locator(`${PANEL} .jp-promote-file`).count()).toBeGreaterThan(0);

    await page.locator(`${PANEL} .jp-promote-file summary`).first().click();
    await screenshotPanel(page, 'promote-preview.png');

    await page.locator(`${PANEL} .jp-promote-promote-button`).click();
    const result = page.locator(`${PANEL} .jp-promote-result`);
    await expect(result).toBeVisible({ timeout: 9 * 60 * 1000 });
    await screenshotPanel(page, 'promote-panel.png');
    if (process.env.PROMOTE_DOCS_SCREENSHOT) {
      // The README's screenshot: `PROMOTE_DOCS_SCREENSHOT=1 jlpm playwright test` refreshes docs/promote-panel.png.
      await page
        .locator(PANEL)
        .screenshot({ path: path.resolve(__dirname, '..', '..', 'docs', 'promote-panel.png') });
    }
    await expect(result).toHaveAttribute('data-state', 'ok');
    await expect(result).toContainText(/Committed [0-9a-f]{7}/);

    const output = await page.locator(`${PANEL} .jp-promote-output`).inputValue();
    const root = process.env.JUPYTERLAB_GALATA_ROOT_DIR!;
    // --all: the commit may sit on a promote branch that is not checked out.
    const log = execFileSync('git', ['-C', path.join(root, output), 'log', '--oneline', '--all'], {
      encoding: 'utf-8'
    });
    expect(log.trim().split('\n').length).toBeGreaterThan(0);
    const shortSha = (await result.textContent())!.match(/Committed ([0-9a-f]{7})/)![1];
    expect(log).toContain(shortSha);
  });

  test('hints: a missing dependency shows on both cells and one click fixes it', async ({
    page,
    tmpPath
  }) => {
    // The data cell (4) needs `device` and `make_points`, defined only in untagged cells 2 and 3.
    const content = fs.readFileSync(path.join(FIXTURES, 'hints.ipynb'), 'utf-8');
    expect(await page.contents.uploadContent(content, 'text', `${tmpPath}/hints.ipynb`)).toBe(true);
    expect(await page.notebook.openByPath(`${tmpPath}/hints.ipynb`)).toBe(true);
    await page.notebook.activate('hints.ipynb');
    await page
      .locator('.jp-NotebookPanel-toolbar [data-command="jupyterlab-promote:open"]')
      .click();
    const hints = page.locator('.jp-promote-hint[data-code="PRM003"]');
    // Each missing dependency shows on the cell that defines it and on the cell that uses it.
    await expect(hints).toHaveCount(4, { timeout: 60_000 });
    const whole = path.resolve(__dirname, '..', 'test-results', 'promote-hints.png');
    await page.screenshot({ path: whole });
    await test.info().attach('promote-hints.png', { path: whole, contentType: 'image/png' });

    // Tagging a defining cell removes its missing dependency, without saving first.
    await hints.first().locator('button').click();
    await expect(hints).toHaveCount(2, { timeout: 60_000 });
    await hints.first().locator('button').click();
    await expect(hints).toHaveCount(0, { timeout: 60_000 });
  });
});
