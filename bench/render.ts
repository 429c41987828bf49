/** Re-renders bench/RESULTS.md from bench/results.json (after a change to report.ts): `tsx bench/render.ts`. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { renderResults } from './report.js';
import type { BenchResults } from './run.js';

const dir = resolve(process.argv[2] ?? import.meta.dirname);
const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as BenchResults;
writeFileSync(join(dir, 'RESULTS.md'), renderResults(results));
console.log(`wrote ${join(dir, 'RESULTS.md')}`);
