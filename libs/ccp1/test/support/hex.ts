export const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
export const unhex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');
