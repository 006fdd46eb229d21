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
 * a long feed would otherwise hold a subscription per tweet ever loaded, and
 * the server caps a connection's subscriptions (REALTIME_MAX_SUBSCRIPTIONS).
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

