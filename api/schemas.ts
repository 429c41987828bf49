import { z } from '@hono/zod-openapi';

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi('Error');

export const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorSchema } },
});

export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(512).optional(),
});

export const listOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), next_cursor: z.string().nullable() });

export const TicketSchema = z
  .object({
    id: z.string(),
    connector_id: z.string(),
    kind: z.string(),
    event_id: z.string(),
    /** Null while the ticket is being created. */
    external_id: z.string().nullable(),
    external_url: z.string().nullable(),
    sys_id: z.string().optional(),
    status: z.string(),
    severity: z.string(),
    priority: z.string(),
    correlation_key: z.string().nullable(),
    recurrence_count: z.number(),
    sla_due_at: z.string().nullable(),
    sla_breached: z.boolean(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Ticket');

export const DeliverySchema = z
  .object({
    id: z.string(),
    connector_id: z.string(),
    kind: z.string(),
    /** `ticket`, `event` or `notify`. */
    purpose: z.string(),
    /** `notify`: what is told (`type`: ticket_created, recurrence, status_changed, sla_breached, delivery_failed, and its ids). */
    notice: z.record(z.string(), z.unknown()).nullable(),
    event_id: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number(),
    last_error: z.string().nullable(),
    last_attempt_at: z.string().nullable(),
    ticket_id: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Delivery');
