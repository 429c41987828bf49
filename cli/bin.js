#!/usr/bin/env node
// The `escalate` command: registers tsx (a regular dependency) so the TypeScript CLI runs as is,
// with the package's own tsconfig whatever the working directory (also when installed).
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
await import('./main.ts');
