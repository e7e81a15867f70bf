// The dashboard's only way out: same-origin requests to /ui/api/ with the
// session cookie (sent by the browser) and, for a change, the session's CSRF
// token header. Batch operations go to /ui/api/batch/<Batch path>, answered
// by the same handlers as the REST API, for the signed-in account only.

export const API_VERSION = '2022-10-01.16.0';
const CSRF_HEADER = 'x-lapis-csrf';

export interface Session {
  account: string;
  csrfToken: string;
  faults: boolean;
}

let csrfToken = '';
const signedOutListeners = new Set<() => void>();

export function rememberSession(session: Session | undefined): void {
  csrfToken = session?.csrfToken ?? '';
}

/** Called when the server says the session is gone (expired, signed out elsewhere, server restarted). */
export function onSignedOut(listener: () => void): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Params = Record<string, string | number | undefined>;

function query(params: Params = {}): string {
  const search = new URLSearchParams({ 'api-version': API_VERSION });
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(name, String(value));
  return search.toString();
}

async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as { code?: string; message?: string | { value?: string } };
    const message = typeof body.message === 'string' ? body.message : (body.message?.value ?? text);
    return new ApiError(response.status, body.code ?? String(response.status), message);
  } catch {
    return new ApiError(response.status, String(response.status), text || response.statusText);
  }
}

async function send(url: string, init: RequestInit = {}): Promise<Response> {
  const method = init.method ?? 'GET';
  const headers = new Headers(init.headers);
  if (method !== 'GET' && method !== 'HEAD') headers.set(CSRF_HEADER, csrfToken);
  const response = await fetch(url, { ...init, headers, credentials: 'same-origin' });
  if (response.status === 401 && !url.startsWith('/ui/api/sign-in') && !url.startsWith('/ui/api/session')) for (const listener of signedOutListeners) listener();
  if (!response.ok) throw await errorOf(response);
  return response;
}

async function json<T>(response: Response): Promise<T> {
  const text = await response.text();
  return (text ? JSON.parse(text) : {}) as T;
}

/** A Batch GET, e.g. batchGet('/jobs/j1/taskcounts'). */
export async function batchGet<T>(path: string, params?: Params): Promise<T> {
  return json<T>(await send(`/ui/api/batch${path}?${query(params)}`));
}

/** A Batch POST (an action): Batch's own body, with its JSON content type. */
export async function batchPost(path: string, body?: unknown): Promise<void> {
  await send(`/ui/api/batch${path}?${query()}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json; odata=minimalmetadata; charset=utf-8' },
    body: JSON.stringify(body ?? {}),
  });
}

export async function batchDelete(path: string): Promise<void> {
  await send(`/ui/api/batch${path}?${query()}`, { method: 'DELETE' });
}

export interface Page<T> {
  value: T[];
  /** The next page's path and query on this origin, if there is one. */
  next?: string;
}

/** One page of a Batch list; `from` is a Page's `next`, else the first page of `path`. */
export async function batchPage<T>(path: string, params: Params, from?: string): Promise<Page<T>> {
  const body = await json<{ value?: T[]; 'odata.nextLink'?: string }>(await send(from ?? `/ui/api/batch${path}?${query(params)}`));
  const link = body['odata.nextLink'];
  return { value: body.value ?? [], ...(link ? { next: new URL(link, location.href).pathname + new URL(link, location.href).search } : {}) };
}

/** Up to `limit` items of a Batch list, following its pages (of at most `pageSize`: 1000 for most lists, 10 for some). */
export async function batchList<T>(path: string, params: Params = {}, limit = 1000, pageSize = 1000): Promise<T[]> {
  const items: T[] = [];
  let page = await batchPage<T>(path, { maxresults: Math.min(limit, pageSize), ...params });
  items.push(...page.value);
  while (page.next && items.length < limit) {
    page = await batchPage<T>(path, {}, page.next);
    items.push(...page.value);
  }
  return items.slice(0, limit);
}

/** A file's length (HEAD), or undefined while it does not exist. */
export async function fileLength(path: string): Promise<number | undefined> {
  try {
    const response = await send(`/ui/api/batch${path}?${query()}`, { method: 'HEAD' });
    return Number(response.headers.get('content-length') ?? 0);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

/** A file's bytes from `start` on, as text. */
export async function fileText(path: string, start = 0): Promise<string> {
  const response = await send(`/ui/api/batch${path}?${query()}`, { headers: start > 0 ? { 'ocp-range': `bytes=${start}-` } : {} });
  return response.text();
}

/** The dashboard's own endpoints (session, faults). */
export async function dashboardGet<T>(path: string): Promise<T> {
  return json<T>(await send(`/ui/api${path}`));
}

export async function dashboardSend<T>(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  return json<T>(await send(`/ui/api${path}`, { method, headers: body === undefined ? {} : { 'Content-Type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }));
}

export const encode = encodeURIComponent;
