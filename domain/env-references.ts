/**
 * `${VAR}` anywhere in a string value of a parsed document is replaced from the environment, so
 * files (ESCALATE_CONFIG, `escalate connectors create -f`) never hold secrets. A variable that is
 * not set is an error naming the document and the field.
 */
export function expandEnvReferences(
  value: unknown,
  env: Record<string, string | undefined>,
  document: string,
  path = '',
): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const v = env[name];
      if (v === undefined)
        throw new Error(`${document} ${path || '(root)'}: environment variable ${name} is not set`);
      return v;
    });
  }
  if (Array.isArray(value))
    return value.map((v, i) => expandEnvReferences(v, env, document, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        expandEnvReferences(v, env, document, path ? `${path}.${k}` : k),
      ]),
    );
  }
  return value;
}
