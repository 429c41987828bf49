import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './env.js';
import { validationError } from './errors.js';

/** A resource router whose validation failures use the API's error shape. */
export const createRouter = () =>
  new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) return validationError(c, result.error);
    },
  });
