export { connectorActionWorkflow } from './connector-action.js';
export { deliveryWorkflow } from './delivery.js';
export { violationWorkflow } from './violation.js';
