// @mentions: the server's parsing rule, and the composer's autocomplete.

import { describe, expect, it } from "vitest";
import type { User } from "../api/types";
import { insertMention, matchMentions, mentionQueryAt, mentionsUser, parseMentions } from "./mentions";

const user = (id: number, username: string, display_name: string): User => ({
  id,
  username,
  display_name,
  email: null,
  is_admin: false,
  created_at: "2026-11-25T00:00:00Z",
});
const members = [
  user(1, "alice", "Alice Chen"),
  user(2, "bob", "Bob Wang"),
  user(3, "carol", "Carol Li"),
  user(4, "bobby.tables", "Robert Tables"),
  user(5, "wang.li", "李 Wang"),
];

describe("parsing mentions (as the server does)", () => {
  it("finds users and broadcasts", () => {
    expect(parseMentions("@Alice and @bob.smith, see @channel. @here! mail a@b.com @alice")).toEqual({
      usernames: ["alice", "bob.smith"],
      channel: true,
      here: true,
    });
  });
  it("handles Chinese text around mentions and trailing punctuation", () => {
    expect(parseMentions("请@wang 看一下，谢谢").usernames).toEqual(["wang"]);
    expect(parseMentions("thanks @li.").usernames).toEqual(["li"]);
    expect(parseMentions("@ alone").usernames).toEqual([]);
  });
  it("tells whether a user is mentioned", () => {
    expect(mentionsUser("hi @Alice", "alice")).toBe(true);
    expect(mentionsUser("hi @all", "alice")).toBe(true);
    expect(mentionsUser("hi alice@example.com", "alice")).toBe(false);
  });
});

describe("autocomplete", () => {
  it("finds the @query before the caret", () => {
    expect(mentionQueryAt("hello @bo", 9)).toEqual({ start: 6, query: "bo" });
    expect(mentionQueryAt("@", 1)).toEqual({ start: 0, query: "" });
    expect(mentionQueryAt("请@wa", 4)).toEqual({ start: 1, query: "wa" });
    expect(mentionQueryAt("mail a@b", 8)).toBeNull();
    expect(mentionQueryAt("no mention", 10)).toBeNull();
    expect(mentionQueryAt("@bob done", 9)).toBeNull();
  });

  it("ranks exact and prefix matches first, leaves the viewer out", () => {
    const names = (q: string) =>
      matchMentions(members, q, 1).map((c) => (c.kind === "user" ? c.user.username : `@${c.name}`));
    expect(names("bob")).toEqual(["bob", "bobby.tables"]);
    expect(names("rob")).toEqual(["bobby.tables"]);
    expect(names("wang")).toEqual(["wang.li", "bob"]);
    expect(names("al")).toEqual(["@all"]);
    expect(names("ch")).toEqual(["@channel"]);
    expect(names("")).toEqual(["bob", "bobby.tables", "carol", "wang.li"]);
    expect(names("zzz")).toEqual([]);
  });

  it("inserts the chosen name and moves the caret after it", () => {
    const text = "hi @bo and more";
    const q = mentionQueryAt(text, 6)!;
    expect(insertMention(text, q, 6, "bobby.tables")).toEqual({ text: "hi @bobby.tables and more", caret: 17 });
    const end = "hi @ca";
    expect(insertMention(end, mentionQueryAt(end, 6)!, 6, "carol")).toEqual({ text: "hi @carol ", caret: 10 });
  });
});
