// The REST client: one method per endpoint of /api/v1, JSON in and out, errors as ApiError.

import type {
  App,
  ComplianceExportRequest,
  AppId,
  AppScope,
  AppWithToken,
  InstallAppRequest,
  AuditEntry,
  AuditQuery,
  Department,
  DepartmentId,
  MembershipPreview,
  MyPermissions,
  PeopleQuery,
  Permission,
  Role,
  RoleAssignment,
  Subject,
  UpdateMeRequest,
  UpdateUserRequest,
  UserProfile,
  Channel,
  ChannelId,
  ChannelPage,
  CreateChannelRequest,
  CreateLegalHold,
  CreateUserRequest,
  LegalHold,
  RetentionPolicy,
  RetentionRunReport,
  SetRetentionPolicy,
  HistoryPage,
  HistoryQuery,
  LoginResponse,
  Member,
  Message,
  MessageId,
  MessageVersion,
  MyChannel,
  SearchPage,
  SearchParams,
  ThreadPage,
  User,
  UserId,
  UserPage,
  FileComment,
  FileId,
  FileInfo,
  FileLink,
  FileLinkVariant,
  FilePage,
  FileVersion,
  UploadOptions,
} from "./types";

/** An error answered by the server (`{"error":{"code","message"}}`) or a network failure. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** True when the request never got an answer (offline, server down). */
  get isNetwork(): boolean {
    return this.status === 0;
  }
}

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface ApiClientOptions {
  base?: string;
  getToken: () => string | null;
  /** Called when the server says the session is no longer valid. */
  onUnauthorized?: () => void;
  fetchImpl?: typeof fetch;
}

export function query(params: Record<string, number | string | undefined>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join("&")}` : "";
}

export class ApiClient {
  private readonly base: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly opts: ApiClientOptions) {
    this.base = opts.base ?? "/api/v1";
    this.fetchImpl = opts.fetchImpl ?? ((input, init) => fetch(input, init));
  }

  private async request<T>(method: Method, path: string, body?: unknown, auth = true): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    const token = auth ? this.opts.getToken() : null;
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await this.fetchImpl(this.base + path, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiError(0, "network", e instanceof Error ? e.message : String(e));
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let data: unknown = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!response.ok) {
      const err = (data as { error?: { code?: string; message?: string } } | null)?.error;
      if (response.status === 401 && auth && token) this.opts.onUnauthorized?.();
      throw new ApiError(
        response.status,
        err?.code ?? "http_" + response.status,
        err?.message ?? response.statusText,
      );
    }
    return data as T;
  }

  login(login: string, password: string): Promise<LoginResponse> {
    return this.request("POST", "/auth/login", { login, password }, false);
  }
  logout(): Promise<void> {
    return this.request("POST", "/auth/logout");
  }

  me(): Promise<User> {
    return this.request("GET", "/users/me");
  }
  /** The org's settings for the web client (`[web]` in the server's configuration). */
  clientSettings(): Promise<{ watermark?: boolean }> {
    return this.request("GET", "/client-settings");
  }
  users(after?: UserId, limit = 200): Promise<UserPage> {
    return this.request("GET", "/users" + query({ after, limit }));
  }
  user(id: UserId): Promise<User> {
    return this.request("GET", `/users/${id}`);
  }
  createUser(req: CreateUserRequest): Promise<User> {
    return this.request("POST", "/users", req);
  }

  myChannels(): Promise<MyChannel[]> {
    return this.request("GET", "/channels");
  }
  createChannel(req: CreateChannelRequest): Promise<Channel> {
    return this.request("POST", "/channels", req);
  }
  browseChannels(after?: ChannelId, limit = 200): Promise<ChannelPage> {
    return this.request("GET", "/channels/browse" + query({ after, limit }));
  }
  channel(id: ChannelId): Promise<Channel> {
    return this.request("GET", `/channels/${id}`);
  }
  updateChannel(id: ChannelId, patch: { name?: string; topic?: string; purpose?: string }): Promise<Channel> {
    return this.request("PATCH", `/channels/${id}`, patch);
  }
  join(id: ChannelId): Promise<void> {
    return this.request("POST", `/channels/${id}/join`);
  }
  leave(id: ChannelId): Promise<void> {
    return this.request("POST", `/channels/${id}/leave`);
  }
  members(id: ChannelId): Promise<Member[]> {
    return this.request("GET", `/channels/${id}/members`);
  }
  invite(id: ChannelId, userIds: UserId[]): Promise<{ added: UserId[] }> {
    return this.request("POST", `/channels/${id}/members`, { user_ids: userIds });
  }
  openDm(userIds: UserId[]): Promise<Channel> {
    return this.request("POST", "/dms", { user_ids: userIds });
  }

  history(id: ChannelId, q: HistoryQuery = {}): Promise<HistoryPage> {
    return this.request("GET", `/channels/${id}/messages` + query({ ...q }));
  }
  send(
    id: ChannelId,
    text: string,
    clientMsgId: string,
    threadRootId: MessageId | null = null,
    fileIds: FileId[] = [],
  ): Promise<Message> {
    return this.request("POST", `/channels/${id}/messages`, {
      text,
      client_msg_id: clientMsgId,
      thread_root_id: threadRootId,
      ...(fileIds.length ? { file_ids: fileIds } : {}),
    });
  }
  pins(id: ChannelId): Promise<Message[]> {
    return this.request("GET", `/channels/${id}/pins`);
  }
  markRead(id: ChannelId, seq: number): Promise<{ last_read_seq: number }> {
    return this.request("POST", `/channels/${id}/read`, { seq });
  }

  message(id: MessageId): Promise<Message> {
    return this.request("GET", `/messages/${id}`);
  }
  edit(id: MessageId, text: string): Promise<Message> {
    return this.request("PATCH", `/messages/${id}`, { text });
  }
  remove(id: MessageId): Promise<void> {
    return this.request("DELETE", `/messages/${id}`);
  }
  versions(id: MessageId): Promise<MessageVersion[]> {
    return this.request("GET", `/messages/${id}/versions`);
  }
  thread(id: MessageId): Promise<ThreadPage> {
    return this.request("GET", `/messages/${id}/thread`);
  }
  react(id: MessageId, emoji: string): Promise<void> {
    return this.request("PUT", `/messages/${id}/reactions/${encodeURIComponent(emoji)}`);
  }
  unreact(id: MessageId, emoji: string): Promise<void> {
    return this.request("DELETE", `/messages/${id}/reactions/${encodeURIComponent(emoji)}`);
  }
  pin(id: MessageId): Promise<void> {
    return this.request("PUT", `/messages/${id}/pin`);
  }
  unpin(id: MessageId): Promise<void> {
    return this.request("DELETE", `/messages/${id}/pin`);
  }

  /** Messages in the channels the caller may read (`GET /search`). */
  search(q: SearchParams): Promise<SearchPage> {
    return this.request("GET", "/search" + query({ ...q }));
  }

  // ---------------------------------------------------------------- organisation

  myPermissions(): Promise<MyPermissions> {
    return this.request("GET", "/users/me/permissions");
  }
  updateMe(req: UpdateMeRequest): Promise<UserProfile> {
    return this.request("PATCH", "/users/me", req);
  }
  people(q: PeopleQuery): Promise<UserPage> {
    return this.request("GET", "/users" + query({ ...q }));
  }
  profile(id: UserId): Promise<UserProfile> {
    return this.request("GET", `/users/${id}/profile`);
  }
  updateUser(id: UserId, req: UpdateUserRequest): Promise<UserProfile> {
    return this.request("PATCH", `/users/${id}`, req);
  }

  departments(): Promise<Department[]> {
    return this.request("GET", "/departments");
  }
  createDepartment(name: string, parentId: DepartmentId | null): Promise<Department> {
    return this.request("POST", "/departments", { name, parent_id: parentId });
  }
  updateDepartment(id: DepartmentId, patch: { name?: string; parent_id?: DepartmentId | null }): Promise<Department> {
    return this.request("PATCH", `/departments/${id}`, patch);
  }
  deleteDepartment(id: DepartmentId): Promise<void> {
    return this.request("DELETE", `/departments/${id}`);
  }
  departmentMembers(id: DepartmentId): Promise<User[]> {
    return this.request("GET", `/departments/${id}/members`);
  }

  permissions(): Promise<Permission[]> {
    return this.request("GET", "/permissions");
  }
  registerPermission(name: string, description: string): Promise<Permission> {
    return this.request("POST", "/permissions", { name, description });
  }
  roles(): Promise<Role[]> {
    return this.request("GET", "/roles");
  }
  createRole(name: string, description: string, permissions: string[]): Promise<Role> {
    return this.request("POST", "/roles", { name, description, permissions });
  }
  updateRole(id: number, patch: { name?: string; description?: string; permissions?: string[] }): Promise<Role> {
    return this.request("PATCH", `/roles/${id}`, patch);
  }
  deleteRole(id: number): Promise<void> {
    return this.request("DELETE", `/roles/${id}`);
  }
  assignments(): Promise<RoleAssignment[]> {
    return this.request("GET", "/role-assignments");
  }
  assign(roleId: number, subject: Subject, scope: DepartmentId | null): Promise<RoleAssignment> {
    return this.request("POST", "/role-assignments", { role_id: roleId, subject, scope_department_id: scope });
  }
  revoke(id: number): Promise<void> {
    return this.request("DELETE", `/role-assignments/${id}`);
  }

  retentionPolicies(): Promise<RetentionPolicy[]> {
    return this.request("GET", "/retention/policies");
  }
  setRetentionPolicy(body: SetRetentionPolicy): Promise<RetentionPolicy[]> {
    return this.request("PUT", "/retention/policies", body);
  }
  legalHolds(): Promise<LegalHold[]> {
    return this.request("GET", "/retention/holds");
  }
  createLegalHold(body: CreateLegalHold): Promise<LegalHold> {
    return this.request("POST", "/retention/holds", body);
  }
  releaseLegalHold(id: number): Promise<LegalHold> {
    return this.request("DELETE", `/retention/holds/${id}`);
  }
  runRetention(dryRun: boolean): Promise<RetentionRunReport> {
    return this.request("POST", "/retention/run", { dry_run: dryRun });
  }
  /** A compliance export (`compliance.export`): the zip archive. */
  complianceExport(req: ComplianceExportRequest): Promise<Blob> {
    return this.download("POST", "/compliance/exports", req);
  }
  /** The caller's own data as a zip archive. */
  myExport(): Promise<Blob> {
    return this.download("GET", "/users/me/export");
  }

  /** A binary answer (an archive); errors are read as JSON like every other request's. */
  private async download(method: Method, path: string, body?: unknown): Promise<Blob> {
    const headers: Record<string, string> = { accept: "application/zip, application/json" };
    const token = this.opts.getToken();
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await this.fetchImpl(this.base + path, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiError(0, "network", e instanceof Error ? e.message : String(e));
    }
    if (response.ok) return response.blob();
    let err: { code?: string; message?: string } | undefined;
    try {
      err = ((await response.json()) as { error?: { code?: string; message?: string } } | null)?.error;
    } catch {
      err = undefined;
    }
    if (response.status === 401 && token) this.opts.onUnauthorized?.();
    throw new ApiError(response.status, err?.code ?? "http_" + response.status, err?.message ?? response.statusText);
  }
  audit(q: AuditQuery): Promise<AuditEntry[]> {
    return this.request("GET", "/audit" + query({ ...q }));
  }

  membershipRule(id: ChannelId): Promise<unknown> {
    return this.request("GET", `/channels/${id}/membership-rule`);
  }
  setMembershipRule(id: ChannelId, rule: unknown): Promise<MembershipPreview> {
    return this.request("PUT", `/channels/${id}/membership-rule`, rule);
  }
  deleteMembershipRule(id: ChannelId): Promise<void> {
    return this.request("DELETE", `/channels/${id}/membership-rule`);
  }
  previewMembershipRule(id: ChannelId, rule: unknown): Promise<MembershipPreview> {
    return this.request("POST", `/channels/${id}/membership-rule/preview`, rule);
  }
  geofence(id: ChannelId): Promise<unknown> {
    return this.request("GET", `/channels/${id}/geofence`);
  }
  setGeofence(id: ChannelId, fence: unknown): Promise<unknown> {
    return this.request("PUT", `/channels/${id}/geofence`, fence);
  }
  deleteGeofence(id: ChannelId): Promise<void> {
    return this.request("DELETE", `/channels/${id}/geofence`);
  }

  // ---------------------------------------------------------------- files

  /**
   * Uploads a file's raw content into a channel (or a new version of a file), reporting upload
   * progress; fetch cannot report it, so this uses XMLHttpRequest. Abort through `signal`.
   */
  upload(
    target: { channelId: ChannelId } | { fileId: FileId },
    file: Blob,
    name: string,
    opts: UploadOptions & { onProgress?: (sent: number, total: number) => void; signal?: AbortSignal } = {},
  ): Promise<FileInfo> {
    const path =
      "channelId" in target
        ? `/channels/${target.channelId}/files` + query({ name, comment: opts.comment, sensitive: opts.sensitive ? "true" : undefined })
        : `/files/${target.fileId}/versions` + query({ comment: opts.comment });
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", this.base + path);
      const token = this.opts.getToken();
      if (token) xhr.setRequestHeader("authorization", `Bearer ${token}`);
      xhr.setRequestHeader("content-type", "application/octet-stream");
      xhr.setRequestHeader("accept", "application/json");
      xhr.upload.onprogress = (e) => opts.onProgress?.(e.loaded, e.lengthComputable ? e.total : file.size);
      xhr.onerror = () => reject(new ApiError(0, "network", "network error"));
      xhr.onabort = () => reject(new ApiError(0, "aborted", "aborted"));
      xhr.onload = () => {
        let data: unknown = null;
        try {
          data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
        } catch {
          data = null;
        }
        if (xhr.status >= 200 && xhr.status < 300) {
          resolve(data as FileInfo);
          return;
        }
        const err = (data as { error?: { code?: string; message?: string } } | null)?.error;
        if (xhr.status === 401 && token) this.opts.onUnauthorized?.();
        reject(new ApiError(xhr.status, err?.code ?? "http_" + xhr.status, err?.message ?? xhr.statusText));
      };
      opts.signal?.addEventListener("abort", () => xhr.abort());
      xhr.send(file);
    });
  }
  channelFiles(id: ChannelId, before?: FileId, limit = 50): Promise<FilePage> {
    return this.request("GET", `/channels/${id}/files` + query({ before, limit }));
  }
  file(id: FileId): Promise<FileInfo> {
    return this.request("GET", `/files/${id}`);
  }
  deleteFile(id: FileId): Promise<void> {
    return this.request("DELETE", `/files/${id}`);
  }
  fileVersions(id: FileId): Promise<FileVersion[]> {
    return this.request("GET", `/files/${id}/versions`);
  }
  restoreFileVersion(id: FileId, version: number): Promise<FileInfo> {
    return this.request("POST", `/files/${id}/versions/${version}/restore`);
  }
  fileComments(id: FileId): Promise<FileComment[]> {
    return this.request("GET", `/files/${id}/comments`);
  }
  commentFile(id: FileId, text: string, version?: number): Promise<FileComment> {
    return this.request("POST", `/files/${id}/comments`, version === undefined ? { text } : { text, version });
  }
  /** A signed link that works without a token until it expires (for `<img src>`, downloads). */
  fileLink(id: FileId, variant: FileLinkVariant, version?: number): Promise<FileLink> {
    return this.request("POST", `/files/${id}/link`, version === undefined ? { variant } : { variant, version });
  }

  // Apps (app.install).
  appScopes(): Promise<AppScope[]> {
    return this.request("GET", "/apps/scopes");
  }
  apps(): Promise<App[]> {
    return this.request("GET", "/apps");
  }
  installApp(req: InstallAppRequest): Promise<AppWithToken> {
    return this.request("POST", "/apps", req);
  }
  rotateAppToken(id: AppId): Promise<AppWithToken> {
    return this.request("POST", `/apps/${id}/token`, {});
  }
  uninstallApp(id: AppId): Promise<void> {
    return this.request("DELETE", `/apps/${id}`);
  }
}
