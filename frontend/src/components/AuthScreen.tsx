import { useState, type FormEvent } from "react";

import { ApiError, type Api } from "../../lib/api";
import type { Me } from "../../lib/types";
import { BellIcon, PulseLogo, ReplyIcon, TrendIcon } from "./Icons";

type Mode = "login" | "register";

export function AuthScreen({ api, onSignedIn }: { api: Api; onSignedIn: (me: Me) => void }) {
  const [mode, setMode] = useState<Mode>("login");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});

  function switchTo(next: Mode) {
    setMode(next);
    setError(null);
    setFieldErrors({});
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setFieldErrors({});
    try {
      const result =
        mode === "login"
          ? await api.login(username.trim(), password)
          : await api.register(username.trim(), password, displayName.trim());
      onSignedIn({ user_id: result.user_id, username: result.username, display_name: result.display_name });
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 400) {
        const fields = caught.fieldErrors;
        setFieldErrors(fields);
        const general = fields.non_field_errors ?? fields.detail;
        setError(general ? general[0] : "Please correct the highlighted fields.");
      } else if (caught instanceof ApiError && (caught.status === 401 || caught.status === 403)) {
        setError("Wrong username or password.");
      } else {
        setError(caught instanceof Error ? caught.message : "Something went wrong.");
      }
    } finally {
      setBusy(false);
    }
  }

  const fieldError = (name: string) =>
    fieldErrors[name]?.length ? (
      <span className="field__error" role="alert">
        {fieldErrors[name][0]}
      </span>
    ) : null;

  return (
    <div className="auth">
      <section className="auth__hero">
        <div className="auth__brand">
          <PulseLogo size={40} />
          <span>Pulse</span>
        </div>
        <h1>Everything your network does, the moment it happens.</h1>
        <ul className="auth__features">
          <li>
            <span className="auth__feature-icon">
              <BellIcon />
            </span>
            <div>
              <strong>Live notifications</strong>
              <p>Likes, replies, follows and mentions arrive the instant they happen.</p>
            </div>
          </li>
          <li>
            <span className="auth__feature-icon">
              <TrendIcon />
            </span>
            <div>
              <strong>Trending as it rises</strong>
              <p>Watch topics climb while the conversation is still hot.</p>
            </div>
          </li>
          <li>
            <span className="auth__feature-icon">
              <ReplyIcon />
            </span>
            <div>
              <strong>See replies being written</strong>
              <p>Know who is typing a reply to your tweet before it lands.</p>
            </div>
          </li>
        </ul>
      </section>

      <section className="auth__panel">
        <form className="auth__card" onSubmit={submit} noValidate>
          <div className="tabs" role="tablist">
            <button
              type="button"
              role="tab"
              aria-selected={mode === "login"}
              className={mode === "login" ? "tabs__tab is-active" : "tabs__tab"}
              onClick={() => switchTo("login")}
            >
              Sign in
            </button>
            <button
              type="button"
              role="tab"
              aria-selected={mode === "register"}
              className={mode === "register" ? "tabs__tab is-active" : "tabs__tab"}
              onClick={() => switchTo("register")}
            >
              Create account
            </button>
          </div>

          <h2>{mode === "login" ? "Welcome back" : "Join Pulse"}</h2>
          <p className="muted">
            {mode === "login" ? "Sign in to see what's happening right now." : "It takes ten seconds."}
          </p>

          {mode === "register" && (
            <label className="field">
              <span>Display name</span>
              <input
                name="display_name"
                value={displayName}
                onChange={(e) => setDisplayName(e.target.value)}
                placeholder="Ada Lovelace"
                autoComplete="name"
                maxLength={150}
              />
              {fieldError("display_name")}
            </label>
          )}
          <label className="field">
            <span>Username</span>
            <input
              name="username"
              value={username}
              onChange={(e) => setUsername(e.target.value)}
              placeholder="ada"
              autoComplete="username"
              autoFocus
              required
              aria-invalid={Boolean(fieldErrors.username)}
            />
            {fieldError("username")}
          </label>
          <label className="field">
            <span>Password</span>
            <input
              name="password"
              type="password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              autoComplete={mode === "login" ? "current-password" : "new-password"}
              required
              aria-invalid={Boolean(fieldErrors.password)}
            />
            {fieldError("password")}
          </label>

          {error && (
            <div className="alert" role="alert" data-testid="auth-error">
              {error}
            </div>
          )}

          <button className="button button--primary button--block" type="submit" disabled={busy || !username || !password}>
            {busy ? "One moment…" : mode === "login" ? "Sign in" : "Create account"}
          </button>
        </form>
      </section>
    </div>
  );
}
