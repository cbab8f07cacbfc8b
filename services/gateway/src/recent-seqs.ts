/**
 * The last `capacity` relay seqs written to one connection. A router that dies after queueing a
 * message but before its bus acknowledgement handles the frame again and repeats the live
 * delivery of envelopes that are still queued; this set lets the connection drop the repeat.
 */
export class RecentSeqs {
  private readonly seqs = new Set<number>();

  constructor(private readonly capacity = 4096) {}

  has(seq: number): boolean {
    return this.seqs.has(seq);
  }

  add(seq: number): void {
    this.seqs.add(seq);
    if (this.seqs.size > this.capacity) {
      // Sets iterate in insertion order: the first one is the oldest.
      this.seqs.delete(this.seqs.values().next().value as number);
    }
  }
}
