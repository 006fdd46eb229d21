import { useCallback, useEffect, useState } from "react";

import { ApiError, type Api } from "../lib/api";
import type { Me } from "../lib/types";
import { AuthScreen } from "./components/AuthScreen";
import { Dashboard } from "./components/Dashboard";
import { PulseLogo } from "./components/Icons";

export function App({ api }: { api: Api }) {
  // undefined: still asking the server who is signed in.
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [unreachable, setUnreachable] = useState(false);

  const check = useCallback(() => {
    setUnreachable(false);
    api
      .me()
      .then(setMe)
      .catch((error) => {
        if (error instanceof ApiError && error.status === 0) setUnreachable(true);
        else setMe(null);
      });
  }, [api]);

  useEffect(check, [check]);
  const signedOut = useCallback(() => setMe(null), []);

  if (unreachable) {
    return (
      <div className="splash">
        <PulseLogo size={48} />
        <p>Pulse cannot reach the server right now.</p>
        <button type="button" className="button button--primary" onClick={check}>
          Try again
        </button>
      </div>
    );
  }
  if (me === undefined) {
    return (
      <div className="splash" aria-busy="true">
        <PulseLogo size={48} />
      </div>
    );
  }
  if (me === null) return <AuthScreen api={api} onSignedIn={setMe} />;
  return <Dashboard key={me.user_id} api={api} me={me} onSignedOut={signedOut} />;
}
