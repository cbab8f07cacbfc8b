import type { Pool, PoolClient } from 'pg';
import { parseJson, stringifyJson, type JsonValue } from '@commucat/ccp1';
import { withTransaction } from '@commucat/storage';
import { RouterError } from './errors.js';
import { isJsonObject } from './payloads.js';

export type ParticipantState = 'invited' | 'accepted' | 'rejected' | 'left' | 'missed';

/** A call as it stands after a change (migrations/015_calls.sql). */
export interface CallView {
  readonly callId: string;
  readonly channelId: number;
  readonly initiator: string;
  readonly ringDeadline: Date;
  readonly endedAt: Date | undefined;
  /** Every participant with its state, sorted by device id. */
  readonly participants: ReadonlyMap<string, ParticipantState>;
}

/** What a media frame needs to know about its call. */
export interface MediaSession {
  readonly callId: string;
  /** The call's media profile as the client sent it (offer, or the accepting answer's). */
  readonly mediaJson: string | undefined;
  /** The sender's own profile (what it sends), or the call's. */
  readonly senderMediaJson: string | undefined;
  /** The other accepted participants, the recipients of the sender's media, each with its profile. */
  readonly others: ReadonlyArray<{ readonly deviceId: string; readonly mediaJson: string | undefined }>;
}

/** Devices still in the call: ringing or accepted. */
export const activeParticipants = (call: CallView): string[] =>
  [...call.participants].filter(([, state]) => state === 'invited' || state === 'accepted').map(([device]) => device);

/** What a change did to a call, for the caller to tell the participants. */
export interface CallChange {
  readonly call: CallView;
  /** The participants still in the call other than the device that made the change (after it). */
  readonly others: string[];
  /** True when this change ended the call for everyone. */
  readonly ended: boolean;
}

/** A device dropped out of a call (disconnect): who is left and whether that ended it. */
export interface Departure extends CallChange {
  readonly deviceId: string;
}

/** One call whose ring deadline the sweeper handled. */
export interface RingTimeout {
  readonly call: CallView;
  /** Devices that were still ringing (now `missed`). */
  readonly missed: string[];
  /** Devices still in the call; every one of them (and `missed`) hears of an ended call. */
  readonly remaining: string[];
  readonly ended: boolean;
}

export interface NewCall {
  readonly callId: string;
  readonly channelId: number;
  readonly initiator: string;
  readonly connectionId: string;
  readonly invitees: readonly string[];
  readonly ringTimeoutSeconds: number;
  readonly mediaJson: string | undefined;
  readonly transportJson: string | undefined;
}

interface CallRow {
  call_id: string;
  channel_id: string;
  initiator: string;
  ring_deadline: Date;
  ended_at: Date | null;
}

/** Ended calls are kept this long so their call_id cannot be offered again (a stale resend). */
export const ENDED_CALL_RETENTION_SECONDS = 86_400;

/**
 * Call state in Postgres. Every change runs in one transaction that first locks the call's
 * call_session row (FOR UPDATE), so router replicas, the ring sweeper and disconnect handling
 * never interleave changes to one call. Rule for leaving (reject, hang-up, disconnect, missed
 * ring): the device is out; the call ends for everyone when fewer than two participants remain
 * or none of the remaining ones has accepted (nobody left to talk to).
 */
export class CallStore {
  constructor(private readonly pool: Pool) {}

  /** Creates the call with the offerer accepted and every invitee ringing; RouterError call_exists for a taken call_id. */
  async create(call: NewCall): Promise<CallView> {
    return withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<CallRow>(
        `INSERT INTO call_session (call_id, channel_id, initiator, ring_deadline, media_json, transport_json)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4), $5, $6)
         ON CONFLICT (call_id) DO NOTHING
         RETURNING call_id, channel_id, initiator, ring_deadline, ended_at`,
        [call.callId, call.channelId, call.initiator, call.ringTimeoutSeconds, call.mediaJson ?? null, call.transportJson ?? null],
      );
      if (rows.length === 0) throw new RouterError('call_exists', `call ${call.callId} already exists; offer a new call_id`);
      await client.query(
        `INSERT INTO call_participant (call_id, device_id, state, connection_id, media_json)
         SELECT $1, device, CASE WHEN device = $2 THEN 'accepted' ELSE 'invited' END, CASE WHEN device = $2 THEN $3 END,
                $5
           FROM unnest($4::text[]) AS device`,
        [call.callId, call.initiator, call.connectionId, [call.initiator, ...call.invitees], call.mediaJson ?? null],
      );
      return this.view(client, rows[0]!);
    });
  }

  /**
   * CallAnswer. accept: the device joins (its connection is remembered for disconnects) and the
   * answer's media/transport become the call's. Reject: the device leaves, as in leaveRule.
   */
  async answer(callId: string, deviceId: string, answer: { accept: boolean; reason: string | undefined; connectionId: string; mediaJson: string | undefined; transportJson: string | undefined }): Promise<CallChange> {
    return withTransaction(this.pool, async (client) => {
      const row = await this.lockLive(client, callId);
      const state = await this.participantState(client, callId, deviceId);
      if (state !== 'invited' && state !== 'accepted') throw notParticipant(callId, deviceId);
      if (deviceId === row.initiator) throw new RouterError('invalid', `device ${deviceId} offered call ${callId} and cannot answer it; send CallEnd to leave`);
      if (!answer.accept) return this.leave(client, row, deviceId, 'rejected', answer.reason ?? 'decline');
      await client.query(
        `UPDATE call_participant SET state = 'accepted', connection_id = $3, reason = NULL, updated_at = now(), media_json = COALESCE($4, media_json)
          WHERE call_id = $1 AND device_id = $2`,
        [callId, deviceId, answer.connectionId, answer.mediaJson ?? null],
      );
      await client.query(
        `UPDATE call_session SET last_update = now(), media_json = COALESCE($2, media_json), transport_json = COALESCE($3, transport_json)
          WHERE call_id = $1`,
        [callId, answer.mediaJson ?? null, answer.transportJson ?? null],
      );
      const call = await this.view(client, row);
      return { call, others: activeParticipants(call).filter((device) => device !== deviceId), ended: false };
    });
  }

  /**
   * CallEnd: the device hangs up. Undefined when there is nothing to do because the call already
   * ended or the device already left (both sides hanging up at once is normal, not an error).
   */
  async end(callId: string, deviceId: string, reason: string): Promise<CallChange | undefined> {
    return withTransaction(this.pool, async (client) => {
      const row = await this.lockCall(client, callId);
      const state = await this.participantState(client, callId, deviceId);
      if (state === undefined) throw notParticipant(callId, deviceId);
      if (row.ended_at !== null || (state !== 'invited' && state !== 'accepted')) return undefined;
      return this.leave(client, row, deviceId, 'left', reason);
    });
  }

  /**
   * Stores the device's latest report of one kind ('stats:send', 'stats:receive', 'transport')
   * and returns the other participants. `consentIntervalSecs` (a consent_keepalive update)
   * patches the call's transport description, creating one if the call has none.
   */
  async report(callId: string, deviceId: string, kind: string, bodyJson: string, consentIntervalSecs?: number): Promise<CallChange> {
    return withTransaction(this.pool, async (client) => {
      const row = await this.lockLive(client, callId);
      const state = await this.participantState(client, callId, deviceId);
      if (state !== 'invited' && state !== 'accepted') throw notParticipant(callId, deviceId);
      await client.query(
        `INSERT INTO call_report (call_id, device_id, kind, body_json) VALUES ($1, $2, $3, $4)
         ON CONFLICT (call_id, device_id, kind) DO UPDATE SET body_json = EXCLUDED.body_json, reported_at = now()`,
        [callId, deviceId, kind, bodyJson],
      );
      const transportJson = consentIntervalSecs === undefined ? null : await this.patchedTransport(client, callId, consentIntervalSecs);
      await client.query(
        `UPDATE call_session SET last_update = now(), stats_reports = stats_reports + $2, transport_json = COALESCE($3, transport_json)
          WHERE call_id = $1`,
        [callId, kind.startsWith('stats:') ? 1 : 0, transportJson],
      );
      const call = await this.view(client, row);
      return { call, others: activeParticipants(call).filter((device) => device !== deviceId), ended: false };
    });
  }

  /**
   * The device's connection closed: it leaves every live call it offered or accepted on that
   * connection (a ringing device is left alone: its offer stays queued until the ring deadline).
   * Idempotent: a second call for the same connection finds nothing to do.
   */
  async disconnect(deviceId: string, connectionId: string): Promise<Departure[]> {
    const { rows } = await this.pool.query<{ call_id: string }>(
      `SELECT p.call_id FROM call_participant p JOIN call_session c USING (call_id)
        WHERE p.device_id = $1 AND p.connection_id = $2 AND p.state = 'accepted' AND c.ended_at IS NULL
        ORDER BY p.call_id`,
      [deviceId, connectionId],
    );
    const departures: Departure[] = [];
    for (const { call_id: callId } of rows) {
      const departure = await withTransaction(this.pool, async (client) => {
        const row = await this.lockCall(client, callId);
        if (row.ended_at !== null) return undefined;
        // Checked again under the lock: an answer from a new connection may have come first.
        const { rowCount } = await client.query(
          `SELECT 1 FROM call_participant WHERE call_id = $1 AND device_id = $2 AND connection_id = $3 AND state = 'accepted'`,
          [callId, deviceId, connectionId],
        );
        if (!rowCount) return undefined;
        return { deviceId, ...await this.leave(client, row, deviceId, 'left', 'disconnect') };
      });
      if (departure) departures.push(departure);
    }
    return departures;
  }

  /**
   * The connections in live calls (offerers and accepted devices), for checking them against
   * presence: a connection whose route is gone without an offline event (its gateway died, the
   * device reconnected elsewhere) is then handled as a disconnect.
   */
  async connectedParticipants(limit: number): Promise<Array<{ deviceId: string; connectionId: string }>> {
    const { rows } = await this.pool.query<{ device_id: string; connection_id: string }>(
      `SELECT DISTINCT p.device_id, p.connection_id FROM call_participant p JOIN call_session c USING (call_id)
        WHERE c.ended_at IS NULL AND p.state = 'accepted' AND p.connection_id IS NOT NULL
        ORDER BY p.device_id, p.connection_id LIMIT $1`,
      [limit],
    );
    return rows.map((row) => ({ deviceId: row.device_id, connectionId: row.connection_id }));
  }

  /**
   * Handles up to `limit` calls whose ring deadline passed, claiming them with SKIP LOCKED so
   * several sweepers (replicas) share the work without waiting on each other. Devices still
   * ringing become `missed`; the call ends (reason timeout) when nobody but the offerer accepted
   * or fewer than two participants remain.
   */
  async expireRinging(limit: number): Promise<RingTimeout[]> {
    return withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<CallRow>(
        `SELECT call_id, channel_id, initiator, ring_deadline, ended_at FROM call_session
          WHERE ended_at IS NULL AND NOT ring_closed AND ring_deadline <= now()
          ORDER BY ring_deadline LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      const timeouts: RingTimeout[] = [];
      for (const row of rows) {
        const { rows: missedRows } = await client.query<{ device_id: string }>(
          `UPDATE call_participant SET state = 'missed', reason = 'timeout', updated_at = now()
            WHERE call_id = $1 AND state = 'invited' RETURNING device_id`,
          [row.call_id],
        );
        const before = await this.view(client, row);
        const remaining = activeParticipants(before);
        const answered = remaining.some((device) => device !== row.initiator && before.participants.get(device) === 'accepted');
        const ended = !answered || remaining.length < 2;
        await client.query(
          `UPDATE call_session SET ring_closed = true,
                  ended_at = CASE WHEN $2 THEN now() END, end_reason = CASE WHEN $2 THEN 'timeout' END
            WHERE call_id = $1`,
          [row.call_id, ended],
        );
        const call = ended ? await this.view(client, { ...row, ended_at: new Date() }) : before;
        timeouts.push({ call, missed: missedRows.map((r) => r.device_id).sort(), remaining, ended });
      }
      return timeouts;
    });
  }

  /** Deletes calls that ended more than `olderThanSeconds` ago (their call_id becomes free again). */
  async purgeEnded(olderThanSeconds = ENDED_CALL_RETENTION_SECONDS, limit = 1000): Promise<number> {
    const { rowCount } = await this.pool.query(
      `DELETE FROM call_session WHERE call_id = ANY (ARRAY(
         SELECT call_id FROM call_session WHERE ended_at < now() - make_interval(secs => $1) LIMIT $2 FOR UPDATE SKIP LOCKED))`,
      [olderThanSeconds, limit],
    );
    return rowCount ?? 0;
  }

  /** Calls not ended, fleet-wide. */
  /**
   * The live call on `channelId` that `deviceId` has accepted (the newest, if several): its id,
   * media profile JSON, the sender's own profile, and the other accepted participants (who get its
   * media) with theirs. A participant without its own profile has the call's.
   */
  async mediaSession(channelId: number, deviceId: string): Promise<MediaSession | undefined> {
    const { rows } = await this.pool.query<{ call_id: string; media_json: string | null; own_media: string | null; others: Array<{ device_id: string; media_json: string | null }> }>(
      `SELECT s.call_id, s.media_json, p.media_json AS own_media,
              coalesce((SELECT json_agg(json_build_object('device_id', o.device_id, 'media_json', o.media_json) ORDER BY o.device_id)
                          FROM call_participant o
                         WHERE o.call_id = s.call_id AND o.state = 'accepted' AND o.device_id <> $2), '[]'::json) AS others
         FROM call_session s JOIN call_participant p ON p.call_id = s.call_id
        WHERE s.channel_id = $1 AND s.ended_at IS NULL AND p.device_id = $2 AND p.state = 'accepted'
        ORDER BY s.started_at DESC LIMIT 1`,
      [channelId, deviceId],
    );
    const row = rows[0];
    if (!row) return undefined;
    const callMedia = row.media_json ?? undefined;
    return {
      callId: row.call_id,
      mediaJson: callMedia,
      senderMediaJson: row.own_media ?? callMedia,
      others: row.others.map((o) => ({ deviceId: o.device_id, mediaJson: o.media_json ?? callMedia })),
    };
  }

  async countActive(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>('SELECT count(*) AS n FROM call_session WHERE ended_at IS NULL');
    return Number(rows[0]!.n);
  }

  /** The call as stored now, or undefined. */
  async get(callId: string): Promise<CallView | undefined> {
    const { rows } = await this.pool.query<CallRow>(
      'SELECT call_id, channel_id, initiator, ring_deadline, ended_at FROM call_session WHERE call_id = $1', [callId],
    );
    return rows[0] ? this.view(this.pool, rows[0]) : undefined;
  }

  /** The stored reports of a call: `device → kind → JSON text`. */
  async reports(callId: string): Promise<Map<string, Map<string, string>>> {
    const { rows } = await this.pool.query<{ device_id: string; kind: string; body_json: string }>(
      'SELECT device_id, kind, body_json FROM call_report WHERE call_id = $1 ORDER BY device_id, kind', [callId],
    );
    const reports = new Map<string, Map<string, string>>();
    for (const row of rows) {
      if (!reports.has(row.device_id)) reports.set(row.device_id, new Map());
      reports.get(row.device_id)!.set(row.kind, row.body_json);
    }
    return reports;
  }

  /** The device leaves; ends the call when the leave rule says so. The call row must be locked. */
  private async leave(client: PoolClient, row: CallRow, deviceId: string, state: 'rejected' | 'left', reason: string): Promise<CallChange> {
    await client.query(
      'UPDATE call_participant SET state = $3, reason = $4, updated_at = now() WHERE call_id = $1 AND device_id = $2',
      [row.call_id, deviceId, state, reason],
    );
    const before = await this.view(client, row);
    const others = activeParticipants(before);
    const ended = others.length < 2 || !others.some((device) => before.participants.get(device) === 'accepted');
    if (!ended) {
      await client.query('UPDATE call_session SET last_update = now() WHERE call_id = $1', [row.call_id]);
      return { call: before, others, ended };
    }
    const endReason = state === 'rejected' ? 'rejected' : reason;
    const { rows } = await client.query<{ ended_at: Date }>(
      'UPDATE call_session SET ended_at = now(), end_reason = $2, last_update = now() WHERE call_id = $1 RETURNING ended_at',
      [row.call_id, endReason],
    );
    return { call: { ...before, endedAt: rows[0]!.ended_at }, others, ended };
  }

  /** Locks the call row; RouterError unknown_call when there is no such call. */
  private async lockCall(client: PoolClient, callId: string): Promise<CallRow> {
    const { rows } = await client.query<CallRow>(
      'SELECT call_id, channel_id, initiator, ring_deadline, ended_at FROM call_session WHERE call_id = $1 FOR UPDATE',
      [callId],
    );
    if (!rows[0]) throw new RouterError('unknown_call', `there is no call ${callId}`);
    return rows[0];
  }

  /** Locks the call row of a call that has not ended; RouterError unknown_call otherwise. */
  private async lockLive(client: PoolClient, callId: string): Promise<CallRow> {
    const row = await this.lockCall(client, callId);
    if (row.ended_at !== null) throw new RouterError('unknown_call', `call ${callId} has ended`);
    return row;
  }

  private async participantState(client: PoolClient, callId: string, deviceId: string): Promise<ParticipantState | undefined> {
    const { rows } = await client.query<{ state: ParticipantState }>(
      'SELECT state FROM call_participant WHERE call_id = $1 AND device_id = $2', [callId, deviceId],
    );
    return rows[0]?.state;
  }

  private async patchedTransport(client: PoolClient, callId: string, intervalSecs: number): Promise<string> {
    const { rows } = await client.query<{ transport_json: string | null }>('SELECT transport_json FROM call_session WHERE call_id = $1', [callId]);
    const stored: JsonValue = rows[0]?.transport_json ? parseJson(rows[0].transport_json) : null;
    const transport = isJsonObject(stored) ? stored : {};
    return stringifyJson({ ...transport, consent_interval_secs: intervalSecs });
  }

  private async view(client: Pick<Pool, 'query'>, row: CallRow): Promise<CallView> {
    const { rows } = await client.query<{ device_id: string; state: ParticipantState }>(
      'SELECT device_id, state FROM call_participant WHERE call_id = $1 ORDER BY device_id', [row.call_id],
    );
    return {
      callId: row.call_id,
      // BIGINT comes back as a string; channel ids are u32, so Number is exact.
      channelId: Number(row.channel_id),
      initiator: row.initiator,
      ringDeadline: row.ring_deadline,
      endedAt: row.ended_at ?? undefined,
      participants: new Map(rows.map((r) => [r.device_id, r.state])),
    };
  }
}

const notParticipant = (callId: string, deviceId: string): RouterError =>
  new RouterError('not_participant', `device ${deviceId} is not in call ${callId}`);
