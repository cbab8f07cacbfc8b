import { randomBytes } from 'node:crypto';

/** 32 CSPRNG bytes as 64 hex: the shape of user, device and event ids clients already know. */
export const randomId = (): string => randomBytes(32).toString('hex');
