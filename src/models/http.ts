// The model manager's only network calls: GET with redirects followed by hand, so each is checked and
// logged. Hubs legitimately redirect a file to a CDN; a redirect is followed only to https or back to
// the origin first asked (never a downgrade to plain http elsewhere), and only a few times.
import { DownloadAbortedError, DownloadHttpError, DownloadNetworkError, DownloadRedirectError } from './errors';

export interface GetOptions {
  signal?: AbortSignal;
  maxRedirects?: number;
  log?: (message: string) => void;
}

const REDIRECTS = [301, 302, 303, 307, 308];

export async function getFollowingRedirects(url: string, headers: Record<string, string>, options: GetOptions = {}): Promise<Response> {
  const origin = new URL(url).origin;
  const maxRedirects = options.maxRedirects ?? 5;
  let current = url;
  for (let hops = 0; ; hops++) {
    let response: Response;
    try {
      response = await fetch(current, { headers, redirect: 'manual', signal: options.signal });
    } catch (e) {
      if (options.signal?.aborted) throw new DownloadAbortedError();
      throw new DownloadNetworkError(current, e instanceof Error ? ((e.cause as Error | undefined)?.message ?? e.message) : String(e));
    }
    if (!REDIRECTS.includes(response.status)) return response;
    await response.body?.cancel().catch(() => undefined);
    const location = response.headers.get('location');
    if (!location) throw new DownloadRedirectError(current, `HTTP ${response.status} without a Location`);
    const next = new URL(location, current);
    if (hops >= maxRedirects) throw new DownloadRedirectError(url, `more than ${maxRedirects} redirects`);
    if (next.protocol !== 'https:' && next.origin !== origin) throw new DownloadRedirectError(url, `redirected to ${next.origin}, which is neither https nor the origin asked`);
    options.log?.(`redirected: ${current} → ${next.href}`);
    current = next.href;
  }
}

/** A JSON document (the hub's API); HTTP errors and unparsable bodies are named errors. */
export async function getJson(url: string, options: GetOptions = {}): Promise<unknown> {
  return (await getJsonPage(url, options)).body;
}

/** getJson, with the `Link: <…>; rel="next"` the hub paginates long listings with (same origin only). */
export async function getJsonPage(url: string, options: GetOptions = {}): Promise<{ body: unknown; next: string | undefined }> {
  const response = await getFollowingRedirects(url, { accept: 'application/json', 'user-agent': 'Flashcode model manager' }, options);
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined);
    throw new DownloadHttpError(url, response.status);
  }
  options.log?.(`GET ${url}: HTTP 200`);
  const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(response.headers.get('link') ?? '')?.[1];
  const next = link !== undefined ? new URL(link, url) : undefined;
  try {
    return { body: await response.json(), next: next && next.origin === new URL(url).origin ? next.href : undefined };
  } catch (e) {
    if (options.signal?.aborted) throw new DownloadAbortedError();
    throw new DownloadNetworkError(url, `the answer is not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}
