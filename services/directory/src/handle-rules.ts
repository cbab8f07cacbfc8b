/** Handles name people; refuse control characters, whitespace, `@` (federated ids) and absurd lengths. */
export function isAcceptableHandle(handle: string): boolean {
  return handle.length > 0 && handle.length <= 64 && !/[\u0000-\u001f\u007f@\s]/.test(handle);
}
