/**
 * Re-renders bench/RESULTS.md from bench/results.json (after a change to report.ts):
 *   npx tsx bench/render.ts [dir] [--before earlier/results.json --change "what changed"]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compare, tuningLog } from './compare.js';
import { renderResults } from './report.js';
import type { BenchResults } from './run.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { before: { type: 'string' }, change: { type: 'string' } },
});
const dir = resolve(positionals[0] ?? import.meta.dirname);
const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
const results = read(join(dir, 'results.json'));
if (values.before) {
  results.comparison = compare(read(values.before), results, values.change ?? '');
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
}
// The tuning log as it stands (not written back: results.json keeps what its run saw).
results.tuningLog = tuningLog(join(import.meta.dirname, 'tuning'));
writeFileSync(join(dir, 'RESULTS.md'), renderResults(results));
console.log(`wrote ${join(dir, 'RESULTS.md')}`);
