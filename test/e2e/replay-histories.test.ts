/**
 * Determinism guard: every history recorded under test/histories/ (by
 * `npx tsx scripts/record-histories.ts`) is replayed against the current workflow bundle. A
 * change in a workflow's command sequence (an activity added, removed or reordered, a timer
 * changed…) without a `patched()` guard makes the replay fail here with a non-determinism error,
 * before it can break the runs already open in production.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, type ReplayResult, Runtime, Worker } from '@temporalio/worker';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { payloadCodecFromEnv, payloadDataConverter } from '../../infra/payload-codec.js';
import * as workflows from '../../workflows/index.js';

const DIR = fileURLToPath(new URL('../histories/', import.meta.url));

interface RecordedHistory {
  name: string;
  description: string;
  workflowType: string;
  workflowId: string;
  runId: string;
  history: { events: { eventType: string }[] };
}

const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
const recorded = files.map((f) => JSON.parse(readFileSync(`${DIR}${f}`, 'utf8')) as RecordedHistory);

const results = new Map<string, ReplayResult>();

beforeAll(async () => {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed in this process: keep that one.
  }
  const replay = Worker.runReplayHistories(
    {
      workflowBundle: { codePath: inject('workflowBundlePath') },
      replayName: 'escalate-recorded-histories',
      // Histories recorded with ESCALATE_PAYLOAD_KEY replay with it (plain ones pass through).
      dataConverter: payloadDataConverter(payloadCodecFromEnv()),
    },
    recorded.map((r) => ({ workflowId: r.workflowId, history: r.history })),
  );
  let i = 0;
  for await (const result of replay) results.set(files[i++]!, result);
}, 120_000);

describe('recorded histories', () => {
  it('cover the representative runs of every workflow', () => {
    const has = (type: string) => recorded.filter((r) => r.workflowType === type);
    const eventTypes = (r: RecordedHistory) => new Set(r.history.events.map((e) => e.eventType));
    for (const type of Object.keys(workflows)) {
      expect(
        has(type).length,
        `no recorded history of ${type}: add a scenario to scripts/record-histories.ts and record it`,
      ).toBeGreaterThan(0);
    }
    // Continue-as-new, webhook Updates, recurrence signals and activity retries are all present.
    expect(recorded.some((r) => eventTypes(r).has('EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW'))).toBe(
      true,
    );
    expect(recorded.some((r) => eventTypes(r).has('EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED'))).toBe(
      true,
    );
    expect(
      recorded.some((r) =>
        r.history.events.some(
          (e) =>
            e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED' &&
            (e as { workflowExecutionSignaledEventAttributes?: { signalName?: string } })
              .workflowExecutionSignaledEventAttributes?.signalName === 'recurrence',
        ),
      ),
    ).toBe(true);
    expect(
      recorded.some((r) =>
        r.history.events.some(
          (e) =>
            (e as { activityTaskStartedEventAttributes?: { attempt?: number } })
              .activityTaskStartedEventAttributes?.attempt === 3,
        ),
      ),
    ).toBe(true);
    // Notifications, from the violation, ticket and delivery workflows alike: as activities, or
    // as local first attempts (a marker whose data names the activity type).
    type Event = {
      activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
      markerRecordedEventAttributes?: {
        markerName?: string;
        details?: { data?: { payloads?: { data?: string }[] } };
      };
    };
    const localType = (e: Event) => {
      const m = e.markerRecordedEventAttributes;
      const data = m?.markerName === 'core_local_activity' ? m.details?.data?.payloads?.[0]?.data : undefined;
      return data
        ? (JSON.parse(Buffer.from(data, 'base64').toString()) as { activity_type?: string }).activity_type
        : undefined;
    };
    const notifying = (local: boolean) =>
      recorded.filter((r) =>
        (r.history.events as Event[]).some((e) =>
          local
            ? localType(e) === 'sendNotification'
            : e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendNotification',
        ),
      );
    expect(new Set(notifying(false).map((r) => r.workflowType))).toEqual(
      new Set(['violationWorkflow', 'ticketSyncWorkflow', 'deliveryWorkflow']),
    );
    expect(new Set(notifying(true).map((r) => r.workflowType))).toEqual(
      new Set(['violationWorkflow', 'violationWorkflowV2', 'deliveryWorkflow']),
    );
  });

  it.each(files)('%s replays without a non-determinism error', (file) => {
    const result = results.get(file);
    expect(result, `${file} was not replayed`).toBeDefined();
    expect(result!.error, `${file}: ${result!.error?.message}`).toBeUndefined();
  });
});
