/**
 * Runs the `escalate` CLI for tests: in this process through `runCli` (fixed clock, fast polls), or
 * as a real subprocess through a `bin.js` (the repo's, or an installed package's).
 */
import { spawn } from 'node:child_process';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { CliIO, Output } from '../../cli/io.js';
import { runCli } from '../../cli/program.js';
import { API_KEY } from './fake-api.js';

export const REPO_BIN = fileURLToPath(new URL('../../cli/bin.js', import.meta.url));
export const NOW = new Date('2026-11-21T12:00:00.000Z');

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function capture(tty = false): { stream: Output; text: () => string } {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  if (tty) {
    stream.isTTY = true;
    stream.columns = 100;
  }
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  return { stream, text: () => text };
}

/** `cli` and `bin` against the API at `url()` (read when each runs) with its key. */
export function cliHarness(url: () => string) {
  /** Runs the CLI in this process with a fixed clock and a fast poll. */
  async function cli(
    args: string[],
    opts: { env?: Record<string, string>; stdin?: string; tty?: boolean } = {},
  ): Promise<Result> {
    const stdout = capture();
    const stderr = capture(opts.tty);
    const io: CliIO = {
      stdout: stdout.stream,
      stderr: stderr.stream,
      stdin: Readable.from(opts.stdin === undefined ? [] : [opts.stdin]),
      env: opts.env ?? { ESCALATE_URL: url(), ESCALATE_API_KEY: API_KEY },
      fetch: globalThis.fetch,
      now: () => NOW,
      sleep: () => new Promise((resolve) => setTimeout(resolve, 5)),
      onInterrupt: () => () => {},
    };
    const code = await runCli(args, io);
    await new Promise((resolve) => setImmediate(resolve));
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  }

  /** Runs `node <bin.js>` as a subprocess (stdio pipes: not a TTY). */
  function bin(
    args: string[],
    opts: { env?: Record<string, string>; stdin?: string; binPath?: string; cwd?: string } = {},
  ): Promise<Result> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [opts.binPath ?? REPO_BIN, ...args], {
        env: { ...process.env, ESCALATE_URL: url(), ESCALATE_API_KEY: API_KEY, ...opts.env },
        cwd: opts.cwd,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
      });
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      child.stdin.end(opts.stdin ?? '');
    });
  }

  return { cli, bin };
}
