import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';

/** A writable stream as the CLI uses it (process.stdout / process.stderr, or a test double). */
export type Output = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

/** Everything the CLI touches outside itself, so tests can run it in-process. */
export interface CliIO {
  stdout: Output;
  stderr: Output;
  stdin: NodeJS.ReadableStream;
  env: Record<string, string | undefined>;
  fetch: typeof fetch;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  /** Registers a Ctrl-C handler; returns its removal. */
  onInterrupt: (handler: () => void) => () => void;
}

export function processIO(): CliIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    fetch: globalThis.fetch,
    now: () => new Date(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    onInterrupt: (handler) => {
      process.once('SIGINT', handler);
      return () => process.removeListener('SIGINT', handler);
    },
  };
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function readText(source: string, stdin: NodeJS.ReadableStream, expected: string): Promise<string> {
  const name = source === '-' ? 'standard input' : source;
  let text: string;
  try {
    text = source === '-' ? await readStream(stdin) : await readFile(source, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${name}: ${(err as Error).message}`);
  }
  if (text.trim() === '') throw new Error(`${name} is empty: expected ${expected}`);
  return text;
}

const inputName = (source: string) => (source === '-' ? 'standard input' : source);

/** Reads and parses a JSON document from a file, or from standard input for `-`. */
export async function readJsonInput(source: string, stdin: NodeJS.ReadableStream): Promise<unknown> {
  const text = await readText(source, stdin, 'a JSON document');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${inputName(source)} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Reads a YAML (or JSON, which is YAML) document from a file, or from standard input for `-`. */
export async function readYamlInput(source: string, stdin: NodeJS.ReadableStream): Promise<unknown> {
  const text = await readText(source, stdin, 'a YAML or JSON document');
  try {
    return parseYaml(text);
  } catch (err) {
    throw new Error(`${inputName(source)} is not valid YAML: ${(err as Error).message}`);
  }
}
