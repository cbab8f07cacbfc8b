import { RateLimiter } from '../src/rate-limiter';

describe('RateLimiter', () => {
  const limiter = new RateLimiter({ burst: 3, windowMs: 1000, penaltyMs: 30_000 });
  afterAll(() => limiter.close());

  test('allows the burst, then blocks for the penalty with a whole-second retry-after', () => {
    const t = 1_000_000;
    for (let i = 0; i < 3; i++) expect(limiter.check('10.0.0.1', t + i)).toEqual({ allowed: true });
    expect(limiter.check('10.0.0.1', t + 5)).toEqual({ allowed: false, retryAfterSeconds: 30 });
    // still blocked after the window passed, because of the penalty box
    expect(limiter.check('10.0.0.1', t + 2000)).toEqual({ allowed: false, retryAfterSeconds: 29 });
    expect(limiter.check('10.0.0.1', t + 31_000)).toEqual({ allowed: true });
  });

  test('keys are independent and idle ones are swept', () => {
    const t = 2_000_000;
    expect(limiter.check('10.0.0.2', t).allowed).toBe(true);
    expect(limiter.check('10.0.0.3', t).allowed).toBe(true);
    limiter.sweep(t + 500);
    expect(limiter.trackedKeys).toBeGreaterThanOrEqual(2);
    limiter.sweep(t + 60_000);
    expect(limiter.trackedKeys).toBe(0);
  });

  test('without a penalty the refusal lasts one window', () => {
    const l = new RateLimiter({ burst: 1, windowMs: 2500, penaltyMs: 0 });
    expect(l.check('a', 0).allowed).toBe(true);
    expect(l.check('a', 10)).toEqual({ allowed: false, retryAfterSeconds: 3 });
    expect(l.check('a', 2600).allowed).toBe(true);
    l.close();
  });
});
