// A channel's dynamic membership (for holders of channel.manage_any): the membership rule as
// JSON with a preview of who would join and leave, and a geofence as GeoJSON. The server
// validates both; its messages are shown as they come.

import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api/client";
import type { MembershipPreview } from "../api/types";
import { useT, type Translator } from "../i18n";
import { api, chat, patchUi, showToast } from "../state/app";
import { channelTitle } from "../state/chat";
import { geometryOf, parseJsonInput } from "../state/org";
import { useStore } from "../state/store";
import { Avatar, displayName, Modal } from "./common";
import "../styles/org.css";

const RULE_EXAMPLE = '{"all":[{"department":1},{"not":{"title":"Intern"}}]}';
const FENCE_EXAMPLE =
  '{"type":"Polygon","coordinates":[[[120.70,31.30],[120.72,31.30],[120.72,31.32],[120.70,31.32],[120.70,31.30]]]}';

function errorText(e: unknown, t: Translator): string {
  if (e instanceof ApiError) return e.isNetwork ? t("error.network") : e.message;
  return t("error.generic");
}

function PreviewList({ preview }: { preview: MembershipPreview }) {
  const t = useT();
  const group = (label: string, users: MembershipPreview["join"], cls: string) => (
    <div class={`preview-group ${cls}`}>
      <h4>
        {label} ({users.length})
      </h4>
      {users.length === 0 ? (
        <p class="muted small">{t("rule.nobody")}</p>
      ) : (
        <ul class="preview-people">
          {users.map((u) => (
            <li key={u.id}>
              <Avatar user={u} id={u.id} size={20} /> {displayName(u, u.username)}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
  return (
    <div class="preview" aria-live="polite">
      {group(t("rule.wouldJoin"), preview.join, "join")}
      {group(t("rule.wouldLeave"), preview.leave, "leave")}
    </div>
  );
}

/** Loads a JSON document that may not exist yet (404: empty). */
function useJsonDoc(load: () => Promise<unknown>): [string, (s: string) => void, boolean] {
  const [text, setText] = useState("");
  const [loaded, setLoaded] = useState(false);
  useEffect(() => {
    load()
      .then((v) => setText(JSON.stringify(v, null, 2)))
      .catch(() => setText(""))
      .finally(() => setLoaded(true));
  }, []);
  return [text, setText, loaded];
}

export function ChannelSettingsDialog({ channelId }: { channelId: number }) {
  const t = useT();
  const mc = useStore(chat, (c) => c.channels[channelId]);
  const users = useStore(chat, (c) => c.users);
  const me = useStore(chat, (c) => c.me);
  const [rule, setRule, ruleLoaded] = useJsonDoc(() => api.membershipRule(channelId));
  const [fence, setFence, fenceLoaded] = useJsonDoc(() => api.geofence(channelId));
  const [ruleError, setRuleError] = useState<string | null>(null);
  const [fenceError, setFenceError] = useState<string | null>(null);
  const [preview, setPreview] = useState<MembershipPreview | null>(null);
  const [busy, setBusy] = useState(false);
  const close = () => patchUi({ channelSettings: false });
  const title = mc ? `#${channelTitle(mc, users, me?.id ?? null)}` : "";

  const withRule = async (job: (value: unknown) => Promise<void>) => {
    setRuleError(null);
    const parsed = parseJsonInput(rule);
    if ("error" in parsed) {
      setRuleError(t("rule.invalidJson", { detail: parsed.error }));
      return;
    }
    setBusy(true);
    try {
      await job(parsed.value);
    } catch (e) {
      setRuleError(errorText(e, t));
    } finally {
      setBusy(false);
    }
  };
  const saveFence = async () => {
    setFenceError(null);
    const parsed = parseJsonInput(fence);
    if ("error" in parsed) {
      setFenceError(t("rule.invalidJson", { detail: parsed.error }));
      return;
    }
    setBusy(true);
    try {
      await api.setGeofence(channelId, geometryOf(parsed.value));
      showToast(t("geofence.saved"));
    } catch (e) {
      setFenceError(errorText(e, t));
    } finally {
      setBusy(false);
    }
  };
  const remove = async (what: "rule" | "fence") => {
    setBusy(true);
    try {
      if (what === "rule") {
        await api.deleteMembershipRule(channelId);
        setRule("");
        setPreview(null);
        showToast(t("rule.removed"));
      } else {
        await api.deleteGeofence(channelId);
        setFence("");
        showToast(t("geofence.removed"));
      }
    } catch (e) {
      (what === "rule" ? setRuleError : setFenceError)(errorText(e, t));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal title={t("channelSettings.title", { name: title })} onClose={close} wide>
      <section class="settings-block" aria-labelledby="rule-title">
        <h3 id="rule-title">{t("rule.title")}</h3>
        <p class="muted small">{t("rule.help")}</p>
        <label class="field">
          <span class="sr-only">{t("rule.title")}</span>
          <textarea
            class="code-input"
            name="membership-rule"
            rows={6}
            spellcheck={false}
            value={rule}
            placeholder={RULE_EXAMPLE}
            disabled={!ruleLoaded}
            onInput={(e) => {
              setRule(e.currentTarget.value);
              setPreview(null);
            }}
          />
        </label>
        {ruleError && (
          <p class="form-error" role="alert">
            {ruleError}
          </p>
        )}
        <div class="form-actions">
          <button type="button" class="btn" disabled={busy || !rule.trim()} onClick={() => withRule(async (v) => setPreview(await api.previewMembershipRule(channelId, v)))}>
            {t("rule.preview")}
          </button>
          <button type="button" class="btn" disabled={busy} onClick={() => remove("rule")}>
            {t("rule.remove")}
          </button>
          <button
            type="button"
            class="btn btn-primary"
            disabled={busy || !rule.trim()}
            onClick={() =>
              withRule(async (v) => {
                const result = await api.setMembershipRule(channelId, v);
                setPreview(null);
                showToast(t("rule.saved", { joined: result.join.length, left: result.leave.length }));
              })
            }
          >
            {t("rule.save")}
          </button>
        </div>
        {preview && <PreviewList preview={preview} />}
      </section>
      <section class="settings-block" aria-labelledby="fence-title">
        <h3 id="fence-title">{t("geofence.title")}</h3>
        <p class="muted small">{t("geofence.help")}</p>
        <label class="field">
          <span class="sr-only">{t("geofence.title")}</span>
          <textarea
            class="code-input"
            name="geofence"
            rows={6}
            spellcheck={false}
            value={fence}
            placeholder={FENCE_EXAMPLE}
            disabled={!fenceLoaded}
            onInput={(e) => setFence(e.currentTarget.value)}
          />
        </label>
        <label class="btn file-btn">
          {t("geofence.upload")}
          <input
            type="file"
            accept=".json,.geojson,application/geo+json,application/json"
            class="sr-only"
            onChange={async (e) => {
              const file = e.currentTarget.files?.[0];
              if (file) setFence(await file.text());
            }}
          />
        </label>
        {fenceError && (
          <p class="form-error" role="alert">
            {fenceError}
          </p>
        )}
        <div class="form-actions">
          <button type="button" class="btn" disabled={busy} onClick={() => remove("fence")}>
            {t("geofence.remove")}
          </button>
          <button type="button" class="btn btn-primary" disabled={busy || !fence.trim()} onClick={saveFence}>
            {t("geofence.save")}
          </button>
        </div>
      </section>
    </Modal>
  );
}
