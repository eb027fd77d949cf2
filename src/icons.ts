import { LabIcon } from '@jupyterlab/ui-components';

/** A box with an arrow leaving it upwards: the notebook promoted to a package. */
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M4 11h2v8h12v-8h2v10H4z"/>
    <path d="M12 3l5 5h-3.5v7h-3V8H7z"/>
  </g>
</svg>`;

export const promoteIcon = new LabIcon({
  name: 'jupyterlab-promote:icon',
  svgstr: svg
});
