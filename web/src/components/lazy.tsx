// Code splitting without preact/compat: a component that loads its module on first render
// (the directory, the admin console and channel settings stay out of the initial bundle).

import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";
import { useT } from "../i18n";

export function lazyComponent<P extends object>(load: () => Promise<ComponentType<P>>): ComponentType<P> {
  let loaded: ComponentType<P> | null = null;
  let pending: Promise<ComponentType<P>> | null = null;
  const get = () => {
    if (!pending) {
      pending = load().then((c) => (loaded = c));
      // A failed load (offline, a new deploy) may be retried on the next render.
      pending.catch(() => (pending = null));
    }
    return pending;
  };
  return function Lazy(props: P) {
    const t = useT();
    const [, setTick] = useState(0);
    const [failed, setFailed] = useState(false);
    useEffect(() => {
      if (loaded) return;
      let live = true;
      get().then(
        () => live && setTick((n) => n + 1),
        () => live && setFailed(true),
      );
      return () => {
        live = false;
      };
    }, [failed]);
    const C = loaded;
    if (C) return <C {...props} />;
    return failed ? (
      <div class="lazy-state">
        <p class="form-error">{t("error.loadFailed")}</p>
        <button type="button" class="btn" onClick={() => setFailed(false)}>
          {t("retry")}
        </button>
      </div>
    ) : (
      <p class="lazy-state muted">{t("loading")}</p>
    );
  };
}
