/** snow's MAXMSGLEN: the largest Noise message, handshake or transport (§3.6). */
export const MAX_NOISE_MESSAGE = 65_535;
