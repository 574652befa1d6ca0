// Wire types of the Concord API, mirroring crates/concord-proto (model.rs, event.rs, ws.rs,
// requests.rs). Ids are integers; timestamps are RFC 3339 strings.

export type UserId = number;
export type ChannelId = number;
export type MessageId = number;
/** A position in the durable event log: strictly increasing across all channels. */
export type Position = number;

export interface User {
  id: UserId;
  username: string;
  display_name: string;
  email: string | null;
  is_admin: boolean;
  /** An app's bot account (acts with an app token; never signs in with a password). */
  is_bot?: boolean;
  created_at: string;
}

export type ChannelKind = "public" | "private" | "dm" | "group_dm";

export interface Channel {
  id: ChannelId;
  kind: ChannelKind;
  /** Empty for DMs and group DMs. */
  name: string;
  topic: string;
  purpose: string;
  created_by: UserId;
  created_at: string;
  /** Sequence number of the newest message (0 when empty). */
  last_seq: number;
}

export type MemberRole = "admin" | "member";

export interface MyChannel {
  channel: Channel;
  role: MemberRole;
  dm_members: UserId[];
  last_read_seq: number;
  unread_count: number;
  mention_count: number;
}

export interface Member {
  user_id: UserId;
  role: MemberRole;
  joined_at: string;
}

export interface Reaction {
  emoji: string;
  user_ids: UserId[];
}

export interface Message {
  id: MessageId;
  channel_id: ChannelId;
  seq: number;
  sender_id: UserId;
  text: string;
  thread_root_id: MessageId | null;
  reply_count: number;
  client_msg_id: string | null;
  created_at: string;
  edited_at: string | null;
  deleted: boolean;
  pinned: boolean;
  reactions: Reaction[];
  /** Attached files (absent from servers before files). */
  files?: FileRef[];
}

export interface MessageVersion {
  version: number;
  text: string;
  created_at: string;
}

export interface LoginResponse {
  token: string;
  user: User;
  expires_at: string;
}

export interface CreateUserRequest {
  username: string;
  password: string;
  email?: string | null;
  display_name?: string | null;
  is_admin?: boolean;
}

export interface CreateChannelRequest {
  name: string;
  kind: "public" | "private";
  topic?: string;
  purpose?: string;
  member_ids?: UserId[];
}

export interface HistoryQuery {
  before?: number;
  after?: number;
  around?: number;
  limit?: number;
}

export interface HistoryPage {
  messages: Message[];
  has_more_before: boolean;
  has_more_after: boolean;
  /** The lowest sequence number still held: retention deleted older messages for good. */
  oldest_seq: number | null;
}

export interface ChannelPage {
  channels: Channel[];
  next_after: ChannelId | null;
}

export interface UserPage {
  users: User[];
  next_after: UserId | null;
}

export interface ThreadPage {
  root: Message;
  replies: Message[];
}

export type PresenceStatus = "online" | "offline";

export type ChatEvent =
  | { type: "message.created"; message: Message }
  | { type: "message.edited"; message: Message }
  | { type: "message.deleted"; channel_id: ChannelId; message_id: MessageId; seq: number }
  | { type: "messages.pruned"; channel_id: ChannelId; message_ids: MessageId[] }
  | { type: "reaction.added"; channel_id: ChannelId; message_id: MessageId; user_id: UserId; emoji: string }
  | { type: "reaction.removed"; channel_id: ChannelId; message_id: MessageId; user_id: UserId; emoji: string }
  | { type: "message.pinned"; channel_id: ChannelId; message_id: MessageId; user_id: UserId }
  | { type: "message.unpinned"; channel_id: ChannelId; message_id: MessageId; user_id: UserId }
  | { type: "channel.read"; channel_id: ChannelId; user_id: UserId; last_read_seq: number }
  | { type: "channel.created"; channel: Channel; member_ids: UserId[] }
  | { type: "channel.updated"; channel: Channel }
  | { type: "member.joined"; channel_id: ChannelId; user_id: UserId; actor_id: UserId }
  | { type: "member.left"; channel_id: ChannelId; user_id: UserId; actor_id: UserId }
  | { type: "typing"; channel_id: ChannelId; user_id: UserId; thread_root_id: MessageId | null }
  | { type: "presence"; user_id: UserId; status: PresenceStatus }
  | FileEvent;

export type ServerFrame =
  | { type: "hello"; user_id: UserId; position: Position; replayed: number }
  | { type: "event"; position: Position | null; at: string | null; event: ChatEvent }
  | { type: "resync_required"; position: Position }
  | { type: "ack"; request_id: string | null; message: Message }
  | { type: "error"; request_id: string | null; code: string; message: string }
  | { type: "pong" };

export type ClientFrame =
  | { type: "typing"; channel_id: ChannelId; thread_root_id: MessageId | null }
  | { type: "presence_subscribe"; user_ids: UserId[] }
  | { type: "ping" };

export interface ErrorBody {
  error: { code: string; message: string };
}

// ------------------------------------------------------------------ organisation (org.rs)

export type DepartmentId = number;
export type RoleId = number;

export interface Department {
  id: DepartmentId;
  name: string;
  parent_id: DepartmentId | null;
  /** People placed directly here (primary or secondary), not counting sub-departments. */
  member_count: number;
  created_at: string;
}

export interface DepartmentRef {
  id: DepartmentId;
  name: string;
}

export type UserStatus = "active" | "suspended" | "deactivated";

export interface UserProfile extends User {
  status: UserStatus;
  title: string | null;
  region: string | null;
  employee_no: string | null;
  phone: string | null;
  time_zone: string | null;
  locale: string | null;
  manager_id: UserId | null;
  project_tags: string[];
  primary_department_id: DepartmentId | null;
  secondary_department_ids: DepartmentId[];
  /** From the top of the tree down to the primary department. */
  department_path: DepartmentRef[];
  local_time: string | null;
  location_sharing: boolean;
}

/** PATCH /users/{id}: fields left out are kept, `null` clears. */
export interface UpdateUserRequest {
  display_name?: string;
  email?: string | null;
  title?: string | null;
  region?: string | null;
  employee_no?: string | null;
  phone?: string | null;
  time_zone?: string | null;
  locale?: string | null;
  manager_id?: UserId | null;
  project_tags?: string[];
  status?: UserStatus;
  primary_department_id?: DepartmentId | null;
  secondary_department_ids?: DepartmentId[];
}

export interface UpdateMeRequest {
  location_sharing?: boolean;
  display_name?: string;
  phone?: string | null;
  time_zone?: string | null;
  locale?: string | null;
}

export interface PeopleQuery {
  q?: string;
  department_id?: DepartmentId;
  after?: number;
  limit?: number;
}

export interface Permission {
  name: string;
  description: string;
  builtin: boolean;
}

export interface Role {
  id: RoleId;
  name: string;
  description: string;
  /** `org_admin`, `department_admin`, `member`, `guest` for the built-in roles. */
  builtin: string | null;
  permissions: string[];
}

export type Subject = { kind: "user"; id: UserId } | { kind: "department"; id: DepartmentId };

export interface RoleAssignment {
  id: number;
  role_id: RoleId;
  subject: Subject;
  scope_department_id: DepartmentId | null;
  created_at: string;
}

export interface MyPermissions {
  org: string[];
  departments: { department_id: DepartmentId; permissions: string[] }[];
}

export interface AuditEntry {
  id: number;
  at: string;
  actor_id: UserId | null;
  ip: string | null;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
}

export interface AuditQuery {
  actor_id?: UserId;
  action?: string;
  target?: string;
  from?: string;
  to?: string;
  before?: number;
  limit?: number;
}

export interface MembershipPreview {
  join: User[];
  leave: User[];
}

// ---------------------------------------------------------------- search

export type SearchSort = "relevance" | "newest" | "oldest";

/** A piece of a snippet; `highlighted` pieces matched the query. Plain text, never HTML. */
export interface SnippetPart {
  text: string;
  highlighted: boolean;
}

/** What a search returns: messages (the server's default), files, or both. */
export type SearchKind = "message" | "file" | "all";

/** A file as a file hit carries it (crates/concord-proto/src/files.rs `FileInfo`, in part). */
export interface SearchFile {
  id: FileId;
  channel_id: ChannelId;
  name: string;
  mime: string;
  size: number;
  version: number;
  created_by: UserId;
  created_at: string;
  updated_at: string;
}

/** A message hit (`message_id`, `message`) or a file hit (`file_id`, `file`). */
export interface SearchHit {
  /** Absent from servers that predate file search: a message. */
  kind?: "message" | "file";
  message_id?: MessageId;
  file_id?: FileId;
  channel_id: ChannelId;
  /** The sender, or the file's uploader. */
  sender_id: UserId;
  created_at: string;
  thread_root_id: MessageId | null;
  score: number | null;
  snippet: SnippetPart[];
  /** `body` or `files` for messages, `file_name` or `file_text` for files. */
  snippet_source: string;
  message?: Message;
  file?: SearchFile;
}

export interface SearchPage {
  total: number;
  hits: SearchHit[];
  next_offset: number | null;
}

/** `GET /search` parameters (booleans as `"true"`; times RFC 3339, `from` inclusive, `to` exclusive). */
export interface SearchParams {
  q?: string;
  channel_id?: number;
  sender_id?: number;
  from?: string;
  to?: string;
  has_file?: "true";
  in_thread?: "true";
  mentions_me?: "true";
  kind?: SearchKind;
  sort?: SearchSort;
  offset?: number;
  limit?: number;
}

// Apps (crates/concord-proto/src/apps.rs).

export type AppId = number;

/** A scope an app may be granted, e.g. `messages:write`. */
export interface AppScope {
  name: string;
  description: string;
}

export interface InstallAppRequest {
  name: string;
  username: string;
  description: string;
  scopes: string[];
}

export interface App {
  id: AppId;
  name: string;
  description: string;
  scopes: string[];
  bot_user: User;
  installed_by: UserId | null;
  installed_at: string;
  token_issued_at: string | null;
}

/** Shown once, at install and after rotation; the server keeps only a hash. */
export interface AppWithToken {
  app: App;
  token: string;
}

// Retention and legal hold (`retention.manage`).

export type RetentionScope = "org" | "public" | "private" | "dm" | "channel";

export interface RetentionPolicy {
  scope: RetentionScope;
  channel_id: ChannelId | null;
  /** `null`: kept forever. */
  keep_days: number | null;
  updated_at: string;
}

export interface SetRetentionPolicy {
  scope: RetentionScope;
  channel_id?: ChannelId;
  keep_days?: number | null;
  /** Removes the scope's policy so the less specific one applies. */
  inherit?: boolean;
}

export interface LegalHold {
  id: number;
  user_id: UserId | null;
  channel_id: ChannelId | null;
  reason: string;
  created_by: UserId;
  created_at: string;
  ends_at: string | null;
  released_at: string | null;
  released_by: UserId | null;
  active: boolean;
}

export interface CreateLegalHold {
  user_id?: UserId;
  channel_id?: ChannelId;
  reason: string;
  ends_at?: string;
}

export interface RetentionChannelCount {
  channel_id: ChannelId;
  messages: number;
  versions: number;
  reactions: number;
  mentions: number;
  pins: number;
}

export interface RetentionRunReport {
  dry_run: boolean;
  messages: number;
  versions: number;
  reactions: number;
  mentions: number;
  pins: number;
  channels: RetentionChannelCount[];
  more_remaining: boolean;
}

/** What a compliance export covers (the answer is a zip archive). */
export interface ComplianceExportRequest {
  channel_ids: number[];
  user_ids: number[];
  /** RFC 3339, inclusive. */
  from?: string;
  /** RFC 3339, exclusive. */
  to?: string;
  include_files: boolean;
}

// ---------------------------------------------------------------- files (concord-proto files.rs)

export type FileId = number;

/** A file as a message shows it. */
export interface FileRef {
  id: FileId;
  name: string;
  /** Detected from the content, not the name. */
  mime: string;
  size: number;
  version: number;
  width: number | null;
  height: number | null;
}

export interface FileInfo {
  id: FileId;
  channel_id: ChannelId;
  name: string;
  mime: string;
  size: number;
  sha256: string;
  version: number;
  sensitive: boolean;
  /** Downloads are watermarked and audited (the file's flag or its channel's). */
  effective_sensitive: boolean;
  width: number | null;
  height: number | null;
  created_by: UserId;
  created_at: string;
  updated_at: string;
}

export interface FileVersion {
  version: number;
  size: number;
  mime: string;
  sha256: string;
  width: number | null;
  height: number | null;
  uploaded_by: UserId;
  uploaded_at: string;
  comment: string | null;
  restored_from: number | null;
}

export interface FileComment {
  id: number;
  file_id: FileId;
  version: number;
  author_id: UserId;
  text: string;
  mentions: UserId[];
  created_at: string;
}

export interface FilePage {
  files: FileInfo[];
  next_before: FileId | null;
}

export type FileLinkVariant = "content" | "thumbnail" | "preview";

export interface FileLink {
  /** A path under the server's origin that works without a token until `expires_at`. */
  url: string;
  expires_at: string;
}

export interface UploadOptions {
  comment?: string;
  sensitive?: boolean;
}

export type FileEvent =
  | { type: "file.created"; file: FileInfo }
  | { type: "file.updated"; file: FileInfo }
  | { type: "file.deleted"; channel_id: ChannelId; file_id: FileId }
  | { type: "file.commented"; channel_id: ChannelId; comment: FileComment };
