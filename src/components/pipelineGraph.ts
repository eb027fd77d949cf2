/**
 * Draws the pipeline graph (graph.ts) as SVG. The layout is ELK's layered
 * algorithm (elkjs, Eclipse Layout Kernel): steps in layers top-down, edges
 * routed orthogonally around the boxes and, unlike dagre, edge labels placed
 * by the layout itself, so the names that flow never sit on a box. elkjs is
 * loaded on first use (its own chunk, ~1.6 MB), in the page's thread: a
 * pipeline has a handful of steps, laid out in milliseconds.
 */
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api';

import {
  edgeDescription,
  edgeLabel,
  IGraphCell,
  IGraphEdge,
  IGraphNode,
  IPipelineGraph,
  nodeLines,
  pipelineGraph
} from '../graph';
import { IPlan } from '../tokens';
import { fill, h } from './dom';

export interface IGraphActions {
  /** Select these cells of the notebook (a node was clicked). */
  selectCells(cells: readonly IGraphCell[]): void;
  /** Mark the cells behind an edge while it is hovered; null clears. */
  highlightCells(edge: IGraphEdge | null): void;
}

const SVG = 'http://www.w3.org/2000/svg';
/** Size of the node text (px), and a width per character that fits the UI font. */
const LINE_HEIGHT = 15;
const CHAR_WIDTH = 6.6;
const PADDING = 8;

type ElkConstructor = typeof import('elkjs/lib/elk.bundled.js').default;
let elkLoading: Promise<InstanceType<ElkConstructor>> | null = null;

function elk(): Promise<InstanceType<ElkConstructor>> {
  elkLoading ??= import('elkjs/lib/elk.bundled.js').then(
    module => new module.default()
  );
  return elkLoading;
}

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: { [name: string]: string | number } = {},
  ...children: (Node | null)[]
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) {
    node.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child) {
      node.append(child);
    }
  }
  return node;
}

function textWidth(text: string): number {
  return Math.ceil(text.length * CHAR_WIDTH);
}

/** The ELK input: boxes sized to their text, labels sized to theirs. */
function elkGraph(graph: IPipelineGraph): ElkNode {
  return {
    id: 'pipeline',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.spacing.nodeNode': '16',
      'elk.layered.spacing.nodeNodeBetweenLayers': '28',
      'elk.spacing.edgeLabel': '2',
      'elk.edgeLabels.placement': 'CENTER',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF'
    },
    children: graph.nodes.map(node => {
      const lines = nodeLines(node);
      return {
        id: node.id,
        width: Math.max(...lines.map(textWidth)) + 2 * PADDING,
        height: lines.length * LINE_HEIGHT + PADDING
      };
    }),
    edges: graph.edges.map(edge => ({
      id: edge.id,
      sources: [edge.source],
      targets: [edge.target],
      labels: [
        {
          id: `${edge.id}:label`,
          text: edgeLabel(edge),
          width: textWidth(edgeLabel(edge)),
          height: LINE_HEIGHT
        }
      ]
    }))
  };
}

function drawNode(
  node: IGraphNode,
  box: ElkNode,
  actions: IGraphActions
): SVGGElement {
  const x = box.x ?? 0;
  const y = box.y ?? 0;
  const lines = nodeLines(node);
  const text = svg('text', { x: x + PADDING, y: y + PADDING / 2 });
  lines.forEach((line, index) => {
    const span = svg('tspan', {
      x: x + PADDING,
      dy: index === 0 ? LINE_HEIGHT - 3 : LINE_HEIGHT,
      class: index === 0 ? 'jp-promote-graph-step' : 'jp-promote-graph-meta'
    });
    span.textContent = line;
    text.append(span);
  });
  const title = svg('title');
  title.textContent = [
    `${node.label}: cells ${node.cells.map(cell => cell.index).join(', ') || 'none'}`,
    node.pulled.length > 0
      ? `pulled in from untagged cells ${node.pulled.map(cell => cell.index).join(', ')}`
      : '',
    ...node.diagnostics.map(d => `${d.code} ${d.message}`),
    'Click to select its cells'
  ]
    .filter(Boolean)
    .join('\n');
  const group = svg(
    'g',
    {
      class: 'jp-promote-graph-node',
      'data-step': node.id,
      'data-role': node.role,
      'data-severity': node.severity ?? 'none',
      'data-pulled': node.pulled.length,
      tabindex: 0,
      role: 'button'
    },
    title,
    svg('rect', {
      x,
      y,
      width: box.width ?? 0,
      height: box.height ?? 0,
      rx: 4
    }),
    text,
    node.severity
      ? svg('circle', {
          class: 'jp-promote-graph-severity',
          cx: x + (box.width ?? 0) - 6,
          cy: y + 6,
          r: 4
        })
      : null
  );
  const select = () => actions.selectCells(node.cells);
  group.addEventListener('click', select);
  group.addEventListener('keydown', event => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      select();
    }
  });
  return group;
}

function drawEdge(
  edge: IGraphEdge,
  laidOut: ElkExtendedEdge,
  marker: string,
  onHover: (edge: IGraphEdge | null) => void
): SVGGElement {
  const points = (laidOut.sections ?? []).flatMap(section => [
    section.startPoint,
    ...(section.bendPoints ?? []),
    section.endPoint
  ]);
  const d = points
    .map((point, index) => `${index === 0 ? 'M' : 'L'}${point.x},${point.y}`)
    .join(' ');
  const label = laidOut.labels?.[0];
  const text = svg('text', {
    class: 'jp-promote-graph-label',
    x: (label?.x ?? 0) + 1,
    y: (label?.y ?? 0) + LINE_HEIGHT - 4
  });
  text.textContent = edgeLabel(edge);
  const title = svg('title');
  title.textContent = edgeDescription(edge);
  const group = svg(
    'g',
    {
      class: 'jp-promote-graph-edge',
      'data-edge': edge.id,
      'data-names': edge.names.join(' ')
    },
    title,
    svg('path', { d, 'marker-end': `url(#${marker})` }),
    // A wide transparent stroke: a 1px line is hard to hover.
    svg('path', { d, class: 'jp-promote-graph-hit' }),
    text
  );
  group.addEventListener('mouseenter', () => onHover(edge));
  group.addEventListener('mouseleave', () => onHover(null));
  return group;
}

let markers = 0;

/** The graph section of the panel: `update(plan)` after every analysis. */
export class PipelineGraphView {
  constructor(private readonly actions: IGraphActions) {}

  readonly node = h('div', { className: 'jp-promote-graph' });

  /** Lay out and draw the plan's pipeline; a newer update wins over a slower older one. */
  async update(plan: IPlan | null): Promise<void> {
    const generation = ++this._generation;
    const graph = plan ? pipelineGraph(plan) : { nodes: [], edges: [] };
    if (graph.nodes.length === 0) {
      fill(
        this.node,
        h('p', {
          className: 'jp-promote-empty',
          text: 'No steps yet: tag cells by role to build the pipeline.'
        })
      );
      return;
    }
    let layout: ElkNode;
    try {
      layout = await (await elk()).layout(elkGraph(graph));
    } catch (error) {
      if (generation === this._generation) {
        fill(
          this.node,
          h('p', {
            className: 'jp-promote-empty',
            text: `Cannot draw the pipeline: ${String(error)}`
          })
        );
      }
      return;
    }
    if (generation !== this._generation) {
      return;
    }
    this._draw(graph, layout);
  }

  private _draw(graph: IPipelineGraph, layout: ElkNode): void {
    const marker = `jp-promote-arrow-${++markers}`;
    const boxes = new Map((layout.children ?? []).map(box => [box.id, box]));
    const routes = new Map(
      ((layout.edges ?? []) as ElkExtendedEdge[]).map(edge => [edge.id, edge])
    );
    const width = Math.ceil(layout.width ?? 0) + 2;
    const height = Math.ceil(layout.height ?? 0) + 2;
    const detail = h('div', { className: 'jp-promote-graph-detail' });
    detail.hidden = true;
    const onHover = (edge: IGraphEdge | null) => {
      detail.hidden = edge === null;
      detail.textContent = edge ? edgeDescription(edge) : '';
      this.actions.highlightCells(edge);
    };
    const drawing = svg(
      'svg',
      {
        class: 'jp-promote-graph-svg',
        width,
        height,
        viewBox: `-1 -1 ${width} ${height}`,
        role: 'img',
        'aria-label': 'The pipeline promotion will generate'
      },
      svg(
        'defs',
        {},
        svg(
          'marker',
          {
            id: marker,
            viewBox: '0 0 10 10',
            refX: 10,
            refY: 5,
            markerWidth: 6,
            markerHeight: 6,
            orient: 'auto-start-reverse'
          },
          svg('path', {
            d: 'M0,0 L10,5 L0,10 z',
            class: 'jp-promote-graph-arrow'
          })
        )
      ),
      ...graph.edges.map(edge => {
        const route = routes.get(edge.id);
        return route ? drawEdge(edge, route, marker, onHover) : null;
      }),
      ...graph.nodes.map(node => {
        const box = boxes.get(node.id);
        return box ? drawNode(node, box, this.actions) : null;
      })
    );
    fill(this.node, drawing, detail);
  }

  private _generation = 0;
}
