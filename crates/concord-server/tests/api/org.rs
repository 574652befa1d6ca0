//! The organisation over the API: the department tree, roles and permissions following the
//! org chart (the seed's HR example), department admins, guests, people search with pinyin,
//! profiles, deactivation, and the audit log. Every test runs on SQLite and, when
//! `CONCORD_TEST_POSTGRES_URL` is set, on PostgreSQL.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Runs each named test body on both backends.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(crate::support::spawn_app().await).await
                }
            )*
        }
        #[cfg(postgres_tests)]
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let app = crate::support::spawn_app_with(crate::support::Backend::Postgres, |_| {}, None).await;
                    super::$name(app).await
                }
            )*
        }
    };
}

on_both_backends!(
    hr_recruiting_role_follows_the_org_chart,
    the_department_tree_refuses_cycles_duplicates_and_deleting_non_empty_departments,
    department_admins_manage_their_subtree_only_and_cannot_escalate,
    guests_see_only_the_channels_they_are_invited_to,
    people_search_finds_names_pinyin_and_employee_numbers,
    profiles_show_the_department_path_and_local_time,
    deactivating_ends_sessions_and_connections_and_keeps_messages,
    every_change_is_audited_with_actor_target_before_and_after,
    bad_organisation_input_is_refused_clearly,
);

async fn department(app: &TestApp, admin: &TestUser, name: &str, parent: Option<i64>) -> i64 {
    let (status, body) = app
        .post(
            Some(&admin.token),
            "/api/v1/departments",
            json!({"name": name, "parent_id": parent}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_i64().unwrap()
}

async fn place(app: &TestApp, admin: &TestUser, user: &TestUser, department: i64) {
    let (status, body) = app
        .patch(
            Some(&admin.token),
            &format!("/api/v1/users/{}", user.id),
            json!({"primary_department_id": department}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn builtin_role(app: &TestApp, admin: &TestUser, key: &str) -> i64 {
    let (_, roles) = app.get(Some(&admin.token), "/api/v1/roles").await;
    roles
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["builtin"] == key)
        .unwrap()["id"]
        .as_i64()
        .unwrap()
}

async fn assign(
    app: &TestApp,
    by: &TestUser,
    role: i64,
    user: i64,
    scope: Option<i64>,
) -> (StatusCode, Value) {
    app.post(
        Some(&by.token),
        "/api/v1/role-assignments",
        json!({"role_id": role, "subject": {"kind": "user", "id": user}, "scope_department_id": scope}),
    )
    .await
}

async fn check(
    app: &TestApp,
    asker: &TestUser,
    user: &TestUser,
    permission: &str,
    dept: Option<i64>,
) -> bool {
    let mut path = format!(
        "/api/v1/permissions/check?user_id={}&permission={permission}",
        user.id
    );
    if let Some(d) = dept {
        path.push_str(&format!("&department_id={d}"));
    }
    let (status, body) = app.get(Some(&asker.token), &path).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["allowed"].as_bool().unwrap()
}

/// The seed's example: in HR, the role 招聘组 with `resume_library.read`, given to two HR
/// people; they pass it and fail `org.manage`; someone outside HR fails both; moving a person
/// out of HR takes the permission away at once.
async fn hr_recruiting_role_follows_the_org_chart(app: TestApp) {
    let admin = app.admin("root").await;
    let hq = department(&app, &admin, "总部", None).await;
    let hr = department(&app, &admin, "人力资源部", Some(hq)).await;
    let sales = department(&app, &admin, "销售部", Some(hq)).await;
    let (status, body) = app
        .post(
            Some(&admin.token),
            "/api/v1/permissions",
            json!({"name": "resume_library.read", "description": "简历库"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, role) = app
        .post(
            Some(&admin.token),
            "/api/v1/roles",
            json!({"name": "招聘组", "permissions": ["resume_library.read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{role}");
    let role = role["id"].as_i64().unwrap();
    let (hr1, hr2, outsider) = (
        app.user("hr1").await,
        app.user("hr2").await,
        app.user("sales1").await,
    );
    for u in [&hr1, &hr2] {
        place(&app, &admin, u, hr).await;
        let (status, body) = assign(&app, &admin, role, u.id, Some(hr)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    place(&app, &admin, &outsider, sales).await;

    for u in [&hr1, &hr2] {
        assert!(check(&app, &admin, u, "resume_library.read", Some(hr)).await);
        assert!(!check(&app, &admin, u, "org.manage", Some(hr)).await);
        assert!(!check(&app, &admin, u, "org.manage", None).await);
    }
    assert!(!check(&app, &admin, &outsider, "resume_library.read", Some(hr)).await);
    assert!(!check(&app, &admin, &outsider, "org.manage", Some(hr)).await);
    // People may ask about themselves; about others only with permission.check.
    assert!(check(&app, &hr1, &hr1, "resume_library.read", Some(hr)).await);
    let (status, _) = app
        .get(
            Some(&hr1.token),
            &format!(
                "/api/v1/permissions/check?user_id={}&permission=org.manage",
                hr2.id
            ),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    place(&app, &admin, &hr2, sales).await;
    assert!(!check(&app, &admin, &hr2, "resume_library.read", Some(hr)).await);
    assert!(check(&app, &admin, &hr1, "resume_library.read", Some(hr)).await);
    let (_, mine) = app
        .get(Some(&hr1.token), "/api/v1/users/me/permissions")
        .await;
    assert_eq!(mine["departments"][0]["department_id"], hr);
    assert_eq!(
        mine["departments"][0]["permissions"],
        json!(["resume_library.read"])
    );
}

async fn the_department_tree_refuses_cycles_duplicates_and_deleting_non_empty_departments(
    app: TestApp,
) {
    let admin = app.admin("root").await;
    let a = department(&app, &admin, "A", None).await;
    let b = department(&app, &admin, "B", Some(a)).await;
    let c = department(&app, &admin, "C", Some(b)).await;
    for (target, parent) in [(a, a), (a, c), (b, c)] {
        let (status, body) = app
            .patch(
                Some(&admin.token),
                &format!("/api/v1/departments/{target}"),
                json!({"parent_id": parent}),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "moving {target} under {parent}: {body}"
        );
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("under itself"),
            "{body}"
        );
    }
    let (status, _) = app
        .post(
            Some(&admin.token),
            "/api/v1/departments",
            json!({"name": "c", "parent_id": b}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "sibling names are unique, ignoring case"
    );
    // Rename and move C to the top level.
    let (status, body) = app
        .patch(
            Some(&admin.token),
            &format!("/api/v1/departments/{c}"),
            json!({"name": "C2", "parent_id": null}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["parent_id"], Value::Null);
    assert_eq!(body["name"], "C2");
    // Not empty: a sub-department, then a person.
    let (status, _) = app
        .delete(Some(&admin.token), &format!("/api/v1/departments/{a}"))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let member = app.user("member1").await;
    place(&app, &admin, &member, b).await;
    let (status, body) = app
        .delete(Some(&admin.token), &format!("/api/v1/departments/{b}"))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = app
        .get(
            Some(&member.token),
            &format!("/api/v1/departments/{b}/members"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body[0]["username"], "member1");
    let (status, tree) = app.get(Some(&member.token), "/api/v1/departments").await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = tree
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["A", "B", "C2"], "parents before children");
    assert_eq!(tree[1]["member_count"], 1);
    let (status, _) = app
        .delete(Some(&admin.token), &format!("/api/v1/departments/{c}"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .get(Some(&admin.token), &format!("/api/v1/departments/{c}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Members cannot change the tree.
    let (status, body) = app
        .post(
            Some(&member.token),
            "/api/v1/departments",
            json!({"name": "X", "parent_id": null}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("org.manage")
    );
}

async fn department_admins_manage_their_subtree_only_and_cannot_escalate(app: TestApp) {
    let admin = app.admin("root").await;
    let hq = department(&app, &admin, "HQ", None).await;
    let hr = department(&app, &admin, "HR", Some(hq)).await;
    let sales = department(&app, &admin, "Sales", Some(hq)).await;
    let boss = app.user("hrboss").await;
    let hr_person = app.user("hrperson").await;
    let sales_person = app.user("salesperson").await;
    place(&app, &admin, &boss, hr).await;
    place(&app, &admin, &hr_person, hr).await;
    place(&app, &admin, &sales_person, sales).await;
    let dept_admin = builtin_role(&app, &admin, "department_admin").await;
    let (status, body) = assign(&app, &admin, dept_admin, boss.id, Some(hr)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let (status, _) = app
        .post(
            Some(&boss.token),
            "/api/v1/departments",
            json!({"name": "Recruiting", "parent_id": hr}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = app
        .post(
            Some(&boss.token),
            "/api/v1/departments",
            json!({"name": "Nope", "parent_id": sales}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .post(
            Some(&boss.token),
            "/api/v1/departments",
            json!({"name": "Top", "parent_id": null}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .patch(
            Some(&boss.token),
            &format!("/api/v1/users/{}", hr_person.id),
            json!({"title": "Recruiter"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .patch(
            Some(&boss.token),
            &format!("/api/v1/users/{}", sales_person.id),
            json!({"title": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Moving someone out of the subtree needs authority over the destination too.
    let (status, _) = app
        .patch(
            Some(&boss.token),
            &format!("/api/v1/users/{}", hr_person.id),
            json!({"primary_department_id": sales}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // No escalation: the org admin role, or a role with permissions the boss lacks.
    let org_admin = builtin_role(&app, &admin, "org_admin").await;
    let (status, body) = assign(&app, &boss, org_admin, hr_person.id, Some(hr)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = assign(&app, &boss, org_admin, boss.id, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = assign(&app, &boss, dept_admin, hr_person.id, Some(hr)).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "what the boss holds can be handed on: {body}"
    );
    let (status, list) = app.get(Some(&boss.token), "/api/v1/role-assignments").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        list.as_array().unwrap().len(),
        2,
        "only assignments inside HR: {list}"
    );
    let (status, _) = app.get(Some(&hr_person.token), "/api/v1/audit").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn guests_see_only_the_channels_they_are_invited_to(app: TestApp) {
    let admin = app.admin("root").await;
    let (status, guest) = app
        .post(
            Some(&admin.token),
            "/api/v1/users",
            json!({"username": "visitor", "password": PASSWORD, "guest": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{guest}");
    let guest_token = app.login("visitor", PASSWORD).await;
    let guest_user = TestUser {
        id: guest["id"].as_i64().unwrap(),
        username: "visitor".into(),
        token: guest_token.clone(),
    };
    let lobby = app.channel(&admin, "lobby", "public", &[]).await;
    let project = app
        .channel(&admin, "project", "private", &[&guest_user])
        .await;

    for path in [
        "/api/v1/channels/browse",
        "/api/v1/users",
        "/api/v1/departments",
    ] {
        let (status, _) = app.get(Some(&guest_token), path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let (status, _) = app
        .get(Some(&guest_token), &format!("/api/v1/channels/{lobby}"))
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a public channel is invisible to a guest"
    );
    let (status, _) = app
        .post(
            Some(&guest_token),
            &format!("/api/v1/channels/{lobby}/join"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .post(
            Some(&guest_token),
            "/api/v1/channels",
            json!({"name": "mine", "kind": "public"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = app
        .post(
            Some(&guest_token),
            &format!("/api/v1/channels/{project}/messages"),
            json!({"text": "hello from a guest"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, mine) = app.get(Some(&guest_token), "/api/v1/channels").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(mine.as_array().unwrap().len(), 1);
    // Names of the people they talk to stay visible.
    let (status, body) = app
        .get(Some(&guest_token), &format!("/api/v1/users/{}", admin.id))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn people_search_finds_names_pinyin_and_employee_numbers(app: TestApp) {
    let admin = app.admin("root").await;
    let hq = department(&app, &admin, "HQ", None).await;
    let zs = app.user("zhang3").await;
    let other = app.user("lisi").await;
    let (status, body) = app
        .patch(
            Some(&admin.token),
            &format!("/api/v1/users/{}", zs.id),
            json!({"display_name": "张三", "employee_no": "E1001", "primary_department_id": hq}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .patch(
            Some(&admin.token),
            &format!("/api/v1/users/{}", other.id),
            json!({"display_name": "李四"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for q in ["zs", "zhangsan", "张", "张三", "e1001", "ZHANG3"] {
        let (status, body) = app
            .get(
                Some(&other.token),
                &format!("/api/v1/users?q={}", urlencode(q)),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let names: Vec<&str> = body["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["display_name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["张三"], "query {q}");
    }
    let (_, body) = app.get(Some(&other.token), "/api/v1/users?q=ls").await;
    assert_eq!(body["users"][0]["display_name"], "李四");
    let (_, body) = app.get(Some(&other.token), "/api/v1/users?q=%25").await;
    assert_eq!(
        body["users"].as_array().unwrap().len(),
        0,
        "% is matched literally"
    );
    let (_, body) = app
        .get(
            Some(&other.token),
            &format!("/api/v1/users?department_id={hq}"),
        )
        .await;
    assert_eq!(body["users"].as_array().unwrap().len(), 1);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn profiles_show_the_department_path_and_local_time(app: TestApp) {
    let admin = app.admin("root").await;
    let hq = department(&app, &admin, "总部", None).await;
    let hr = department(&app, &admin, "人力资源部", Some(hq)).await;
    let sales = department(&app, &admin, "销售部", Some(hq)).await;
    let user = app.user("wang").await;
    let (status, body) = app
        .patch(
            Some(&admin.token),
            &format!("/api/v1/users/{}", user.id),
            json!({"title": "招聘专员", "region": "上海", "project_tags": ["apollo", " apollo ", "hermes"],
                   "primary_department_id": hr, "secondary_department_ids": [sales, hr], "manager_id": admin.id}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .patch(
            Some(&user.token),
            "/api/v1/users/me",
            json!({"time_zone": "Asia/Shanghai", "locale": "zh-CN"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, p) = app
        .get(
            Some(&admin.token),
            &format!("/api/v1/users/{}/profile", user.id),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        p["department_path"],
        json!([{"id": hq, "name": "总部"}, {"id": hr, "name": "人力资源部"}])
    );
    assert_eq!(
        p["secondary_department_ids"],
        json!([sales]),
        "the primary is not repeated"
    );
    assert_eq!(p["project_tags"], json!(["apollo", "hermes"]));
    assert_eq!(p["title"], "招聘专员");
    assert_eq!(p["manager_id"], admin.id);
    assert_eq!(p["locale"], "zh-CN");
    assert!(p["local_time"].as_str().unwrap().ends_with("+08:00"), "{p}");
    // People cannot change their own title or department.
    let (status, _) = app
        .patch(
            Some(&user.token),
            "/api/v1/users/me",
            json!({"title": "CEO"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for (body, field) in [
        (json!({"time_zone": "Mars/Olympus"}), "time_zone"),
        (json!({"locale": "klingon please"}), "locale"),
    ] {
        let (status, err) = app.patch(Some(&user.token), "/api/v1/users/me", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            err["error"]["message"].as_str().unwrap().contains(field),
            "{err}"
        );
    }
    let (status, _) = app
        .patch(
            Some(&admin.token),
            &format!("/api/v1/users/{}", user.id),
            json!({"manager_id": user.id}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn deactivating_ends_sessions_and_connections_and_keeps_messages(app: TestApp) {
    let admin = app.admin("root").await;
    let leaver = app.user("leaver").await;
    let channel = app.channel(&admin, "team", "public", &[&leaver]).await;
    app.send(&leaver, channel, "my last message").await;
    let mut ws = app.ws(&leaver, None).await;
    ws.hello().await;
    let (status, body) = app
        .patch(
            Some(&admin.token),
            &format!("/api/v1/users/{}", leaver.id),
            json!({"status": "deactivated"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "deactivated");
    let (code, _) = ws.expect_close().await;
    assert_eq!(code, 4003);
    let (status, _) = app.get(Some(&leaver.token), "/api/v1/users/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .post(
            None,
            "/api/v1/auth/login",
            json!({"login": "leaver", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, history) = app
        .get(
            Some(&admin.token),
            &format!("/api/v1/channels/{channel}/messages"),
        )
        .await;
    assert!(history.to_string().contains("my last message"));
    let (status, _) = app
        .patch(
            Some(&admin.token),
            &format!("/api/v1/users/{}", admin.id),
            json!({"status": "suspended"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "admins cannot lock themselves out"
    );
    let (status, _) = app
        .patch(
            Some(&admin.token),
            &format!("/api/v1/users/{}", leaver.id),
            json!({"status": "active"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    app.login("leaver", PASSWORD).await;
}

async fn every_change_is_audited_with_actor_target_before_and_after(app: TestApp) {
    let admin = app.admin("root").await;
    let d = department(&app, &admin, "Ops", None).await;
    let (status, _) = app
        .patch(
            Some(&admin.token),
            &format!("/api/v1/departments/{d}"),
            json!({"name": "Operations"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, role) = app
        .post(
            Some(&admin.token),
            "/api/v1/roles",
            json!({"name": "Auditors", "permissions": ["audit.read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let auditor = app.user("auditor").await;
    let (status, _) = assign(&app, &admin, role["id"].as_i64().unwrap(), auditor.id, None).await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, entries) = app
        .get(Some(&auditor.token), "/api/v1/audit?limit=50")
        .await;
    assert_eq!(status, StatusCode::OK, "{entries}");
    // Sign-ins are audited too (account_security.rs); this test is about the org.
    let entries: Vec<Value> = entries
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["action"].as_str().unwrap().starts_with("auth."))
        .cloned()
        .collect();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions[..4],
        [
            "role.assign",
            "user.create",
            "role.create",
            "department.update"
        ],
        "newest first: {actions:?}"
    );
    let rename = &entries[3];
    assert_eq!(rename["actor_id"], admin.id);
    assert_eq!(rename["target"], format!("department:{d}"));
    assert_eq!(rename["before"]["name"], "Ops");
    assert_eq!(rename["after"]["name"], "Operations");
    assert_eq!(rename["ip"], "127.0.0.1");
    let (_, only_roles) = app
        .get(Some(&auditor.token), "/api/v1/audit?action=role.")
        .await;
    assert!(
        only_roles
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["action"].as_str().unwrap().starts_with("role."))
    );
    assert_eq!(only_roles.as_array().unwrap().len(), 2);
    let (_, by_target) = app
        .get(
            Some(&auditor.token),
            &format!("/api/v1/audit?target=department:{d}"),
        )
        .await;
    assert_eq!(by_target.as_array().unwrap().len(), 2);
}

async fn bad_organisation_input_is_refused_clearly(app: TestApp) {
    let admin = app.admin("root").await;
    let cases = [
        (
            "/api/v1/permissions",
            json!({"name": "NoDots"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/permissions",
            json!({"name": "org.manage"}),
            StatusCode::CONFLICT,
        ),
        (
            "/api/v1/roles",
            json!({"name": "R", "permissions": ["nope.nothing"]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/roles",
            json!({"name": "Member", "permissions": []}),
            StatusCode::CONFLICT,
        ),
        (
            "/api/v1/departments",
            json!({"name": "", "parent_id": null}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/departments",
            json!({"name": "X", "parent_id": 999}),
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/v1/departments",
            json!({"name": "X", "colour": "red"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/role-assignments",
            json!({"role_id": 999, "subject": {"kind": "user", "id": admin.id}, "scope_department_id": null}),
            StatusCode::NOT_FOUND,
        ),
    ];
    for (path, body, expected) in cases {
        let (status, err) = app.post(Some(&admin.token), path, body.clone()).await;
        assert_eq!(status, expected, "{path} {body}: {err}");
        assert!(
            err["error"]["code"].is_string() && err["error"]["message"].is_string(),
            "{err}"
        );
    }
    let member_role = builtin_role(&app, &admin, "member").await;
    let (status, _) = app
        .delete(Some(&admin.token), &format!("/api/v1/roles/{member_role}"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "built-in roles stay");
    let org_admin = builtin_role(&app, &admin, "org_admin").await;
    let (status, _) = app
        .patch(
            Some(&admin.token),
            &format!("/api/v1/roles/{org_admin}"),
            json!({"permissions": ["audit.read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Members lose channel creation when the member role loses it.
    let member = app.user("member1").await;
    let (status, _) = app
        .patch(
            Some(&admin.token),
            &format!("/api/v1/roles/{member_role}"),
            json!({"permissions": ["channel.browse", "directory.read", "dm.open"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .post(
            Some(&member.token),
            "/api/v1/channels",
            json!({"name": "new", "kind": "public"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
