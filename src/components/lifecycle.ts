/**
 * The panel's lifecycle section for the generated project: its stages with the
 * config keys each reads and the `# tune:` search space, the hand edits the last
 * merge kept, and, once promoted, buttons that run its smoke pipeline or tests
 * on the server (live output, Cancel) and its model registry.
 */
import { errorMessage, PromoteClient } from '../handler';
import {
  IJobOutcome,
  JOB_LABELS,
  jobSummary,
  registryRows,
  registrySummary,
  runJob,
  searchSpaceLines,
  stageRows
} from '../lifecycle';
import { IJob, IMlopsStage, JobKind } from '../tokens';
import { fill, h } from './dom';

/** What preview and promote both answer with: the project's stages, search space and hand edits. */
export interface IProjectReply {
  output: string;
  stages: IMlopsStage[];
  search_space: { [parameter: string]: string };
  hand_edits: string[];
}

export interface ILifecycleOptions {
  client: PromoteClient;
  /** Open a file of the project (path relative to the server root) in the editor. */
  openFile: (path: string) => void;
}

function renderStages(reply: IProjectReply): HTMLElement {
  const rows = stageRows(reply.stages, reply.search_space).map(row =>
    h(
      'tr',
      { className: 'jp-promote-stage', attrs: { 'data-stage': row.name } },
      h('td', { className: 'jp-promote-stage-name', text: row.name }),
      h(
        'td',
        { className: 'jp-promote-stage-params' },
        ...row.params.map(param =>
          h('code', {
            className: param.distribution
              ? 'jp-promote-param jp-promote-tuned'
              : 'jp-promote-param',
            text: param.name,
            title: param.distribution
              ? `tune: ${param.distribution}`
              : 'config key'
          })
        )
      ),
      h('td', { text: row.reads.join(', ') })
    )
  );
  rows.forEach((row, index) => (row.title = reply.stages[index].help));
  const space = searchSpaceLines(reply.search_space);
  return h(
    'div',
    { className: 'jp-promote-stages' },
    h(
      'table',
      { className: 'jp-promote-stage-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['stage', 'reads config', 'after'].map(text => h('th', { text }))
        )
      ),
      h('tbody', {}, ...rows)
    ),
    h(
      'p',
      { className: 'jp-promote-search-space' },
      space.length
        ? `Tune searches ${space.join(' · ')}`
        : 'No `# tune:` search space in the parameters cell.'
    )
  );
}

export class LifecycleView {
  constructor(options: ILifecycleOptions) {
    this._client = options.client;
    this._openFile = options.openFile;
    this.node.append(
      this._stages,
      this._edits,
      h(
        'div',
        { className: 'jp-promote-buttons jp-promote-job-buttons' },
        this._button('smoke'),
        this._button('tests'),
        this._cancelButton
      ),
      this._jobStatus,
      this._jobOutput,
      this._registry
    );
    this._jobOutput.hidden = true;
    this._setProject(null);
  }

  readonly node = h('div', { className: 'jp-promote-lifecycle' });

  /** A preview's or a promotion's reply; `promoted`: the project exists, so its jobs and registry can run. */
  show(reply: IProjectReply, promoted: boolean): void {
    fill(this._stages, renderStages(reply));
    this._showEdits(reply);
    if (promoted) {
      this._setProject(reply.output);
      void this.refreshRegistry();
    }
  }

  /** Another notebook: nothing of the last project applies. */
  clear(): void {
    fill(this._stages);
    fill(this._edits);
    fill(this._registry);
    fill(this._jobStatus);
    this._jobOutput.hidden = true;
    this._setProject(null);
  }

  async refreshRegistry(): Promise<void> {
    const output = this._output;
    if (output === null) {
      return;
    }
    try {
      const registry = await this._client.registry(output);
      const rows = registryRows(registry).map(row => {
        const tr = h(
          'tr',
          { className: 'jp-promote-version' },
          h('td', { text: row.version }),
          h('td', { text: row.champion ? 'champion' : '' }),
          h('td', { text: row.metrics })
        );
        tr.title = row.reason;
        tr.dataset.champion = String(row.champion);
        return tr;
      });
      fill(
        this._registry,
        h('p', {
          className: 'jp-promote-registry-summary',
          text: registrySummary(registry)
        }),
        rows.length > 0 &&
          h(
            'table',
            { className: 'jp-promote-registry-table' },
            h('tbody', {}, ...rows)
          )
      );
    } catch (error) {
      fill(
        this._registry,
        h('p', { text: `Registry: ${errorMessage(error)}` })
      );
    }
  }

  private _showEdits(reply: IProjectReply): void {
    const edits = reply.hand_edits;
    fill(
      this._edits,
      edits.length > 0 &&
        h(
          'div',
          {},
          h('h4', { text: `Hand edits kept by the merge (${edits.length})` }),
          h(
            'ul',
            {},
            ...edits.map(path =>
              h('li', {
                className: 'jp-promote-hand-edit jp-promote-clickable',
                text: path,
                title: 'Open the working copy',
                onClick: () =>
                  this._openFile(
                    reply.output === '.' ? path : `${reply.output}/${path}`
                  )
              })
            )
          )
        )
    );
  }

  private async _run(kind: JobKind): Promise<void> {
    const output = this._output;
    if (output === null || this._job !== null) {
      return;
    }
    this._setRunning(true);
    fill(this._jobOutput);
    this._jobOutput.hidden = false;
    let outcome: IJobOutcome | null = null;
    try {
      outcome = await runJob(
        this._client,
        { output, kind },
        { onUpdate: (job, text) => this._showJob(job, text) }
      );
    } catch (error) {
      this._jobStatus.textContent = `${JOB_LABELS[kind]}: ${errorMessage(error)}`;
    } finally {
      this._job = null;
      this._setRunning(false);
    }
    if (outcome?.job.kind === 'smoke') {
      void this.refreshRegistry(); // its register stage may have added a version
    }
  }

  private _showJob(job: IJob, text: string): void {
    this._job = job.job;
    this._jobStatus.textContent = jobSummary(job);
    this._jobStatus.dataset.state = job.state;
    const pinned =
      this._jobOutput.scrollTop + this._jobOutput.clientHeight >=
      this._jobOutput.scrollHeight - 4;
    this._jobOutput.textContent = text;
    if (pinned) {
      this._jobOutput.scrollTop = this._jobOutput.scrollHeight;
    }
  }

  private async _cancel(): Promise<void> {
    if (this._job !== null) {
      try {
        await this._client.cancelJob(this._job);
      } catch (error) {
        this._jobStatus.textContent = `Cancel: ${errorMessage(error)}`;
      }
    }
  }

  private _setProject(output: string | null): void {
    this._output = output;
    this._setRunning(this._job !== null);
  }

  private _setRunning(running: boolean): void {
    for (const button of this._jobButtons) {
      button.disabled = running || this._output === null;
      button.title =
        this._output === null
          ? 'Promote first: the job runs in the promoted project'
          : '';
    }
    this._cancelButton.hidden = !running; // a stop button only while there is something to stop
  }

  private _button(kind: JobKind): HTMLButtonElement {
    const button = h('button', {
      className: `jp-mod-styled jp-promote-job-button jp-promote-run-${kind}`,
      text: JOB_LABELS[kind],
      onClick: () => void this._run(kind)
    });
    this._jobButtons.push(button);
    return button;
  }

  private readonly _client: PromoteClient;
  private readonly _openFile: (path: string) => void;
  private _output: string | null = null;
  private _job: string | null = null;
  private readonly _jobButtons: HTMLButtonElement[] = [];
  private readonly _stages = h('div');
  private readonly _edits = h('div', { className: 'jp-promote-hand-edits' });
  private readonly _registry = h('div', { className: 'jp-promote-registry' });
  private readonly _jobStatus = h('div', {
    className: 'jp-promote-job-status'
  });
  private readonly _jobOutput = h('pre', {
    className: 'jp-promote-job-output'
  });
  private readonly _cancelButton = h('button', {
    className: 'jp-mod-styled jp-mod-warn jp-promote-cancel-job',
    text: 'Cancel',
    onClick: () => void this._cancel()
  });
}
