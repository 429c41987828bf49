/** The `escalate` command line: commander wiring, help texts, exit codes. */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { SEVERITIES } from '../domain/severity.js';
import { TICKET_STATUSES } from '../domain/ticket-status.js';
import { ApiError, NetworkError } from './client.js';
import {
  connectorCheck,
  connectorsCreate,
  connectorsList,
  connectorsReencrypt,
  connectorTest,
  deliveriesList,
  deliveryGet,
  rulesDryRun,
  rulesList,
  send,
  ticketsList,
  violationGet,
} from './commands.js';
import { Ctx, type ExitCode, type GlobalOptions } from './context.js';
import { describeError } from './format.js';
import type { CliIO } from './io.js';
import { replay } from './replay.js';
import { type RulesApplyOptions, rulesApply } from './rules-apply.js';
import { toTimestamp } from './time.js';

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return n;
}

/** Validates a --since/--until value at parse time (it is converted again when the command runs). */
function timeArg(value: string): string {
  try {
    toTimestamp(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return value;
}

const sinceOption = (what: string) =>
  new Option(
    '--since <time>',
    `only ${what} since then: a duration before now (30m, 24h, 7d) or ISO date-time`,
  ).argParser(timeArg);
const untilOption = (what: string) =>
  new Option('--until <time>', `only ${what} before then: a duration before now or ISO date-time`).argParser(
    timeArg,
  );

export function buildProgram(io: CliIO, setExit: (code: ExitCode) => void): Command {
  const program = new Command('escalate');

  /** Runs one command's body with the global options and records its exit code. */
  const run =
    <A extends unknown[]>(body: (ctx: Ctx, ...args: A) => Promise<ExitCode>) =>
    async (...args: A) => {
      const command = args[args.length - 1] as Command;
      const ctx = new Ctx(io, command.optsWithGlobals<GlobalOptions>());
      try {
        setExit(await body(ctx, ...args));
      } catch (err) {
        if (ctx.json && err instanceof ApiError && err.body !== undefined) ctx.printJson(err.body);
        io.stderr.write(`${describeError(err, ctx.client.hasApiKey)}\n`);
        setExit(err instanceof NetworkError ? 2 : 1);
      }
    };

  program
    .description(
      'Operate escalate: send violations, inspect tickets and deliveries (with their attempts), create, check and test connectors, list, apply and dry-run rules, replay failed deliveries.',
    )
    .version(version(), '-V, --version')
    .option('--url <url>', 'API base URL (env ESCALATE_URL, default http://127.0.0.1:8080)')
    .option('--api-key <key>', 'API key sent as a bearer token (env ESCALATE_API_KEY; prefer the env)')
    .option('--json', 'print the raw JSON answers (for scripts)')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride()
    .addHelpText(
      'after',
      `
Exit codes: 0 ok; 1 the API answered with an error, or something failed; 2 the API is unreachable.
${examples(
  'export ESCALATE_URL=https://escalate.internal ESCALATE_API_KEY=...',
  'escalate deliveries list --status failed --since 24h',
  'escalate replay --status failed --connector splunk-prod --since 24h --dry-run',
  'escalate replay --status failed --connector splunk-prod --since 24h',
  'escalate --json tickets list --severity critical | jq ".items[].external_id"',
)}`,
    );

  // `command()` copies the output routing, exit override and help settings to each subcommand.
  const sub = (parent: Command, name: string, description: string, isDefault = false) =>
    parent.command(name, { isDefault }).description(description);

  sub(program, 'send', 'send a violation event (or a JSON array of events, as one batch)')
    .argument('<event.json|->', 'a JSON file, or - for standard input')
    .addHelpText(
      'after',
      `
A JSON object is posted to /v1/violations; a JSON array to /v1/violations:batch (each item is
answered accepted, duplicate, conflict or invalid; exit 1 if any is conflict or invalid).
${examples(
  'escalate send event.json',
  'cat event.json | escalate send -',
  'escalate send events.json          # an array: one batch',
)}`,
    )
    .action(run((ctx, source: string) => send(ctx, source)));

  const violations = sub(program, 'violations', 'inspect violations').addHelpText(
    'after',
    examples('escalate violations get 3f1c0a52-7e3b-4b8e-9d0e-0c9b8f6e2a11'),
  );
  sub(violations, 'get', 'a violation with its status, decisions, tickets and deliveries')
    .argument('<event_id>', 'the event id')
    .addHelpText('after', examples('escalate violations get 3f1c0a52-7e3b-4b8e-9d0e-0c9b8f6e2a11'))
    .action(run((ctx, eventId: string) => violationGet(ctx, eventId)));

  const tickets = sub(program, 'tickets', 'tickets opened in Jira / ServiceNow').addHelpText(
    'after',
    examples(
      'escalate tickets                  # same as: escalate tickets list',
      'escalate tickets list --help',
    ),
  );
  sub(tickets, 'list', 'list tickets, newest first (the default subcommand)', true)
    .addOption(new Option('--status <status>', 'only this ticket status').choices([...TICKET_STATUSES]))
    .option('--connector <id>', 'only this connector')
    .addOption(new Option('--severity <severity>', 'only this severity').choices([...SEVERITIES]))
    .addOption(sinceOption('tickets created'))
    .option('--limit <n>', 'at most this many tickets (follows pages)', positiveInt, 100)
    .addHelpText(
      'after',
      examples(
        'escalate tickets list --severity critical --since 24h',
        'escalate tickets --connector jira-sec --status open --limit 20',
      ),
    )
    .action(run((ctx, opts: Parameters<typeof ticketsList>[1]) => ticketsList(ctx, opts)));

  const deliveries = sub(program, 'deliveries', 'ticket and SIEM deliveries with their attempts').addHelpText(
    'after',
    examples('escalate deliveries --status failed   # same as: escalate deliveries list --status failed'),
  );
  sub(deliveries, 'list', 'list deliveries (the default subcommand)', true)
    .addOption(new Option('--status <status>', 'delivery status').choices(['pending', 'delivered', 'failed']))
    .option('--connector <id>', 'only this connector')
    .addOption(sinceOption('deliveries created'))
    .addOption(untilOption('deliveries created'))
    .option('--limit <n>', 'at most this many deliveries (follows pages)', positiveInt, 100)
    .addHelpText(
      'after',
      examples(
        'escalate deliveries list --status failed',
        'escalate deliveries list --status failed --connector splunk-prod --since 24h --limit 500',
      ),
    )
    .action(run((ctx, opts: Parameters<typeof deliveriesList>[1]) => deliveriesList(ctx, opts)));
  sub(
    deliveries,
    'get',
    'one delivery with its attempt log (outcome, HTTP status, remote code, message, duration)',
  )
    .argument('<id>', 'the delivery id (from deliveries list or violations get)')
    .addHelpText(
      'after',
      examples(
        'escalate deliveries get 0b8f6e2a-7e3b-4b8e-9d0e-3f1c0a527e3b',
        'escalate --json deliveries get 0b8f6e2a-7e3b-4b8e-9d0e-3f1c0a527e3b | jq ".attempt_log[-1]"',
      ),
    )
    .action(run((ctx, id: string) => deliveryGet(ctx, id)));

  const connectors = sub(program, 'connectors', 'Jira, ServiceNow and SIEM connectors').addHelpText(
    'after',
    examples(
      'escalate connectors',
      'escalate connectors create -f jira-sec.yaml',
      'escalate connectors check jira-sec',
      'escalate connectors test jira-sec',
      'escalate connectors reencrypt',
    ),
  );
  sub(connectors, 'list', 'list connectors with their last check and test (the default subcommand)', true)
    .addHelpText('after', examples('escalate connectors list'))
    .action(run((ctx) => connectorsList(ctx)));
  sub(
    connectors,
    'create',
    `create connectors from a YAML or JSON file; \${VAR} references read the environment`,
  )
    .requiredOption(
      '-f, --file <connector.yaml|->',
      'one connector (or a list), as POST /v1/connectors takes it',
    )
    .addHelpText(
      'after',
      `
The file holds what POST /v1/connectors takes: id, name, kind, config, filters, retry. Keep secrets
out of it with \${VAR} references (e.g. api_token: "\${JIRA_TOKEN}"), expanded from the environment
here; a variable that is not set is an error and nothing is sent.
${examples('escalate connectors create -f jira-sec.yaml', 'JIRA_TOKEN=... escalate connectors create -f - < jira-sec.yaml')}`,
    )
    .action(run((ctx, opts: { file: string }) => connectorsCreate(ctx, opts.file)));
  sub(
    connectors,
    'check',
    'check connectors without side effects (credentials, permissions, project or index); exit 1 if a check fails',
  )
    .argument('<id...>', 'one or more connector ids')
    .addHelpText(
      'after',
      `
Nothing is written on the remote side: Jira is asked who the credentials are and which project
permissions they hold, ServiceNow whether the table and group are readable, Splunk HEC takes an
empty request, Datadog validates the key, Elasticsearch reports privileges. Use test to send one.
${examples('escalate connectors check jira-sec', 'escalate connectors check jira-sec splunk-prod', 'escalate --json connectors check jira-sec')}`,
    )
    .action(run((ctx, ids: string[]) => connectorCheck(ctx, ids)));
  sub(
    connectors,
    'test',
    'test a connector end to end: creates a test ticket or sends a test event; exit 1 if it fails',
  )
    .argument('<id>', 'the connector id')
    .addHelpText(
      'after',
      examples('escalate connectors test jira-sec', 'escalate --json connectors test splunk-prod'),
    )
    .action(run((ctx, id: string) => connectorTest(ctx, id)));
  sub(
    connectors,
    'reencrypt',
    "seal every connector's secrets again under the API's ESCALATE_SECRET_KEY (after a key rotation); exit 1 if some cannot be decrypted",
  )
    .addHelpText('after', examples('escalate connectors reencrypt'))
    .action(run((ctx) => connectorsReencrypt(ctx)));

  const rules = sub(program, 'rules', 'routing rules').addHelpText(
    'after',
    examples(
      'escalate rules list',
      'escalate rules apply -f rules.yaml --dry-run',
      'escalate rules dry-run event.json',
    ),
  );
  sub(rules, 'list', 'rules in evaluation order (the default subcommand)', true)
    .addHelpText('after', examples('escalate rules list', 'escalate --json rules list | jq ".items[].id"'))
    .action(run((ctx) => rulesList(ctx)));
  sub(rules, 'apply', 'make the API rules match a YAML file: prints the diff, then applies it')
    .requiredOption(
      '-f, --file <rules.yaml|->',
      'a "rules:" list (as in ESCALATE_CONFIG) or a bare list; each rule needs an id',
    )
    .option('--dry-run', 'print the diff only; change nothing')
    .option('--prune', 'also delete the rules made through the API that the file does not declare')
    .addHelpText(
      'after',
      `
Every rule is validated first (nothing is sent if one is invalid). The diff lists + create,
~ update (each field that changes, before → after), = unchanged and, with --prune, - delete.
Rules declared in ESCALATE_CONFIG are never pruned; changing one here lasts until escalate restarts.
${examples('escalate rules apply -f rules.yaml --dry-run', 'escalate rules apply -f rules.yaml', 'escalate rules apply -f rules.yaml --prune')}`,
    )
    .action(run((ctx, opts: RulesApplyOptions) => rulesApply(ctx, opts)));
  sub(rules, 'dry-run', 'which rules an event would match and which tickets it would open; nothing is sent')
    .argument('<event.json|->', 'a JSON file, or - for standard input')
    .addHelpText(
      'after',
      examples('escalate rules dry-run event.json', 'cat event.json | escalate rules dry-run -'),
    )
    .action(run((ctx, source: string) => rulesDryRun(ctx, source)));

  sub(program, 'replay', 'replay deliveries (by default the failed ones) through Temporal, with progress')
    .addOption(
      new Option('--status <status>', 'which deliveries to replay')
        .choices(['failed', 'pending'])
        .default('failed'),
    )
    .option('--connector <id>', 'only this connector')
    .addOption(sinceOption('deliveries created'))
    .addOption(untilOption('deliveries created'))
    .option('--event-id <id...>', 'only these events (repeatable)')
    .option('--dry-run', 'list what would be replayed; replay nothing')
    .addHelpText(
      'after',
      `
Deliveries that have succeeded since are skipped; ticket creations reuse their idempotency keys,
so a replay never opens a second ticket. Progress goes to stderr (a bar on a terminal, plain lines
otherwise); the summary to stdout. Exit 1 if any delivery failed again.
${examples(
  'escalate replay --status failed --since 24h --dry-run',
  'escalate replay --status failed --connector splunk-prod --since 24h',
  'escalate replay --event-id 3f1c0a52-7e3b-4b8e-9d0e-0c9b8f6e2a11 --event-id 9b2d...',
)}`,
    )
    .action(run((ctx, opts: Parameters<typeof replay>[1]) => replay(ctx, opts)));

  return program;
}

/** Runs the CLI with `argv` (without node and the script) and answers the exit code. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  let code: ExitCode = 0;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    io.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  return code;
}
