/**
 * A growable ring buffer of queued items; items are never removed from the middle. A cancelled or
 * expired request stays in place as a tombstone (its `settled` flag set) and is dropped when it
 * reaches the head, so cancellation is O(1).
 *
 *   head                 tail
 *    v                    v
 *   [a][b][x][c][ ][ ][ ][ ]     x = tombstone, skipped by peek/walk
 */
export interface Queued {
  readonly settled: boolean;
}

export class RequestQueue<T extends Queued> {
  private items: Array<T | undefined>;
  private head = 0;
  private count = 0;

  constructor(initialCapacity = 64) {
    this.items = new Array<T | undefined>(initialCapacity);
  }

  /** Items in the buffer, tombstones included. */
  get length(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) % this.items.length] = item;
    this.count++;
  }

  /** The first live item, dropping tombstones on the way. */
  peek(): T | undefined {
    this.dropSettledHead();
    return this.count > 0 ? this.items[this.head] : undefined;
  }

  shift(): T | undefined {
    this.dropSettledHead();
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.items.length;
    this.count--;
    return item;
  }

  /** The i-th buffered item from the head (tombstones included), for walking without removing. */
  at(i: number): T | undefined {
    return i < this.count ? this.items[(this.head + i) % this.items.length] : undefined;
  }

  private dropSettledHead(): void {
    while (this.count > 0 && this.items[this.head]!.settled) {
      this.items[this.head] = undefined;
      this.head = (this.head + 1) % this.items.length;
      this.count--;
    }
  }

  private grow(): void {
    const next = new Array<T | undefined>(this.items.length * 2);
    for (let i = 0; i < this.count; i++) next[i] = this.items[(this.head + i) % this.items.length];
    this.items = next;
    this.head = 0;
  }
}
