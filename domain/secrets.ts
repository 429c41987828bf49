/** What an admin can do about connector secrets no configured key opens. */
export const UNREADABLE_REMEDY =
  'set the key they were sealed with in ESCALATE_SECRET_KEY_PREVIOUS, or send the secrets again (PATCH)';

/** Stored secrets no configured key opens: a status the API shows, never a 500. */
export class SecretsUnreadableError extends Error {
  override readonly name = 'SecretsUnreadableError';
  constructor(readonly reason: string) {
    super(`connector secrets cannot be decrypted: ${reason}`);
  }
}
