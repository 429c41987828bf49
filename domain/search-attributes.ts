import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes (names fixed by SPEC §9) that make the Web UI a console. */
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
