/**
 * The Promote side panel for the current notebook: target inputs, preview,
 * promote & commit, diagnostics and cells grouped by role.
 */
import { ICellModel } from '@jupyterlab/cells';
import {
  INotebookModel,
  INotebookTracker,
  NotebookPanel
} from '@jupyterlab/notebook';
import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { errorMessage, PromoteClient, promoteRequest } from '../handler';
import { runVerify, summarizeVerify } from '../verify';
import { renderVerifyResult } from './verifyTable';
import { IProjectReply, LifecycleView } from './lifecycle';
import { promoteIcon } from '../icons';
import {
  addedFileText,
  changedFiles,
  RoleChoice,
  summarizeResult
} from '../model';
import {
  markFlowCells,
  readTarget,
  revealCell,
  selectCells,
  setRoleById,
  writeTarget
} from '../notebook';
import { showBadges } from './badges';
import { showHints } from './hints';
import { PipelineGraphView } from './pipelineGraph';
import {
  IDiagnostic,
  IFileChange,
  IPlan,
  ISettings,
  ITarget,
  PANEL_ID
} from '../tokens';
import { fill, h } from './dom';
import {
  ICellActions,
  renderDiagnostics,
  renderFiles,
  renderRoleGroups
} from './views';

/** Quiet time after the last edit before the notebook is analyzed again. */
const ANALYZE_DELAY_MS = 800;

export interface IPromotePanelOptions {
  client: PromoteClient;
  tracker: INotebookTracker;
  settings: () => ISettings;
  /** Open a generated file: `path` relative to the server root, `pristine` its generated text if known. */
  openFile: (path: string, pristine: string | null) => Promise<void>;
}

type Busy = 'preview' | 'promote' | 'verify' | null;

export class PromotePanel extends Widget {
  constructor(options: IPromotePanelOptions) {
    super();
    this.id = PANEL_ID;
    this.addClass('jp-promote-panel');
    this.title.icon = promoteIcon;
    this.title.caption = 'Promote notebook to a package';
    this._client = options.client;
    this._tracker = options.tracker;
    this._settings = options.settings;
    this._openFile = options.openFile;
    this._lifecycle = new LifecycleView({
      client: options.client,
      openFile: path =>
        void this._openFile(path, null).catch(error =>
          this._setResult(`Cannot open ${path}: ${errorMessage(error)}`, true)
        )
    });
    this._build();
    this._tracker.currentChanged.connect(this._onCurrentChanged, this);
    this._onCurrentChanged();
  }

  /** The notebook the panel works on. */
  get notebook(): NotebookPanel | null {
    return this._notebook;
  }

  /** The server's latest analysis of that notebook, null before the first one. */
  get plan(): IPlan | null {
    return this._plan;
  }

  /** A new analysis arrived (or the notebook changed: null). */
  get planChanged(): ISignal<this, IPlan | null> {
    return this._planChanged;
  }

  /** Show (text) or hide (null) the server-version banner. */
  setServerProblem(text: string | null): void {
    this._banner.hidden = text === null;
    this._banner.textContent = text ?? '';
  }

  /** Analyze the current notebook now. */
  async analyze(): Promise<void> {
    window.clearTimeout(this._timer);
    const panel = this._notebook;
    if (!panel) {
      return;
    }
    const generation = ++this._generation;
    this._status.textContent = 'Analyzing…';
    try {
      const name = this._nameInput.value.trim() || undefined;
      const plan = await this._client.analyze(
        panel.context.path,
        name,
        panel.context.model.toJSON(),
        this._settings().outputPattern || undefined
      );
      if (generation === this._generation && panel === this._notebook) {
        this._status.textContent = '';
        this._showPlan(plan);
      }
    } catch (error) {
      if (generation === this._generation) {
        this._status.textContent = `Analysis failed: ${errorMessage(error)}`;
      }
    }
  }

  async preview(): Promise<void> {
    const request = await this._prepare('preview');
    if (!request) {
      return;
    }
    try {
      const preview = await this._client.preview(request);
      const changed = changedFiles(preview.files).length;
      fill(
        this._previewBody,
        h('p', {
          className: 'jp-promote-preview-summary',
          text: `${preview.files.length} files in ${preview.output}/ (${changed} changed)`
        }),
        renderFiles(
          preview.files,
          file => void this._open(preview.output, file)
        ),
        preview.diagnostics.length > 0 &&
          renderDiagnostics(preview.diagnostics, this._actions)
      );
      this._previewSection.hidden = false;
      this._previewSection.open = true;
      this._previewSection.scrollIntoView({ block: 'nearest' });
      this._showLifecycle(preview, false);
      this._setResult(
        preview.ok ? '' : 'Preview has errors, see below.',
        !preview.ok
      );
    } catch (error) {
      this._setResult(errorMessage(error), true);
    } finally {
      this._setBusy(null);
    }
  }

  async promote(): Promise<void> {
    const request = await this._prepare('promote');
    if (!request) {
      return;
    }
    try {
      const result = await this._client.promote(request);
      const failed = !result.ok || result.conflicts.length > 0;
      if (!this._outputInput.value.trim()) {
        // Promoted before the first analysis named the default: show where the project went.
        this._outputInput.value = result.output;
      }
      this._setResult(summarizeResult(result), failed);
      this._showLifecycle(result, result.ok);
      if (result.diagnostics.length > 0) {
        this._showDiagnostics(result.diagnostics);
      }
    } catch (error) {
      this._setResult(errorMessage(error), true);
    } finally {
      this._setBusy(null);
    }
  }

  /** Promote, then run notebook and package in the background and compare their metrics. */
  async verify(): Promise<void> {
    const request = await this._prepare('verify');
    if (!request) {
      return;
    }
    try {
      const result = await runVerify(this._client, request, {
        onProgress: message => this._showProgress(`Verifying: ${message}…`)
      });
      fill(this._verifyBody, renderVerifyResult(result));
      this._verifySection.hidden = false;
      this._verifySection.open = true;
      this._setResult(summarizeVerify(result), !result.ok);
      if (result.promotion) {
        this._showLifecycle(result.promotion, result.promotion.ok);
      }
    } catch (error) {
      this._setResult(errorMessage(error), true);
    } finally {
      this._setBusy(null);
    }
  }

  dispose(): void {
    window.clearTimeout(this._timer);
    this._connect(null);
    super.dispose();
  }

  /** Save if asked to, remember the target, and mark the panel busy. */
  private async _prepare(busy: Exclude<Busy, null>) {
    const panel = this._notebook;
    if (!panel || this._busy) {
      return null;
    }
    this._setBusy(busy);
    this._setResult('', false);
    const target = this._target();
    try {
      writeTarget(panel.context.model, target);
      if (this._settings().saveBeforePromote && panel.context.model.dirty) {
        await panel.context.save();
      }
    } catch (error) {
      this._setBusy(null);
      this._setResult(
        `Could not save the notebook: ${errorMessage(error)}`,
        true
      );
      return null;
    }
    // The template setting goes with preview and promote; verify runs the built-in layout only.
    const template = busy === 'verify' ? '' : this._settings().template;
    return promoteRequest(panel.context.path, target, template);
  }

  private _build(): void {
    this._banner.hidden = true;
    this._outputInput.placeholder = 'output directory';
    this._nameInput.placeholder = 'package name';
    this._outputInput.addEventListener('change', () => this._storeTarget());
    this._nameInput.addEventListener('change', () => this._storeTarget());
    this._progress.hidden = true;
    this._previewSection.hidden = true;
    this._verifySection.hidden = true;
    this._lifecycleSection.append(this._lifecycle.node);
    this._lifecycleSection.hidden = true;
    this._diagnosticsSection.open = true;
    this._rolesSection.open = true;
    this._graphSection.open = true;

    this.node.append(
      this._banner,
      h(
        'div',
        { className: 'jp-promote-header' },
        h('h3', { text: 'Promote' }),
        this._path
      ),
      h(
        'div',
        { className: 'jp-promote-form' },
        h('label', { text: 'Target directory' }, this._outputInput),
        h('label', { text: 'Package name' }, this._nameInput),
        h(
          'div',
          { className: 'jp-promote-buttons' },
          this._previewButton,
          this._promoteButton,
          this._verifyButton,
          this._analyzeButton
        ),
        this._progress,
        this._result
      ),
      this._status,
      this._previewSection,
      this._verifySection,
      this._lifecycleSection,
      this._graphSection,
      this._diagnosticsSection,
      this._rolesSection
    );
  }

  private _onCurrentChanged(): void {
    const panel = this._tracker.currentWidget;
    if (panel === this._notebook) {
      return;
    }
    this._connect(panel);
    this._generation++;
    this._plan = null;
    this._planChanged.emit(null);
    void this._graph.update(null);
    this._nameInput.placeholder = 'package name';
    this._outputInput.placeholder = 'output directory';
    fill(this._diagnosticsBody);
    fill(this._rolesBody);
    fill(this._previewBody);
    fill(this._verifyBody);
    this._previewSection.hidden = true;
    this._verifySection.hidden = true;
    this._lifecycle.clear();
    this._lifecycleSection.hidden = true;
    this._setResult('', false);
    this._path.textContent = panel ? panel.context.path : 'No notebook open.';
    this._setBusy(this._busy);
    if (panel) {
      void panel.context.ready.then(() => {
        if (panel === this._notebook) {
          this._syncInputs(true);
          void this.analyze();
        }
      });
    }
  }

  /** Follow the signals of one notebook (or none). */
  private _connect(panel: NotebookPanel | null): void {
    const old = this._notebook;
    if (old && !old.isDisposed) {
      old.context.saveState.disconnect(this._onSaveState, this);
      old.context.model.cells.changed.disconnect(this._onCellsChanged, this);
      old.context.model.metadataChanged.disconnect(
        this._onNotebookMetadata,
        this
      );
      old.disposed.disconnect(this._onNotebookDisposed, this);
    }
    for (const cell of this._cells) {
      cell.metadataChanged.disconnect(this._schedule, this);
    }
    this._cells.clear();
    this._notebook = panel;
    if (!panel) {
      return;
    }
    const model = panel.context.model;
    panel.context.saveState.connect(this._onSaveState, this);
    model.cells.changed.connect(this._onCellsChanged, this);
    model.metadataChanged.connect(this._onNotebookMetadata, this);
    panel.disposed.connect(this._onNotebookDisposed, this);
    this._followCells(model);
  }

  private _followCells(model: INotebookModel): void {
    for (let index = 0; index < model.cells.length; index++) {
      const cell = model.cells.get(index);
      if (!this._cells.has(cell)) {
        this._cells.add(cell);
        cell.metadataChanged.connect(this._schedule, this);
      }
    }
  }

  private _onCellsChanged(): void {
    if (this._notebook) {
      this._followCells(this._notebook.context.model);
    }
    this._schedule();
  }

  private _onNotebookMetadata(): void {
    this._syncInputs(false);
    this._schedule();
  }

  private _onSaveState(_: unknown, state: string): void {
    if (state === 'completed') {
      void this.analyze();
    }
  }

  private _onNotebookDisposed(): void {
    this._connect(null);
    this._onCurrentChanged();
  }

  /** Re-analyze once edits have been quiet for a while. */
  private _schedule(): void {
    window.clearTimeout(this._timer);
    this._timer = window.setTimeout(
      () => void this.analyze(),
      ANALYZE_DELAY_MS
    );
  }

  /** Everything shown comes from the analysis: names, badges, graph, lists. */
  private _showPlan(plan: IPlan): void {
    this._plan = plan;
    this._showDiagnostics(plan.diagnostics);
    if (this._notebook) {
      showHints(this._notebook, plan, this._actions.setRole);
      showBadges(this._notebook.content, plan);
    }
    void this._graph.update(plan);
    fill(this._rolesBody, renderRoleGroups(plan.cells, this._actions));
    this._nameInput.placeholder = plan.package;
    this._outputInput.placeholder = plan.output;
    for (const [input, value] of [
      [this._nameInput, plan.package],
      [this._outputInput, plan.output]
    ] as const) {
      if (!input.value && document.activeElement !== input) {
        input.value = value;
      }
    }
    this._planChanged.emit(plan);
  }

  /** The working copy of a generated file when it exists, else its pristine text read-only. */
  private async _open(output: string, file: IFileChange): Promise<void> {
    const path = output === '.' ? file.path : `${output}/${file.path}`;
    try {
      await this._openFile(
        path,
        file.status === 'added' ? addedFileText(file.diff) : null
      );
    } catch (error) {
      this._setResult(`Cannot open ${path}: ${errorMessage(error)}`, true);
    }
  }

  /** Stages, tuning and hand edits of a preview or promotion; jobs and registry once `promoted`. */
  private _showLifecycle(reply: IProjectReply, promoted: boolean): void {
    this._lifecycle.show(reply, promoted);
    this._lifecycleSection.hidden = false;
    this._lifecycleSection.open = true;
  }

  private _showDiagnostics(diagnostics: readonly IDiagnostic[]): void {
    fill(this._diagnosticsBody, renderDiagnostics(diagnostics, this._actions));
    const summary = this._diagnosticsSection.querySelector('summary');
    if (summary) {
      summary.textContent = `Diagnostics (${diagnostics.length})`;
    }
  }

  /** Fill the inputs from notebook metadata; the analysis fills the others in. */
  private _syncInputs(force: boolean): void {
    const panel = this._notebook;
    if (!panel) {
      return;
    }
    const stored = readTarget(panel.context.model);
    const values: ITarget = {
      output: stored.output ?? this._plan?.output ?? '',
      name: stored.name ?? this._plan?.package ?? ''
    };
    for (const [input, value] of [
      [this._outputInput, values.output],
      [this._nameInput, values.name]
    ] as const) {
      if (force || document.activeElement !== input) {
        input.value = value;
      }
    }
  }

  /** Blank inputs take the server's names from the analysis (blank again without one: the server's defaults). */
  private _target(): ITarget {
    return {
      output: this._outputInput.value.trim() || this._plan?.output || '',
      name: this._nameInput.value.trim() || this._plan?.package || ''
    };
  }

  private _storeTarget(): void {
    if (this._notebook) {
      writeTarget(this._notebook.context.model, this._target());
    }
  }

  private _setBusy(busy: Busy): void {
    this._busy = busy;
    const idle = busy === null && this._notebook !== null;
    this._previewButton.disabled = !idle;
    this._promoteButton.disabled = !idle;
    this._verifyButton.disabled = !idle;
    this._analyzeButton.disabled = this._notebook === null;
    this._progress.hidden = busy === null;
    this._progress.dataset.busy = busy ?? '';
    this._showProgress(
      busy === 'promote'
        ? 'Generating, checking and committing…'
        : busy === 'preview'
          ? 'Rendering preview…'
          : busy === 'verify'
            ? 'Promoting, then running notebook and package…'
            : ''
    );
  }

  private _showProgress(text: string): void {
    fill(this._progress, h('span', { className: 'jp-promote-spinner' }), text);
  }

  private _setResult(text: string, failed: boolean): void {
    this._result.textContent = text;
    this._result.hidden = text === '';
    this._result.dataset.state = failed ? 'error' : 'ok';
  }

  private readonly _actions: ICellActions = {
    reveal: (cellId, index) => {
      const panel = this._notebook;
      if (panel) {
        void revealCell(panel.content, cellId, index).then(found => {
          if (found) {
            this._tracker.currentWidget?.activate();
          }
        });
      }
    },
    setRole: (cellId: string, role: RoleChoice) => {
      if (this._notebook) {
        setRoleById(this._notebook.content, cellId, role);
      }
    }
  };

  private readonly _graph = new PipelineGraphView({
    selectCells: cells => {
      const panel = this._notebook;
      if (panel) {
        void selectCells(
          panel.content,
          cells.map(cell => cell.id)
        ).then(count => {
          if (count > 0) {
            this._tracker.currentWidget?.activate();
          }
        });
      }
    },
    highlightCells: edge => {
      const panel = this._notebook;
      if (!panel) {
        return;
      }
      const marks = new Map<string, string>();
      for (const cell of edge?.definedIn ?? []) {
        marks.set(cell.id, 'defines');
      }
      for (const cell of edge?.usedIn ?? []) {
        marks.set(cell.id, marks.has(cell.id) ? 'defines uses' : 'uses');
      }
      markFlowCells(panel.content, marks);
    }
  });

  private _section(title: string, body: HTMLElement): HTMLDetailsElement {
    return h(
      'details',
      { className: 'jp-promote-section' },
      h('summary', { text: title }),
      body
    );
  }

  private readonly _client: PromoteClient;
  private readonly _tracker: INotebookTracker;
  private readonly _settings: () => ISettings;
  private readonly _openFile: IPromotePanelOptions['openFile'];
  private readonly _lifecycle: LifecycleView;
  private _notebook: NotebookPanel | null = null;
  private _plan: IPlan | null = null;
  private readonly _planChanged = new Signal<this, IPlan | null>(this);
  private _busy: Busy = null;
  private _timer = 0;
  private _generation = 0;
  private readonly _cells = new Set<ICellModel>();

  private readonly _banner = h('div', { className: 'jp-promote-banner' });
  private readonly _path = h('div', { className: 'jp-promote-path' });
  private readonly _outputInput = h('input', {
    className: 'jp-mod-styled jp-promote-output',
    attrs: { type: 'text', name: 'output' }
  });
  private readonly _nameInput = h('input', {
    className: 'jp-mod-styled jp-promote-name',
    attrs: { type: 'text', name: 'name' }
  });
  private readonly _previewButton = h('button', {
    className: 'jp-mod-styled jp-promote-preview-button',
    text: 'Preview',
    onClick: () => void this.preview()
  });
  private readonly _promoteButton = h('button', {
    className: 'jp-mod-styled jp-mod-accept jp-promote-promote-button',
    text: 'Promote & commit',
    onClick: () => void this.promote()
  });
  private readonly _verifyButton = h('button', {
    className: 'jp-mod-styled jp-promote-verify-button',
    text: 'Verify',
    title:
      'Promote, then run the notebook and the package with the same parameters and compare their metrics',
    onClick: () => void this.verify()
  });
  private readonly _analyzeButton = h('button', {
    className: 'jp-mod-styled jp-promote-analyze-button',
    text: 'Re-analyze',
    onClick: () => void this.analyze()
  });
  private readonly _progress = h('div', { className: 'jp-promote-progress' });
  private readonly _result = h('div', { className: 'jp-promote-result' });
  private readonly _status = h('div', { className: 'jp-promote-statusline' });
  private readonly _diagnosticsBody = h('div');
  private readonly _rolesBody = h('div');
  private readonly _previewBody = h('div');
  private readonly _diagnosticsSection = this._section(
    'Diagnostics',
    this._diagnosticsBody
  );
  private readonly _rolesSection = this._section(
    'Cells by role',
    this._rolesBody
  );
  private readonly _previewSection = this._section(
    'Preview',
    this._previewBody
  );
  private readonly _graphSection = this._section('Pipeline', this._graph.node);
  private readonly _lifecycleSection = h(
    'details',
    { className: 'jp-promote-section jp-promote-lifecycle-section' },
    h('summary', { text: 'Stages, tuning, runs & registry' })
  );
  private readonly _verifyBody = h('div');
  private readonly _verifySection = this._section(
    'Verify: notebook vs package',
    this._verifyBody
  );
}
