import type { CommucatConfig } from '@commucat/config';
import { FederationServiceClient } from '@commucat/contracts';
import { callPeer } from '../grpc-call';
import { fleetPeer } from '../fleet-peers';
import type { Output } from '../output';
import { renderKeyValues, renderTable } from '../table';

/** The federation outbox: rows per state, then the newest dead letters (events a peer never took). */
export async function federationOutbox(config: CommucatConfig, output: Output, deadLimit: number): Promise<void> {
  const res = await callPeer(FederationServiceClient, fleetPeer(config, 'federation'), 'outbox', { deadLimit }, output);
  const counts = { pending: res.pending, in_flight: res.inFlight, delivered: res.delivered, dead: res.dead };
  const dead = res.deadLetters.map((d) => ({ outbox_id: d.outboxId, peer: d.peer, event_type: d.eventType, attempts: d.attempts, last_error: d.lastError }));
  const table = dead.length === 0
    ? 'no dead letters\n'
    : renderTable(['outbox_id', 'peer', 'event_type', 'attempts', 'last_error'], dead.map((d) => [d.outbox_id, d.peer, d.event_type, String(d.attempts), d.last_error]));
  output.result({ ...counts, dead_letters: dead }, `${renderKeyValues(Object.entries(counts))}\n${table}`);
}
