// The Markdown render context for the current directory: which @words are real users, and who
// the viewer is (their mentions are highlighted).

import type { User, UserId } from "../api/types";
import type { RenderContext } from "./render";

const userSets = new WeakMap<Record<UserId, User>, Set<string>>();
export function renderContext(users: Record<UserId, User>, me: User | null): RenderContext {
  let set = userSets.get(users);
  if (!set) {
    set = new Set(Object.values(users).map((u) => u.username.toLowerCase()));
    userSets.set(users, set);
  }
  const names = set;
  return { isUser: (n) => names.has(n), me: me?.username.toLowerCase() ?? null };
}

