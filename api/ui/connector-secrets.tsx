/** How the console shows a connector's stored secrets, and what its test does. */
import { type ConnectorKind, isItsmKind, isNotifyKind } from '../../domain/connector.js';
import type { Connector } from './api-types.js';
import { Badge } from './components.js';

type SecretsStatus = Pick<Connector['status'], 'secrets' | 'secrets_error'>;

/** What the edit form says when no configured key opens the stored secrets. */
export const UNREADABLE_FORM_NOTE =
  'secrets cannot be decrypted: enter every secret this connector uses; empty fields are removed';

/** The secrets column of the list, the secrets row of the detail. */
export function SecretsState(props: { status: SecretsStatus; editHref: string }) {
  const { secrets } = props.status;
  if (secrets === 'none') return <span class="muted">none</span>;
  if (secrets === 'sealed') return <Badge value="sealed" kind="ok" />;
  return (
    <>
      <Badge value="undecryptable" kind="bad" />{' '}
      <a href={props.editHref}>skipped by planning: re-enter its secrets</a>
    </>
  );
}

/** The detail page's warning for an undecryptable connector: why it is skipped and what to do. */
export const UnreadableSecretsNotice = (props: { status: SecretsStatus; editHref: string }) =>
  props.status.secrets === 'undecryptable' ? (
    <div class="callout bad">
      <strong>Secrets cannot be decrypted: planning skips this connector.</strong>
      <div class="wrap">{props.status.secrets_error}</div>
      <div>
        <a href={props.editHref}>Re-enter its secrets</a> (every secret it uses) to put it back to work.
      </div>
    </div>
  ) : null;

/** The test button's label: ITSM kinds open a ticket, Slack and Teams post a message. */
export function testLabel(kind: ConnectorKind): string {
  if (isItsmKind(kind)) return 'Test: create a test ticket';
  if (isNotifyKind(kind)) return 'Test: send a test message';
  return 'Test: send a test event';
}
