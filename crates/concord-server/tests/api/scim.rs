//! SCIM 2.0 provisioning at `/scim/v2` against the spawned server: users (create, get,
//! replace, PATCH incl. Azure AD's style, deactivate), filters and pagination, groups as
//! departments with membership, discovery, errors in SCIM's format, and that a person SCIM
//! deactivates loses their sessions. Every test runs on SQLite and, when
//! `CONCORD_TEST_POSTGRES_URL` is set, on PostgreSQL.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const TOKEN: &str = "scim-test-token-0123456789abcdef0123456789";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const DEPARTMENT: &str = "urn:concord:scim:schemas:extension:2.0:Department";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn enable_scim(c: &mut concord_server::Config) {
    c.scim.enabled = true;
    c.scim.bearer_token = Some(TOKEN.into());
}

/// Runs each named test body on both backends, with SCIM enabled.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let app = crate::support::spawn_app_with(crate::support::Backend::Sqlite, super::enable_scim, None).await;
                    super::$name(app).await
                }
            )*
        }
        #[cfg(postgres_tests)]
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let app = crate::support::spawn_app_with(crate::support::Backend::Postgres, super::enable_scim, None).await;
                    super::$name(app).await
                }
            )*
        }
    };
}

on_both_backends!(
    users_are_created_read_replaced_patched_and_deactivated,
    users_filter_by_username_and_external_id_and_page,
    groups_are_departments_with_members,
    errors_come_in_scim_format,
    deactivating_ends_sessions_and_keeps_messages,
    discovery_endpoints_describe_the_service,
);

/// A SCIM request with `token` (the configured one unless given); returns status, body and
/// the content type.
async fn scim_as(
    app: &TestApp,
    token: Option<&str>,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value, String) {
    let mut req = app
        .http
        .request(method, app.url(&format!("/scim/v2{path}")));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req
            .header("content-type", "application/scim+json")
            .body(b.to_string());
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let ctype = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let text = resp.text().await.unwrap_or_default();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value, ctype)
}

async fn scim(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (s, v, _) = scim_as(app, Some(TOKEN), method, path, body).await;
    (s, v)
}

async fn create_user(app: &TestApp, body: Value) -> Value {
    let (status, user) = scim(app, reqwest::Method::POST, "/Users", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    user
}

fn assert_scim_error(body: &Value, status: &str, scim_type: Option<&str>) {
    assert_eq!(
        body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"]),
        "{body}"
    );
    assert_eq!(body["status"], status, "{body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    match scim_type {
        Some(t) => assert_eq!(body["scimType"], t, "{body}"),
        None => assert!(body.get("scimType").is_none(), "{body}"),
    }
}

async fn users_are_created_read_replaced_patched_and_deactivated(app: TestApp) {
    let admin = app.admin("root").await;
    let (status, boss, ctype) = scim_as(
        &app,
        Some(TOKEN),
        reqwest::Method::POST,
        "/Users",
        Some(
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "boss"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{boss}");
    assert!(ctype.starts_with("application/scim+json"), "{ctype}");
    let boss_id = boss["id"].as_str().unwrap().to_string();

    let user = create_user(
        &app,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
            "userName": "zhangsan",
            "externalId": "aad-0001",
            "name": {"givenName": "三", "familyName": "张"},
            "emails": [{"value": "ZS@Example.com", "type": "work", "primary": true}],
            "phoneNumbers": [{"value": "+86 10 1234", "type": "work"}],
            "title": "Engineer",
            "timezone": "Asia/Shanghai",
            "locale": "zh-CN",
            "active": true,
            ENTERPRISE: {"employeeNumber": "E1001", "manager": {"value": boss_id}},
        }),
    )
    .await;
    let id = user["id"].as_str().unwrap().to_string();
    assert_eq!(user["userName"], "zhangsan");
    assert_eq!(user["displayName"], "张三");
    assert_eq!(user["externalId"], "aad-0001");
    assert_eq!(user["emails"][0]["value"], "zs@example.com");
    assert_eq!(user["phoneNumbers"][0]["value"], "+86 10 1234");
    assert_eq!(user[ENTERPRISE]["employeeNumber"], "E1001");
    assert_eq!(user[ENTERPRISE]["manager"]["value"], boss_id.as_str());
    assert_eq!(user["active"], true);
    assert!(
        user["meta"]["location"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/scim/v2/Users/{id}"))
    );
    assert!(user.get("password").is_none());

    // The person is real in Concord: their profile has the attributes, search finds the pinyin.
    let (_, profile) = app
        .get(Some(&admin.token), &format!("/api/v1/users/{id}/profile"))
        .await;
    assert_eq!(profile["employee_no"], "E1001");
    assert_eq!(profile["time_zone"], "Asia/Shanghai");
    assert_eq!(profile["manager_id"].as_i64().unwrap().to_string(), boss_id);
    let (_, found) = app.get(Some(&admin.token), "/api/v1/users?q=zs").await;
    assert!(
        found["users"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["username"] == "zhangsan"),
        "{found}"
    );

    let (status, got) = scim(&app, reqwest::Method::GET, &format!("/Users/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, user);

    // PUT replaces: what is left out is cleared (but the username cannot change).
    let (status, replaced) = scim(
        &app,
        reqwest::Method::PUT,
        &format!("/Users/{id}"),
        Some(
            json!({"userName": "ZhangSan", "displayName": "张三丰", "title": "Architect",
                    "emails": [{"value": "zs@example.com", "primary": true}]}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["displayName"], "张三丰");
    assert_eq!(replaced["title"], "Architect");
    assert!(replaced.get("phoneNumbers").is_none(), "{replaced}");
    assert!(replaced.get(ENTERPRISE).is_none(), "{replaced}");
    assert!(replaced.get("externalId").is_none(), "{replaced}");
    let (status, body) = scim(
        &app,
        reqwest::Method::PUT,
        &format!("/Users/{id}"),
        Some(json!({"userName": "lisi"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_scim_error(&body, "400", Some("invalidValue"));

    // PATCH, RFC style and Azure AD style.
    let (status, patched) = scim(
        &app,
        reqwest::Method::PATCH,
        &format!("/Users/{id}"),
        Some(json!({"schemas": [PATCH], "Operations": [
            {"op": "Replace", "path": "title", "value": "CTO"},
            {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "zsf@example.com"},
            {"op": "add", "path": format!("{ENTERPRISE}:employeeNumber"), "value": "E2002"},
            {"op": "add", "value": {"externalId": "aad-0002", "name.formatted": "ignored when displayName is set"}},
            {"op": "replace", "path": "phoneNumbers[type eq \"work\"].value", "value": "+86 10 5678"},
        ]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["title"], "CTO");
    assert_eq!(patched["externalId"], "aad-0002");
    assert_eq!(patched[ENTERPRISE]["employeeNumber"], "E2002");
    assert_eq!(patched["phoneNumbers"][0]["value"], "+86 10 5678");
    assert_eq!(patched["displayName"], "张三丰");
    assert_eq!(patched["emails"].as_array().unwrap().len(), 1, "{patched}");
    assert_eq!(patched["emails"][0]["value"], "zsf@example.com");
    let (status, patched) = scim(
        &app,
        reqwest::Method::PATCH,
        &format!("/Users/{id}"),
        Some(json!({"schemas": [PATCH], "Operations": [
            {"op": "remove", "path": "title"},
            {"op": "Replace", "value": {"active": "False"}},
        ]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["active"], false);
    assert!(patched.get("title").is_none());
    let (_, profile) = app
        .get(Some(&admin.token), &format!("/api/v1/users/{id}/profile"))
        .await;
    assert_eq!(profile["status"], "deactivated");

    // Reactivate, then DELETE deactivates again and keeps the record.
    let (status, patched) = scim(
        &app,
        reqwest::Method::PATCH,
        &format!("/Users/{id}"),
        Some(json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": true}]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["active"], true);
    let (status, body) = scim(&app, reqwest::Method::DELETE, &format!("/Users/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, got) = scim(&app, reqwest::Method::GET, &format!("/Users/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["active"], false);

    // Every change is in the audit log, without an actor, named for SCIM.
    let (status, audit) = app
        .get(Some(&admin.token), "/api/v1/audit?action=scim.&limit=100")
        .await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let entries = audit.as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "scim.user.create").count(),
        2,
        "{actions:?}"
    );
    assert!(
        actions.iter().filter(|a| **a == "scim.user.update").count() >= 4,
        "{actions:?}"
    );
    assert!(entries.iter().all(|e| e["actor_id"].is_null()));
    let last_update = entries
        .iter()
        .find(|e| e["action"] == "scim.user.update")
        .unwrap();
    assert_eq!(last_update["target"], format!("user:{id}"));
    assert_eq!(last_update["before"]["status"], "active");
    assert_eq!(last_update["after"]["status"], "deactivated");
}

async fn users_filter_by_username_and_external_id_and_page(app: TestApp) {
    for i in 0..5 {
        create_user(
            &app,
            json!({"userName": format!("user{i}"), "externalId": format!("ext-{i}")}),
        )
        .await;
    }
    let (status, list) = scim(
        &app,
        reqwest::Method::GET,
        "/Users?filter=userName%20eq%20%22USER3%22",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(
        list["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
    );
    assert_eq!(list["totalResults"], 1);
    assert_eq!(list["Resources"][0]["userName"], "user3");
    let (_, list) = scim(
        &app,
        reqwest::Method::GET,
        "/Users?filter=externalId+eq+%22ext-1%22",
        None,
    )
    .await;
    assert_eq!(list["totalResults"], 1);
    assert_eq!(list["Resources"][0]["userName"], "user1");
    let (_, list) = scim(
        &app,
        reqwest::Method::GET,
        "/Users?filter=userName%20eq%20%22nobody%22",
        None,
    )
    .await;
    assert_eq!(list["totalResults"], 0);
    assert_eq!(list["Resources"], json!([]));

    // Pages of two: 5 people in all.
    let mut seen = Vec::new();
    for start in [1, 3, 5] {
        let (status, page) = scim(
            &app,
            reqwest::Method::GET,
            &format!("/Users?startIndex={start}&count=2"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["totalResults"], 5);
        assert_eq!(page["startIndex"], start);
        assert_eq!(
            page["itemsPerPage"],
            page["Resources"].as_array().unwrap().len()
        );
        seen.extend(
            page["Resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["userName"].as_str().unwrap().to_string()),
        );
    }
    assert_eq!(seen, vec!["user0", "user1", "user2", "user3", "user4"]);
    let (_, page) = scim(&app, reqwest::Method::GET, "/Users?count=0", None).await;
    assert_eq!(page["totalResults"], 5);
    assert_eq!(page["Resources"], json!([]));
}

async fn groups_are_departments_with_members(app: TestApp) {
    let admin = app.admin("root").await;
    let a = create_user(&app, json!({"userName": "alice"})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = create_user(&app, json!({"userName": "bob"})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let c = create_user(&app, json!({"userName": "carol"})).await["id"]
        .as_str()
        .unwrap()
        .to_string();

    let (status, hq) = scim(
        &app,
        reqwest::Method::POST,
        "/Groups",
        Some(json!({"displayName": "总部", "externalId": "g-hq"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{hq}");
    let hq_id = hq["id"].as_str().unwrap().to_string();
    let (status, hr) = scim(
        &app,
        reqwest::Method::POST,
        "/Groups",
        Some(
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", DEPARTMENT],
                    "displayName": "人力资源", "members": [{"value": a}, {"value": b}],
                    DEPARTMENT: {"parentId": hq_id}}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{hr}");
    let hr_id = hr["id"].as_str().unwrap().to_string();
    assert_eq!(hr[DEPARTMENT]["parentId"], hq_id.as_str());
    let members: Vec<&str> = hr["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    assert_eq!(members, vec![a.as_str(), b.as_str()]);

    // In Concord: a department under 总部 whose people have it as their primary department.
    let (_, dept) = app
        .get(Some(&admin.token), &format!("/api/v1/departments/{hr_id}"))
        .await;
    assert_eq!(dept["name"], "人力资源");
    assert_eq!(dept["parent_id"].as_i64().unwrap().to_string(), hq_id);
    assert_eq!(dept["member_count"], 2);
    let (_, profile) = app
        .get(Some(&admin.token), &format!("/api/v1/users/{a}/profile"))
        .await;
    assert_eq!(
        profile["primary_department_id"]
            .as_i64()
            .unwrap()
            .to_string(),
        hr_id
    );
    let (_, user) = scim(&app, reqwest::Method::GET, &format!("/Users/{a}"), None).await;
    assert_eq!(user["groups"][0]["value"], hr_id.as_str());
    assert_eq!(user[ENTERPRISE]["department"], "人力资源");

    // PATCH members: Azure AD's add and remove shapes.
    let (status, g) = scim(
        &app,
        reqwest::Method::PATCH,
        &format!("/Groups/{hr_id}"),
        Some(json!({"schemas": [PATCH], "Operations": [
            {"op": "Add", "path": "members", "value": [{"value": c}]},
            {"op": "Remove", "path": "members", "value": [{"value": a}]},
            {"op": "remove", "path": format!("members[value eq \"{b}\"]")},
            {"op": "Replace", "path": "displayName", "value": "HR"},
        ]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{g}");
    assert_eq!(g["displayName"], "HR");
    assert_eq!(
        g["members"],
        json!([{"value": c, "type": "User", "$ref": g["members"][0]["$ref"]}])
    );
    let (_, profile) = app
        .get(Some(&admin.token), &format!("/api/v1/users/{a}/profile"))
        .await;
    assert!(profile["primary_department_id"].is_null(), "{profile}");

    // Filters and excludedAttributes.
    let (_, list) = scim(
        &app,
        reqwest::Method::GET,
        "/Groups?filter=displayName%20eq%20%22hr%22&excludedAttributes=members",
        None,
    )
    .await;
    assert_eq!(list["totalResults"], 1, "{list}");
    assert!(list["Resources"][0].get("members").is_none());
    let (_, list) = scim(
        &app,
        reqwest::Method::GET,
        "/Groups?filter=externalId%20eq%20%22g-hq%22",
        None,
    )
    .await;
    assert_eq!(list["Resources"][0]["id"], hq_id.as_str());

    // PUT replaces members and moves the department to the top level.
    let (status, g) = scim(
        &app,
        reqwest::Method::PUT,
        &format!("/Groups/{hr_id}"),
        Some(json!({"displayName": "HR", "members": [{"value": a}, {"value": b}], DEPARTMENT: {"parentId": null}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{g}");
    assert_eq!(g["members"].as_array().unwrap().len(), 2);
    assert!(g[DEPARTMENT]["parentId"].is_null());

    // A department with people cannot go; empty, it can.
    let (status, body) = scim(
        &app,
        reqwest::Method::DELETE,
        &format!("/Groups/{hr_id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_scim_error(&body, "409", None);
    let (status, _) = scim(
        &app,
        reqwest::Method::PATCH,
        &format!("/Groups/{hr_id}"),
        Some(json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "members", "value": []}]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = scim(
        &app,
        reqwest::Method::DELETE,
        &format!("/Groups/{hr_id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = scim(
        &app,
        reqwest::Method::GET,
        &format!("/Groups/{hr_id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_scim_error(&body, "404", None);

    // Bad group input.
    let (status, body) = scim(
        &app,
        reqwest::Method::POST,
        "/Groups",
        Some(json!({"displayName": "X", "members": [{"value": "999999"}]})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_scim_error(&body, "400", Some("invalidValue"));
    let (status, body) = scim(
        &app,
        reqwest::Method::POST,
        "/Groups",
        Some(json!({"displayName": "总部"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_scim_error(&body, "409", Some("uniqueness"));
    let (_, audit) = app
        .get(
            Some(&admin.token),
            "/api/v1/audit?action=scim.department.&limit=100",
        )
        .await;
    assert!(audit.as_array().unwrap().len() >= 5, "{audit}");
}

async fn errors_come_in_scim_format(app: TestApp) {
    let (status, body, ctype) = scim_as(&app, None, reqwest::Method::GET, "/Users", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(ctype.starts_with("application/scim+json"));
    assert_scim_error(&body, "401", None);
    let (status, body, _) = scim_as(
        &app,
        Some("wrong-token"),
        reqwest::Method::GET,
        "/ServiceProviderConfig",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_scim_error(&body, "401", None);
    // A Concord session token is not a SCIM token.
    let user = app.user("mallory").await;
    let (status, _, _) = scim_as(
        &app,
        Some(&user.token),
        reqwest::Method::GET,
        "/Users",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    for path in [
        "/Users/999999",
        "/Users/not-a-number",
        "/Groups/999999",
        "/Nothing",
    ] {
        let (status, body) = scim(&app, reqwest::Method::GET, path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_scim_error(&body, "404", None);
    }
    let (status, body) = scim(
        &app,
        reqwest::Method::PUT,
        "/Users/999999",
        Some(json!({"userName": "x1"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    for filter in [
        "userName%20co%20%22a%22",
        "title%20eq%20%22x%22",
        "userName%20eq%20%22a%22%20or%20userName%20eq%20%22b%22",
        "garbage",
    ] {
        let (status, body) = scim(
            &app,
            reqwest::Method::GET,
            &format!("/Users?filter={filter}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{filter}");
        assert_scim_error(&body, "400", Some("invalidFilter"));
    }
    let (status, body) = scim(
        &app,
        reqwest::Method::GET,
        "/Groups?filter=members%20eq%20%221%22",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_scim_error(&body, "400", Some("invalidFilter"));

    create_user(
        &app,
        json!({"userName": "dup", "emails": [{"value": "dup@example.com"}]}),
    )
    .await;
    for body in [
        json!({"userName": "DUP"}),
        json!({"userName": "other", "emails": [{"value": "dup@example.com"}]}),
    ] {
        let (status, err) = scim(&app, reqwest::Method::POST, "/Users", Some(body)).await;
        assert_eq!(status, StatusCode::CONFLICT, "{err}");
        assert_scim_error(&err, "409", Some("uniqueness"));
    }

    let bad_bodies = [
        (json!({"displayName": "no user name"}), "invalidValue"),
        (json!({"userName": "has space"}), "invalidValue"),
        (json!({"userName": 12}), "invalidValue"),
        (
            json!({"userName": "okname", "active": "perhaps"}),
            "invalidValue",
        ),
        (
            json!({"userName": "okname", "timezone": "Mars/Base"}),
            "invalidValue",
        ),
        (
            json!({"userName": "okname", "password": "short"}),
            "invalidValue",
        ),
        (
            json!({"userName": "okname", ENTERPRISE: {"manager": {"value": "999999"}}}),
            "invalidValue",
        ),
        (json!(["not", "an", "object"]), "invalidSyntax"),
    ];
    for (body, scim_type) in bad_bodies {
        let (status, err) = scim(&app, reqwest::Method::POST, "/Users", Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} -> {err}");
        assert_scim_error(&err, "400", Some(scim_type));
    }
    let resp = app
        .http
        .post(app.url("/scim/v2/Users"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/scim+json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let err: Value = resp.json().await.unwrap();
    assert_scim_error(&err, "400", Some("invalidSyntax"));

    let id = create_user(&app, json!({"userName": "patchme"})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let bad_patches = [
        json!({"Operations": [{"op": "explode", "path": "title"}]}),
        json!({"Operations": [{"op": "remove"}]}),
        json!({"Operations": [{"op": "add", "path": "emails[type gt \"x\"].value", "value": "a"}]}),
        json!({"Operations": "nope"}),
        json!({"schemas": ["urn:wrong"], "Operations": []}),
    ];
    for body in bad_patches {
        let (status, err) = scim(
            &app,
            reqwest::Method::PATCH,
            &format!("/Users/{id}"),
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} -> {err}");
        assert_eq!(err["status"], "400");
    }
    let (status, err) = scim(&app, reqwest::Method::GET, "/Users?startIndex=x", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_scim_error(&err, "400", Some("invalidValue"));
}

async fn deactivating_ends_sessions_and_keeps_messages(app: TestApp) {
    let admin = app.admin("root").await;
    let user = create_user(
        &app,
        json!({"userName": "leaver", "password": "a long enough password"}),
    )
    .await;
    let id = user["id"].as_str().unwrap().to_string();
    let token = app.login("leaver", "a long enough password").await;
    let (status, _) = app.get(Some(&token), "/api/v1/users/me").await;
    assert_eq!(status, StatusCode::OK);
    let leaver = TestUser {
        id: id.parse().unwrap(),
        username: "leaver".into(),
        token: token.clone(),
    };
    let channel = app.channel(&admin, "general", "public", &[&leaver]).await;
    let sent = app.send(&leaver, channel, "handing over").await;

    let (status, body) = scim(
        &app,
        reqwest::Method::PATCH,
        &format!("/Users/{id}"),
        Some(json!({"schemas": [PATCH], "Operations": [{"op": "Replace", "value": {"active": false}}]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = app.get(Some(&token), "/api/v1/users/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .post(
            None,
            "/api/v1/auth/login",
            json!({"login": "leaver", "password": "a long enough password"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, msg) = app
        .get(
            Some(&admin.token),
            &format!("/api/v1/messages/{}", sent["id"]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{msg}");
    assert_eq!(msg["text"], "handing over");

    // People created without a password cannot log in with any password.
    create_user(&app, json!({"userName": "ssoonly"})).await;
    for guess in ["", "!directory:", "password123"] {
        let (status, _) = app
            .post(
                None,
                "/api/v1/auth/login",
                json!({"login": "ssoonly", "password": guess}),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

async fn discovery_endpoints_describe_the_service(app: TestApp) {
    let (status, spc) = scim(&app, reqwest::Method::GET, "/ServiceProviderConfig", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(spc["patch"]["supported"], true);
    assert_eq!(spc["filter"]["supported"], true);
    assert_eq!(spc["bulk"]["supported"], false);
    assert_eq!(spc["authenticationSchemes"][0]["type"], "oauthbearertoken");
    let (_, types) = scim(&app, reqwest::Method::GET, "/ResourceTypes", None).await;
    let names: Vec<&str> = types["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["User", "Group"]);
    let (status, user_type) = scim(&app, reqwest::Method::GET, "/ResourceTypes/User", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user_type["schemaExtensions"][0]["schema"], ENTERPRISE);
    let (_, schemas) = scim(&app, reqwest::Method::GET, "/Schemas", None).await;
    let ids: Vec<&str> = schemas["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"urn:ietf:params:scim:schemas:core:2.0:User"));
    assert!(ids.contains(&ENTERPRISE));
    assert!(ids.contains(&"urn:ietf:params:scim:schemas:core:2.0:Group"));
    let (status, _) = scim(
        &app,
        reqwest::Method::GET,
        "/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // SCIM lives outside the REST API and its OpenAPI document.
    let (_, doc) = app.get(None, "/api/v1/openapi.json").await;
    assert!(
        !doc["paths"]
            .as_object()
            .unwrap()
            .keys()
            .any(|p| p.contains("scim"))
    );
}

#[tokio::test]
async fn scim_is_off_unless_enabled() {
    let app = spawn_app().await;
    let (status, body, _) = scim_as(&app, Some(TOKEN), reqwest::Method::GET, "/Users", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_scim_error(&body, "404", None);
}
