// Loaded by path (DataConverter.failureConverterPath) when ESCALATE_PAYLOAD_KEY is set: failure
// messages and stack traces go into an encoded payload, which the payload codec then encrypts.
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
