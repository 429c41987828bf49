#!/usr/bin/env node
// The `escalate` command: registers tsx (a regular dependency) so the TypeScript CLI runs as is.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
