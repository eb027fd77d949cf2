/** A tiny element builder: the panel is plain DOM, no framework. */
export interface IProps {
  className?: string;
  text?: string;
  title?: string;
  attrs?: { [name: string]: string };
  onClick?: (event: MouseEvent) => void;
}

export type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: IProps = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) {
    node.className = props.className;
  }
  if (props.text !== undefined) {
    node.textContent = props.text;
  }
  if (props.title) {
    node.title = props.title;
  }
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    node.setAttribute(name, value);
  }
  const onClick = props.onClick;
  if (onClick) {
    node.addEventListener('click', event => onClick(event as MouseEvent));
  }
  for (const child of children) {
    if (child) {
      node.append(child);
    }
  }
  return node;
}

/** Replace all children of a node. */
export function fill(node: HTMLElement, ...children: Child[]): void {
  node.replaceChildren(...(children.filter(Boolean) as (Node | string)[]));
}
