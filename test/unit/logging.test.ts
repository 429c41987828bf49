import { describe, expect, it } from 'vitest';
import { pathIds } from '../../api/access-log.js';
import { subjectOf } from '../../infra/activity-log-context.js';
import { createLogger } from '../../infra/logger.js';
import { temporalLogger, toLogFields } from '../../infra/temporal-logger.js';
import { idsFromWorkflowId } from '../../workflows/contract.js';

function capture(level = 'info') {
  const raw: string[] = [];
  const logger = createLogger({ level, destination: { write: (s: string) => raw.push(s) } });
  return { logger, lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>), raw };
}

describe('Temporal SDK log attributes', () => {
  it('become snake_case fields, with the subject lifted out of escalate workflow ids', () => {
    expect(
      toLogFields({
        sdkComponent: 'activity',
        workflowId: 'violation-e-1',
        runId: 'r',
        activityType: 'createTicket',
        taskToken: 'opaque',
        connectorId: 'c-1',
        durationMs: 12,
        somethingElse: 1,
      }),
    ).toEqual({
      component: 'activity',
      workflow_id: 'violation-e-1',
      run_id: 'r',
      activity_type: 'createTicket',
      connector_id: 'c-1',
      duration_ms: 12,
      something_else: 1,
      event_id: 'e-1',
    });
    expect(idsFromWorkflowId('ticket-t-9')).toEqual({ ticket_id: 't-9' });
    expect(idsFromWorkflowId('replay-r-1')).toEqual({ replay_id: 'r-1' });
    expect(idsFromWorkflowId('connector-test-x')).toEqual({});
    // An explicit event_id wins over the one derived from the workflow id.
    expect(toLogFields({ workflowId: 'violation-a', eventId: 'b' }).event_id).toBe('b');
  });

  it('writes through pino: level, errors under err, secrets redacted, levels below the threshold dropped', () => {
    const { logger, lines, raw } = capture('info');
    const log = temporalLogger(logger);
    log.debug('not written');
    log.warn('Activity failed', {
      error: new Error('HTTP 401'),
      workflowId: 'violation-e-2',
      config: { api_token: 's3cret-token' },
      authorization: 'Basic abc',
    });
    log.log('ERROR', 'boom');
    const [warn, error] = lines();
    expect(lines()).toHaveLength(2);
    expect(warn).toMatchObject({
      level: 40,
      msg: 'Activity failed',
      event_id: 'e-2',
      err: { message: 'HTTP 401' },
    });
    expect(warn!.config).toEqual({ api_token: '[redacted]' });
    expect(error).toMatchObject({ level: 50, msg: 'boom' });
    expect(raw.join('')).not.toMatch(/s3cret-token|Basic abc/);
  });
});

describe('activity subjects', () => {
  it('are read from the input object only', () => {
    expect(subjectOf([{ eventId: 'e', connectorId: 'c', deliveryId: 'd', text: 'x' }])).toEqual({
      eventId: 'e',
      connectorId: 'c',
      deliveryId: 'd',
    });
    expect(subjectOf([{ event_id: 'e', severity: 'high' }])).toEqual({ event_id: 'e' });
    expect(subjectOf(['plain', { eventId: 'e' }])).toEqual({});
    expect(subjectOf([])).toEqual({});
  });
});

describe('access-log path ids', () => {
  it('name each parameter, a bare :id after its collection', () => {
    expect(pathIds('/v1/violations/:event_id', '/v1/violations/abc')).toEqual({ event_id: 'abc' });
    expect(pathIds('/v1/tickets/:id/status', '/v1/tickets/t1/status')).toEqual({ ticket_id: 't1' });
    expect(pathIds('/v1/webhooks/jira/:connector_id', '/v1/webhooks/jira/c%201')).toEqual({
      connector_id: 'c 1',
    });
    expect(pathIds('/v1/deliveries/:id/replay', '/v1/deliveries/d1/replay')).toEqual({ delivery_id: 'd1' });
    expect(pathIds('/v1/connectors', '/v1/connectors')).toEqual({});
  });
});
