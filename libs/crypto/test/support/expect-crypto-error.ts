import { CryptoError } from '@commucat/crypto';

/** Asserts that `action` throws a CryptoError with this exact code. */
export function expectCryptoError(action: () => unknown, code: CryptoError['code']): void {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(CryptoError);
  expect((thrown as CryptoError).code).toBe(code);
}
