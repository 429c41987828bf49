/**
 * Child process of `npm run bench`: the fake Jira and Splunk HEC with no injected latency or
 * faults. Kept out of the bench process so their in-memory stores (every issue, every HEC
 * envelope) do not count in the API+worker RSS. Prints one JSON line with the URLs, then runs
 * until SIGTERM or until its parent goes away (stdin closes).
 */
import { startFakeJira } from '../test/fakes/jira.js';
import { startFakeSplunk } from '../test/fakes/splunk.js';
import { SPLUNK_TOKEN } from './config.js';

async function main() {
  const [jira, splunk] = await Promise.all([startFakeJira(), startFakeSplunk({ token: SPLUNK_TOKEN })]);
  let closing = false;
  const close = async () => {
    if (closing) return;
    closing = true;
    await Promise.allSettled([jira.close(), splunk.close()]);
    process.exit(0);
  };
  process.on('SIGTERM', close);
  process.on('SIGINT', close);
  process.stdin.on('end', close);
  process.stdin.on('close', close);
  process.stdin.resume();
  // Counters for the report, on request: a line "stats" on stdin answers one JSON line.
  process.stdin.on('data', (chunk: Buffer) => {
    if (!chunk.toString().includes('stats')) return;
    const creates = [...jira.createsByLabel].filter(([label]) => /^escalate-[0-9a-f]{20}$/.test(label));
    process.stdout.write(
      `${JSON.stringify({
        stats: {
          jiraIssues: jira.issues.size,
          jiraDuplicateCreates: creates.filter(([, n]) => n > 1).length,
          splunkEvents: splunk.received.length,
        },
      })}\n`,
    );
  });
  process.stdout.write(`${JSON.stringify({ jira: jira.url, splunk: splunk.url, pid: process.pid })}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
