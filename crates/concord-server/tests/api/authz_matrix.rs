//! The authorisation matrix: every operation of the server's OpenAPI document against every
//! kind of caller, with the expected outcome of each cell written in one table ([`MATRIX`]),
//! so the policy reads at a glance and an operation added without a row fails the test.
//!
//! A cell is allowed when the answer is 2xx (101 for the WebSocket upgrade) and denied when
//! it is 401 (anonymous callers only), 403 or 404; anything else (a 400 or 422 on a request
//! meant to be valid, a 409, a 5xx, a 401 for a valid token) fails the test, naming the cell
//! and the response. Requests are built from the fixture in [`fixture`]; rows that destroy
//! or move their target run each cell on a fresh object (`Fresh*` targets).
//!
//! The last column is an app's bot token (scopes: all reads but `permissions:check`, and
//! `messages:write`; its bot user is a plain member of the public channel only), so each row
//! shows both the scope an operation declares and the bot user's own permissions at work.

#[path = "authz_matrix_fixture.rs"]
mod fixture;

use fixture::On::{self, *};
use fixture::{ACTORS, ANONYMOUS, BOT, Fixture, GEOFENCE, OWNER, actor_name};
use futures_util::StreamExt;
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use serde_json::Value;
use std::collections::BTreeSet;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// `(operation as "METHOD path" in the document's spelling, target, expected outcome per
/// actor, request)`. The request is a JSON body, or `?query` for a GET, with placeholders:
/// `{actor}` (the column's name), `{me}` / `{username}` (the caller; the target user for
/// anonymous), `{password}`, `{target}`, `{hr}`, `{sales}`, `{custom_role}`, and the path
/// parameters the target fills. An operation may have several rows, one per target.
type Row = (&'static str, On, &'static str, &'static str);

/// A allow, D deny. Columns: anonymous, member, non_member, guest, dept_admin_other
/// (department admin of Sales), dept_admin (department admin of HR, where the targets are),
/// org_admin, bot (an app token; see the module doc).
#[rustfmt::skip]
const MATRIX: &[Row] = &[
    // operation                                              target               an me nm gu do da oa bt    request
    // Sessions, operations, the event stream.
    ("POST /api/v1/auth/login",                               Org,                "A  A  A  A  A  A  A  D", r#"{"login": "{username}", "password": "{password}"}"#),
    ("POST /api/v1/auth/logout",                              FreshSession,       "D  A  A  A  A  A  A  D", ""),
    ("GET /api/v1/openapi.json",                              Org,                "A  A  A  A  A  A  A  A", ""),
    ("GET /healthz",                                          Org,                "A  A  A  A  A  A  A  A", ""),
    ("GET /readyz",                                           Org,                "A  A  A  A  A  A  A  A", ""),
    ("GET /metrics",                                          Org,                "A  A  A  A  A  A  A  A", ""),
    ("GET /api/v1/ws",                                        Org,                "D  A  A  A  A  A  A  A", ""),
    // People. Guests see only name cards of people they share a channel with.
    ("GET /api/v1/users/me",                                  Org,                "D  A  A  A  A  A  A  A", ""),
    ("PATCH /api/v1/users/me",                                Org,                "D  A  A  A  A  A  A  D", r#"{"time_zone": "Asia/Shanghai"}"#),
    ("GET /api/v1/users/me/permissions",                      Org,                "D  A  A  A  A  A  A  A", ""),
    // The web client's org settings: for people, not app tokens.
    ("GET /api/v1/client-settings",                           Org,                "D  A  A  A  A  A  A  D", ""),
    // Sign-in security: one's own second factor and sessions; ending someone's sessions
    // needs `user.manage` where they are (or `security.manage`).
    ("GET /api/v1/users/me/mfa",                              Org,                "D  A  A  A  A  A  A  D", ""),
    ("POST /api/v1/users/me/mfa/totp",                        Org,                "D  A  A  A  A  A  A  D", ""),
    ("GET /api/v1/users/me/sessions",                         Org,                "D  A  A  A  A  A  A  D", ""),
    ("DELETE /api/v1/users/{user_id}/sessions",               FreshHrUser,        "D  D  D  D  D  A  A  D", ""),
    ("GET /api/v1/users",                                     Org,                "D  A  A  D  A  A  A  A", ""),
    ("POST /api/v1/users",                                    Org,                "D  D  D  D  D  D  A  D", r#"{"username": "new_{actor}", "password": "{password}"}"#),
    ("GET /api/v1/users/{user_id}",                           Org,                "D  A  A  D  A  A  A  A", ""),
    ("GET /api/v1/users/{user_id}",                           GuestRoom,          "D  A  A  A  A  A  A  A", ""),
    ("GET /api/v1/users/{user_id}/profile",                   Org,                "D  A  A  D  A  A  A  A", ""),
    ("PATCH /api/v1/users/{user_id}",                         Org,                "D  D  D  D  D  A  A  D", r#"{"title": "Recruiter"}"#),
    // Moving someone out of HR needs `user.manage` where they go as well.
    ("PATCH /api/v1/users/{user_id}",                         FreshHrUser,        "D  D  D  D  D  D  A  D", r#"{"primary_department_id": {sales}}"#),
    // A department admin may not suspend an org admin who happens to sit in their subtree.
    ("PATCH /api/v1/users/{user_id}",                         FreshHrOrgAdmin,    "D  D  D  D  D  D  A  D", r#"{"status": "suspended"}"#),
    // Departments: `org.manage` in the department (and in the new parent when moving).
    ("GET /api/v1/departments",                               Org,                "D  A  A  D  A  A  A  A", ""),
    ("POST /api/v1/departments",                              Org,                "D  D  D  D  D  A  A  D", r#"{"name": "new {actor}", "parent_id": {hr}}"#),
    ("POST /api/v1/departments",                              Org,                "D  D  D  D  D  D  A  D", r#"{"name": "top {actor}", "parent_id": null}"#),
    ("GET /api/v1/departments/{department_id}",               Org,                "D  A  A  D  A  A  A  A", ""),
    ("PATCH /api/v1/departments/{department_id}",             Org,                "D  D  D  D  D  A  A  D", r#"{"name": "Recruiting {actor}"}"#),
    ("PATCH /api/v1/departments/{department_id}",             FreshDept,          "D  D  D  D  D  D  A  D", r#"{"parent_id": {sales}}"#),
    ("DELETE /api/v1/departments/{department_id}",            FreshDept,          "D  D  D  D  D  A  A  D", ""),
    ("GET /api/v1/departments/{department_id}/members",       Org,                "D  A  A  D  A  A  A  A", ""),
    // The permission catalogue and the check ("about others" needs `permission.check`).
    ("GET /api/v1/permissions",                               Org,                "D  A  A  D  A  A  A  A", ""),
    ("POST /api/v1/permissions",                              Org,                "D  D  D  D  D  D  A  D", r#"{"name": "custom_{actor}.read"}"#),
    ("GET /api/v1/permissions/check",                         Org,                "D  D  D  D  D  D  A  D", "?user_id={target}&permission=org.manage"),
    ("GET /api/v1/permissions/check",                         Org,                "D  A  A  A  A  A  A  D", "?user_id={me}&permission=org.manage"),
    // Roles: defined org-wide only.
    ("GET /api/v1/roles",                                     Org,                "D  A  A  D  A  A  A  A", ""),
    ("POST /api/v1/roles",                                    Org,                "D  D  D  D  D  D  A  D", r#"{"name": "role {actor}", "permissions": ["resume_library.read"]}"#),
    ("GET /api/v1/roles/{role_id}",                           Org,                "D  A  A  D  A  A  A  A", ""),
    ("PATCH /api/v1/roles/{role_id}",                         Org,                "D  D  D  D  D  D  A  D", r#"{"description": "edited by {actor}"}"#),
    ("DELETE /api/v1/roles/{role_id}",                        FreshRole,          "D  D  D  D  D  D  A  D", ""),
    // Assignments: `role.manage` at the scope, and no escalation (org-wide scope, or a role
    // holding a permission the caller lacks there, `resume_library.read`).
    ("GET /api/v1/role-assignments",                          Org,                "D  D  D  D  A  A  A  D", ""),
    ("POST /api/v1/role-assignments",                         FreshRole,          "D  D  D  D  D  A  A  D", r#"{"role_id": {role_id}, "subject": {"kind": "user", "id": {target}}, "scope_department_id": {hr}}"#),
    ("POST /api/v1/role-assignments",                         FreshRole,          "D  D  D  D  D  D  A  D", r#"{"role_id": {role_id}, "subject": {"kind": "user", "id": {target}}, "scope_department_id": null}"#),
    ("POST /api/v1/role-assignments",                         Org,                "D  D  D  D  D  D  A  D", r#"{"role_id": {custom_role}, "subject": {"kind": "user", "id": {me}}, "scope_department_id": {hr}}"#),
    ("DELETE /api/v1/role-assignments/{assignment_id}",       FreshHrAssignment,  "D  D  D  D  D  A  A  D", ""),
    ("DELETE /api/v1/role-assignments/{assignment_id}",       FreshOrgAssignment, "D  D  D  D  D  D  A  D", ""),
    ("GET /api/v1/audit",                                     Org,                "D  D  D  D  D  D  A  D", ""),
    ("GET /api/v1/audit/export",                              Org,                "D  D  D  D  D  D  A  D", ""),
    // Retention and legal holds need `retention.manage`; verifying a channel's message chain
    // needs `audit.read` (it reveals no content, so private channels are no exception).
    ("GET /api/v1/retention/policies",                        Org,                "D  D  D  D  D  D  A  D", ""),
    ("PUT /api/v1/retention/policies",                        Org,                "D  D  D  D  D  D  A  D", r#"{"scope": "dm", "keep_days": null}"#),
    ("GET /api/v1/retention/holds",                           Org,                "D  D  D  D  D  D  A  D", ""),
    ("POST /api/v1/retention/holds",                          Org,                "D  D  D  D  D  D  A  D", r#"{"user_id": {target}, "reason": "matrix {actor}"}"#),
    ("DELETE /api/v1/retention/holds/{hold_id}",              FreshHold,          "D  D  D  D  D  D  A  D", ""),
    ("POST /api/v1/retention/run",                            Org,                "D  D  D  D  D  D  A  D", r#"{"dry_run": true}"#),
    ("GET /api/v1/channels/{channel_id}/chain",               Private,            "D  D  D  D  D  D  A  D", ""),
    ("GET /api/v1/channels/{channel_id}/chain",               Public,             "D  D  D  D  D  D  A  D", ""),
    // Exports: compliance needs `compliance.export`; everyone may export their own data; people only.
    ("POST /api/v1/compliance/exports",                       Org,                "D  D  D  D  D  D  A  D", r#"{"user_ids": [{me}]}"#),
    ("GET /api/v1/users/me/export",                           Org,                "D  A  A  A  A  A  A  D", ""),
    // Channels. Private channels are invisible to non-members, org admins included;
    // guests see only the channels they are in.
    ("GET /api/v1/channels",                                  Org,                "D  A  A  A  A  A  A  A", ""),
    ("POST /api/v1/channels",                                 Org,                "D  A  A  D  A  A  A  D", r#"{"name": "by {actor}", "kind": "private"}"#),
    ("GET /api/v1/channels/browse",                           Org,                "D  A  A  D  A  A  A  A", ""),
    ("POST /api/v1/dms",                                      Org,                "D  A  A  D  A  A  A  D", r#"{"user_ids": [{target}]}"#),
    ("GET /api/v1/channels/{channel_id}",                     Private,            "D  A  D  D  D  D  D  D", ""),
    ("GET /api/v1/channels/{channel_id}",                     Public,             "D  A  A  D  A  A  A  A", ""),
    ("GET /api/v1/channels/{channel_id}",                     GuestRoom,          "D  D  D  A  D  D  D  D", ""),
    ("PATCH /api/v1/channels/{channel_id}",                   Private,            "D  D  D  D  D  D  D  D", r#"{"topic": "set by {actor}"}"#),
    ("PATCH /api/v1/channels/{channel_id}",                   Public,             "D  D  D  D  D  D  A  D", r#"{"topic": "set by {actor}"}"#),
    ("POST /api/v1/channels/{channel_id}/join",               FreshPrivate,       "D  D  D  D  D  D  D  D", ""),
    ("POST /api/v1/channels/{channel_id}/join",               FreshPublic,        "D  A  A  D  A  A  A  D", ""),
    ("POST /api/v1/channels/{channel_id}/leave",              FreshPrivate,       "D  A  D  D  D  D  D  D", ""),
    ("POST /api/v1/channels/{channel_id}/leave",              FreshPublic,        "D  A  D  D  D  D  D  D", ""),
    ("GET /api/v1/channels/{channel_id}/members",             Private,            "D  A  D  D  D  D  D  D", ""),
    ("GET /api/v1/channels/{channel_id}/members",             Public,             "D  A  A  D  A  A  A  A", ""),
    ("POST /api/v1/channels/{channel_id}/members",            Private,            "D  A  D  D  D  D  D  D", r#"{"user_ids": [{target}]}"#),
    ("POST /api/v1/channels/{channel_id}/members",            Public,             "D  A  D  D  D  D  D  D", r#"{"user_ids": [{target}]}"#),
    ("DELETE /api/v1/channels/{channel_id}/members/{user_id}", FreshPrivate,      "D  D  D  D  D  D  D  D", ""),
    ("DELETE /api/v1/channels/{channel_id}/members/{user_id}", FreshPublic,       "D  D  D  D  D  D  A  D", ""),
    ("GET /api/v1/channels/{channel_id}/messages",            Private,            "D  A  D  D  D  D  D  D", ""),
    ("GET /api/v1/channels/{channel_id}/messages",            Public,             "D  A  A  D  A  A  A  A", ""),
    ("POST /api/v1/channels/{channel_id}/messages",           Private,            "D  A  D  D  D  D  D  D", r#"{"text": "hello from {actor}"}"#),
    ("POST /api/v1/channels/{channel_id}/messages",           Public,             "D  A  D  D  D  D  D  A", r#"{"text": "hello from {actor}"}"#),
    ("POST /api/v1/channels/{channel_id}/messages",           GuestRoom,          "D  D  D  A  D  D  D  D", r#"{"text": "hello from {actor}"}"#),
    ("GET /api/v1/channels/{channel_id}/pins",                Private,            "D  A  D  D  D  D  D  D", ""),
    ("GET /api/v1/channels/{channel_id}/pins",                Public,             "D  A  A  D  A  A  A  A", ""),
    ("GET /api/v1/channels/{channel_id}/dlp",                 Private,            "D  A  D  D  D  D  D  D", ""),
    ("GET /api/v1/channels/{channel_id}/dlp",                 Public,             "D  A  A  D  A  A  A  D", ""),
    ("PUT /api/v1/channels/{channel_id}/dlp",                 Private,            "D  D  D  D  D  D  D  D", r#"{"action": "mask"}"#),
    ("PUT /api/v1/channels/{channel_id}/dlp",                 Public,             "D  D  D  D  D  D  A  D", r#"{"action": "mask"}"#),
    ("POST /api/v1/channels/{channel_id}/read",               Private,            "D  A  D  D  D  D  D  D", r#"{"seq": 0}"#),
    ("POST /api/v1/channels/{channel_id}/read",               Public,             "D  A  D  D  D  D  D  A", r#"{"seq": 0}"#),
    ("POST /api/v1/channels/{channel_id}/typing",             Private,            "D  A  D  D  D  D  D  D", "{}"),
    ("POST /api/v1/channels/{channel_id}/typing",             Public,             "D  A  D  D  D  D  D  A", "{}"),
    // Dynamic membership: a channel's rule and geofence are the channel admins' (and
    // `channel.manage_any`'s) to read and change. Reporting a location is anyone's.
    ("GET /api/v1/channels/{channel_id}/membership-rule",     Private,            "D  D  D  D  D  D  D  D", ""),
    ("GET /api/v1/channels/{channel_id}/membership-rule",     Public,             "D  D  D  D  D  D  A  D", ""),
    ("PUT /api/v1/channels/{channel_id}/membership-rule",     Private,            "D  D  D  D  D  D  D  D", r#"{"title": "Nobody"}"#),
    ("PUT /api/v1/channels/{channel_id}/membership-rule",     Public,             "D  D  D  D  D  D  A  D", r#"{"title": "Nobody"}"#),
    ("DELETE /api/v1/channels/{channel_id}/membership-rule",  FreshPrivate,       "D  D  D  D  D  D  D  D", ""),
    ("DELETE /api/v1/channels/{channel_id}/membership-rule",  FreshPublic,        "D  D  D  D  D  D  A  D", ""),
    ("POST /api/v1/channels/{channel_id}/membership-rule/preview", Private,       "D  D  D  D  D  D  D  D", r#"{"department": {hr}}"#),
    ("POST /api/v1/channels/{channel_id}/membership-rule/preview", Public,        "D  D  D  D  D  D  A  D", r#"{"department": {hr}}"#),
    ("GET /api/v1/channels/{channel_id}/geofence",            Private,            "D  D  D  D  D  D  D  D", ""),
    ("GET /api/v1/channels/{channel_id}/geofence",            Public,             "D  D  D  D  D  D  A  D", ""),
    ("PUT /api/v1/channels/{channel_id}/geofence",            Private,            "D  D  D  D  D  D  D  D", GEOFENCE),
    ("PUT /api/v1/channels/{channel_id}/geofence",            Public,             "D  D  D  D  D  D  A  D", GEOFENCE),
    ("DELETE /api/v1/channels/{channel_id}/geofence",         FreshPrivate,       "D  D  D  D  D  D  D  D", ""),
    ("DELETE /api/v1/channels/{channel_id}/geofence",         FreshPublic,        "D  D  D  D  D  D  A  D", ""),
    // Far from every geofence, so nobody joins anything.
    ("POST /api/v1/me/location",                              Org,                "D  A  A  A  A  A  A  D", r#"{"latitude": 48.85, "longitude": 2.35, "accuracy_m": 10}"#),
    // Messages (each target is a message by `member`).
    ("GET /api/v1/messages/{message_id}",                     Private,            "D  A  D  D  D  D  D  D", ""),
    ("GET /api/v1/messages/{message_id}",                     Public,             "D  A  A  D  A  A  A  A", ""),
    ("PATCH /api/v1/messages/{message_id}",                   Private,            "D  A  D  D  D  D  D  D", r#"{"text": "edited by {actor}"}"#),
    ("PATCH /api/v1/messages/{message_id}",                   Public,             "D  A  D  D  D  D  D  D", r#"{"text": "edited by {actor}"}"#),
    ("DELETE /api/v1/messages/{message_id}",                  FreshPrivate,       "D  A  D  D  D  D  D  D", ""),
    ("DELETE /api/v1/messages/{message_id}",                  FreshPublic,        "D  A  D  D  D  D  A  D", ""),
    ("GET /api/v1/messages/{message_id}/versions",            Private,            "D  A  D  D  D  D  D  D", ""),
    ("GET /api/v1/messages/{message_id}/versions",            Public,             "D  A  A  D  A  A  A  A", ""),
    ("GET /api/v1/messages/{message_id}/thread",              Private,            "D  A  D  D  D  D  D  D", ""),
    ("GET /api/v1/messages/{message_id}/thread",              Public,             "D  A  A  D  A  A  A  A", ""),
    // Files follow their channel: readers of the channel read its files (and with a token
    // only through `files:read`); posters upload, version and comment; the uploader (or a
    // moderator) renames and deletes; the file policy is the channel's managers'.
    ("GET /api/v1/channels/{channel_id}/files",               Private,            "D  A  D  D  D  D  D  D", ""),
    ("GET /api/v1/channels/{channel_id}/files",               Public,             "D  A  A  D  A  A  A  A", ""),
    ("POST /api/v1/channels/{channel_id}/files",              Private,            "D  A  D  D  D  D  D  D", "?name=from_{actor}.txt"),
    ("POST /api/v1/channels/{channel_id}/files",              Public,             "D  A  D  D  D  D  D  D", "?name=from_{actor}.txt"),
    ("POST /api/v1/channels/{channel_id}/files",              GuestRoom,          "D  D  D  A  D  D  D  D", "?name=from_{actor}.txt"),
    ("GET /api/v1/channels/{channel_id}/file-policy",         Private,            "D  A  D  D  D  D  D  D", ""),
    ("GET /api/v1/channels/{channel_id}/file-policy",         Public,             "D  A  A  D  A  A  A  A", ""),
    ("PUT /api/v1/channels/{channel_id}/file-policy",         Private,            "D  D  D  D  D  D  D  D", r#"{"sensitive": false}"#),
    ("PUT /api/v1/channels/{channel_id}/file-policy",         Public,             "D  D  D  D  D  D  A  D", r#"{"sensitive": false}"#),
    ("GET /api/v1/files/{file_id}",                           Private,            "D  A  D  D  D  D  D  D", ""),
    ("GET /api/v1/files/{file_id}",                           Public,             "D  A  A  D  A  A  A  A", ""),
    ("PATCH /api/v1/files/{file_id}",                         Private,            "D  A  D  D  D  D  D  D", r#"{"name": "renamed by {actor}.png"}"#),
    ("PATCH /api/v1/files/{file_id}",                         Public,             "D  A  D  D  D  D  D  D", r#"{"name": "renamed by {actor}.png"}"#),
    ("DELETE /api/v1/files/{file_id}",                        FreshPrivate,       "D  A  D  D  D  D  D  D", ""),
    ("DELETE /api/v1/files/{file_id}",                        FreshPublic,        "D  A  D  D  D  D  A  D", ""),
    ("GET /api/v1/files/{file_id}/content",                   Private,            "D  A  D  D  D  D  D  D", ""),
    ("GET /api/v1/files/{file_id}/content",                   Public,             "D  A  A  D  A  A  A  A", ""),
    ("GET /api/v1/files/{file_id}/thumbnail",                 Private,            "D  A  D  D  D  D  D  D", ""),
    ("GET /api/v1/files/{file_id}/thumbnail",                 Public,             "D  A  A  D  A  A  A  A", ""),
    ("GET /api/v1/files/{file_id}/preview",                   Private,            "D  A  D  D  D  D  D  D", ""),
    ("GET /api/v1/files/{file_id}/preview",                   Public,             "D  A  A  D  A  A  A  A", ""),
    ("POST /api/v1/files/{file_id}/link",                     Private,            "D  A  D  D  D  D  D  D", r#"{"variant": "thumbnail"}"#),
    ("POST /api/v1/files/{file_id}/link",                     Public,             "D  A  A  D  A  A  A  A", r#"{"variant": "thumbnail"}"#),
    ("GET /api/v1/files/{file_id}/versions",                  Private,            "D  A  D  D  D  D  D  D", ""),
    ("GET /api/v1/files/{file_id}/versions",                  Public,             "D  A  A  D  A  A  A  A", ""),
    ("POST /api/v1/files/{file_id}/versions",                 Private,            "D  A  D  D  D  D  D  D", "?comment=by_{actor}"),
    ("POST /api/v1/files/{file_id}/versions",                 Public,             "D  A  D  D  D  D  D  D", "?comment=by_{actor}"),
    ("POST /api/v1/files/{file_id}/versions/{version}/restore", Private,          "D  A  D  D  D  D  D  D", ""),
    ("POST /api/v1/files/{file_id}/versions/{version}/restore", Public,           "D  A  D  D  D  D  D  D", ""),
    ("GET /api/v1/files/{file_id}/comments",                  Private,            "D  A  D  D  D  D  D  D", ""),
    ("GET /api/v1/files/{file_id}/comments",                  Public,             "D  A  A  D  A  A  A  A", ""),
    ("POST /api/v1/files/{file_id}/comments",                 Private,            "D  A  D  D  D  D  D  D", r#"{"text": "looks good, {actor}"}"#),
    ("POST /api/v1/files/{file_id}/comments",                 Public,             "D  A  D  D  D  D  D  D", r#"{"text": "looks good, {actor}"}"#),
    ("PUT /api/v1/messages/{message_id}/reactions/{emoji}",   Private,            "D  A  D  D  D  D  D  D", ""),
    ("PUT /api/v1/messages/{message_id}/reactions/{emoji}",   Public,             "D  A  D  D  D  D  D  A", ""),
    ("DELETE /api/v1/messages/{message_id}/reactions/{emoji}", Private,           "D  A  D  D  D  D  D  D", ""),
    ("DELETE /api/v1/messages/{message_id}/reactions/{emoji}", Public,            "D  A  D  D  D  D  D  A", ""),
    ("PUT /api/v1/messages/{message_id}/pin",                 Private,            "D  A  D  D  D  D  D  D", ""),
    ("PUT /api/v1/messages/{message_id}/pin",                 Public,             "D  A  D  D  D  D  D  A", ""),
    ("DELETE /api/v1/messages/{message_id}/pin",              Private,            "D  A  D  D  D  D  D  D", ""),
    ("DELETE /api/v1/messages/{message_id}/pin",              Public,             "D  A  D  D  D  D  D  A", ""),
    // Search: within what the caller may read (a channel filter they cannot read is a 404);
    // compliance search across everything needs `compliance.search`; bulk import, org admins.
    ("GET /api/v1/search",                                    Org,                "D  A  A  A  A  A  A  A", "?q=hello"),
    ("GET /api/v1/search",                                    Private,            "D  A  D  D  D  D  D  D", "?q=hello&channel_id={channel_id}"),
    ("GET /api/v1/search",                                    Public,             "D  A  A  D  A  A  A  A", "?q=hello&channel_id={channel_id}"),
    ("GET /api/v1/compliance/search",                         Org,                "D  D  D  D  D  D  A  D", "?q=hello"),
    ("POST /api/v1/admin/import/messages",                    Org,                "D  D  D  D  D  D  A  D", r#"{"channel": "imported by {actor}", "sender": "imported_{actor}", "ts": "2021-03-01T00:00:00Z", "text": "hello"}"#),
    // The online reindex of the search index: org admins.
    ("GET /api/v1/admin/search/reindex",                      Org,                "D  D  D  D  D  D  A  D", ""),
    ("POST /api/v1/admin/search/reindex",                     Org,                "D  D  D  D  D  D  A  D", ""),
    // Apps: installed, listed, rotated and uninstalled with `app.install`, by people only.
    ("GET /api/v1/apps",                                      Org,                "D  D  D  D  D  D  A  D", ""),
    ("POST /api/v1/apps",                                     Org,                "D  D  D  D  D  D  A  D", r#"{"name": "App of {actor}", "username": "app_{n}", "scopes": ["messages:read"]}"#),
    ("GET /api/v1/apps/scopes",                               Org,                "D  D  D  D  D  D  A  D", ""),
    ("GET /api/v1/apps/{app_id}",                             Org,                "D  D  D  D  D  D  A  D", ""),
    ("POST /api/v1/apps/{app_id}/token",                      FreshApp,           "D  D  D  D  D  D  A  D", ""),
    ("DELETE /api/v1/apps/{app_id}",                          FreshApp,           "D  D  D  D  D  D  A  D", ""),
];

const HTTP_METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Rows that deny every column are sent once more by the channel's owner (its channel
/// admin), who must be allowed: so such a row shows a policy, not a request that could never
/// succeed. Except these, which nobody may do to a private channel.
const OWNER_DENIED: &[&str] = &["POST /api/v1/channels/{channel_id}/join"];

/// Operations without a row: their outcome turns on a live authenticator code or on ending
/// the caller's other sessions (which the other cells use), not on who calls. They require a
/// token (authz.rs) and are exercised, allowed and denied, in account_security.rs.
const COVERED_ELSEWHERE: &[&str] = &[
    "POST /api/v1/auth/login/mfa",
    "POST /api/v1/users/me/mfa/totp/confirm",
    "POST /api/v1/users/me/mfa/totp/disable",
    "DELETE /api/v1/users/me/sessions",
    "DELETE /api/v1/users/me/sessions/{session_id}",
];

/// How many cells run at once.
const PARALLEL: usize = 24;

/// Every operation of the served OpenAPI document, as `METHOD path`.
async fn documented_operations(fx: &Fixture) -> BTreeSet<String> {
    let (status, doc) = fx.app.get(None, "/api/v1/openapi.json").await;
    assert!(status.is_success(), "openapi.json: {status} {doc}");
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("`paths` is an object") {
        for method in item.as_object().expect("a path item is an object").keys() {
            if HTTP_METHODS.contains(&method.as_str()) {
                out.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    out
}

/// Replaces each `{name}` with its value; `Err` names a placeholder left unfilled.
fn fill(template: &str, vars: &[(&'static str, String)]) -> Result<String, String> {
    let mut out = template.to_string();
    for (name, value) in vars {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    let unfilled = out.split('{').skip(1).find_map(|rest| {
        let name = rest.split('}').next().unwrap_or_default();
        let is_name = !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_');
        (is_name && rest.contains('}')).then(|| name.to_string())
    });
    match unfilled {
        Some(name) => Err(format!("no value for {{{name}}} in {template:?}")),
        None => Ok(out),
    }
}

/// Parses a row's expectations: one `A` or `D` per actor.
fn expectations(row: &Row) -> Result<Vec<bool>, String> {
    let cells: Vec<&str> = row.2.split_whitespace().collect();
    if cells.len() != ACTORS.len() || cells.iter().any(|c| *c != "A" && *c != "D") {
        return Err(format!(
            "{} [{:?}]: expectations must be {} of A or D, got {:?}",
            row.0,
            row.1,
            ACTORS.len(),
            row.2
        ));
    }
    Ok(cells.iter().map(|c| *c == "A").collect())
}

/// The WebSocket upgrade with the actor's token in the header: 101, or the refusal's status.
async fn ws_connect(
    fx: &Fixture,
    path: &str,
    token: Option<&str>,
) -> Result<(u16, String), String> {
    let mut req = format!("ws://{}{path}", fx.app.addr)
        .into_client_request()
        .map_err(|e| e.to_string())?;
    if let Some(t) = token {
        let value = HeaderValue::from_str(&format!("Bearer {t}")).map_err(|e| e.to_string())?;
        req.headers_mut().insert(AUTHORIZATION, value);
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok(_) => Ok((101, String::new())),
        Err(tungstenite::Error::Http(resp)) => {
            let body = resp.body().as_deref().unwrap_or_default();
            Ok((
                resp.status().as_u16(),
                String::from_utf8_lossy(body).into_owned(),
            ))
        }
        Err(e) => Err(format!("WebSocket connect failed: {e}")),
    }
}

/// Sends one cell's request; returns the status and the body.
async fn send(fx: &Fixture, row: &Row, actor: usize) -> Result<(u16, String), String> {
    let (op, on, _, request) = *row;
    let cell = fx.prepare(on, actor).await;
    let (method, path) = op.split_once(' ').expect("METHOD path");
    let mut path = fill(path, &cell.vars)?;
    let request = fill(request, &cell.vars)?;
    if op == "GET /api/v1/ws" {
        return ws_connect(fx, &path, cell.token.as_deref()).await;
    }
    let mut body = None;
    let mut raw = None;
    if request.starts_with('?') {
        path.push_str(&request);
        // Uploads: the query names the file, the body is its content.
        if method != "GET" {
            raw = Some(format!("content uploaded by {}", actor_name(actor)));
        }
    } else if !request.is_empty() {
        let json: Value = serde_json::from_str(&request)
            .map_err(|e| format!("request {request:?} is not JSON: {e}"))?;
        body = Some(json);
    }
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = fx.app.http.request(method, fx.app.url(&path));
    if let Some(t) = &cell.token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = &body {
        req = req.json(b);
    }
    if let Some(r) = raw {
        req = req.body(r);
    }
    let resp = req
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = resp.status().as_u16();
    Ok((status, resp.text().await.unwrap_or_default()))
}

/// Whether the answer means allowed (`Ok(true)`), denied (`Ok(false)`), or is neither.
fn classify(status: u16, actor: usize, op: &str) -> Result<bool, String> {
    match status {
        101 | 200..=299 => Ok(true),
        401 if actor == ANONYMOUS => Ok(false),
        // A bot has no password to sign in with.
        401 if actor == BOT && op == "POST /api/v1/auth/login" => Ok(false),
        401 => Err("a valid token was refused (401): the fixture is broken".into()),
        403 | 404 if actor != ANONYMOUS => Ok(false),
        403 | 404 => Err("an anonymous caller must get 401".into()),
        _ => Err("neither allowed nor denied".into()),
    }
}

fn short(body: &str) -> String {
    let body: String = body.chars().take(300).collect();
    body.replace('\n', " ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_documented_operation_against_every_actor() {
    let fx = Fixture::build().await;
    let mut problems = Vec::new();

    let documented = documented_operations(&fx).await;
    let covered: BTreeSet<String> = MATRIX
        .iter()
        .map(|r| r.0)
        .chain(COVERED_ELSEWHERE.iter().copied())
        .map(str::to_string)
        .collect();
    for op in documented.difference(&covered) {
        problems.push(format!(
            "{op}: documented but has no row in MATRIX (authz_matrix.rs): add its row"
        ));
    }
    for op in covered.difference(&documented) {
        problems.push(format!(
            "{op}: has a row in MATRIX but is not a documented operation: remove or fix the row"
        ));
    }

    let mut cells = Vec::new();
    for (r, row) in MATRIX.iter().enumerate() {
        match expectations(row) {
            Ok(expected) if documented.contains(row.0) => {
                let channel = matches!(
                    row.1,
                    Private | Public | GuestRoom | FreshPrivate | FreshPublic
                );
                if channel && !expected.contains(&true) {
                    cells.push((r, OWNER, !OWNER_DENIED.contains(&row.0)));
                }
                cells.extend(expected.into_iter().enumerate().map(|(a, e)| (r, a, e)));
            }
            Ok(_) => {}
            Err(e) => problems.push(e),
        }
    }
    let fx = &fx;
    let mut results: Vec<_> = futures_util::stream::iter(cells)
        .map(|(r, actor, expected)| async move {
            let outcome = send(fx, &MATRIX[r], actor).await;
            (r, actor, expected, outcome)
        })
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    results.sort_by_key(|(r, a, _, _)| (*r, *a));

    let mut observed = vec![vec!['?'; ACTORS.len()]; MATRIX.len()];
    for (r, actor, expected, outcome) in results {
        let (op, on, _, request) = MATRIX[r];
        let cell = format!("{op} [{on:?}] {request} as {}", actor_name(actor));
        let (status, body) = match outcome {
            Ok(x) => x,
            Err(e) => {
                problems.push(format!("{cell}: {e}"));
                continue;
            }
        };
        match classify(status, actor, op) {
            Err(e) => problems.push(format!("{cell}: {e}: {status} {}", short(&body))),
            Ok(allowed) => {
                if let Some(seen) = observed[r].get_mut(actor) {
                    *seen = if allowed { 'A' } else { 'D' };
                }
                if allowed != expected {
                    let (want, got) = if expected {
                        ("allow", "denied")
                    } else {
                        ("deny", "allowed")
                    };
                    problems.push(format!(
                        "{cell}: expected {want}, got {got}: {status} {}",
                        short(&body)
                    ));
                }
            }
        }
    }

    if !problems.is_empty() {
        let table: Vec<String> = MATRIX
            .iter()
            .zip(&observed)
            .map(|(row, seen)| {
                let seen: Vec<String> = seen.iter().map(char::to_string).collect();
                format!(
                    "{:<58} {:<19} {}",
                    row.0,
                    format!("{:?}", row.1),
                    seen.join("  ")
                )
            })
            .collect();
        panic!(
            "{} problem(s) in the authorisation matrix:\n  {}\n\nobserved (columns: {}):\n{}",
            problems.len(),
            problems.join("\n  "),
            ACTORS.join(", "),
            table.join("\n")
        );
    }
}
