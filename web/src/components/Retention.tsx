// The admin console's Retention section (`retention.manage`): the policies in force (org
// default, per channel type, per channel; the most specific wins), setting one, legal holds
// (place, list, release), and a dry run of the retention job. Rules live in state/retention.ts.

import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api/client";
import type { LegalHold, RetentionPolicy, RetentionRunReport, RetentionScope } from "../api/types";
import { useT, type Translator } from "../i18n";
import { formatDateTime } from "../i18n/time";
import { api, showToast } from "../state/app";
import {
  EMPTY_HOLD_FORM,
  EMPTY_POLICY_FORM,
  holdRequest,
  policyRequest,
  SCOPES,
  sortPolicies,
  type HoldForm,
  type PolicyForm,
} from "../state/retention";

function errorText(e: unknown, t: Translator): string {
  if (e instanceof ApiError) return e.isNetwork ? t("error.network") : e.message;
  return t("error.generic");
}

const SCOPE_LABEL: Record<RetentionScope, "retention.scopeOrg" | "retention.scopePublic" | "retention.scopePrivate" | "retention.scopeDm" | "retention.scopeChannel"> = {
  org: "retention.scopeOrg",
  public: "retention.scopePublic",
  private: "retention.scopePrivate",
  dm: "retention.scopeDm",
  channel: "retention.scopeChannel",
};

function scopeText(p: RetentionPolicy, t: Translator): string {
  return p.scope === "channel" ? t("retention.channelNamed", { id: String(p.channel_id) }) : t(SCOPE_LABEL[p.scope]);
}

function keepText(days: number | null, t: Translator): string {
  return days === null ? t("retention.forever") : t("retention.days", { n: String(days) });
}

function Policies() {
  const t = useT();
  const [policies, setPolicies] = useState<RetentionPolicy[] | null>(null);
  const [form, setForm] = useState<PolicyForm>(EMPTY_POLICY_FORM);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api
      .retentionPolicies()
      .then(setPolicies)
      .catch((e) => setError(errorText(e, t)));
  }, []);
  const submit = (e: Event) => {
    e.preventDefault();
    const req = policyRequest(form);
    if (typeof req === "string") {
      setError(t(req));
      return;
    }
    setError(null);
    api
      .setRetentionPolicy(req)
      .then((list) => {
        setPolicies(list);
        showToast(t("retention.saved"));
      })
      .catch((err) => setError(errorText(err, t)));
  };
  const field = (k: keyof PolicyForm) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });
  return (
    <div class="retention-policies">
      <h3>{t("retention.policies")}</h3>
      <p class="muted">{t("retention.policiesHelp")}</p>
      {policies && policies.length === 0 && <p class="muted">{t("retention.noPolicies")}</p>}
      {policies && policies.length > 0 && (
        <table class="table">
          <thead>
            <tr>
              <th>{t("retention.scope")}</th>
              <th>{t("retention.keep")}</th>
              <th>{t("retention.updated")}</th>
            </tr>
          </thead>
          <tbody>
            {sortPolicies(policies).map((p) => (
              <tr key={`${p.scope}:${p.channel_id ?? ""}`}>
                <td>{scopeText(p, t)}</td>
                <td>{keepText(p.keep_days, t)}</td>
                <td>{formatDateTime(p.updated_at, t.time)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form class="form-grid" onSubmit={submit} aria-label={t("retention.setPolicy")}>
        <label class="field">
          <span>{t("retention.scope")}</span>
          <select value={form.scope} onChange={field("scope")}>
            {SCOPES.map((s) => (
              <option key={s} value={s}>
                {t(SCOPE_LABEL[s])}
              </option>
            ))}
          </select>
        </label>
        {form.scope === "channel" && (
          <label class="field">
            <span>{t("retention.channelId")}</span>
            <input inputMode="numeric" value={form.channelId} onInput={field("channelId")} />
          </label>
        )}
        <label class="field">
          <span>{t("retention.keep")}</span>
          <select value={form.keep} onChange={field("keep")}>
            <option value="days">{t("retention.keepDays")}</option>
            <option value="forever">{t("retention.forever")}</option>
            <option value="inherit">{t("retention.inherit")}</option>
          </select>
        </label>
        {form.keep === "days" && (
          <label class="field">
            <span>{t("retention.daysLabel")}</span>
            <input inputMode="numeric" value={form.days} onInput={field("days")} />
          </label>
        )}
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary">
          {t("retention.setPolicy")}
        </button>
      </form>
    </div>
  );
}

function Holds() {
  const t = useT();
  const [holds, setHolds] = useState<LegalHold[] | null>(null);
  const [form, setForm] = useState<HoldForm>(EMPTY_HOLD_FORM);
  const [error, setError] = useState<string | null>(null);
  const load = () => {
    api
      .legalHolds()
      .then(setHolds)
      .catch((e) => setError(errorText(e, t)));
  };
  useEffect(load, []);
  const submit = (e: Event) => {
    e.preventDefault();
    const req = holdRequest(form);
    if (typeof req === "string") {
      setError(t(req));
      return;
    }
    setError(null);
    api
      .createLegalHold(req)
      .then(() => {
        setForm(EMPTY_HOLD_FORM);
        showToast(t("retention.holdPlaced"));
        load();
      })
      .catch((err) => setError(errorText(err, t)));
  };
  const release = (h: LegalHold) => {
    api
      .releaseLegalHold(h.id)
      .then(() => {
        showToast(t("retention.holdReleased"));
        load();
      })
      .catch((err) => setError(errorText(err, t)));
  };
  const field = (k: keyof HoldForm) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });
  return (
    <div class="retention-holds">
      <h3>{t("retention.holds")}</h3>
      <p class="muted">{t("retention.holdsHelp")}</p>
      {holds && holds.length === 0 && <p class="muted">{t("retention.noHolds")}</p>}
      {holds && holds.length > 0 && (
        <table class="table">
          <thead>
            <tr>
              <th>{t("retention.holdOn")}</th>
              <th>{t("retention.reason")}</th>
              <th>{t("retention.until")}</th>
              <th>{t("retention.state")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {holds.map((h) => (
              <tr key={h.id}>
                <td>
                  {h.user_id !== null
                    ? t("retention.personNamed", { id: String(h.user_id) })
                    : t("retention.channelNamed", { id: String(h.channel_id) })}
                </td>
                <td>{h.reason}</td>
                <td>{h.ends_at ? formatDateTime(h.ends_at, t.time) : t("retention.untilReleased")}</td>
                <td>{h.active ? t("retention.active") : t("retention.inactive")}</td>
                <td>
                  {h.released_at === null && (
                    <button type="button" onClick={() => release(h)}>
                      {t("retention.release")}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form class="form-grid" onSubmit={submit} aria-label={t("retention.placeHold")}>
        <label class="field">
          <span>{t("retention.holdOn")}</span>
          <select value={form.on} onChange={field("on")}>
            <option value="user">{t("retention.onPerson")}</option>
            <option value="channel">{t("retention.onChannel")}</option>
          </select>
        </label>
        <label class="field">
          <span>{form.on === "user" ? t("retention.userId") : t("retention.channelId")}</span>
          <input inputMode="numeric" value={form.targetId} onInput={field("targetId")} />
        </label>
        <label class="field">
          <span>{t("retention.reason")}</span>
          <input maxLength={500} value={form.reason} onInput={field("reason")} />
        </label>
        <label class="field">
          <span>{t("retention.endsAt")}</span>
          <input type="datetime-local" value={form.endsAt} onInput={field("endsAt")} />
        </label>
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary">
          {t("retention.placeHold")}
        </button>
      </form>
    </div>
  );
}

function DryRun() {
  const t = useT();
  const [report, setReport] = useState<RetentionRunReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = () => {
    setError(null);
    api
      .runRetention(true)
      .then(setReport)
      .catch((e) => setError(errorText(e, t)));
  };
  return (
    <div class="retention-run">
      <h3>{t("retention.dryRun")}</h3>
      <button type="button" onClick={run}>
        {t("retention.dryRunButton")}
      </button>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      {report && (
        <p role="status">
          {t("retention.wouldDelete", {
            messages: String(report.messages),
            versions: String(report.versions),
            reactions: String(report.reactions),
            channels: String(report.channels.length),
          })}
        </p>
      )}
    </div>
  );
}

export function RetentionSection() {
  const t = useT();
  return (
    <section aria-labelledby="admin-retention" class="retention">
      <h2 id="admin-retention">{t("admin.retention")}</h2>
      <Policies />
      <Holds />
      <DryRun />
    </section>
  );
}
