#!/bin/sh
# Creates escalate's namespace and registers its search attributes on a running Temporal
# cluster. Idempotent: what exists is kept.
#
# Needs the `temporal` CLI on PATH (the temporalio/admin-tools image has it) and:
#   TEMPORAL_ADDRESS (temporal:7233), TEMPORAL_NAMESPACE (default),
#   TEMPORAL_RETENTION (7d): how long closed workflows stay visible
set -eu

addr="${TEMPORAL_ADDRESS:-temporal:7233}"
ns="${TEMPORAL_NAMESPACE:-default}"
retention="${TEMPORAL_RETENTION:-7d}"

attempt=0
until temporal operator cluster health --address "$addr" >/dev/null 2>&1; do
  attempt=$((attempt + 1))
  [ "$attempt" -lt 60 ] || { echo "Temporal at $addr is not serving" >&2; exit 1; }
  sleep 2
done

if ! temporal operator namespace describe --address "$addr" --namespace "$ns" >/dev/null 2>&1; then
  temporal operator namespace create --address "$addr" --namespace "$ns" --retention "$retention"
fi
echo "namespace $ns ready"

# Names and types fixed by escalate (domain/search-attributes.ts).
for spec in EscalateEventType:Keyword EscalateSeverity:Keyword EscalateTicketStatus:Keyword \
            EscalateConnectors:KeywordList EscalateTicketKeys:KeywordList; do
  name="${spec%%:*}"
  type="${spec#*:}"
  attempt=0
  # A namespace just created can take a moment to accept search attributes: retry.
  until temporal operator search-attribute list --address "$addr" --namespace "$ns" | grep -qw "$name"; do
    attempt=$((attempt + 1))
    [ "$attempt" -lt 30 ] || { echo "could not register search attribute $name" >&2; exit 1; }
    temporal operator search-attribute create --address "$addr" --namespace "$ns" \
      --name "$name" --type "$type" >/dev/null 2>&1 || sleep 2
  done
  echo "search attribute $name ($type) registered"
done
