import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes that make the Web UI a console. Their names are a public interface:
 * saved queries and cluster set-up scripts use them.
 */
export const EscalateEventType = defineSearchAttributeKey('EscalateEventType', SearchAttributeType.KEYWORD);
export const EscalateSeverity = defineSearchAttributeKey('EscalateSeverity', SearchAttributeType.KEYWORD);
export const EscalateTicketStatus = defineSearchAttributeKey(
  'EscalateTicketStatus',
  SearchAttributeType.KEYWORD,
);
export const EscalateConnectors = defineSearchAttributeKey(
  'EscalateConnectors',
  SearchAttributeType.KEYWORD_LIST,
);
export const EscalateTicketKeys = defineSearchAttributeKey(
  'EscalateTicketKeys',
  SearchAttributeType.KEYWORD_LIST,
);
