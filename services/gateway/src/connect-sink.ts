import type { Frame } from '@commucat/ccp1';

/**
 * Where a connect session's output goes, in the connect mode's framing (binary, SSE, NDJSON or
 * WebSocket), plus input flow control. `unit` is exactly what binary mode would write: one encoded
 * frame, or one varint‖ciphertext unit under Noise transport encryption; `frame` is its plaintext
 * frame, whose sequence/type/channel SSE and NDJSON repeat.
 */
export interface ConnectSink {
  writeUnit(unit: Buffer, frame: Frame): void;
  end(): void;
  /** Stop reading the request body (HTTP/2 flow control then holds the client back). */
  pauseInput(): void;
  resumeInput(): void;
  /** The handshake completed: streaming modes start their keepalives now (spec §2.7). */
  established(): void;
}
