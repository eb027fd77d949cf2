/**
 * The pipeline a promotion will generate, as a graph: one node per step of the
 * server's analysis, one edge per pair of steps that hand names to each other.
 * Pure data from an IPlan (no DOM, no layout): components/pipelineGraph.ts
 * lays it out and draws it.
 */
import { roleLabel } from './model';
import { ICellPlan, IDiagnostic, IPlan, IStep, Severity } from './tokens';

/** A cell as the graph points at it: the id to select it, the index to show. */
export interface IGraphCell {
  index: number;
  id: string;
  firstLine: string;
}

export interface IGraphNode {
  /** The step's name, unique within a plan. */
  id: string;
  /** `train`, or `step: rescale` for a custom step. */
  label: string;
  /** The role, which picks the colour (`step` for custom steps). */
  role: string;
  /** The cells tagged for the step. */
  cells: IGraphCell[];
  /** Parameters the step reads. */
  parameters: string[];
  /** Untagged cells whose code the step pulls in (PRM003). */
  pulled: IGraphCell[];
  /** Diagnostics on the step's cells, its pulled-in cells included. */
  diagnostics: IDiagnostic[];
  /** The worst severity among them, null when there are none. */
  severity: Severity | null;
}

export interface IGraphEdge {
  /** `source->target`. */
  id: string;
  source: string;
  target: string;
  /** The names the target reads from the source, in the target's order. */
  names: string[];
  /** Cells of the source (pulled-in ones included) that define one of the names. */
  definedIn: IGraphCell[];
  /** Cells of the target that use one of the names. */
  usedIn: IGraphCell[];
}

export interface IPipelineGraph {
  nodes: IGraphNode[];
  edges: IGraphEdge[];
}

const SEVERITY_ORDER: Severity[] = ['error', 'warning', 'info'];

function graphCell(cell: ICellPlan): IGraphCell {
  return { index: cell.index, id: cell.id, firstLine: cell.first_line };
}

function worst(diagnostics: readonly IDiagnostic[]): Severity | null {
  return (
    SEVERITY_ORDER.find(severity =>
      diagnostics.some(diagnostic => diagnostic.severity === severity)
    ) ?? null
  );
}

/** Each step's node; cells are looked up by index in the plan. */
function stepNode(
  step: IStep,
  byIndex: Map<number, ICellPlan>,
  diagnostics: readonly IDiagnostic[]
): IGraphNode {
  const cells = step.cells
    .map(index => byIndex.get(index))
    .filter((cell): cell is ICellPlan => cell !== undefined);
  const pulled = step.pulled
    .map(index => byIndex.get(index))
    .filter((cell): cell is ICellPlan => cell !== undefined);
  const own = new Set([...step.cells, ...step.pulled]);
  const mine = diagnostics.filter(
    diagnostic =>
      diagnostic.cell_index !== null && own.has(diagnostic.cell_index)
  );
  return {
    id: step.name,
    label: roleLabel({
      role: step.role,
      step: step.role === 'step' ? step.name : null
    }),
    role: step.role,
    cells: cells.map(graphCell),
    parameters: [...step.parameters],
    pulled: pulled.map(graphCell),
    diagnostics: mine,
    severity: worst(mine)
  };
}

/**
 * The graph of a plan. A step's input comes from the latest earlier step that
 * outputs it (a later redefinition shadows an earlier one, as when the
 * pipeline runs); inputs no step outputs (imports, parameters) draw no edge.
 */
export function pipelineGraph(plan: IPlan): IPipelineGraph {
  const byIndex = new Map(plan.cells.map(cell => [cell.index, cell]));
  const nodes = plan.steps.map(step =>
    stepNode(step, byIndex, plan.diagnostics)
  );
  const edges = new Map<string, IGraphEdge>();
  plan.steps.forEach((step, position) => {
    for (const name of step.inputs) {
      const source = plan.steps
        .slice(0, position)
        .reverse()
        .find(earlier => earlier.outputs.includes(name));
      if (!source) {
        continue;
      }
      const id = `${source.name}->${step.name}`;
      const edge = edges.get(id) ?? {
        id,
        source: source.name,
        target: step.name,
        names: [],
        definedIn: [],
        usedIn: []
      };
      edge.names.push(name);
      edges.set(id, edge);
    }
  });
  const stepCells = (name: string): ICellPlan[] => {
    const step = plan.steps.find(candidate => candidate.name === name);
    return [...(step?.cells ?? []), ...(step?.pulled ?? [])]
      .map(index => byIndex.get(index))
      .filter((cell): cell is ICellPlan => cell !== undefined);
  };
  for (const edge of edges.values()) {
    const reads = (names: readonly string[]) =>
      edge.names.some(name => names.includes(name));
    edge.definedIn = stepCells(edge.source)
      .filter(cell => reads(cell.defines))
      .map(graphCell);
    edge.usedIn = stepCells(edge.target)
      .filter(cell => reads(cell.uses))
      .map(graphCell);
  }
  return { nodes, edges: [...edges.values()] };
}

/** The text of an edge's label: the names, shortened past a few. */
export function edgeLabel(edge: IGraphEdge, most = 3): string {
  const shown = edge.names.slice(0, most).join(', ');
  const more = edge.names.length - most;
  return more > 0 ? `${shown} +${more}` : shown;
}

/**
 * The lines of a node's box: the step, its cells, its parameters, the
 * parameters wrapped after about `width` characters (the panel is narrow).
 */
export function nodeLines(node: IGraphNode, width = 20): string[] {
  const count = node.cells.length;
  const lines = [node.label, `${count} cell${count === 1 ? '' : 's'}`];
  if (node.pulled.length > 0) {
    lines[1] += ` + ${node.pulled.length} pulled in`;
  }
  let line = 'reads';
  node.parameters.forEach((name, index) => {
    const word = index < node.parameters.length - 1 ? `${name},` : name;
    if (line !== 'reads' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = '';
    }
    line = line ? `${line} ${word}` : word;
  });
  if (node.parameters.length > 0) {
    lines.push(line);
  }
  return lines;
}

/** The text shown when hovering an edge: what flows, where it is defined and used. */
export function edgeDescription(edge: IGraphEdge): string {
  const where = (cells: readonly IGraphCell[]) =>
    cells.map(cell => `cell ${cell.index} (${cell.firstLine})`).join('; ') ||
    'none';
  return [
    `${edge.names.join(', ')}: ${edge.source} → ${edge.target}`,
    `defined in ${where(edge.definedIn)}`,
    `used in ${where(edge.usedIn)}`
  ].join('\n');
}
