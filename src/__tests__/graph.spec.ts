import { edgeDescription, edgeLabel, nodeLines, pipelineGraph } from '../graph';
import { IPlan } from '../tokens';
// The server's analysis of examples/demo.ipynb: api.analyze('examples/demo.ipynb').to_json(), output added.
import DEMO from './fixtures/demo-analysis.json';

const demo = DEMO as unknown as IPlan;

describe('pipelineGraph of the demo analysis', () => {
  const graph = pipelineGraph(demo);

  it('has one node per step, in pipeline order, with cells and parameters', () => {
    expect(graph.nodes.map(node => node.id)).toEqual([
      'data',
      'model',
      'train',
      'evaluate',
      'export'
    ]);
    const data = graph.nodes[0];
    expect(data.cells.map(cell => cell.index)).toEqual([3]);
    expect(data.cells[0].id).toBe(demo.cells.find(c => c.index === 3)!.id);
    expect(data.parameters).toEqual([
      'n_samples',
      'noise',
      'seed',
      'batch_size'
    ]);
    expect(nodeLines(data)).toEqual([
      'data',
      '1 cell',
      'reads n_samples,',
      'noise, seed,',
      'batch_size'
    ]);
    expect(nodeLines(data, 80)).toEqual([
      'data',
      '1 cell',
      'reads n_samples, noise, seed, batch_size'
    ]);
  });

  it('draws an edge per pair of steps, labelled with the names that flow', () => {
    const edges = Object.fromEntries(
      graph.edges.map(edge => [edge.id, edge.names])
    );
    expect(edges).toEqual({
      'model->train': ['model', 'device'],
      'data->train': ['train_loader'],
      'train->evaluate': ['model'],
      'data->evaluate': ['test_loader'],
      'model->evaluate': ['device'],
      'evaluate->export': ['model']
    });
  });

  it('knows the defining and the using cells of an edge', () => {
    const edge = graph.edges.find(e => e.id === 'data->train')!;
    expect(edge.definedIn.map(cell => cell.index)).toEqual([3]);
    expect(edge.usedIn.map(cell => cell.index)).toEqual([6]);
    expect(edgeDescription(edge)).toContain('train_loader: data → train');
    expect(edgeDescription(edge)).toMatch(
      /defined in cell 3 \(X, y = make_moons/
    );
    expect(edgeDescription(edge)).toMatch(/used in cell 6/);
  });

  it('marks the diagnostics of a step on its node', () => {
    const train = graph.nodes.find(node => node.id === 'train')!;
    expect(train.diagnostics.map(d => d.code)).toContain('PRM022');
    expect(train.severity).toBe('info');
    expect(graph.nodes.find(node => node.id === 'export')!.severity).toBeNull();
  });
});

describe('pipelineGraph of a custom step with a pulled-in cell', () => {
  const cell = (index: number, defines: string[], uses: string[]) => ({
    index,
    id: `c${index}`,
    cell_type: 'code' as const,
    role: null,
    role_source: null,
    tags: [],
    suggested_role: null,
    step: null,
    first_line: `line ${index}`,
    defines,
    uses,
    mutates: []
  });
  const plan = {
    ok: true,
    cells: [
      cell(0, ['values'], []),
      cell(1, ['scale'], []),
      cell(2, ['scaled'], ['scale', 'values']),
      cell(3, [], ['scaled'])
    ],
    steps: [
      {
        name: 'data',
        role: 'data',
        cells: [0],
        inputs: [],
        outputs: ['values'],
        parameters: [],
        pulled: []
      },
      {
        name: 'rescale',
        role: 'step',
        cells: [2],
        inputs: ['values'],
        outputs: ['scaled'],
        parameters: ['n'],
        pulled: [1]
      },
      {
        name: 'evaluate',
        role: 'evaluate',
        cells: [3],
        inputs: ['scaled', 'values'],
        outputs: [],
        parameters: [],
        pulled: []
      }
    ],
    diagnostics: [
      {
        severity: 'warning',
        code: 'PRM003',
        name: 'defined-only-in-untagged-cell',
        message: 'scale pulled in',
        notebook: 'nb.ipynb',
        cell_index: 2,
        cell_id: 'c2',
        line: 1,
        suggestion: null,
        related_cells: [{ index: 1, id: 'c1' }]
      }
    ]
  } as unknown as IPlan;
  const graph = pipelineGraph(plan);

  it('labels custom steps and counts pulled-in cells', () => {
    const rescale = graph.nodes[1];
    expect(rescale.label).toBe('step: rescale');
    expect(rescale.pulled.map(c => c.id)).toEqual(['c1']);
    expect(rescale.severity).toBe('warning');
    expect(nodeLines(rescale)).toEqual([
      'step: rescale',
      '1 cell + 1 pulled in',
      'reads n'
    ]);
  });

  it('takes each input from the latest earlier step that outputs it', () => {
    expect(graph.edges.map(edge => [edge.id, edge.names])).toEqual([
      ['data->rescale', ['values']],
      ['rescale->evaluate', ['scaled']],
      ['data->evaluate', ['values']]
    ]);
  });

  it('shortens long labels', () => {
    const edge = { ...graph.edges[0], names: ['a', 'b', 'c', 'd', 'e'] };
    expect(edgeLabel(edge)).toBe('a, b, c +2');
    expect(edgeLabel(graph.edges[0])).toBe('values');
  });
});
