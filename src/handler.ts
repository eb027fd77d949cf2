/**
 * Calls to the server extension. ServerConnection.makeRequest adds the token
 * and the XSRF header that a raw fetch would lack.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import {
  API_NAMESPACE,
  IJob,
  IJobRequest,
  IPlan,
  IPreview,
  IPromoteRequest,
  IPromoteResult,
  IRegistry,
  IVerifyJob,
  IVerifyRequest
} from './tokens';

/** A non-2xx answer, carrying the server's own message. */
export class PromoteRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly kind: string,
    readonly details: unknown[]
  ) {
    super(message);
    this.name = 'PromoteRequestError';
  }
}

/** A JSON request to `{baseUrl}/jupyterlab-promote/{endPoint}`. */
export async function requestAPI<T>(
  serverSettings: ServerConnection.ISettings,
  endPoint: string,
  init: RequestInit = {}
): Promise<T> {
  const url = URLExt.join(serverSettings.baseUrl, API_NAMESPACE, endPoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, serverSettings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }
  const text = await response.text();
  let data: any = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: an HTML error page, e.g. a 404 when the server part is missing.
  }
  if (!response.ok) {
    throw new PromoteRequestError(
      data?.message ||
        data?.reason ||
        `${response.status} ${response.statusText}`,
      response.status,
      data?.error ?? 'HTTPError',
      Array.isArray(data?.details) ? data.details : []
    );
  }
  return data as T;
}

/**
 * The body of `POST preview` / `POST promote`. `template` only when the panel's setting
 * names one: absent, the server uses its own c.Promoter.template; present, the server
 * accepts it only from c.Promoter.template_allow_list (403 otherwise). Verify requests
 * never carry it (the server verifies the built-in layout only).
 */
export function promoteRequest(
  path: string,
  target: { output: string; name: string },
  template = ''
): IPromoteRequest {
  const request: IPromoteRequest = { path, ...target };
  if (template.trim()) {
    request.template = template.trim();
  }
  return request;
}

/** Typed wrappers of the server routes. */
export class PromoteClient {
  constructor(private readonly serverSettings: ServerConnection.ISettings) {}

  /**
   * `name` is optional: the server defaults to the notebook's stem. `content` is the
   * notebook as the editor holds it, so unsaved edits are analyzed too. The server
   * expands `outputPattern` (else its own c.Promoter.output_pattern) into the
   * reply's `output`.
   */
  analyze(
    path: string,
    name?: string,
    content?: unknown,
    outputPattern?: string
  ): Promise<IPlan> {
    const body: Record<string, unknown> = { path };
    if (name) {
      body.name = name;
    }
    if (content !== undefined) {
      body.content = content;
    }
    if (outputPattern) {
      body.output_pattern = outputPattern;
    }
    return this.post<IPlan>('analyze', body);
  }

  preview(request: IPromoteRequest): Promise<IPreview> {
    return this.post<IPreview>('preview', request);
  }

  promote(request: IPromoteRequest): Promise<IPromoteResult> {
    return this.post<IPromoteResult>('promote', request);
  }

  /** Starts a background verify job (it executes the notebook: needs write permission). */
  startVerify(request: IVerifyRequest): Promise<IVerifyJob> {
    return this.post<IVerifyJob>('verify', request);
  }

  verifyStatus(job: string): Promise<IVerifyJob> {
    return requestAPI<IVerifyJob>(
      this.serverSettings,
      `verify?job=${encodeURIComponent(job)}`
    );
  }

  /** Starts the smoke pipeline or the tests of a promoted project (it executes code: needs write permission). */
  startJob(request: IJobRequest): Promise<IJob> {
    return this.post<IJob>('jobs', request);
  }

  /** The job, with its output from character `since` on. */
  jobStatus(job: string, since = 0): Promise<IJob> {
    return requestAPI<IJob>(this.serverSettings, this.jobQuery(job, since));
  }

  /** Stops the job's whole process group; poll until its state is `cancelled`. */
  cancelJob(job: string): Promise<IJob> {
    return requestAPI<IJob>(this.serverSettings, this.jobQuery(job, 0), {
      method: 'DELETE'
    });
  }

  /** The project's registered model versions (its mlflow.db), champion marked. */
  registry(output: string): Promise<IRegistry> {
    return requestAPI<IRegistry>(
      this.serverSettings,
      `registry?output=${encodeURIComponent(output)}`
    );
  }

  async version(): Promise<string> {
    const reply = await requestAPI<{ version: string }>(
      this.serverSettings,
      'version'
    );
    return reply.version;
  }

  private jobQuery(job: string, since: number): string {
    return `jobs?job=${encodeURIComponent(job)}&since=${since}`;
  }

  private post<T>(endPoint: string, body: unknown): Promise<T> {
    return requestAPI<T>(this.serverSettings, endPoint, {
      method: 'POST',
      body: JSON.stringify(body)
    });
  }
}

/** Text for any error caught around a request, details included. */
export function errorMessage(error: unknown): string {
  if (error instanceof PromoteRequestError) {
    const details = error.details.map(detail =>
      typeof detail === 'string' ? detail : JSON.stringify(detail)
    );
    return [`${error.kind}: ${error.message}`, ...details].join('\n');
  }
  return error instanceof Error ? error.message : String(error);
}
