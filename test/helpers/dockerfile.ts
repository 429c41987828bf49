/**
 * Reads a Dockerfile's stages (FROM … AS name, inheriting ENV from a parent stage), their ENV,
 * RUN, USER, HEALTHCHECK and CMD, so tests can run what the image runs without a Docker engine.
 */
export interface Stage {
  name: string;
  from: string;
  env: Record<string, string>;
  run: string[];
  user?: string;
  cmd?: string[];
  healthcheck?: string[];
}

/** Instructions joined across `\` continuations, comments dropped. */
function instructions(text: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!current && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) current += `${line.slice(0, -1).trim()} `;
    else {
      out.push(`${current}${line}`.trim());
      current = '';
    }
  }
  return out;
}

/** `KEY=value KEY2=value2` (values without spaces, as this project writes them). */
function envPairs(args: string): Record<string, string> {
  return Object.fromEntries(
    args
      .split(/\s+/)
      .filter(Boolean)
      .map((pair) => {
        const i = pair.indexOf('=');
        return [pair.slice(0, i), pair.slice(i + 1)];
      }),
  );
}

export function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of instructions(text)) {
    const [keyword, ...rest] = ins.split(/\s+/);
    const argText = rest.join(' ');
    const stage = stages.at(-1);
    switch (keyword!.toUpperCase()) {
      case 'ARG':
        if (!stage) Object.assign(args, envPairs(argText));
        break;
      case 'FROM': {
        const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(argText);
        if (!m) throw new Error(`cannot read ${ins}`);
        const from = m[1]!.replace(/\$\{(\w+)\}/g, (_, name: string) => args[name] ?? '');
        const parent = stages.find((s) => s.name === from);
        stages.push({
          name: m[2] ?? `stage${stages.length}`,
          from,
          env: { ...parent?.env },
          run: [],
          user: parent?.user,
          cmd: parent?.cmd,
          healthcheck: parent?.healthcheck,
        });
        break;
      }
      case 'ENV':
        Object.assign(stage!.env, envPairs(argText));
        break;
      case 'RUN':
        stage!.run.push(argText);
        break;
      case 'USER':
        stage!.user = argText;
        break;
      case 'CMD':
        stage!.cmd = JSON.parse(argText) as string[];
        break;
      case 'HEALTHCHECK': {
        const i = argText.indexOf('CMD ');
        stage!.healthcheck = JSON.parse(argText.slice(i + 4)) as string[];
        break;
      }
    }
  }
  return { args, stages };
}
