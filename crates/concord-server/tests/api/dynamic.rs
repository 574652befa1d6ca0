//! Dynamic membership over the API: membership rules with preview, recomputed when people
//! change, and geofences driven by reported locations (the seed's factory example).

use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

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

async fn set_user(app: &TestApp, admin: &TestUser, user: &TestUser, body: Value) {
    let (status, resp) = app
        .patch(
            Some(&admin.token),
            &format!("/api/v1/users/{}", user.id),
            body,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{resp}");
}

async fn member_ids(app: &TestApp, admin: &TestUser, channel: i64) -> Vec<i64> {
    let (status, body) = app
        .get(
            Some(&admin.token),
            &format!("/api/v1/channels/{channel}/members"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut ids: Vec<i64> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user_id"].as_i64().unwrap())
        .collect();
    ids.sort();
    ids
}

fn usernames(list: &Value) -> Vec<String> {
    let mut v: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn a_membership_rule_previews_applies_and_follows_people_as_they_change() {
    membership_rule_flow(spawn_app().await).await;
}

#[cfg(postgres_tests)]
#[tokio::test]
async fn a_membership_rule_previews_applies_and_follows_people_as_they_change_on_postgres() {
    membership_rule_flow(spawn_app_with(Backend::Postgres, |_| {}, None).await).await;
}

async fn membership_rule_flow(app: TestApp) {
    let admin = app.admin("root").await;
    let hq = department(&app, &admin, "HQ", None).await;
    let eng = department(&app, &admin, "Engineering", Some(hq)).await;
    let platform = department(&app, &admin, "Platform", Some(eng)).await;
    let sales = department(&app, &admin, "Sales", Some(hq)).await;
    let (ann, bob, cat, dan) = (
        app.user("ann").await,
        app.user("bob").await,
        app.user("cat").await,
        app.user("dan").await,
    );
    set_user(
        &app,
        &admin,
        &ann,
        json!({"primary_department_id": platform, "title": "Engineer", "region": "Shanghai"}),
    )
    .await;
    set_user(
        &app,
        &admin,
        &bob,
        json!({"primary_department_id": sales, "title": "engineer "}),
    )
    .await;
    set_user(
        &app,
        &admin,
        &cat,
        json!({"primary_department_id": eng, "title": "Manager"}),
    )
    .await;
    let channel = app.channel(&admin, "eng-all", "private", &[&dan]).await;
    let rule = json!({"all": [{"department": eng}, {"title": "engineer"}, {"not": {"project_tag": "contractor"}}]});

    let path = format!("/api/v1/channels/{channel}/membership-rule");
    let (status, preview) = app
        .post(Some(&admin.token), &format!("{path}/preview"), rule.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(
        usernames(&preview["join"]),
        ["ann"],
        "the Platform engineer, via the Engineering subtree"
    );
    assert_eq!(usernames(&preview["leave"]), Vec::<String>::new());
    assert_eq!(
        member_ids(&app, &admin, channel).await,
        [admin.id, dan.id],
        "a preview changes nothing"
    );

    let (status, applied) = app.put_json(Some(&admin.token), &path, rule.clone()).await;
    assert_eq!(status, StatusCode::OK, "{applied}");
    assert_eq!(usernames(&applied["join"]), ["ann"]);
    let mut ws = app.ws(&cat, None).await;
    ws.hello().await;
    // Cat becomes an engineer: joins at once, and hears about it.
    set_user(&app, &admin, &cat, json!({"title": "Engineer"})).await;
    let joined = ws.next_of("member.joined").await;
    assert_eq!(joined["event"]["user_id"], cat.id);
    // Ann moves to Sales, then gets tagged: leaves; Dan (added by hand) stays whatever the rule says.
    set_user(&app, &admin, &ann, json!({"primary_department_id": sales})).await;
    let mut expected = vec![admin.id, cat.id, dan.id];
    expected.sort();
    assert_eq!(member_ids(&app, &admin, channel).await, expected);
    set_user(&app, &admin, &cat, json!({"project_tags": ["Contractor"]})).await;
    let mut expected = vec![admin.id, dan.id];
    expected.sort();
    assert_eq!(member_ids(&app, &admin, channel).await, expected);
    let (status, body) = app.get(Some(&admin.token), &path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, rule);

    // Impossible and invalid rules say what is wrong.
    for (bad, words) in [
        (json!({"all": [{"title": "A"}, {"title": "B"}]}), "never"),
        (
            json!({"all": [{"region": "x"}, {"not": {"region": "x"}}]}),
            "never",
        ),
        (json!({"department": 99999}), "does not exist"),
        (json!({"any": []}), "any"),
        (json!({"colour": "red"}), ""),
    ] {
        let (status, err) = app.put_json(Some(&admin.token), &path, bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {err}");
        assert!(
            err["error"]["message"].as_str().unwrap().contains(words),
            "{bad}: {err}"
        );
    }
    // Only channel admins (or channel.manage_any) manage rules; non-members do not see it at all.
    let (status, _) = app.put_json(Some(&dan.token), &path, rule.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.get(Some(&bob.token), &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.delete(Some(&admin.token), &path).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.get(Some(&admin.token), &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// An L-shaped-enough factory in Suzhou Industrial Park ([lon, lat]).
fn factory() -> Value {
    json!({"type": "Polygon", "coordinates": [[
        [120.7200, 31.3100], [120.7300, 31.3100], [120.7300, 31.3180], [120.7200, 31.3180], [120.7200, 31.3100]
    ]]})
}

#[tokio::test]
async fn a_worker_joins_the_patrol_group_inside_the_factory_and_leaves_after_going_home() {
    factory_patrol_flow(spawn_app_with_manual_clock().await).await;
}

#[cfg(postgres_tests)]
#[tokio::test]
async fn a_worker_joins_the_patrol_group_inside_the_factory_and_leaves_after_going_home_on_postgres()
 {
    let clock = std::sync::Arc::new(concord_core::clock::ManualClock::new(jiff::Timestamp::now()));
    factory_patrol_flow(spawn_app_with(Backend::Postgres, |_| {}, Some(clock)).await).await;
}

async fn factory_patrol_flow(app: TestApp) {
    let clock = app.clock.clone().unwrap();
    let admin = app.admin("root").await;
    let worker = app.user("worker").await;
    let channel = app.channel(&admin, "安全生产巡查组", "private", &[]).await;
    let (status, body) = app
        .put_json(
            Some(&admin.token),
            &format!("/api/v1/channels/{channel}/geofence"),
            factory(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let report =
        |lat: f64, lon: f64| json!({"latitude": lat, "longitude": lon, "accuracy_m": 15.0});

    let (status, body) = app
        .post(
            Some(&worker.token),
            "/api/v1/me/location",
            report(31.3140, 120.7250),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "reporting is opt-in: {body}");
    let (status, _) = app
        .patch(
            Some(&worker.token),
            "/api/v1/users/me",
            json!({"location_sharing": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // At home in the old town: nothing. At the factory gate, inside: joins.
    let (status, out) = app
        .post(
            Some(&worker.token),
            "/api/v1/me/location",
            report(31.3000, 120.6200),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["joined"], json!([]));
    let (_, out) = app
        .post(
            Some(&worker.token),
            "/api/v1/me/location",
            report(31.3140, 120.7250),
        )
        .await;
    assert_eq!(out["joined"], json!([channel]));
    assert!(member_ids(&app, &admin, channel).await.contains(&worker.id));
    // Jitter at the fence: out, in, out within the dwell time: stays.
    let minute = jiff::SignedDuration::from_mins(1);
    for (lat, lon) in [
        (31.3099, 120.7250),
        (31.3101, 120.7250),
        (31.3099, 120.7250),
    ] {
        clock.advance(minute);
        let (_, out) = app
            .post(Some(&worker.token), "/api/v1/me/location", report(lat, lon))
            .await;
        assert_eq!(out["left"], json!([]), "{out}");
        app.services.sweep_geofences().await.unwrap();
    }
    assert!(member_ids(&app, &admin, channel).await.contains(&worker.id));
    // Home again, then silence. Before the dwell time has passed: still a member.
    clock.advance(minute);
    app.post(
        Some(&worker.token),
        "/api/v1/me/location",
        report(31.3000, 120.6200),
    )
    .await;
    clock.advance(jiff::SignedDuration::from_mins(5));
    app.services.sweep_geofences().await.unwrap();
    assert!(member_ids(&app, &admin, channel).await.contains(&worker.id));
    clock.advance(jiff::SignedDuration::from_mins(10));
    assert_eq!(app.services.sweep_geofences().await.unwrap(), 1);
    assert!(!member_ids(&app, &admin, channel).await.contains(&worker.id));
    let (status, _) = app
        .get(Some(&worker.token), &format!("/api/v1/channels/{channel}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Only the latest location is kept, and not for long.
    clock.advance(jiff::SignedDuration::from_hours(2));
    app.services.sweep_geofences().await.unwrap();
    let (status, body) = app
        .post(
            Some(&worker.token),
            "/api/v1/me/location",
            report(91.0, 120.0),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn invalid_geofences_are_refused_with_what_is_wrong() {
    let app = spawn_app_configured(|c| c.geofence.max_vertices = 20).await;
    let admin = app.admin("root").await;
    let channel = app.channel(&admin, "site", "private", &[]).await;
    let path = format!("/api/v1/channels/{channel}/geofence");
    let many: Vec<Value> = (0..30)
        .map(|i| {
            let a = i as f64 / 30.0 * std::f64::consts::TAU;
            json!([120.0 + a.cos() * 0.01, 31.0 + a.sin() * 0.01])
        })
        .chain(std::iter::once(json!([120.01, 31.0])))
        .collect();
    let cases = [
        (
            json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}),
            "closed",
        ),
        (
            json!({"type": "Polygon", "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]}),
            "intersects itself",
        ),
        (
            json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 91], [0, 0]]]}),
            "91",
        ),
        (json!({"type": "Polygon", "coordinates": [many]}), "20"),
        (json!({"type": "Polygon", "coordinates": []}), ""),
        (json!({"type": "Point", "coordinates": [0, 0]}), ""),
    ];
    for (fence, words) in cases {
        let (status, err) = app.put_json(Some(&admin.token), &path, fence.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{fence}: {err}");
        assert!(
            err["error"]["message"].as_str().unwrap().contains(words),
            "{fence}: {err}"
        );
    }
    let (status, _) = app.get(Some(&admin.token), &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was saved");
}
