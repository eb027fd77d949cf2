/** The fidelity table of a verify result: metric, notebook, package, relative difference, verdict. */
import { IVerifyResult } from '../tokens';
import { metricRows } from '../verify';
import { h } from './dom';

export function renderVerifyResult(result: IVerifyResult): HTMLElement {
  const details = (result.details ?? []).map(String);
  if (result.error) {
    return h(
      'pre',
      { className: 'jp-promote-verify-error' },
      [result.message, ...details].join('\n')
    );
  }
  const header = h(
    'tr',
    {},
    ...['metric', 'notebook', 'package', 'rel. diff', 'verdict'].map(text =>
      h('th', { text })
    )
  );
  const rows = metricRows(result.metrics).map(row => {
    const tr = h(
      'tr',
      { className: 'jp-promote-verify-row' },
      h('td', { text: row.name }),
      h('td', { text: row.notebook }),
      h('td', { text: row.package }),
      h('td', { text: row.difference }),
      h('td', { className: 'jp-promote-verify-verdict', text: row.verdict })
    );
    tr.dataset.state = row.ok ? 'ok' : 'error';
    return tr;
  });
  return h(
    'div',
    {},
    h(
      'table',
      { className: 'jp-promote-verify-table' },
      h('thead', {}, header),
      h('tbody', {}, ...rows)
    ),
    result.note ? h('p', { text: result.note }) : null
  );
}
