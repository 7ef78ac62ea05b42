/**
 * The distribution spec's error body, `{"errors":[{"code","message","detail"}]}`: the one shape every fake
 * registry here (proxy stages, hostile servers, the scripted registry) answers errors in.
 */

export interface ErrorEntry {
  code: string;
  message?: string;
  /** Real registries put an object or a string here, or leave it out. */
  detail?: unknown;
}

export function errorBody(errors: readonly ErrorEntry[]): string {
  return JSON.stringify({ errors });
}
