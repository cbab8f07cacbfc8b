import { DropOldestQueue } from '../src/drop-oldest-queue';

describe('DropOldestQueue', () => {
  it('keeps the newest items and counts evictions', () => {
    const queue = new DropOldestQueue<number>(3);
    const evicted = [1, 2, 3, 4, 5].map((n) => queue.push(n));
    expect(evicted).toEqual([undefined, undefined, undefined, 1, 2]);
    expect(queue.dropped).toBe(2);
    expect(queue.length).toBe(3);
    expect(queue.shift()).toBe(3);
    expect(queue.drain()).toEqual([4, 5]);
    expect(queue.length).toBe(0);
    expect(queue.shift()).toBeUndefined();
  });

  it('refuses a capacity below one', () => {
    expect(() => new DropOldestQueue(0)).toThrow(RangeError);
  });
});
