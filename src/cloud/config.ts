// What the cloud settings must hold before a task may go to the cloud.
import type { CloudSettings } from './types';

/** "api.openai.com" for a usable http(s) base URL, else undefined. Never the user-info part. */
export function cloudHost(baseUrl: string): string | undefined {
  if (!URL.canParse(baseUrl)) return undefined;
  const url = new URL(baseUrl);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.host : undefined;
}

/** Base URL and model set, and a key — or no key needed because the endpoint is on this machine
 *  (llama.cpp server, Ollama, vLLM on localhost). A malformed URL counts as set: the client then
 *  says exactly what is wrong with it. */
export function isCloudConfigured(cloud: CloudSettings): boolean {
  if (cloud.baseUrl.trim() === '' || cloud.model.trim() === '') return false;
  return Boolean(cloud.apiKey) || isLoopback(cloud.baseUrl);
}

function isLoopback(baseUrl: string): boolean {
  if (!URL.canParse(baseUrl)) return false;
  const { hostname } = new URL(baseUrl);
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}
