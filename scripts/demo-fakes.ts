/**
 * `npm run demo:fakes`: the test fakes as a local demo — Jira, ServiceNow, Splunk, Datadog,
 * Elasticsearch, Slack and Teams on localhost (ports printed at start), with the credentials to
 * use. Point connectors at them (see README) and watch tickets, events and notifications arrive.
 */
import { startFakeDatadog } from '../test/fakes/datadog.js';
import { startFakeElasticsearch } from '../test/fakes/elasticsearch.js';
import { startFakeJira } from '../test/fakes/jira.js';
import { startFakeServiceNow } from '../test/fakes/servicenow.js';
import { startFakeSlack } from '../test/fakes/slack.js';
import { startFakeSplunk } from '../test/fakes/splunk.js';
import { startFakeTeams } from '../test/fakes/teams.js';

const [jira, snow, splunk, datadog, es, slack, teams] = await Promise.all([
  startFakeJira(),
  startFakeServiceNow({ username: 'escalate', password: 'demo' }),
  startFakeSplunk({ token: 'demo-hec-token' }),
  startFakeDatadog({ apiKey: 'demo-dd-key' }),
  startFakeElasticsearch({ apiKey: 'demo-es-key' }),
  startFakeSlack({ botToken: 'xoxb-0000-0000-demo' }),
  startFakeTeams(),
]);

console.log(`fakes running (Ctrl-C to stop):
  jira           ${jira.url}   api=cloud email=bot@example.com api_token=cloud-token project_key=SEC
  servicenow     ${snow.url}   username=escalate password=demo
  splunk HEC     ${splunk.url}   hec_token=demo-hec-token
  datadog        ${datadog.url}   api_key=demo-dd-key
  elasticsearch  ${es.url}   api_key=demo-es-key
  slack          webhook_url=${slack.webhookUrl}
                 or bot_token=${slack.botToken} channel=${slack.channel} api_url=${slack.apiUrl}
  teams          webhook_url=${teams.webhookUrl}
`);

const report = setInterval(() => {
  console.log(
    `[fakes] jira issues=${jira.issues.size} servicenow incidents=${snow.list('incident').length} ` +
      `splunk events=${splunk.received.length} datadog logs=${datadog.logs.length} es docs=${es.received.length} ` +
      `slack messages=${slack.posted.length} teams cards=${teams.received.length}`,
  );
}, 10_000);

process.on('SIGINT', async () => {
  clearInterval(report);
  await Promise.allSettled([
    jira.close(),
    snow.close(),
    splunk.close(),
    datadog.close(),
    es.close(),
    slack.close(),
    teams.close(),
  ]);
  process.exit(0);
});
