/** A peer domain on the allow-list (spec §5.2; `url` is the peer's base URL, paths are appended). */
export interface FederationPeer {
  readonly domain: string;
  readonly url: string;
  /** The peer's Ed25519 federation public key (32 bytes). */
  readonly publicKey: Uint8Array;
}

/** The allow-list, keyed by lowercased domain: inbound lookups lowercase the origin (§5.1). */
export class PeerDirectory {
  private readonly byDomain = new Map<string, FederationPeer>();

  constructor(peers: readonly FederationPeer[]) {
    for (const peer of peers) {
      if (peer.publicKey.length !== 32) throw new Error(`federation peer ${peer.domain}: public key must be 32 bytes`);
      this.byDomain.set(peer.domain.toLowerCase(), peer);
    }
  }

  find(domain: string): FederationPeer | undefined {
    return this.byDomain.get(domain.toLowerCase());
  }

  /** Lowercased domains of every peer. */
  domains(): string[] {
    return [...this.byDomain.keys()];
  }

  get size(): number {
    return this.byDomain.size;
  }
}
