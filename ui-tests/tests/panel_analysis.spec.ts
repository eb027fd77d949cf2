/**
 * The panel shows the server's analysis and computes none of it: the status
 * line, names shared with the CLI, badges of `# promote:` directives, custom
 * steps in the role menu, the pipeline graph, Verify, and generated files.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { openWithPanel, PANEL } from './panel';

const REPO = path.resolve(__dirname, '..', '..');
const DEMO = path.join(REPO, 'examples', 'demo.ipynb');
/** An awkward name: spaces, parentheses, capitals (package `my_model_v2`). */
const AWKWARD = 'My Model (v2).ipynb';

function code(id: string, source: string, tags: string[] = []) {
  return {
    cell_type: 'code',
    id,
    metadata: tags.length > 0 ? { tags } : {},
    execution_count: null,
    outputs: [],
    source
  };
}

/**
 * A notebook that runs in a second, with every way to give a role: a tag, a
 * `# promote:` directive (no tag), a custom step (Kale's `step:`), an
 * untagged helper the custom step pulls in, and an untagged cell to retag.
 */
function tinyNotebook(): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' }
    },
    cells: [
      code('imports', 'import random'),
      code('params', 'n = 40\nseed = 3\nrandom.seed(seed)', ['parameters']),
      code('directive', '# promote: data\nvalues = [random.random() for _ in range(n)]'),
      code('helper', 'def scale(xs):\n    return [2 * x for x in xs]'),
      // Before the step: after it, Kale's rule would make it part of the step.
      code('loose', 'doubled = [2 * v for v in values]'),
      code('rescale', 'scaled = scale(values)', ['step:rescale']),
      code('metrics', 'mean = sum(scaled) / n\nlargest = max(scaled)', ['promote:evaluate'])
    ]
  });
}

async function cellTags(page: IJupyterLabPageFixture, index: number): Promise<string[]> {
  return page.evaluate(cellIndex => {
    const notebook = (window as any).jupyterapp.shell.currentWidget.content;
    return notebook.model.cells.get(cellIndex).getMetadata('tags') ?? [];
  }, index);
}

/** Every file under `top`, relative, without .git. */
function filesUnder(top: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === '.git') {
        continue;
      }
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(full);
      } else {
        found.push(path.relative(top, full));
      }
    }
  };
  walk(top);
  return found.sort();
}

async function screenshot(page: IJupyterLabPageFixture, selector: string, name: string) {
  const file = path.resolve(__dirname, '..', 'test-results', name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await page.locator(selector).screenshot({ path: file });
  await test.info().attach(name, { path: file, contentType: 'image/png' });
  return file;
}

test.describe('Panel shows the server analysis', () => {
  test('status line clears once the analysis is shown', async ({ page, tmpPath }) => {
    await openWithPanel(page, `${tmpPath}/demo.ipynb`, fs.readFileSync(DEMO, 'utf-8'));
    await expect(page.locator(`${PANEL} .jp-promote-statusline`)).toHaveText('');
    // Re-analyzing passes through "Analyzing…" and clears again.
    await page.locator(`${PANEL} .jp-promote-analyze-button`).click();
    await expect(page.locator(`${PANEL} .jp-promote-statusline`)).toHaveText('', {
      timeout: 60_000
    });
  });

  test('an awkward name gets the same package and files from the panel as from the CLI', async ({
    page,
    tmpPath
  }) => {
    const notebook = `${tmpPath}/${AWKWARD}`;
    await openWithPanel(page, notebook, tinyNotebook());
    await expect(page.locator(`${PANEL} .jp-promote-name`)).toHaveValue('my_model_v2');
    await expect(page.locator(`${PANEL} .jp-promote-output`)).toHaveValue(
      `${tmpPath}/My Model (v2)_project`
    );

    await page.locator(`${PANEL} .jp-promote-promote-button`).click();
    const result = page.locator(`${PANEL} .jp-promote-result`);
    await expect(result).toHaveAttribute('data-state', 'ok', { timeout: 5 * 60_000 });
    await expect(result).toContainText(/Committed [0-9a-f]{7}/);

    // The CLI on a copy of the notebook elsewhere, with its own default output.
    const root = process.env.JUPYTERLAB_GALATA_ROOT_DIR!;
    const cliDir = path.join(root, `${tmpPath}-cli`);
    fs.mkdirSync(cliDir, { recursive: true });
    fs.copyFileSync(path.join(root, notebook), path.join(cliDir, AWKWARD));
    const reply = JSON.parse(
      execFileSync('python', ['-m', 'jupyterlab_promote.app', path.join(cliDir, AWKWARD), '--json'], {
        cwd: REPO,
        encoding: 'utf-8'
      })
    );
    expect(reply.ok).toBe(true);
    expect(reply.package).toBe('my_model_v2');
    expect(reply.output).toBe(path.join(cliDir, 'My Model (v2)_project'));
    const panelFiles = filesUnder(path.join(root, tmpPath, 'My Model (v2)_project'));
    expect(panelFiles).toContain('src/my_model_v2/pipeline.py');
    expect(filesUnder(reply.output)).toEqual(panelFiles);
  });

  test('a cell with a # promote: directive gets its badge', async ({ page, tmpPath }) => {
    await openWithPanel(page, `${tmpPath}/${AWKWARD}`, tinyNotebook());
    const cell = page.locator('.jp-Notebook .jp-Cell').nth(2);
    await expect(cell).toHaveAttribute('data-promote-role', 'data');
    await expect(cell).toHaveAttribute('data-promote-role-source', 'directive');
    expect(await cellTags(page, 2)).toEqual([]);
    await expect(page.locator('.jp-Notebook .jp-Cell').nth(5)).toHaveAttribute(
      'data-promote-role',
      'step: rescale'
    );
    // The custom step's node marks the helper it pulls in and the PRM003 warning about it.
    const rescale = page.locator(`${PANEL} .jp-promote-graph [data-step="rescale"]`);
    await expect(rescale).toHaveAttribute('data-pulled', '1');
    await expect(rescale).toHaveAttribute('data-severity', 'warning');
    await expect(rescale.locator('.jp-promote-graph-meta').first()).toHaveText(
      '1 cell + 1 pulled in'
    );
    await screenshot(page, `${PANEL} .jp-promote-graph`, 'pipeline-graph-custom-step.png');
  });

  test('the role menu offers the notebook\'s custom steps', async ({ page, tmpPath }) => {
    await openWithPanel(page, `${tmpPath}/${AWKWARD}`, tinyNotebook());
    const cell = page.locator('.jp-Notebook .jp-Cell').nth(4);
    await expect(cell).not.toHaveAttribute('data-promote-role', /.*/);
    const prompt = cell.locator('.jp-InputPrompt');
    await prompt.click();
    await prompt.click({ button: 'right' });
    await page.locator('.lm-Menu-item', { hasText: 'Promote role' }).hover();
    const item = page.locator('#jp-promote-role-menu .lm-Menu-itemLabel', {
      hasText: /^step: rescale$/
    });
    await expect(item).toBeVisible();
    await item.click();
    expect(await cellTags(page, 4)).toEqual(['step:rescale']);
    await expect(cell).toHaveAttribute('data-promote-role', 'step: rescale', {
      timeout: 60_000
    });
  });
});

test.describe('Pipeline graph', () => {
  test('the demo: a node per step, labelled edges, a click selects the cells', async ({
    page,
    tmpPath
  }) => {
    await openWithPanel(page, `${tmpPath}/demo.ipynb`, fs.readFileSync(DEMO, 'utf-8'));
    const graph = `${PANEL} .jp-promote-graph`;
    const nodes = page.locator(`${graph} .jp-promote-graph-node`);
    await expect(nodes).toHaveCount(5);
    for (const step of ['data', 'model', 'train', 'evaluate', 'export']) {
      await expect(page.locator(`${graph} [data-step="${step}"]`)).toBeVisible();
    }
    await expect(page.locator(`${graph} [data-step="data"] .jp-promote-graph-meta`)).toHaveText([
      '1 cell',
      'reads n_samples,',
      'noise, seed,',
      'batch_size'
    ]);
    await expect(page.locator(`${graph} [data-edge="data->train"] text`)).toHaveText(
      'train_loader'
    );
    await expect(page.locator(`${graph} [data-edge="model->train"] text`)).toHaveText(
      'model, device'
    );
    await screenshot(page, graph, 'pipeline-graph.png');
    if (process.env.PROMOTE_DOCS_SCREENSHOT) {
      // docs/pipeline-graph.png: `PROMOTE_DOCS_SCREENSHOT=1 jlpm playwright test -g demo`, the side panel widened.
      await page.evaluate(() => {
        const split = (window as any).jupyterapp.shell._hsplitPanel;
        const [left, main, right] = split.relativeSizes();
        split.setRelativeSizes([left, main + right - 0.42, 0.42]);
      });
      await page.waitForTimeout(500);
      await page.locator(`${PANEL} .jp-promote-graph-svg`).waitFor();
      await page.locator(graph).screenshot({
        path: path.join(REPO, 'docs', 'pipeline-graph.png')
      });
    }

    // Hovering an edge names its defining and using cells and marks them in the notebook.
    await page.locator(`${graph} [data-edge="data->train"] text`).hover();
    const detail = page.locator(`${graph} .jp-promote-graph-detail`);
    await expect(detail).toContainText('defined in cell 3');
    await expect(detail).toContainText('used in cell 6');
    await expect(page.locator('.jp-Notebook .jp-Cell').nth(3)).toHaveAttribute(
      'data-promote-flow',
      'defines'
    );

    // Clicking the train node selects its cell (index 6).
    await page.locator(`${graph} [data-step="train"]`).click();
    const active = await page.evaluate(() => {
      const notebook = (window as any).jupyterapp.shell.currentWidget.content;
      return notebook.activeCellIndex;
    });
    expect(active).toBe(6);
  });
});

test.describe('Lifecycle from the panel', () => {
  test('verify shows the table with a verdict', async ({ page, tmpPath }) => {
    await openWithPanel(page, `${tmpPath}/${AWKWARD}`, tinyNotebook());
    await page.locator(`${PANEL} .jp-promote-verify-button`).click();
    const verdict = page.locator(`${PANEL} .jp-promote-verify-verdict`).first();
    const failed = page.locator(`${PANEL} .jp-promote-result[data-state="error"]`);
    await expect(verdict.or(failed)).toBeVisible({ timeout: 8 * 60_000 });
    // A failed run says why here rather than at the timeout.
    expect(await failed.isVisible() ? await failed.textContent() : '').toBe('');
    await expect(verdict).toHaveText('ok');
    await screenshot(page, `${PANEL} .jp-promote-verify-table`, 'promote-verify.png');
  });

  test('a generated file opens: read-only before promotion, the working copy after', async ({
    page,
    tmpPath
  }) => {
    await openWithPanel(page, `${tmpPath}/${AWKWARD}`, tinyNotebook());
    await page.locator(`${PANEL} .jp-promote-preview-button`).click();
    const pipelineFile = page.locator(`${PANEL} .jp-promote-file`, {
      has: page.locator('.jp-promote-path', { hasText: /^src\/my_model_v2\/pipeline\.py$/ })
    });
    await expect(pipelineFile).toBeVisible({ timeout: 2 * 60_000 });
    await pipelineFile.locator('.jp-promote-open-file').click();
    const pristine = page.locator('.jp-promote-pristine');
    await expect(pristine).toBeVisible();
    await expect(pristine).toContainText('def ');
    const currentTab = page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab.jp-mod-current');
    await expect(currentTab).toContainText('pipeline.py (generated, read-only)');

    await page.locator(`${PANEL} .jp-promote-promote-button`).click();
    await expect(page.locator(`${PANEL} .jp-promote-result`)).toHaveAttribute(
      'data-state',
      'ok',
      { timeout: 5 * 60_000 }
    );
    await page.locator(`${PANEL} .jp-promote-preview-button`).click();
    await expect(pipelineFile).toBeVisible({ timeout: 2 * 60_000 });
    await pipelineFile.locator('.jp-promote-open-file').click();
    await expect(currentTab).toHaveText(/^pipeline\.py$/);
    await expect(page.locator('.jp-FileEditor .cm-content').last()).toContainText('def ');
  });
});
