import { ApiClient, DEFAULT_URL } from './client.js';
import type { CliIO } from './io.js';

export interface GlobalOptions {
  url?: string;
  apiKey?: string;
  json?: boolean;
}

/** What every command gets: the API client, the output mode and the outside world. */
export class Ctx {
  readonly client: ApiClient;
  readonly json: boolean;

  constructor(
    readonly io: CliIO,
    opts: GlobalOptions,
  ) {
    this.client = new ApiClient({
      baseUrl: opts.url || io.env['ESCALATE_URL'] || DEFAULT_URL,
      apiKey: opts.apiKey || io.env['ESCALATE_API_KEY'],
      fetch: io.fetch,
    });
    this.json = opts.json === true;
  }

  /** A line (or block) of human output on stdout. */
  out(text = ''): void {
    this.io.stdout.write(`${text}\n`);
  }

  /** Progress and notes on stderr (keeps stdout clean for `--json`). */
  note(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }

  printJson(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  now(): Date {
    return this.io.now();
  }
}

/** A command's exit code: 0 success, 1 the API said no (or something failed), 2 unreachable. */
export type ExitCode = 0 | 1 | 2 | 130;
