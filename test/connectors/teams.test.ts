import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../connectors/http.js';
import {
  ADAPTIVE_CARD_VERSION,
  adaptiveCard,
  buildTeamsRequest,
  postToTeams,
} from '../../connectors/teams.js';
import { teamsConfigSchema } from '../../domain/connector.js';
import { compactEvent } from '../../domain/event.js';
import { buildNotificationMessage } from '../../domain/notification-message.js';
import { type FakeTeams, startFakeTeams, teamsMessageProblem } from '../fakes/teams.js';
import { sampleEvent, thrown } from './siem-fixtures.js';

let teams: FakeTeams;
const message = () =>
  buildNotificationMessage({
    notice: { type: 'sla_breached', ticketId: 't-1', previous: 'high', priority: 'critical' },
    event: compactEvent(sampleEvent(), '2025-03-03T23:30:15.250-02:00'),
    ticket: {
      id: 't-1',
      kind: 'servicenow',
      externalId: 'INC0010001',
      externalUrl: 'https://example.service-now.com/incident.do?sys_id=abc',
      status: 'open',
      priority: 'critical',
    },
  });

beforeAll(async () => {
  teams = await startFakeTeams();
});
afterAll(() => teams.close());
afterEach(() => teams.faults.clear());

describe('Teams Workflows webhook', () => {
  it('posts a message carrying one Adaptive Card (1.4) the fake takes, with 202', async () => {
    const r = await postToTeams(teamsConfigSchema.parse({ webhook_url: teams.webhookUrl }), message());
    expect(r.status).toBe(202);
    const { card } = teams.received.at(-1)!;
    expect(card).toMatchObject({ type: 'AdaptiveCard', version: ADAPTIVE_CARD_VERSION });
    expect((card.body as { text?: string }[])[0]!.text).toBe('ServiceNow INC0010001: SLA breached');
    expect(JSON.stringify(card.body)).toContain('priority raised from high to critical');
    expect(card.actions).toEqual([
      {
        type: 'Action.OpenUrl',
        title: 'Open INC0010001 in ServiceNow',
        url: 'https://example.service-now.com/incident.do?sys_id=abc',
      },
    ]);
  });

  it('keeps the URL as given: the sig query is the credential', () => {
    const config = teamsConfigSchema.parse({ webhook_url: teams.webhookUrl });
    expect(buildTeamsRequest(config, message()).url).toBe(teams.webhookUrl);
  });

  it('an unknown workflow (404) or a wrong sig (401) fails at once', async () => {
    const missing = await thrown(() =>
      postToTeams({ webhook_url: teams.webhookUrl.replace('/workflows/', '/workflows/0') }, message()),
    );
    expect(missing).toBeInstanceOf(ConnectorError);
    expect(missing).toMatchObject({ status: 404, retryable: false });
    const forged = await thrown(() =>
      postToTeams({ webhook_url: teams.webhookUrl.replace(/sig=[^&]+/, 'sig=x') }, message()),
    );
    expect(forged).toMatchObject({ status: 401, retryable: false });
  });

  it('429 and 5xx are retried, Retry-After kept', async () => {
    teams.faults.status(429, { retryAfter: 2 }).status(502);
    const config = { webhook_url: teams.webhookUrl };
    expect(await thrown(() => postToTeams(config, message()))).toMatchObject({
      retryable: true,
      retryAfterMs: 2_000,
    });
    expect(await thrown(() => postToTeams(config, message()))).toMatchObject({
      status: 502,
      retryable: true,
    });
  });

  it('the fake refuses messages Workflows cannot post as a card', async () => {
    const card = adaptiveCard(message());
    const wrap = (content: unknown) => ({
      type: 'message',
      attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content }],
    });
    expect(teamsMessageProblem(wrap(card))).toBeUndefined();
    expect(teamsMessageProblem({ text: 'hi' })).toMatch(/type.*message/);
    expect(teamsMessageProblem({ type: 'message' })).toMatch(/attachments/);
    expect(teamsMessageProblem(wrap({ ...card, type: 'MessageCard' }))).toMatch(/must be 'AdaptiveCard'/);
    expect(teamsMessageProblem(wrap({ ...card, version: '1.5' }))).toMatch(/1\.0–1\.4/);
    expect(teamsMessageProblem(wrap({ ...card, body: [{ type: 'TextBlock' }] }))).toMatch(
      /TextBlock needs text/,
    );
    expect(
      teamsMessageProblem(
        wrap({ ...card, actions: [{ type: 'Action.OpenUrl', title: 'x', url: 'javascript:1' }] }),
      ),
    ).toMatch(/http\(s\)/);
    const res = await fetch(teams.webhookUrl, {
      method: 'POST',
      body: JSON.stringify(wrap({ ...card, version: '1.5' })),
    });
    expect(res.status).toBe(400);
  });
});
