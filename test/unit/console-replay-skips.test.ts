/**
 * The replay page's skip reasons, from the errors the replay records (workflows/replay.ts,
 * activities/redeliver.ts): none when the delivery had been delivered, the in-flight reason, the
 * failure of a run that could not start.
 */
import { describe, expect, it } from 'vitest';
import type { Replay } from '../../api/ui/api-types.js';
import { skipCounts, skipReason } from '../../api/ui/replay-skips.js';

const item = (outcome: Replay['items'][number]['outcome'], error: string | null) => ({
  delivery_id: 'd',
  connector_id: 'c',
  event_id: 'e',
  outcome,
  error,
});

describe('replay skip reasons', () => {
  it('tells each skip by what the replay recorded', () => {
    expect(skipReason(null)).toBe('already delivered');
    expect(skipReason('in flight: workflow violation-0b6f is attempting it')).toBe('in flight');
    expect(skipReason('delivery 0b6f4a5e-1c1d-4a39-9d55-3c1b2f7c9e10 does not exist')).toBe('vanished');
    expect(skipReason('violation 0b6f4a5e-1c1d-4a39-9d55-3c1b2f7c9e10 is not stored')).toBe('vanished');
    expect(skipReason('connector jira-sec no longer exists')).toBe('vanished');
    expect(skipReason('Workflow execution already started')).toBe('not started');
    expect(skipReason('connector jira-sec: secrets cannot be decrypted')).toBe('not started');
    expect(
      skipReason(
        'not attempted: connector jira-sec: connector secrets cannot be decrypted: no key opens them',
      ),
    ).toBe('connector unusable');
    expect(skipReason('not attempted: connector jira-sec no longer exists')).toBe('connector unusable');
  });

  it('counts skipped items only, per reason, in a fixed order', () => {
    const items = [
      item('skipped', 'in flight: workflow delivery-1 is attempting it'),
      item('skipped', null),
      item('delivered', null),
      item('skipped', 'in flight: workflow delivery-2 is attempting it'),
      item('failed', 'HTTP 503'),
      item('skipped', 'Workflow execution already started'),
    ];
    expect(skipCounts(items)).toEqual([
      ['already delivered', 1],
      ['in flight', 2],
      ['not started', 1],
    ]);
    expect(skipCounts([item('delivered', null)])).toEqual([]);
  });
});
