/**
 * The worker options production runs with: a default nobody asserts is a default nobody knows.
 * bench/RESULTS.md measures what they cost (RSS per cached ticket run, the process at a full cache).
 */
import type { NativeConnection } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../activities/index.js';
import { WORKER_DEFAULTS, workerOptions } from '../../worker.js';

const base = {
  connection: {} as NativeConnection,
  namespace: 'default',
  taskQueue: 'escalate',
  deps: {} as ActivityDeps,
  workflowBundle: { codePath: '/nowhere.js' },
};

describe('worker options', () => {
  it('default to the production sizes', () => {
    const options = workerOptions(base);
    expect(WORKER_DEFAULTS).toEqual({
      maxConcurrentActivityTaskExecutions: 200,
      maxConcurrentLocalActivityExecutions: 200,
      maxConcurrentWorkflowTaskExecutions: 40,
      maxCachedWorkflows: 2000,
      shutdownGraceTime: '10s',
    });
    expect(options).toMatchObject(WORKER_DEFAULTS);
    expect(options.taskQueue).toBe('escalate');
  });

  it('take the caller’s activity slots and the benchmark’s overrides last', () => {
    const options = workerOptions({
      ...base,
      maxConcurrentActivityTaskExecutions: 5,
      overrides: { maxCachedWorkflows: 10 },
    });
    expect(options.maxConcurrentActivityTaskExecutions).toBe(5);
    expect(options.maxCachedWorkflows).toBe(10);
    expect(options.maxConcurrentWorkflowTaskExecutions).toBe(40);
  });
});
