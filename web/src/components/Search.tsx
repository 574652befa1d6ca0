// The search results (loaded on first use): filters (channel, sender, date range in the
// viewer's zone, in thread, mentions me, with files, messages and/or files, sort), hits with
// highlighted snippets, "more results", and opening a message hit at its place in the channel
// or a file hit's content through an expiring link.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError } from "../api/client";
import type { SearchHit, SearchKind, SearchSort } from "../api/types";
import { useT, type Translator } from "../i18n";
import { formatDate, formatDateTime, formatTime } from "../i18n/time";
import { EMPTY_SEARCH, hasCriteria, hitKey, isFileHit, searchParams, type SearchFilters } from "../search/query";
import { Snippet } from "../search/Snippet";
import { api, chat, ensureUsers, jumpToMessage, openThread, reportError } from "../state/app";
import { channelTitle } from "../state/chat";
import { route } from "../state/router";
import { useStore } from "../state/store";
import { displayName } from "./common";
import { PageFrame } from "./Pages";

function errorText(e: unknown, t: Translator): string {
  if (e instanceof ApiError) return e.isNetwork ? t("error.network") : e.message;
  return t("error.generic");
}

export function SearchPage() {
  const t = useT();
  const q = useStore(route, (r) => (r.name === "search" ? r.q : ""));
  const channels = useStore(chat, (c) => c.channels);
  const users = useStore(chat, (c) => c.users);
  const me = useStore(chat, (c) => c.me);
  const [filters, setFilters] = useState<Omit<SearchFilters, "q">>(EMPTY_SEARCH);
  const [hits, setHits] = useState<SearchHit[] | null>(null);
  const [total, setTotal] = useState(0);
  const [next, setNext] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const generation = useRef(0);

  const all: SearchFilters = { ...filters, q };
  const zone = t.time.timeZone;
  const active = hasCriteria(all);

  const run = (offset: number) => {
    const gen = offset === 0 ? ++generation.current : generation.current;
    setBusy(true);
    setError(null);
    api
      .search(searchParams(all, zone, offset))
      .then((page) => {
        if (gen !== generation.current) return;
        setHits((cur) => (offset === 0 ? page.hits : [...(cur ?? []), ...page.hits]));
        setTotal(page.total);
        setNext(page.next_offset);
        ensureUsers(page.hits.map((h) => h.sender_id));
      })
      .catch((e) => gen === generation.current && setError(errorText(e, t)))
      .finally(() => gen === generation.current && setBusy(false));
  };

  useEffect(() => {
    if (!active) {
      generation.current++;
      setHits(null);
      setBusy(false);
      setError(null);
      return;
    }
    run(0);
  }, [q, zone, JSON.stringify(filters)]);

  const channelOptions = useMemo(
    () =>
      Object.values(channels)
        .map((mc) => ({ id: mc.channel.id, label: channelLabel(mc.channel.id) }))
        .sort((a, b) => a.label.localeCompare(b.label)),
    [channels, users],
  );
  const people = useMemo(
    () =>
      Object.values(users)
        .map((u) => ({ id: u.id, label: displayName(u, u.username) }))
        .sort((a, b) => a.label.localeCompare(b.label)),
    [users],
  );

  function channelLabel(id: number): string {
    const mc = channels[id];
    if (!mc) return t("search.unknownChannel");
    const title = channelTitle(mc, users, me?.id ?? null);
    return mc.channel.kind === "public" || mc.channel.kind === "private" ? `#${title}` : title;
  }

  const set = <K extends keyof SearchFilters>(k: K, v: SearchFilters[K]) => setFilters((f) => ({ ...f, [k]: v }));
  const num = (v: string) => (v === "" ? null : Number(v));

  const open = (h: SearchHit) => {
    if (isFileHit(h)) {
      api
        .fileLink(h.file!.id, "content")
        .then((link) => window.open(link.url, "_blank", "noopener"))
        .catch(reportError);
      return;
    }
    if (!h.message) return;
    jumpToMessage(h.channel_id, h.message.seq)
      .then(() => (h.thread_root_id !== null ? openThread(h.thread_root_id) : undefined))
      .catch(reportError);
  };

  return (
    <PageFrame title={t("search.title")}>
      <div class="search-page">
        <form class="search-filters" aria-label={t("search.filters")} onSubmit={(e) => e.preventDefault()}>
          <label class="field">
            <span>{t("search.channel")}</span>
            <select name="channel" value={filters.channelId ?? ""} onChange={(e) => set("channelId", num(e.currentTarget.value))}>
              <option value="">{t("search.anyChannel")}</option>
              {channelOptions.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.label}
                </option>
              ))}
            </select>
          </label>
          <label class="field">
            <span>{t("search.sender")}</span>
            <select name="sender" value={filters.senderId ?? ""} onChange={(e) => set("senderId", num(e.currentTarget.value))}>
              <option value="">{t("search.anyone")}</option>
              {people.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.label}
                </option>
              ))}
            </select>
          </label>
          <label class="field">
            <span>{t("search.from")}</span>
            <input name="from" type="date" value={filters.fromDay} onInput={(e) => set("fromDay", e.currentTarget.value)} />
          </label>
          <label class="field">
            <span>{t("search.to")}</span>
            <input name="to" type="date" value={filters.toDay} onInput={(e) => set("toDay", e.currentTarget.value)} />
          </label>
          <label class="field">
            <span>{t("search.kind")}</span>
            <select name="kind" value={filters.kind} onChange={(e) => set("kind", e.currentTarget.value as SearchKind)}>
              <option value="all">{t("search.kindAll")}</option>
              <option value="message">{t("search.kindMessages")}</option>
              <option value="file">{t("search.kindFiles")}</option>
            </select>
          </label>
          <label class="field">
            <span>{t("search.sort")}</span>
            <select name="sort" value={filters.sort} onChange={(e) => set("sort", e.currentTarget.value as SearchSort)}>
              <option value="relevance">{t("search.sortRelevance")}</option>
              <option value="newest">{t("search.sortNewest")}</option>
              <option value="oldest">{t("search.sortOldest")}</option>
            </select>
          </label>
          <div class="search-checks">
            <label class="check">
              <input type="checkbox" checked={filters.inThread} onChange={(e) => set("inThread", e.currentTarget.checked)} />
              <span>{t("search.inThread")}</span>
            </label>
            <label class="check">
              <input type="checkbox" checked={filters.mentionsMe} onChange={(e) => set("mentionsMe", e.currentTarget.checked)} />
              <span>{t("search.mentionsMe")}</span>
            </label>
            <label class="check">
              <input type="checkbox" checked={filters.hasFile} onChange={(e) => set("hasFile", e.currentTarget.checked)} />
              <span>{t("search.hasFile")}</span>
            </label>
          </div>
          <p class="muted small search-zone">{t("search.zone", { zone })}</p>
        </form>

        <div class="search-results" aria-live="polite" aria-busy={busy}>
          {error && <p class="form-error">{error}</p>}
          {!active ? (
            <p class="search-empty muted">{t("search.hint")}</p>
          ) : hits === null ? (
            <p class="muted">{t("search.searching")}</p>
          ) : hits.length === 0 ? (
            <div class="search-empty">
              <p>{q ? t("search.noResultsFor", { q }) : t("search.noResults")}</p>
              <p class="muted small">{t("search.noResultsTip")}</p>
            </div>
          ) : (
            <>
              <p class="search-count muted small">{t.plural("search.count", total)}</p>
              <ol class="search-hits">
                {hits.map((h) => {
                  const sender = displayName(users[h.sender_id], `#${h.sender_id}`);
                  const file = isFileHit(h) ? h.file! : null;
                  const label = file
                    ? t("search.openFile", { channel: channelLabel(h.channel_id), file: file.name })
                    : t("search.open", { channel: channelLabel(h.channel_id), name: sender });
                  return (
                    <li key={hitKey(h)}>
                      <button
                        type="button"
                        class="search-hit"
                        data-message-id={file ? undefined : h.message_id}
                        data-file-id={file ? file.id : undefined}
                        onClick={() => open(h)}
                        aria-label={label}
                      >
                        <span class="search-hit-head">
                          <span class="search-hit-channel">{channelLabel(h.channel_id)}</span>
                          <span class="search-hit-sender">{sender}</span>
                          {file && <span class="tag">{t("search.fileTag")}</span>}
                          {file && h.snippet_source === "file_text" && <span class="search-hit-file">{file.name}</span>}
                          {h.thread_root_id !== null && <span class="tag">{t("search.inThreadTag")}</span>}
                          {h.snippet_source === "files" && <span class="tag">{t("search.inFileTag")}</span>}
                          <time class="muted small" dateTime={h.created_at} title={formatDateTime(h.created_at, t.time)}>
                            {formatDate(h.created_at, t.time)} {formatTime(h.created_at, t.time)}
                          </time>
                        </span>
                        <span class="search-hit-text">
                          {h.snippet.length > 0 ? <Snippet parts={h.snippet} /> : file ? file.name : h.message?.text}
                        </span>
                      </button>
                    </li>
                  );
                })}
              </ol>
              {next !== null && (
                <button type="button" class="btn search-more" disabled={busy} onClick={() => run(next)}>
                  {busy ? t("loading") : t("search.more")}
                </button>
              )}
            </>
          )}
        </div>
      </div>
    </PageFrame>
  );
}
