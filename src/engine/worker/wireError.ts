import { AbortedError, EngineError } from '../errors';
import type { WireError } from './protocol';

export function toWire(e: unknown): WireError {
  if (e instanceof EngineError) return { name: e.name, message: e.message, code: e.code };
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'Error', message: String(e) };
}

export function fromWire(w: WireError): Error {
  if (w.name === 'AbortError') return new AbortedError();
  const e = w.code ? new EngineError(w.code, w.message) : new Error(w.message);
  e.name = w.name;
  return e;
}
