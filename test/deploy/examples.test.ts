/** examples/escalate.yaml (mounted by docker-compose.yml) is a valid ESCALATE_CONFIG, as shipped and uncommented. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseConfigFile } from '../../infra/config-file.js';

const text = readFileSync(fileURLToPath(new URL('../../examples/escalate.yaml', import.meta.url)), 'utf8');

describe('examples/escalate.yaml', () => {
  it('is valid as shipped: settings only, nothing to provide', () => {
    const config = parseConfigFile(text, {});
    expect(config.settings.sla.critical).toBe('1h');
    expect(config.connectors ?? []).toEqual([]);
  });

  it('is valid with its connectors and rules uncommented and their secrets given', () => {
    const uncommented = text.replace(/^#> ?/gm, '');
    expect(uncommented).not.toEqual(text);
    const env = { JIRA_TOKEN: 'token', JIRA_WEBHOOK_SECRET: 'hook', HEC_TOKEN: 'hec' };
    const config = parseConfigFile(uncommented, env);
    expect(config.connectors?.map((c) => c.id)).toEqual(['jira-sec', 'splunk-prod']);
    expect(config.rules?.map((r) => r.id)).toEqual(['block-high-risk']);
    expect(() => parseConfigFile(uncommented, {})).toThrow(/JIRA_TOKEN is not set/);
  });
});
