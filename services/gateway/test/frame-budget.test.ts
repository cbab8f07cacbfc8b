import { FrameBudget } from '../src/frame-budget';

describe('FrameBudget', () => {
  test('allows the burst, then the refill rate', () => {
    const budget = new FrameBudget(10, 5, 0);
    const allowed = Array.from({ length: 8 }, () => budget.take(0)).filter(Boolean).length;
    expect(allowed).toBe(5);
    expect(budget.take(50)).toBe(false); // half a token
    expect(budget.take(100)).toBe(true); // one token after 100 ms at 10/s
    expect(budget.take(100)).toBe(false);
    // a long pause refills to the burst, not beyond
    expect(Array.from({ length: 9 }, () => budget.take(60_000)).filter(Boolean).length).toBe(5);
  });
});
