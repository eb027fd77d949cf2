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
  // The aligned run (set when left-out cells draw random numbers, PRM043): the notebook again with those
  // draws undone. A metric that matches there differs only by chance, not because promotion changed it.
  const aligned = result.aligned ?? null;
  const columns = ['metric', 'notebook', 'package', 'rel. diff', 'verdict'];
  const header = h(
    'tr',
    {},
    ...[...columns, ...(aligned ? ['aligned run'] : [])].map(text =>
      h('th', { text })
    )
  );
  const rows = metricRows(result.metrics).map(row => {
    const alignedVerdict = aligned
      ? aligned.differing.includes(row.name)
        ? 'still differs'
        : 'matches'
      : null;
    const tr = h(
      'tr',
      { className: 'jp-promote-verify-row' },
      h('td', { text: row.name }),
      h('td', { text: row.notebook }),
      h('td', { text: row.package }),
      h('td', { text: row.difference }),
      h('td', { className: 'jp-promote-verify-verdict', text: row.verdict }),
      alignedVerdict
        ? h('td', {
            className: 'jp-promote-verify-aligned',
            text: alignedVerdict
          })
        : null
    );
    tr.dataset.state = row.ok
      ? 'ok'
      : alignedVerdict === 'matches'
        ? 'chance'
        : 'error';
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
    aligned ? h('p', { text: alignedNote(aligned.cells) }) : null,
    result.note ? h('p', { text: result.note }) : null
  );
}

function alignedNote(cells: number[]): string {
  const which = cells.length === 1 ? 'cell' : 'cells';
  return (
    `Aligned run: the notebook again with the random draws of left-out ${which} ${cells.join(', ')} ` +
    'undone (PRM043). "matches" there means the difference is chance, not promotion.'
  );
}
