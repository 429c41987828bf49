/**
 * ServiceNow checks, all Table API reads: the credentials (the user's own `sys_user` record), the
 * configured table, and the assignment group (`sys_user_group` by sys_id or name). Whether the user
 * may create records cannot be read without creating one: `test` proves that.
 */
import type { ServiceNowConfig } from '../../domain/connector.js';
import { errorFromResponse, type HttpResponse, parseJson } from '../http.js';
import {
  closeCodeMissing,
  encodedQueryValue,
  SERVICENOW_HEADERS,
  serviceNowErrorMessage,
} from '../servicenow.js';
import { serviceNowSend } from '../servicenow-client.js';
import type { CheckStep } from './steps.js';

const SYS_ID = /^[0-9a-f]{32}$/;

function query(config: ServiceNowConfig, table: string, params: Record<string, string>, timeoutMs: number) {
  const search = new URLSearchParams({
    sysparm_limit: '1',
    sysparm_exclude_reference_link: 'true',
    ...params,
  });
  return serviceNowSend(
    config,
    {
      method: 'GET',
      url: `${config.instance_url}/api/now/table/${encodeURIComponent(table)}?${search}`,
      headers: { Accept: SERVICENOW_HEADERS.Accept },
    },
    timeoutMs,
  );
}

const firstRecord = (res: HttpResponse) =>
  ((parseJson(res.text) ?? {}) as { result?: Record<string, string>[] }).result?.[0];

const authenticate: CheckStep<ServiceNowConfig> = {
  name: 'authenticate',
  async run(config, timeoutMs) {
    // OAuth client credentials act as the registry entry's user, whose name escalate does not know.
    const who = config.username ?? `OAuth client ${config.client_id}`;
    const params: Record<string, string> = config.username
      ? { sysparm_query: `user_name=${encodedQueryValue(config.username)}`, sysparm_fields: 'user_name,name' }
      : { sysparm_fields: 'user_name,name' };
    const res = await query(config, 'sys_user', params, timeoutMs);
    if (res.status === 401) throw errorFromResponse(res, serviceNowErrorMessage(res));
    const me = res.status === 200 && config.username ? firstRecord(res) : undefined;
    if (me) return { ok: true, message: `authenticated as ${me.name || me.user_name} (${config.username})` };
    if (res.status === 200 || res.status === 403)
      return {
        ok: true,
        message: config.username
          ? `credentials of ${who} accepted (its sys_user record is not readable)`
          : `credentials of ${who} accepted`,
      };
    throw errorFromResponse(res, serviceNowErrorMessage(res));
  },
};

const readTable: CheckStep<ServiceNowConfig> = {
  name: 'read table',
  needs: ['authenticate'],
  async run(config, timeoutMs) {
    const res = await query(config, config.table, { sysparm_fields: 'sys_id' }, timeoutMs);
    if (res.status !== 200) throw errorFromResponse(res, serviceNowErrorMessage(res));
    return {
      ok: true,
      message: `${config.table} is readable (creating a record is only proven by test, which creates one)`,
    };
  },
};

const assignmentGroup: CheckStep<ServiceNowConfig> = {
  name: 'assignment group',
  needs: ['authenticate'],
  applies: (config) => Boolean(config.assignment_group),
  async run(config, timeoutMs) {
    const group = config.assignment_group!;
    const field = SYS_ID.test(group) ? 'sys_id' : 'name';
    const res = await query(
      config,
      'sys_user_group',
      { sysparm_query: `${field}=${encodedQueryValue(group)}`, sysparm_fields: 'sys_id,name' },
      timeoutMs,
    );
    if (res.status !== 200) throw errorFromResponse(res, serviceNowErrorMessage(res));
    const found = firstRecord(res);
    if (!found) return { ok: false, message: `no sys_user_group with ${field} "${group}"` };
    return { ok: true, message: `group "${found.name}" exists (sys_id ${found.sys_id})` };
  },
};

/** Configuration only: closing records of this table needs a close code the connector must name. */
const closeCode: CheckStep<ServiceNowConfig> = {
  name: 'close code',
  async run(config) {
    const status = closeCodeMissing(config);
    return status
      ? {
          ok: false,
          message: `${config.table} needs close_code to become ${status}: set it to one of the instance's close codes`,
        }
      : {
          ok: true,
          message: config.close_code
            ? `close_code "${config.close_code}"`
            : 'the table needs no close code, or has a default',
        };
  },
};

export const SERVICENOW_CHECKS: CheckStep<ServiceNowConfig>[] = [
  authenticate,
  readTable,
  assignmentGroup,
  closeCode,
];
