/**
 * The body of preview/promote requests: the panel's template setting travels only when set,
 * so an empty setting leaves the choice to the server's c.Promoter.template.
 */
import { ServerConnection } from '@jupyterlab/services';

import { PromoteClient, promoteRequest } from '../handler';
import { DEFAULT_SETTINGS } from '../tokens';

const target = { output: 'demo_project', name: 'demo' };

describe('promoteRequest', () => {
  it('leaves template out when the setting is empty', () => {
    expect(
      promoteRequest('nb/demo.ipynb', target, DEFAULT_SETTINGS.template)
    ).toEqual({
      path: 'nb/demo.ipynb',
      output: 'demo_project',
      name: 'demo'
    });
    expect(promoteRequest('demo.ipynb', target, '   ')).not.toHaveProperty(
      'template'
    );
  });

  it('carries the template location the setting names', () => {
    expect(
      promoteRequest('demo.ipynb', target, ' /srv/templates/acme ')
    ).toEqual({
      path: 'demo.ipynb',
      output: 'demo_project',
      name: 'demo',
      template: '/srv/templates/acme'
    });
  });
});

describe('PromoteClient', () => {
  it('posts the template to preview and promote as the REST body field', async () => {
    const bodies: Array<[string, unknown]> = [];
    const spy = jest
      .spyOn(ServerConnection, 'makeRequest')
      .mockImplementation(async (url, init) => {
        bodies.push([String(url), JSON.parse(String(init.body))]);
        return new Response(JSON.stringify({ ok: true }), { status: 200 });
      });
    const client = new PromoteClient(ServerConnection.makeSettings());
    const request = promoteRequest(
      'demo.ipynb',
      target,
      'https://git.example.com/acme/template.git'
    );
    await client.preview(request);
    await client.promote(request);
    spy.mockRestore();

    expect(bodies.map(([url]) => url.split('/').slice(-2).join('/'))).toEqual([
      'jupyterlab-promote/preview',
      'jupyterlab-promote/promote'
    ]);
    for (const [, body] of bodies) {
      expect(body).toEqual({
        path: 'demo.ipynb',
        output: 'demo_project',
        name: 'demo',
        template: 'https://git.example.com/acme/template.git'
      });
    }
  });
});
