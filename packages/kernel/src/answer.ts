import type { RequestError } from './request-error.js';

/** The answer to one request: a value, or why there is none. */
export type Answer<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: RequestError };

/** Called exactly once per request, possibly before the call that made the request returns. */
export type Reply<T> = (answer: Answer<T>) => void;

export function answerOk<T>(value: T): Answer<T> {
  return { ok: true, value };
}

export function answerError<T>(error: RequestError): Answer<T> {
  return { ok: false, error };
}
