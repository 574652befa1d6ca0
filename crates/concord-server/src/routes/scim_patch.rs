//! SCIM PATCH (RFC 7644 §3.5.2) applied to a resource's JSON: `add`, `replace` and `remove`
//! with or without a path. Paths: `attr`, `attr.sub`, `attr[sub eq "v"]`, `attr[sub eq
//! "v"].sub`, and extension attributes prefixed with their schema URN
//! (`urn:...:enterprise:2.0:User:employeeNumber`). Attribute names and op names are
//! case-insensitive, and Azure AD's habits are accepted: `"op": "Replace"`, a path-less
//! `"value": {"active": false}`, booleans as strings ("False"), and `remove` of `members` with
//! a value array of the members to remove.
//!
//! The handlers then read the patched JSON exactly like a PUT body, so PATCH and PUT share
//! one validation.

use super::scim::{DEPARTMENT_SCHEMA, ENTERPRISE_SCHEMA, PATCH_SCHEMA, ScimError};
use serde_json::{Map, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Add,
    Replace,
    Remove,
}

/// A parsed path.
#[derive(Debug, PartialEq, Eq)]
struct PathSpec {
    /// The extension schema the attribute belongs to, if any.
    schema: Option<&'static str>,
    attribute: String,
    filter: Option<(String, String)>,
    sub: Option<String>,
}

const EXTENSIONS: [&str; 2] = [ENTERPRISE_SCHEMA, DEPARTMENT_SCHEMA];

fn no_target(path: &str) -> ScimError {
    ScimError::bad(
        "invalidPath",
        format!("unsupported or malformed path {path:?}"),
    )
}

fn parse_path(raw: &str) -> Result<PathSpec, ScimError> {
    let path = raw.trim();
    let (schema, rest) = match EXTENSIONS
        .iter()
        .find(|s| path.len() >= s.len() && path[..s.len()].eq_ignore_ascii_case(s))
    {
        Some(s) => {
            let rest = &path[s.len()..];
            match rest.strip_prefix(':') {
                Some(r) => (Some(*s), r),
                None if rest.is_empty() => (None, *s),
                None => return Err(no_target(raw)),
            }
        }
        None => (None, path),
    };
    // An extension's whole object is addressed by its URN (`rest` is then the URN itself).
    if EXTENSIONS.contains(&rest) {
        return Ok(PathSpec {
            schema: None,
            attribute: rest.to_string(),
            filter: None,
            sub: None,
        });
    }
    let (head, sub_after_filter, filter) = match rest.find('[') {
        Some(open) => {
            let close = rest
                .rfind(']')
                .filter(|c| *c > open)
                .ok_or_else(|| no_target(raw))?;
            let inner = &rest[open + 1..close];
            let after = &rest[close + 1..];
            let sub = match after {
                "" => None,
                s => Some(
                    s.strip_prefix('.')
                        .ok_or_else(|| no_target(raw))?
                        .to_string(),
                ),
            };
            let mut parts = inner.trim().splitn(3, char::is_whitespace);
            let (a, op, v) = (parts.next(), parts.next(), parts.next());
            let (Some(a), Some(op), Some(v)) = (a, op, v) else {
                return Err(no_target(raw));
            };
            if !op.eq_ignore_ascii_case("eq") {
                return Err(ScimError::bad(
                    "invalidFilter",
                    format!("only eq filters are supported in paths, not {inner:?}"),
                ));
            }
            let v: String = serde_json::from_str(v.trim()).map_err(|_| no_target(raw))?;
            (&rest[..open], sub, Some((a.to_string(), v)))
        }
        None => (rest, None, None),
    };
    let (attribute, sub) = match (head.split_once('.'), sub_after_filter) {
        (Some(_), Some(_)) => return Err(no_target(raw)),
        (Some((a, s)), None) => (a, Some(s.to_string())),
        (None, sub) => (head, sub),
    };
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
    };
    if !ok(attribute) || sub.as_deref().is_some_and(|s| !ok(s)) {
        return Err(no_target(raw));
    }
    Ok(PathSpec {
        schema,
        attribute: attribute.to_string(),
        filter,
        sub,
    })
}

/// The key in `obj` that equals `name` ignoring case, or `name` itself.
fn key_of(obj: &Map<String, Value>, name: &str) -> String {
    obj.keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned()
        .unwrap_or_else(|| name.to_string())
}

fn object_at<'a>(parent: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let key = key_of(parent, key);
    let slot = parent
        .entry(key)
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut().expect("just made an object")
}

fn text_eq(a: &Value, b: &str) -> bool {
    match a {
        Value::String(s) => s.eq_ignore_ascii_case(b),
        Value::Number(n) => n.to_string() == b,
        Value::Bool(x) => x.to_string().eq_ignore_ascii_case(b),
        _ => false,
    }
}

fn item_matches(item: &Value, filter: &(String, String)) -> bool {
    item.as_object()
        .and_then(|o| o.get(&key_of(o, &filter.0)))
        .is_some_and(|v| text_eq(v, &filter.1))
}

/// Whether two values of a multi-valued attribute are the same entry (by `value`).
fn same_entry(a: &Value, b: &Value) -> bool {
    match (a.get("value"), b.get("value")) {
        (Some(x), Some(y)) => x == y || x.as_str().zip(y.as_str()).is_some_and(|(x, y)| x == y),
        _ => a == b,
    }
}

fn apply(
    resource: &mut Map<String, Value>,
    op: Op,
    path: &str,
    value: Option<Value>,
) -> Result<(), ScimError> {
    let spec = parse_path(path)?;
    let container = match spec.schema {
        Some(s) => object_at(resource, s),
        None => resource,
    };
    let key = key_of(container, &spec.attribute);
    match (spec.filter, spec.sub) {
        (None, None) => match op {
            Op::Remove => match (container.get_mut(&key), value) {
                // Remove the listed entries of a multi-valued attribute (Azure's members removal).
                (Some(Value::Array(items)), Some(Value::Array(gone))) => {
                    items.retain(|i| !gone.iter().any(|g| same_entry(i, g)));
                }
                _ => {
                    container.remove(&key);
                }
            },
            Op::Replace => {
                let value =
                    value.ok_or_else(|| ScimError::bad("invalidValue", "replace needs a value"))?;
                match (container.get_mut(&key), value) {
                    // Replacing an extension object or `name` merges its sub-attributes.
                    (Some(Value::Object(existing)), Value::Object(new))
                        if spec.attribute != "members" =>
                    {
                        for (k, v) in new {
                            let k = key_of(existing, &k);
                            existing.insert(k, v);
                        }
                    }
                    (_, value) => {
                        container.insert(key, value);
                    }
                }
            }
            Op::Add => {
                let value =
                    value.ok_or_else(|| ScimError::bad("invalidValue", "add needs a value"))?;
                match (container.get_mut(&key), value) {
                    (Some(Value::Array(items)), Value::Array(new)) => {
                        for v in new {
                            if !items.iter().any(|i| same_entry(i, &v)) {
                                items.push(v);
                            }
                        }
                    }
                    (Some(Value::Array(items)), v) if v.is_object() => {
                        if !items.iter().any(|i| same_entry(i, &v)) {
                            items.push(v);
                        }
                    }
                    (Some(Value::Object(existing)), Value::Object(new)) => {
                        for (k, v) in new {
                            let k = key_of(existing, &k);
                            existing.insert(k, v);
                        }
                    }
                    (_, value) => {
                        container.insert(key, value);
                    }
                }
            }
        },
        (None, Some(sub)) => {
            if op == Op::Remove {
                if let Some(Value::Object(o)) = container.get_mut(&key) {
                    let k = key_of(o, &sub);
                    o.remove(&k);
                }
            } else {
                let value = value
                    .ok_or_else(|| ScimError::bad("invalidValue", "the operation needs a value"))?;
                let o = object_at(container, &key);
                let k = key_of(o, &sub);
                o.insert(k, value);
            }
        }
        (Some(filter), sub) => {
            let slot = container
                .entry(key)
                .or_insert_with(|| Value::Array(Vec::new()));
            if !slot.is_array() {
                *slot = Value::Array(Vec::new());
            }
            let items = slot.as_array_mut().expect("just made an array");
            match (op, sub) {
                (Op::Remove, None) => items.retain(|i| !item_matches(i, &filter)),
                (Op::Remove, Some(sub)) => {
                    for i in items.iter_mut().filter(|i| item_matches(i, &filter)) {
                        if let Some(o) = i.as_object_mut() {
                            let k = key_of(o, &sub);
                            o.remove(&k);
                        }
                    }
                }
                (_, sub) => {
                    let value = value.ok_or_else(|| {
                        ScimError::bad("invalidValue", "the operation needs a value")
                    })?;
                    let mut found = false;
                    for i in items.iter_mut().filter(|i| item_matches(i, &filter)) {
                        found = true;
                        match (&sub, i.as_object_mut()) {
                            (Some(sub), Some(o)) => {
                                let k = key_of(o, sub);
                                o.insert(k, value.clone());
                            }
                            (None, _) => *i = value.clone(),
                            (Some(_), None) => {}
                        }
                    }
                    // `emails[type eq "work"].value` on someone without a work email adds one.
                    if !found {
                        let mut entry = Map::new();
                        entry.insert(filter.0.clone(), Value::String(filter.1.clone()));
                        match (sub, value) {
                            (Some(sub), v) => {
                                entry.insert(sub, v);
                            }
                            (None, Value::Object(o)) => entry.extend(o),
                            (None, _) => {
                                return Err(ScimError::bad(
                                    "invalidValue",
                                    "the value must be an object",
                                ));
                            }
                        }
                        items.push(Value::Object(entry));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Applies the body's `Operations` to `resource` in order.
pub fn apply_patch(
    resource: &mut Map<String, Value>,
    body: &Map<String, Value>,
) -> Result<(), ScimError> {
    if let Some(schemas) = body.get("schemas").and_then(Value::as_array)
        && !schemas.iter().any(|s| s == PATCH_SCHEMA)
    {
        return Err(ScimError::bad(
            "invalidSyntax",
            format!("a PATCH body has the schema {PATCH_SCHEMA}"),
        ));
    }
    let ops = body
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Operations"))
        .and_then(|(_, v)| v.as_array())
        .ok_or_else(|| ScimError::bad("invalidSyntax", "a PATCH body needs an Operations array"))?;
    if ops.len() > 1000 {
        return Err(ScimError::bad(
            "tooMany",
            "at most 1000 operations in one PATCH",
        ));
    }
    for o in ops {
        let o = o
            .as_object()
            .ok_or_else(|| ScimError::bad("invalidSyntax", "each operation must be an object"))?;
        let field = |name: &str| {
            o.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        };
        let op = match field("op")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("add") => Op::Add,
            Some("replace") => Op::Replace,
            Some("remove") => Op::Remove,
            _ => {
                return Err(ScimError::bad(
                    "invalidSyntax",
                    "op must be add, replace or remove",
                ));
            }
        };
        let value = field("value").cloned();
        match field("path") {
            Some(Value::String(path)) if !path.trim().is_empty() => {
                apply(resource, op, path, value)?
            }
            Some(Value::String(_)) | Some(Value::Null) | None => {
                if op == Op::Remove {
                    return Err(ScimError::bad("noTarget", "remove needs a path"));
                }
                let Some(Value::Object(values)) = value else {
                    return Err(ScimError::bad(
                        "invalidValue",
                        "without a path, the value must be an object",
                    ));
                };
                for (k, v) in values {
                    apply(resource, op, &k, Some(v))?;
                }
            }
            Some(_) => return Err(ScimError::bad("invalidPath", "path must be a string")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patch(resource: Value, ops: Value) -> Result<Value, ScimError> {
        let mut r = resource.as_object().unwrap().clone();
        let body = json!({"schemas": [PATCH_SCHEMA], "Operations": ops});
        apply_patch(&mut r, body.as_object().unwrap())?;
        Ok(Value::Object(r))
    }

    #[test]
    fn simple_and_azure_style_operations() {
        let user = json!({"userName": "a", "active": true, "name": {"givenName": "A"}});
        let r = patch(
            user.clone(),
            json!([{"op": "Replace", "value": {"active": false}}]),
        )
        .unwrap();
        assert_eq!(r["active"], false);
        let r = patch(
            user.clone(),
            json!([{"op": "replace", "path": "ACTIVE", "value": "False"}]),
        )
        .unwrap();
        assert_eq!(r["active"], "False");
        let r = patch(
            user.clone(),
            json!([{"op": "add", "path": "name.familyName", "value": "B"}]),
        )
        .unwrap();
        assert_eq!(r["name"], json!({"givenName": "A", "familyName": "B"}));
        let r = patch(user, json!([{"op": "remove", "path": "name"}])).unwrap();
        assert!(r.get("name").is_none());
    }

    #[test]
    fn filtered_paths_and_extensions() {
        let user = json!({"emails": [{"type": "work", "value": "a@x.com", "primary": true}]});
        let r = patch(user.clone(), json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "b@x.com"}])).unwrap();
        assert_eq!(r["emails"][0]["value"], "b@x.com");
        let r = patch(
            json!({}),
            json!([{"op": "add", "path": "phoneNumbers[type eq \"work\"].value", "value": "123"}]),
        )
        .unwrap();
        assert_eq!(r["phoneNumbers"], json!([{"type": "work", "value": "123"}]));
        let r = patch(
            user,
            json!([{"op": "remove", "path": "emails[type eq \"work\"]"}]),
        )
        .unwrap();
        assert_eq!(r["emails"], json!([]));
        let path = format!("{ENTERPRISE_SCHEMA}:employeeNumber");
        let r = patch(
            json!({}),
            json!([{"op": "add", "path": path, "value": "E1"}]),
        )
        .unwrap();
        assert_eq!(r[ENTERPRISE_SCHEMA]["employeeNumber"], "E1");
        let r = patch(
            json!({}),
            json!([{"op": "add", "value": {ENTERPRISE_SCHEMA: {"employeeNumber": "E2"}}}]),
        )
        .unwrap();
        assert_eq!(r[ENTERPRISE_SCHEMA]["employeeNumber"], "E2");
    }

    #[test]
    fn members_are_added_and_removed() {
        let group = json!({"members": [{"value": "1"}, {"value": "2"}]});
        let r = patch(
            group.clone(),
            json!([{"op": "add", "path": "members", "value": [{"value": "3"}, {"value": "1"}]}]),
        )
        .unwrap();
        assert_eq!(r["members"].as_array().unwrap().len(), 3);
        let r = patch(
            group.clone(),
            json!([{"op": "remove", "path": "members[value eq \"1\"]"}]),
        )
        .unwrap();
        assert_eq!(r["members"], json!([{"value": "2"}]));
        let r = patch(
            group.clone(),
            json!([{"op": "Remove", "path": "members", "value": [{"value": "2"}]}]),
        )
        .unwrap();
        assert_eq!(r["members"], json!([{"value": "1"}]));
        let r = patch(
            group,
            json!([{"op": "replace", "path": "members", "value": [{"value": "9"}]}]),
        )
        .unwrap();
        assert_eq!(r["members"], json!([{"value": "9"}]));
    }

    #[test]
    fn bad_operations_are_refused() {
        assert!(patch(json!({}), json!([{"op": "move", "path": "a", "value": 1}])).is_err());
        assert!(patch(json!({}), json!([{"op": "remove"}])).is_err());
        assert!(
            patch(
                json!({}),
                json!([{"op": "add", "path": "a[b gt \"1\"]", "value": 1}])
            )
            .is_err()
        );
        assert!(patch(json!({}), json!([{"op": "add", "path": "a b", "value": 1}])).is_err());
        assert!(patch(json!({}), json!([{"op": "add", "value": 3}])).is_err());
    }
}
