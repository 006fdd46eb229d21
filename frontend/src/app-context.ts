import { createContext, useContext, useEffect, useRef, useState, type RefObject } from "react";

import type { Api } from "../lib/api";
import type { Me } from "../lib/types";

export interface Toast {
  id: number;
  text: string;
  tone?: "info" | "error";
}

export interface AppContextValue {
  api: Api;
  me: Me;
  toast: (text: string, tone?: Toast["tone"]) => void;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error("useApp outside <AppContext.Provider>");
  return value;
}

/** The current time, refreshed every `intervalMs` (for "5m ago" labels and countdowns). */
export function useNow(intervalMs: number, enabled = true): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!enabled) return undefined;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs, enabled]);
  return now;
}

/**
 * Whether the element is on screen (with a small margin). It stays "in view"
 * for `lingerMs` after leaving, so scrolling back and forth does not churn
 * subscriptions. Tweets subscribe to their live counters only while in view:
 * the server caps each user's open sockets (REALTIME_MAX_CONNECTIONS_PER_USER).
 */
export function useInView(ref: RefObject<Element | null>, lingerMs = 3000): boolean {
  const [inView, setInView] = useState(false);
  useEffect(() => {
    const element = ref.current;
    if (!element) return undefined;
    if (typeof IntersectionObserver === "undefined") {
      setInView(true);
      return undefined;
    }
    let timer: ReturnType<typeof setTimeout> | null = null;
    const observer = new IntersectionObserver(
      ([entry]) => {
        if (timer) clearTimeout(timer);
        timer = null;
        if (entry.isIntersecting) setInView(true);
        else timer = setTimeout(() => setInView(false), lingerMs);
      },
      { rootMargin: "100px 0px" },
    );
    observer.observe(element);
    return () => {
      observer.disconnect();
      if (timer) clearTimeout(timer);
    };
  }, [ref, lingerMs]);
  return inView;
}

/** Close a popover on outside click or Escape. */
export function useDismiss(open: boolean, onClose: () => void) {
  const ref = useRef<HTMLDivElement | null>(null);
  const close = useRef(onClose);
  close.current = onClose;
  useEffect(() => {
    if (!open) return undefined;
    const onPointer = (event: MouseEvent) => {
      if (ref.current && !ref.current.contains(event.target as Node)) close.current();
    };
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") close.current();
    };
    document.addEventListener("mousedown", onPointer);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("mousedown", onPointer);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);
  return ref;
}

/**
 * At most `max` holders at once, first come first served; the others wait in
 * line and get a slot as soon as one is released. The dashboard keeps its
 * per-tweet live-counter sockets under the server's per-user connection cap
 * with it, however tall the screen.
 */
export class SlotPool {
  private queue: string[] = [];
  private listeners = new Set<() => void>();

  constructor(readonly max: number) {}

  request(id: string): void {
    if (!this.queue.includes(id)) {
      this.queue.push(id);
      this.notify();
    }
  }

  release(id: string): void {
    const before = this.queue.length;
    this.queue = this.queue.filter((held) => held !== id);
    if (this.queue.length !== before) this.notify();
  }

  has(id: string): boolean {
    const index = this.queue.indexOf(id);
    return index >= 0 && index < this.max;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

/** Live counter sockets per page; with notifications, feed and trending, 11 of the server's 20 per user. */
export const engagementSlots = new SlotPool(8);

/** Whether `id` holds a slot of `pool` while `wanted`. */
export function useSlot(pool: SlotPool, id: string, wanted: boolean): boolean {
  const [granted, setGranted] = useState(false);
  useEffect(() => {
    if (!wanted) {
      setGranted(false);
      return undefined;
    }
    pool.request(id);
    setGranted(pool.has(id));
    const off = pool.subscribe(() => setGranted(pool.has(id)));
    return () => {
      off();
      pool.release(id);
    };
  }, [pool, id, wanted]);
  return granted;
}
