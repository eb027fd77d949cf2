import { renderVerifyResult } from '../components/verifyTable';
import { IMetricComparison, IVerifyResult } from '../tokens';

function metric(name: string, verdict: 'ok' | 'differs'): IMetricComparison {
  return {
    name,
    notebook: 0.5,
    package: verdict === 'ok' ? 0.5 : 0.6,
    relative_difference: verdict === 'ok' ? 0 : 0.2,
    tolerance: 1e-6,
    spread: null,
    verdict
  };
}

const differs: IVerifyResult = {
  ok: false,
  message: 'the package differs from the notebook in test_loss, test_acc',
  metrics: [
    metric('train_loss', 'ok'),
    metric('test_loss', 'differs'),
    metric('test_acc', 'differs')
  ],
  differing: ['test_loss', 'test_acc']
};

function cells(node: HTMLElement, column: number): string[] {
  return Array.from(node.querySelectorAll('tbody tr')).map(
    row => row.children[column]?.textContent ?? ''
  );
}

describe('renderVerifyResult', () => {
  it('has no aligned column when no left-out cell drew random numbers', () => {
    const node = renderVerifyResult(differs);
    expect(node.querySelectorAll('th')).toHaveLength(5);
    expect(node.textContent).not.toContain('Aligned run');
  });

  it('shows which differences the aligned run explains as chance', () => {
    const node = renderVerifyResult({
      ...differs,
      aligned: { cells: [9, 19], differing: ['test_acc'] }
    });
    expect(node.querySelectorAll('th')[5].textContent).toBe('aligned run');
    expect(cells(node, 5)).toEqual(['matches', 'matches', 'still differs']);
    const states = Array.from(node.querySelectorAll('tbody tr')).map(
      row => (row as HTMLElement).dataset.state
    );
    expect(states).toEqual(['ok', 'chance', 'error']);
    expect(node.textContent).toContain('left-out cells 9, 19');
  });
});
