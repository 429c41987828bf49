import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';

export interface FieldIssue {
  path: string;
  message: string;
}

export const errorBody = (code: string, message: string, details?: unknown) => ({
  error: { code, message, ...(details === undefined ? {} : { details }) },
});

export const apiError = <S extends ContentfulStatusCode>(
  c: Context,
  status: S,
  code: string,
  message: string,
  details?: unknown,
) => c.json(errorBody(code, message, details), status);

/** `a.b[0].c` style paths, one entry per offending field. */
export function issuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(body)';
}

export function fieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((i) => ({ path: issuePath(i.path), message: i.message }));
}

export const validationError = (c: Context, error: z.ZodError, prefix?: string) => {
  const details = fieldIssues(error).map((d) => (prefix ? { ...d, path: `${prefix}.${d.path}` } : d));
  return apiError(
    c,
    400,
    'validation_failed',
    `invalid request: ${details.map((d) => d.path).join(', ')}`,
    details,
  );
};

/** Thrown by handlers to answer with an error without reaching the 500 handler. */
export class ApiProblem extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}
