// One advisory lock key serialises bootstrap and rotation across every secrets replica. Any
// number works as long as every replica uses the same one.
export const SECRETS_LOCK = 0x636f6d6d; // "comm"
