import { describe, expect, it, vi } from "vitest";

import { SlotPool } from "../src/app-context";

describe("SlotPool", () => {
  it("grants the first `max` requests and hands a released slot to the next in line", () => {
    const pool = new SlotPool(2);
    const changed = vi.fn();
    pool.subscribe(changed);
    for (const id of ["a", "b", "c"]) pool.request(id);
    expect(["a", "b", "c"].map((id) => pool.has(id))).toEqual([true, true, false]);
    pool.request("a"); // again: no change, no second place in line
    pool.release("a");
    expect(["a", "b", "c"].map((id) => pool.has(id))).toEqual([false, true, true]);
    pool.release("zzz");
    expect(changed).toHaveBeenCalledTimes(4);
  });
});
