//! The organisation the authorisation matrix runs against, built once through the REST API
//! by an org admin, and the fresh objects made for each cell that destroys what it targets.
//!
//! Departments HQ > HR > Recruiting and HQ > Sales. People: `member` and `non_member` (both
//! in HR; only `member` is in the target channels), `guest` (a guest, in a room of its own),
//! `dept_admin` (department admin scoped to HR, placed in HR), `dept_admin_other` (scoped to
//! Sales, placed in Sales), `org_admin`, `bot` (an app installed by the org admin, whose bot
//! user is a member of the public channel); and, acting for nobody in the matrix, `owner` (in
//! HQ, creates the channels) and `target` (in HR, the person operations are aimed at).

use crate::support::{PASSWORD, TestApp, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The matrix's columns, in order.
pub const ACTORS: [&str; 8] = [
    "anonymous",
    "member",
    "non_member",
    "guest",
    "dept_admin_other",
    "dept_admin",
    "org_admin",
    "bot",
];

pub const ANONYMOUS: usize = 0;

/// The app token's column.
pub const BOT: usize = 7;

/// The matrix bot's scopes: every read but `permissions:check`, and `messages:write`.
const BOT_SCOPES: &[&str] = &[
    "channels:read",
    "files:read",
    "messages:read",
    "messages:write",
    "org:read",
    "users:read",
];

/// Not a column: the channels' owner (their channel admin), for control requests.
pub const OWNER: usize = ACTORS.len();

/// The name of an actor index, the owner's included.
pub fn actor_name(actor: usize) -> &'static str {
    ACTORS.get(actor).copied().unwrap_or("owner")
}

/// A triangle near Suzhou: far from where the matrix reports locations.
pub const GEOFENCE: &str = r#"{"type": "Polygon", "coordinates": [[[120.70, 31.30], [120.72, 31.30], [120.72, 31.32], [120.70, 31.30]]]}"#;

/// A rule nobody matches.
const RULE: &str = r#"{"title": "Nobody"}"#;

/// What a row's request is aimed at; fresh targets are made anew for every cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum On {
    /// Shared objects: the user `target` (in HR), Recruiting, the custom role 招聘组.
    Org,
    /// The private channel (owner, member) with a membership rule and a geofence, and a
    /// message by `member` in it.
    Private,
    /// As [`On::Private`], public.
    Public,
    /// The guest's own private room (owner, guest); `{user_id}` is the owner.
    GuestRoom,
    /// A new private channel (owner, member, target) with a message by `member`, a
    /// membership rule and a geofence; `{user_id}` is `target`.
    FreshPrivate,
    /// As [`On::FreshPrivate`], public.
    FreshPublic,
    /// A new empty department under HR.
    FreshDept,
    /// A new custom role holding `directory.read`.
    FreshRole,
    /// A new role assigned to `target` scoped to HR.
    FreshHrAssignment,
    /// A new role assigned to `target` org-wide.
    FreshOrgAssignment,
    /// A new person placed in HR.
    FreshHrUser,
    /// A new org admin placed in HR.
    FreshHrOrgAdmin,
    /// A new session of the actor (the cell ends it); the bot's app token for the bot.
    FreshSession,
    /// A new app (`{app_id}`); on other targets `{app_id}` is the matrix bot's app.
    FreshApp,
    /// A new legal hold on `target` (`{hold_id}`).
    FreshHold,
}

#[derive(Clone, Debug)]
pub struct Person {
    pub id: i64,
    pub username: String,
    pub token: String,
}

/// One cell's request context: the token to send and the `{placeholders}` to fill.
pub struct Cell {
    pub token: Option<String>,
    pub vars: Vec<(&'static str, String)>,
}

pub struct Fixture {
    pub app: TestApp,
    /// Indexed like [`ACTORS`]; `None` for anonymous.
    pub actors: Vec<Option<Person>>,
    pub owner: Person,
    pub target: Person,
    pub hr: i64,
    pub sales: i64,
    pub recruiting: i64,
    pub custom_role: i64,
    pub secret: i64,
    pub town: i64,
    pub guest_room: i64,
    pub secret_msg: i64,
    pub town_msg: i64,
    pub guest_room_msg: i64,
    /// A small PNG in each shared channel (by `member`; by the owner in the guest room).
    pub secret_file: i64,
    pub town_file: i64,
    pub guest_room_file: i64,
    /// The matrix bot's app.
    pub bot_app: i64,
    counter: AtomicUsize,
}

/// Sends a request the fixture needs and returns its body; panics unless it succeeds.
pub async fn must(app: &TestApp, token: &str, method: Method, path: &str, body: Value) -> Value {
    let body = (!body.is_null()).then_some(body);
    let (status, reply) = app
        .request(method.clone(), Some(token), path, body.clone())
        .await;
    assert!(
        status.is_success(),
        "fixture: {method} {path} {body:?} -> {status} {reply}"
    );
    reply
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

impl Fixture {
    fn org_admin(&self) -> &Person {
        self.actors[6].as_ref().unwrap()
    }

    fn member(&self) -> &Person {
        self.actors[1].as_ref().unwrap()
    }

    fn next(&self) -> usize {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }

    async fn admin_call(&self, method: Method, path: &str, body: Value) -> Value {
        must(&self.app, &self.org_admin().token, method, path, body).await
    }

    /// Creates a person as the org admin and places them in `department`; returns the id.
    async fn placed(&self, username: &str, extra: Value, department: Option<i64>) -> i64 {
        let mut req = json!({"username": username, "password": PASSWORD});
        req.as_object_mut()
            .unwrap()
            .extend(extra.as_object().cloned().unwrap_or_default());
        let user = id(&self.admin_call(Method::POST, "/api/v1/users", req).await);
        if let Some(d) = department {
            let path = format!("/api/v1/users/{user}");
            self.admin_call(Method::PATCH, &path, json!({"primary_department_id": d}))
                .await;
        }
        user
    }

    /// As [`Fixture::placed`], and logs them in.
    async fn person(&self, username: &str, extra: Value, department: Option<i64>) -> Person {
        Person {
            id: self.placed(username, extra, department).await,
            username: username.into(),
            token: self.app.login(username, PASSWORD).await,
        }
    }

    async fn department(&self, name: &str, parent: Option<i64>) -> i64 {
        let body = json!({"name": name, "parent_id": parent});
        id(&self
            .admin_call(Method::POST, "/api/v1/departments", body)
            .await)
    }

    async fn assign(&self, role: i64, user: i64, scope: Option<i64>) -> i64 {
        let body = json!({
            "role_id": role,
            "subject": {"kind": "user", "id": user},
            "scope_department_id": scope,
        });
        id(&self
            .admin_call(Method::POST, "/api/v1/role-assignments", body)
            .await)
    }

    async fn new_channel(&self, name: &str, kind: &str, members: &[i64]) -> i64 {
        let body = json!({"name": name, "kind": kind, "member_ids": members});
        id(&must(
            &self.app,
            &self.owner.token,
            Method::POST,
            "/api/v1/channels",
            body,
        )
        .await)
    }

    /// Gives `channel` (owned by `owner`) a membership rule and a geofence.
    async fn add_policies(&self, channel: i64) {
        for (what, body) in [("membership-rule", RULE), ("geofence", GEOFENCE)] {
            let path = format!("/api/v1/channels/{channel}/{what}");
            let body: Value = serde_json::from_str(body).unwrap();
            must(&self.app, &self.owner.token, Method::PUT, &path, body).await;
        }
    }

    async fn post_message(&self, by: &Person, channel: i64, text: &str) -> i64 {
        let path = format!("/api/v1/channels/{channel}/messages");
        id(&must(
            &self.app,
            &by.token,
            Method::POST,
            &path,
            json!({"text": text}),
        )
        .await)
    }

    /// Uploads a 2x2 PNG (so thumbnails and previews exist); returns the file's id.
    async fn upload_file(&self, by: &Person, channel: i64) -> i64 {
        let mut png = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(2, 2, image::Rgb([9, 99, 199])))
            .write_to(&mut png, image::ImageFormat::Png)
            .expect("png");
        let resp = self
            .app
            .http
            .post(
                self.app
                    .url(&format!("/api/v1/channels/{channel}/files?name=dot.png")),
            )
            .bearer_auth(&by.token)
            .body(png.into_inner())
            .send()
            .await
            .expect("upload");
        assert_eq!(resp.status().as_u16(), 201, "fixture upload");
        id(&resp.json::<Value>().await.expect("file"))
    }

    async fn fresh_role(&self) -> i64 {
        let body = json!({"name": format!("fresh role {}", self.next()), "permissions": ["directory.read"]});
        id(&self.admin_call(Method::POST, "/api/v1/roles", body).await)
    }

    /// Builds the organisation, the channels and the messages.
    pub async fn build() -> Fixture {
        let app = spawn_app().await;
        let org_admin = app.admin("org_admin").await;
        let org_admin = Person {
            id: org_admin.id,
            username: org_admin.username,
            token: org_admin.token,
        };
        let placeholder = org_admin.clone();
        let mut fx = Fixture {
            app,
            actors: vec![None, None, None, None, None, None, Some(org_admin)],
            owner: placeholder.clone(),
            target: placeholder,
            hr: 0,
            sales: 0,
            recruiting: 0,
            custom_role: 0,
            secret: 0,
            town: 0,
            guest_room: 0,
            secret_msg: 0,
            town_msg: 0,
            guest_room_msg: 0,
            secret_file: 0,
            town_file: 0,
            guest_room_file: 0,
            bot_app: 0,
            counter: AtomicUsize::new(0),
        };
        let hq = fx.department("HQ", None).await;
        fx.hr = fx.department("HR", Some(hq)).await;
        fx.recruiting = fx.department("Recruiting", Some(fx.hr)).await;
        fx.sales = fx.department("Sales", Some(hq)).await;
        let (hr, sales) = (fx.hr, fx.sales);
        let none = json!({});
        let (owner, target, member, non_member, guest, dept_admin, dept_admin_other) = tokio::join!(
            fx.person("owner", none.clone(), Some(hq)),
            fx.person("target", none.clone(), Some(hr)),
            fx.person("member", none.clone(), Some(hr)),
            fx.person("non_member", none.clone(), Some(hr)),
            fx.person("guest", json!({"guest": true}), None),
            fx.person("dept_admin", none.clone(), Some(hr)),
            fx.person("dept_admin_other", none.clone(), Some(sales)),
        );
        let roles = fx
            .admin_call(Method::GET, "/api/v1/roles", Value::Null)
            .await;
        let dept_admin_role = roles
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["builtin"] == "department_admin")
            .map(id)
            .expect("built-in department_admin role");
        fx.assign(dept_admin_role, dept_admin.id, Some(hr)).await;
        fx.assign(dept_admin_role, dept_admin_other.id, Some(sales))
            .await;
        fx.admin_call(
            Method::POST,
            "/api/v1/permissions",
            json!({"name": "resume_library.read"}),
        )
        .await;
        let role = json!({"name": "招聘组", "permissions": ["resume_library.read"]});
        fx.custom_role = id(&fx.admin_call(Method::POST, "/api/v1/roles", role).await);
        fx.assign(fx.custom_role, target.id, Some(hr)).await;
        // Rules and geofences need channel.manage_any besides channel admin: the owner, who
        // sends the control requests, holds it.
        let moderators = json!({"name": "Moderators", "permissions": ["channel.manage_any"]});
        let moderators = id(&fx
            .admin_call(Method::POST, "/api/v1/roles", moderators)
            .await);
        fx.assign(moderators, owner.id, None).await;
        fx.owner = owner;
        fx.target = target;
        fx.secret = fx.new_channel("secret", "private", &[member.id]).await;
        fx.town = fx.new_channel("town", "public", &[member.id]).await;
        fx.guest_room = fx.new_channel("guest room", "private", &[guest.id]).await;
        fx.add_policies(fx.secret).await;
        fx.add_policies(fx.town).await;
        fx.secret_msg = fx.post_message(&member, fx.secret, "the plan").await;
        fx.town_msg = fx.post_message(&member, fx.town, "hello town").await;
        let owner = fx.owner.clone();
        fx.guest_room_msg = fx.post_message(&owner, fx.guest_room, "welcome").await;
        fx.secret_file = fx.upload_file(&member, fx.secret).await;
        fx.town_file = fx.upload_file(&member, fx.town).await;
        fx.guest_room_file = fx.upload_file(&owner, fx.guest_room).await;
        // Reporting a location needs location sharing turned on.
        for p in [
            &member,
            &non_member,
            &guest,
            &dept_admin_other,
            &dept_admin,
            fx.org_admin(),
        ] {
            let body = json!({"location_sharing": true});
            must(&fx.app, &p.token, Method::PATCH, "/api/v1/users/me", body).await;
        }
        let (bot_app, bot) = fx.install_app("matrix_bot", BOT_SCOPES).await;
        fx.bot_app = bot_app;
        let path = format!("/api/v1/channels/{}/members", fx.town);
        let invite = json!({"user_ids": [bot.id]});
        must(&fx.app, &fx.owner.token, Method::POST, &path, invite).await;
        let org_admin = fx.actors[6].take();
        fx.actors = vec![
            None,
            Some(member),
            Some(non_member),
            Some(guest),
            Some(dept_admin_other),
            Some(dept_admin),
            org_admin,
            Some(bot),
        ];
        fx
    }

    /// Installs an app as the org admin; returns its id and its bot with the app token.
    async fn install_app(&self, username: &str, scopes: &[&str]) -> (i64, Person) {
        let body = json!({"name": username, "username": username, "scopes": scopes});
        let reply = self.admin_call(Method::POST, "/api/v1/apps", body).await;
        let bot = Person {
            id: id(&reply["app"]["bot_user"]),
            username: username.into(),
            token: reply["token"].as_str().expect("app token").into(),
        };
        (id(&reply["app"]), bot)
    }

    /// The token and placeholders for `actor`'s cell of a row aimed at `on`, creating the
    /// fresh objects the row needs.
    pub async fn prepare(&self, on: On, actor: usize) -> Cell {
        let me = match actor {
            OWNER => Some(&self.owner),
            _ => self.actors[actor].as_ref(),
        };
        let mut token = me.map(|p| p.token.clone());
        let n = self.next();
        let mut vars: Vec<(&'static str, String)> = vec![
            ("actor", actor_name(actor).to_string()),
            ("n", n.to_string()),
            ("me", me.unwrap_or(&self.target).id.to_string()),
            ("username", me.unwrap_or(&self.target).username.clone()),
            ("password", PASSWORD.to_string()),
            ("target", self.target.id.to_string()),
            ("hr", self.hr.to_string()),
            ("sales", self.sales.to_string()),
            ("custom_role", self.custom_role.to_string()),
            ("emoji", "thumbsup".to_string()),
        ];
        let mut set = |name: &'static str, v: i64| vars.push((name, v.to_string()));
        match on {
            On::Org => {
                set("app_id", self.bot_app);
                set("user_id", self.target.id);
                set("department_id", self.recruiting);
                set("role_id", self.custom_role);
            }
            On::Private | On::Public | On::GuestRoom => {
                let (c, m, u, f) = match on {
                    On::Private => (
                        self.secret,
                        self.secret_msg,
                        self.target.id,
                        self.secret_file,
                    ),
                    On::Public => (self.town, self.town_msg, self.target.id, self.town_file),
                    _ => (
                        self.guest_room,
                        self.guest_room_msg,
                        self.owner.id,
                        self.guest_room_file,
                    ),
                };
                set("channel_id", c);
                set("message_id", m);
                set("user_id", u);
                set("file_id", f);
                set("version", 1);
            }
            On::FreshPrivate | On::FreshPublic => {
                let kind = if on == On::FreshPrivate {
                    "private"
                } else {
                    "public"
                };
                let members = [self.member().id, self.target.id];
                let c = self
                    .new_channel(&format!("fresh {n}"), kind, &members)
                    .await;
                self.add_policies(c).await;
                set("channel_id", c);
                set(
                    "message_id",
                    self.post_message(self.member(), c, "fresh").await,
                );
                set("user_id", self.target.id);
                set("file_id", self.upload_file(self.member(), c).await);
                set("version", 1);
            }
            On::FreshDept => {
                set(
                    "department_id",
                    self.department(&format!("fresh {n}"), Some(self.hr)).await,
                );
            }
            On::FreshRole => set("role_id", self.fresh_role().await),
            On::FreshHrAssignment | On::FreshOrgAssignment => {
                let scope = (on == On::FreshHrAssignment).then_some(self.hr);
                let role = self.fresh_role().await;
                set(
                    "assignment_id",
                    self.assign(role, self.target.id, scope).await,
                );
            }
            On::FreshHrUser | On::FreshHrOrgAdmin => {
                let extra = json!({"is_admin": on == On::FreshHrOrgAdmin});
                set(
                    "user_id",
                    self.placed(&format!("fresh{n}"), extra, Some(self.hr))
                        .await,
                );
            }
            On::FreshSession => {
                if let Some(p) = me.filter(|_| actor != BOT) {
                    token = Some(self.app.login(&p.username, PASSWORD).await);
                }
            }
            On::FreshApp => {
                let (app, _) = self
                    .install_app(&format!("fresh_app_{n}"), &["messages:read"])
                    .await;
                set("app_id", app);
            }
            On::FreshHold => {
                let body = json!({"user_id": self.target.id, "reason": format!("hold {n}")});
                let hold = self
                    .admin_call(Method::POST, "/api/v1/retention/holds", body)
                    .await;
                set("hold_id", id(&hold));
            }
        }
        Cell { token, vars }
    }
}
