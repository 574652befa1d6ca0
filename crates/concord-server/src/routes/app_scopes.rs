//! Which operations app tokens may call, and with which scope: the one table, keyed by
//! operation as the OpenAPI document spells it. An operation not listed here is for people
//! only (deny by default). The `Auth` extractor checks it through
//! [`concord_core::authz::authorize_app_access`]; the document shows each operation's scope as
//! `x-app-scope`.

use axum::http::Method;
use concord_core::authz::AppAccess::{self, AnyAppToken, Scope};
use concord_core::scope::{
    CHANNELS_READ, CHANNELS_WRITE, FILES_READ, FILES_WRITE, MESSAGES_READ, MESSAGES_WRITE,
    ORG_READ, PERMISSIONS_CHECK, USERS_READ,
};

/// `("METHOD path", access)`.
#[rustfmt::skip]
pub const APP_ACCESS: &[(&str, AppAccess)] = &[
    // Who the bot is; the event stream.
    ("GET /api/v1/users/me",                                  AnyAppToken),
    ("GET /api/v1/users/me/permissions",                      AnyAppToken),
    ("GET /api/v1/ws",                                        Scope(MESSAGES_READ)),
    // People and the organisation.
    ("GET /api/v1/users",                                     Scope(USERS_READ)),
    ("GET /api/v1/users/{user_id}",                           Scope(USERS_READ)),
    ("GET /api/v1/users/{user_id}/profile",                   Scope(USERS_READ)),
    ("GET /api/v1/departments",                               Scope(ORG_READ)),
    ("GET /api/v1/departments/{department_id}",               Scope(ORG_READ)),
    ("GET /api/v1/departments/{department_id}/members",       Scope(ORG_READ)),
    ("GET /api/v1/permissions",                               Scope(ORG_READ)),
    ("GET /api/v1/roles",                                     Scope(ORG_READ)),
    ("GET /api/v1/roles/{role_id}",                           Scope(ORG_READ)),
    ("GET /api/v1/role-assignments",                          Scope(ORG_READ)),
    ("GET /api/v1/permissions/check",                         Scope(PERMISSIONS_CHECK)),
    // Channels.
    ("GET /api/v1/channels",                                  Scope(CHANNELS_READ)),
    ("GET /api/v1/channels/browse",                           Scope(CHANNELS_READ)),
    ("GET /api/v1/channels/{channel_id}",                     Scope(CHANNELS_READ)),
    ("GET /api/v1/channels/{channel_id}/members",             Scope(CHANNELS_READ)),
    ("POST /api/v1/channels",                                 Scope(CHANNELS_WRITE)),
    ("POST /api/v1/dms",                                      Scope(CHANNELS_WRITE)),
    ("PATCH /api/v1/channels/{channel_id}",                   Scope(CHANNELS_WRITE)),
    ("POST /api/v1/channels/{channel_id}/join",               Scope(CHANNELS_WRITE)),
    ("POST /api/v1/channels/{channel_id}/leave",              Scope(CHANNELS_WRITE)),
    ("POST /api/v1/channels/{channel_id}/members",            Scope(CHANNELS_WRITE)),
    ("DELETE /api/v1/channels/{channel_id}/members/{user_id}", Scope(CHANNELS_WRITE)),
    // Messages.
    ("GET /api/v1/channels/{channel_id}/messages",            Scope(MESSAGES_READ)),
    ("GET /api/v1/channels/{channel_id}/pins",                Scope(MESSAGES_READ)),
    ("GET /api/v1/messages/{message_id}",                     Scope(MESSAGES_READ)),
    ("GET /api/v1/messages/{message_id}/versions",            Scope(MESSAGES_READ)),
    ("GET /api/v1/messages/{message_id}/thread",              Scope(MESSAGES_READ)),
    ("GET /api/v1/search",                                    Scope(MESSAGES_READ)),
    ("POST /api/v1/channels/{channel_id}/messages",           Scope(MESSAGES_WRITE)),
    ("POST /api/v1/channels/{channel_id}/read",               Scope(MESSAGES_WRITE)),
    ("POST /api/v1/channels/{channel_id}/typing",             Scope(MESSAGES_WRITE)),
    ("PATCH /api/v1/messages/{message_id}",                   Scope(MESSAGES_WRITE)),
    ("DELETE /api/v1/messages/{message_id}",                  Scope(MESSAGES_WRITE)),
    ("PUT /api/v1/messages/{message_id}/reactions/{emoji}",   Scope(MESSAGES_WRITE)),
    ("DELETE /api/v1/messages/{message_id}/reactions/{emoji}", Scope(MESSAGES_WRITE)),
    ("PUT /api/v1/messages/{message_id}/pin",                 Scope(MESSAGES_WRITE)),
    ("DELETE /api/v1/messages/{message_id}/pin",              Scope(MESSAGES_WRITE)),
    // Files.
    ("GET /api/v1/channels/{channel_id}/files",               Scope(FILES_READ)),
    ("GET /api/v1/channels/{channel_id}/file-policy",         Scope(CHANNELS_READ)),
    ("GET /api/v1/files/{file_id}",                           Scope(FILES_READ)),
    ("GET /api/v1/files/{file_id}/content",                   Scope(FILES_READ)),
    ("GET /api/v1/files/{file_id}/thumbnail",                 Scope(FILES_READ)),
    ("GET /api/v1/files/{file_id}/preview",                   Scope(FILES_READ)),
    ("GET /api/v1/files/{file_id}/versions",                  Scope(FILES_READ)),
    ("GET /api/v1/files/{file_id}/comments",                  Scope(FILES_READ)),
    ("POST /api/v1/files/{file_id}/link",                     Scope(FILES_READ)),
    ("POST /api/v1/channels/{channel_id}/files",              Scope(FILES_WRITE)),
    ("POST /api/v1/files/{file_id}/versions",                 Scope(FILES_WRITE)),
    ("POST /api/v1/files/{file_id}/versions/{version}/restore", Scope(FILES_WRITE)),
    ("POST /api/v1/files/{file_id}/comments",                 Scope(FILES_WRITE)),
    ("PATCH /api/v1/files/{file_id}",                         Scope(FILES_WRITE)),
    ("DELETE /api/v1/files/{file_id}",                        Scope(FILES_WRITE)),
];

/// What app tokens may do with the operation `method` `path` (the matched route pattern).
pub fn access_for(method: &Method, path: &str) -> AppAccess {
    APP_ACCESS
        .iter()
        .find(|(op, _)| {
            op.split_once(' ')
                .is_some_and(|(m, p)| m == method.as_str() && p == path)
        })
        .map_or(AppAccess::SessionOnly, |(_, access)| *access)
}

/// Marks each documented operation with the scope app tokens need (`x-app-scope`: a scope,
/// `any`, or `none` for people only). Returns the table's operations the document lacks.
pub fn annotate(openapi: &mut utoipa::openapi::OpenApi) -> Vec<&'static str> {
    use utoipa::openapi::extensions::Extensions;
    let mut seen = Vec::new();
    for (path, item) in openapi.paths.paths.iter_mut() {
        let ops = [
            ("GET", &mut item.get),
            ("PUT", &mut item.put),
            ("POST", &mut item.post),
            ("DELETE", &mut item.delete),
            ("PATCH", &mut item.patch),
        ];
        for (method, op) in ops {
            let Some(op) = op else { continue };
            let key = format!("{method} {path}");
            let access = APP_ACCESS.iter().find(|(o, _)| *o == key);
            if let Some((o, _)) = access {
                seen.push(*o);
            }
            let value = match access.map(|(_, a)| *a) {
                Some(Scope(s)) => s,
                Some(AnyAppToken) => "any",
                _ => "none",
            };
            op.extensions
                .get_or_insert_with(Extensions::default)
                .insert("x-app-scope".into(), serde_json::Value::from(value));
        }
    }
    APP_ACCESS
        .iter()
        .map(|(o, _)| *o)
        .filter(|o| !seen.contains(o))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undeclared_operations_are_for_people_only() {
        assert_eq!(
            access_for(&Method::POST, "/api/v1/channels/{channel_id}/messages"),
            Scope(MESSAGES_WRITE)
        );
        assert_eq!(
            access_for(&Method::GET, "/api/v1/channels/{channel_id}/messages"),
            Scope(MESSAGES_READ)
        );
        assert_eq!(
            access_for(&Method::POST, "/api/v1/apps"),
            AppAccess::SessionOnly
        );
        assert_eq!(
            access_for(&Method::PATCH, "/api/v1/users/me"),
            AppAccess::SessionOnly
        );
    }

    #[test]
    fn each_operation_is_declared_once() {
        let mut ops: Vec<_> = APP_ACCESS.iter().map(|(o, _)| *o).collect();
        ops.sort();
        ops.dedup();
        assert_eq!(ops.len(), APP_ACCESS.len());
    }
}
