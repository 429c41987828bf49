export { connectorActionWorkflow } from './connector-action.js';
export { deliveryWorkflow } from './delivery.js';
export { replayWorkflow } from './replay.js';
export { ticketSyncWorkflow } from './ticket-sync.js';
export { violationWorkflow, violationWorkflowV2 } from './violation.js';
