export { violationWorkflow } from './violation.js';
