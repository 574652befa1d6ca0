//! Dynamic groups: validating, evaluating and applying a channel's membership rule.
//!
//! A rule ([`MembershipRule`]) is a boolean formula over user attributes. [`validate_rule`]
//! refuses rules that are too large, name unknown departments or can never match anyone (with a
//! message naming the contradiction); [`evaluate`] decides one user; [`diff_membership`] turns
//! "who matches now" into joins and leaves, sparing people added by hand.

use crate::error::DomainError;
use concord_proto::rules::MembershipRule;
use std::collections::BTreeSet;

/// Deepest nesting allowed; the top-level node is at depth 1.
pub const MAX_RULE_DEPTH: usize = 8;
/// Most nodes (operators and leaves) a rule may have.
pub const MAX_RULE_NODES: usize = 100;
/// Longest title, region or project tag, in characters.
pub const MAX_RULE_STRING_CHARS: usize = 100;

/// Search steps one satisfiability question may take. Past it the answer is "maybe", and a
/// rule we could not prove impossible is accepted: refusing must always be justified.
const SEARCH_BUDGET: usize = 50_000;

/// The user attributes a rule can look at.
pub trait RuleSubject {
    /// Whether the user belongs (primarily or secondarily) to `department` or to a department
    /// below it.
    fn in_department_subtree(&self, department: i64) -> bool;
    fn title(&self) -> Option<&str>;
    fn region(&self) -> Option<&str>;
    /// `tag` is already normalised with [`normalize_attribute`] (trimmed, lower case), so
    /// implementations compare it with their own normalised tags.
    fn has_project_tag(&self, tag: &str) -> bool;
}

/// The form in which titles, regions and project tags are compared: trimmed and lower case.
pub fn normalize_attribute(s: &str) -> String {
    s.trim().to_lowercase()
}

fn same_attribute(a: &str, b: &str) -> bool {
    // Cheap path first: most attributes are stored exactly as rules spell them.
    a == b || normalize_attribute(a) == normalize_attribute(b)
}

/// A ready-made [`RuleSubject`] for services that load a user's attributes into memory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubjectAttributes {
    /// Every department the user belongs to, *and all their ancestors*: membership of a subtree
    /// is then a set lookup.
    pub departments_with_ancestors: BTreeSet<i64>,
    pub title: Option<String>,
    pub region: Option<String>,
    pub project_tags: BTreeSet<String>,
}

impl RuleSubject for SubjectAttributes {
    fn in_department_subtree(&self, department: i64) -> bool {
        self.departments_with_ancestors.contains(&department)
    }
    fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }
    fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }
    fn has_project_tag(&self, tag: &str) -> bool {
        self.project_tags.iter().any(|t| same_attribute(t, tag))
    }
}

/// Whether `subject` matches `rule`. Titles, regions and tags compare case-insensitively after
/// trimming; a user without a title matches no `title` leaf.
pub fn evaluate(rule: &MembershipRule, subject: &impl RuleSubject) -> bool {
    match rule {
        MembershipRule::All(rules) => rules.iter().all(|r| evaluate(r, subject)),
        MembershipRule::Any(rules) => rules.iter().any(|r| evaluate(r, subject)),
        MembershipRule::Not(inner) => !evaluate(inner, subject),
        MembershipRule::Department(d) => subject.in_department_subtree(*d),
        MembershipRule::Title(t) => subject.title().is_some_and(|s| same_attribute(s, t)),
        MembershipRule::Region(r) => subject.region().is_some_and(|s| same_attribute(s, r)),
        MembershipRule::ProjectTag(t) => subject.has_project_tag(&normalize_attribute(t)),
    }
}

/// Checks a rule before it is saved: size limits, non-empty `all`/`any`, strings, departments
/// that exist, and that at least one conceivable user could match it.
///
/// Departments are treated as independent conditions (a user may belong to several). Use
/// [`validate_rule_with_ancestry`] to also catch contradictions such as "in department 13 but
/// not in its parent 12".
pub fn validate_rule(
    rule: &MembershipRule,
    department_exists: impl Fn(i64) -> bool,
) -> Result<(), DomainError> {
    validate_rule_with_ancestry(rule, department_exists, |_, _| false)
}

/// [`validate_rule`], knowing the department tree: `is_ancestor(a, b)` is true when `a` is a
/// proper ancestor of `b`, so that being in `b`'s subtree implies being in `a`'s.
pub fn validate_rule_with_ancestry(
    rule: &MembershipRule,
    department_exists: impl Fn(i64) -> bool,
    is_ancestor: impl Fn(i64, i64) -> bool,
) -> Result<(), DomainError> {
    let mut count = 0;
    check_structure(rule, "", 1, &mut count, &department_exists)?;
    let solver = Solver::new(rule, &is_ancestor);
    if solver.satisfiable(&[&solver.root]) == Some(false) {
        let reason = solver.explain(rule, &solver.root, "");
        return Err(invalid(format!("no user can ever match it: {reason}")));
    }
    Ok(())
}

fn invalid(reason: String) -> DomainError {
    DomainError::invalid("rule", reason)
}

/// "at the top level" or "at all[1].any[0]": where a node sits, in the JSON's own terms.
fn at(path: &str) -> String {
    if path.is_empty() {
        "at the top level".to_owned()
    } else {
        format!("at {path}")
    }
}

fn child_path(path: &str, step: &str) -> String {
    if path.is_empty() {
        step.to_owned()
    } else {
        format!("{path}.{step}")
    }
}

fn check_structure(
    rule: &MembershipRule,
    path: &str,
    depth: usize,
    count: &mut usize,
    department_exists: &impl Fn(i64) -> bool,
) -> Result<(), DomainError> {
    *count += 1;
    if *count > MAX_RULE_NODES {
        return Err(invalid(format!(
            "it has more than {MAX_RULE_NODES} conditions and operators"
        )));
    }
    if depth > MAX_RULE_DEPTH {
        let at = at(path);
        return Err(invalid(format!(
            "it is nested deeper than {MAX_RULE_DEPTH} levels ({at})"
        )));
    }
    let mut visit = |step: String, r: &MembershipRule| {
        check_structure(
            r,
            &child_path(path, &step),
            depth + 1,
            count,
            department_exists,
        )
    };
    match rule {
        MembershipRule::All(rules) | MembershipRule::Any(rules) => {
            let kind = if matches!(rule, MembershipRule::All(_)) {
                "all"
            } else {
                "any"
            };
            if rules.is_empty() {
                let at = at(path);
                return Err(invalid(format!(
                    "\"{kind}\" {at} has no conditions; give it at least one"
                )));
            }
            for (i, r) in rules.iter().enumerate() {
                visit(format!("{kind}[{i}]"), r)?;
            }
        }
        MembershipRule::Not(inner) => visit("not".to_owned(), inner)?,
        MembershipRule::Department(d) if !department_exists(*d) => {
            return Err(invalid(format!(
                "department {d} {} does not exist",
                at(path)
            )));
        }
        MembershipRule::Department(_) => {}
        MembershipRule::Title(s) => check_string("title", s, path)?,
        MembershipRule::Region(s) => check_string("region", s, path)?,
        MembershipRule::ProjectTag(s) => check_string("project_tag", s, path)?,
    }
    Ok(())
}

fn check_string(kind: &str, s: &str, path: &str) -> Result<(), DomainError> {
    let chars = s.trim().chars().count();
    if chars == 0 {
        return Err(invalid(format!("{kind} {} is empty", at(path))));
    }
    if chars > MAX_RULE_STRING_CHARS {
        return Err(invalid(format!(
            "{kind} {} is {chars} characters long; the limit is {MAX_RULE_STRING_CHARS}",
            at(path)
        )));
    }
    Ok(())
}

// ---- satisfiability -------------------------------------------------------------------------
//
// Atoms are the distinct leaves after normalisation. A user has at most one title and one
// region, so each of those is one variable whose values are "the i-th title in the rule" or
// "something else / none"; departments and project tags are booleans each (a user may belong to
// several departments and carry several tags), tied only by ancestry: in a child's subtree
// implies in the parent's. Every assignment respecting that is realisable by some user (put
// them directly in each department assigned true), so a depth-first search over assignments,
// pruned by three-valued evaluation, decides satisfiability exactly.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Atom {
    Title(usize),
    Region(usize),
    Dept(usize),
    Tag(usize),
}

enum Node {
    All(Vec<Node>),
    Any(Vec<Node>),
    Not(Box<Node>),
    Leaf(Atom),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Var {
    Title,
    Region,
    Dept(usize),
    Tag(usize),
}

#[derive(Clone)]
struct Assignment {
    /// `Some(i)`: the user's title is the i-th title; `Some(len)`: another title or none.
    title: Option<usize>,
    region: Option<usize>,
    depts: Vec<Option<bool>>,
    tags: Vec<Option<bool>>,
}

struct Solver {
    root: Node,
    titles: Vec<String>,
    regions: Vec<String>,
    depts: Vec<i64>,
    tags: Vec<String>,
    /// `ancestor[a][b]`: department atom `a` is a proper ancestor of atom `b`.
    ancestor: Vec<Vec<bool>>,
}

fn intern(list: &mut Vec<String>, s: &str) -> usize {
    let n = normalize_attribute(s);
    match list.iter().position(|x| *x == n) {
        Some(i) => i,
        None => {
            list.push(n);
            list.len() - 1
        }
    }
}

impl Solver {
    fn new(rule: &MembershipRule, is_ancestor: &impl Fn(i64, i64) -> bool) -> Self {
        let mut s = Solver {
            root: Node::Leaf(Atom::Tag(0)),
            titles: Vec::new(),
            regions: Vec::new(),
            depts: Vec::new(),
            tags: Vec::new(),
            ancestor: Vec::new(),
        };
        s.root = s.compile(rule);
        s.ancestor = s
            .depts
            .iter()
            .map(|&a| {
                s.depts
                    .iter()
                    .map(|&b| a != b && is_ancestor(a, b))
                    .collect()
            })
            .collect();
        s
    }

    fn compile(&mut self, rule: &MembershipRule) -> Node {
        match rule {
            MembershipRule::All(v) => Node::All(v.iter().map(|r| self.compile(r)).collect()),
            MembershipRule::Any(v) => Node::Any(v.iter().map(|r| self.compile(r)).collect()),
            MembershipRule::Not(r) => Node::Not(Box::new(self.compile(r))),
            MembershipRule::Title(t) => Node::Leaf(Atom::Title(intern(&mut self.titles, t))),
            MembershipRule::Region(r) => Node::Leaf(Atom::Region(intern(&mut self.regions, r))),
            MembershipRule::ProjectTag(t) => Node::Leaf(Atom::Tag(intern(&mut self.tags, t))),
            MembershipRule::Department(d) => {
                let i = match self.depts.iter().position(|x| x == d) {
                    Some(i) => i,
                    None => {
                        self.depts.push(*d);
                        self.depts.len() - 1
                    }
                };
                Node::Leaf(Atom::Dept(i))
            }
        }
    }

    /// Whether some user satisfies every node of `nodes`: `None` when the search budget ran out.
    fn satisfiable(&self, nodes: &[&Node]) -> Option<bool> {
        // Split the conjunction into groups that share no variable (departments count as
        // shared when related by ancestry) and decide each alone: an unrelated part of the rule
        // would otherwise multiply the search by its own assignments.
        let mut conjuncts = Vec::new();
        for n in nodes {
            flatten_all(n, &mut conjuncts);
        }
        let vars: Vec<Vec<Var>> = conjuncts
            .iter()
            .map(|n| {
                let mut v = Vec::new();
                collect_vars(n, &mut v);
                v
            })
            .collect();
        let mut group: Vec<usize> = (0..conjuncts.len()).collect();
        for i in 0..conjuncts.len() {
            for j in 0..i {
                if vars[i]
                    .iter()
                    .any(|a| vars[j].iter().any(|b| self.related(*a, *b)))
                {
                    let (gi, gj) = (group[i], group[j]);
                    group.iter_mut().filter(|g| **g == gi).for_each(|g| *g = gj);
                }
            }
        }
        let mut answer = Some(true);
        for g in group.iter().copied().collect::<BTreeSet<_>>() {
            let members: Vec<&Node> = (0..conjuncts.len())
                .filter(|&i| group[i] == g)
                .map(|i| conjuncts[i])
                .collect();
            let mut vars = Vec::new();
            members.iter().for_each(|n| collect_vars(n, &mut vars));
            let mut a = Assignment {
                title: None,
                region: None,
                depts: vec![None; self.depts.len()],
                tags: vec![None; self.tags.len()],
            };
            let mut budget = SEARCH_BUDGET;
            match self.search(&members, &vars, &mut a, &mut budget) {
                Some(false) => return Some(false),
                None => answer = None,
                Some(true) => {}
            }
        }
        answer
    }

    /// Whether two variables constrain each other.
    fn related(&self, a: Var, b: Var) -> bool {
        match (a, b) {
            (Var::Dept(i), Var::Dept(j)) => i == j || self.ancestor[i][j] || self.ancestor[j][i],
            _ => a == b,
        }
    }

    fn search(
        &self,
        nodes: &[&Node],
        vars: &[Var],
        a: &mut Assignment,
        budget: &mut usize,
    ) -> Option<bool> {
        if *budget == 0 {
            return None;
        }
        *budget -= 1;
        let mut value = Some(true);
        for n in nodes {
            match eval3(n, a) {
                Some(false) => return Some(false),
                None => value = None,
                Some(true) => {}
            }
        }
        if value == Some(true) {
            return Some(true);
        }
        // Undecided with every variable assigned cannot happen; treat it as "no" defensively.
        let Some((&var, rest)) = vars.split_first() else {
            return Some(false);
        };
        let choices = match var {
            Var::Title => self.titles.len() + 1,
            Var::Region => self.regions.len() + 1,
            Var::Dept(_) | Var::Tag(_) => 2,
        };
        let mut exhausted = false;
        for choice in 0..choices {
            match var {
                Var::Title => a.title = Some(choice),
                Var::Region => a.region = Some(choice),
                Var::Tag(i) => a.tags[i] = Some(choice == 1),
                Var::Dept(i) => {
                    let v = choice == 1;
                    if !self.dept_consistent(a, i, v) {
                        continue;
                    }
                    a.depts[i] = Some(v);
                }
            }
            match self.search(nodes, rest, a, budget) {
                Some(true) => return Some(true),
                None => exhausted = true,
                Some(false) => {}
            }
            if exhausted {
                break;
            }
        }
        match var {
            Var::Title => a.title = None,
            Var::Region => a.region = None,
            Var::Tag(i) => a.tags[i] = None,
            Var::Dept(i) => a.depts[i] = None,
        }
        if exhausted { None } else { Some(false) }
    }

    fn dept_consistent(&self, a: &Assignment, i: usize, v: bool) -> bool {
        a.depts
            .iter()
            .enumerate()
            .all(|(j, assigned)| match assigned {
                // In `i`'s subtree but not in that of its ancestor `j`: impossible.
                Some(false) if v && self.ancestor[j][i] => false,
                // In descendant `j`'s subtree but not in `i`'s: impossible.
                Some(true) if !v && self.ancestor[i][j] => false,
                _ => true,
            })
    }

    /// Why `node` (known unsatisfiable) can never hold, pointing at the smallest part to blame.
    fn explain(&self, rule: &MembershipRule, node: &Node, path: &str) -> String {
        match (rule, node) {
            (MembershipRule::All(rules), Node::All(nodes)) => {
                for (i, (r, n)) in rules.iter().zip(nodes).enumerate() {
                    if self.satisfiable(&[n]) == Some(false) {
                        return self.explain(r, n, &child_path(path, &format!("all[{i}]")));
                    }
                }
                // No single condition is impossible: shrink to a minimal conflicting set by
                // dropping each condition the conflict does not need.
                let mut keep: Vec<usize> = (0..nodes.len()).collect();
                let mut k = 0;
                while k < keep.len() {
                    let without: Vec<&Node> = keep
                        .iter()
                        .filter(|&&j| j != keep[k])
                        .map(|&j| &nodes[j])
                        .collect();
                    if self.satisfiable(&without) == Some(false) {
                        keep.remove(k);
                    } else {
                        k += 1;
                    }
                }
                let parts: Vec<&MembershipRule> = keep.iter().map(|&j| &rules[j]).collect();
                let shown: Vec<String> = parts.iter().map(|r| render(r)).collect();
                format!(
                    "{}, {} can never all hold{}",
                    at(path),
                    shown.join(" AND "),
                    self.hint(&parts)
                )
            }
            (MembershipRule::Any(rules), Node::Any(nodes)) => {
                let reasons: Vec<String> = rules
                    .iter()
                    .zip(nodes)
                    .enumerate()
                    .take(3)
                    .map(|(i, (r, n))| self.explain(r, n, &child_path(path, &format!("any[{i}]"))))
                    .collect();
                let more = if rules.len() > 3 { "; …" } else { "" };
                format!(
                    "{}, every branch of \"any\" is impossible ({}{more})",
                    at(path),
                    reasons.join("; ")
                )
            }
            (MembershipRule::Not(inner), _) => format!(
                "{}, NOT {} excludes everyone, because {} holds for every user",
                at(path),
                render(inner),
                render(inner)
            ),
            _ => format!("{}, {} can never hold", at(path), render(rule)),
        }
    }

    /// Names the hidden constraint behind a conflict, when it is one of ours.
    fn hint(&self, parts: &[&MembershipRule]) -> String {
        let distinct = |titles: bool| {
            let names = parts.iter().filter_map(|r| match r {
                MembershipRule::Title(t) if titles => Some(normalize_attribute(t)),
                MembershipRule::Region(t) if !titles => Some(normalize_attribute(t)),
                _ => None,
            });
            names.collect::<BTreeSet<_>>().len()
        };
        if distinct(true) > 1 {
            return " (a user has only one title)".to_owned();
        }
        if distinct(false) > 1 {
            return " (a user has only one region)".to_owned();
        }
        for p in parts {
            let MembershipRule::Department(child) = p else {
                continue;
            };
            for q in parts {
                if let MembershipRule::Not(inner) = q
                    && let MembershipRule::Department(parent) = **inner
                    && let (Some(a), Some(b)) = (self.dept_index(parent), self.dept_index(*child))
                    && self.ancestor[a][b]
                {
                    return format!(" (department {child} is inside department {parent})");
                }
            }
        }
        String::new()
    }

    fn dept_index(&self, d: i64) -> Option<usize> {
        self.depts.iter().position(|x| *x == d)
    }
}

fn flatten_all<'a>(node: &'a Node, out: &mut Vec<&'a Node>) {
    match node {
        Node::All(v) => v.iter().for_each(|n| flatten_all(n, out)),
        n => out.push(n),
    }
}

fn collect_vars(node: &Node, vars: &mut Vec<Var>) {
    match node {
        Node::All(v) | Node::Any(v) => v.iter().for_each(|n| collect_vars(n, vars)),
        Node::Not(n) => collect_vars(n, vars),
        Node::Leaf(atom) => {
            let var = match *atom {
                Atom::Title(_) => Var::Title,
                Atom::Region(_) => Var::Region,
                Atom::Dept(i) => Var::Dept(i),
                Atom::Tag(i) => Var::Tag(i),
            };
            if !vars.contains(&var) {
                vars.push(var);
            }
        }
    }
}

/// Kleene three-valued evaluation: `None` while the assigned variables do not decide `node`.
fn eval3(node: &Node, a: &Assignment) -> Option<bool> {
    match node {
        Node::All(v) | Node::Any(v) => {
            // `false` decides an AND, `true` an OR; otherwise unknown children leave it open.
            let decisive = matches!(node, Node::Any(_));
            let mut out = Some(!decisive);
            for n in v {
                match eval3(n, a) {
                    Some(b) if b == decisive => return Some(b),
                    None => out = None,
                    Some(_) => {}
                }
            }
            out
        }
        Node::Not(n) => eval3(n, a).map(|b| !b),
        Node::Leaf(Atom::Title(i)) => a.title.map(|t| t == *i),
        Node::Leaf(Atom::Region(i)) => a.region.map(|r| r == *i),
        Node::Leaf(Atom::Dept(i)) => a.depts[*i],
        Node::Leaf(Atom::Tag(i)) => a.tags[*i],
    }
}

/// A compact, human-readable form of a rule for error messages, cut short when long.
fn render(rule: &MembershipRule) -> String {
    const MAX: usize = 160;
    let mut s = String::new();
    render_into(rule, &mut s);
    if s.chars().count() > MAX {
        s = s.chars().take(MAX).collect::<String>() + "…";
    }
    s
}

fn render_into(rule: &MembershipRule, out: &mut String) {
    match rule {
        MembershipRule::All(v) | MembershipRule::Any(v) => {
            let op = if matches!(rule, MembershipRule::All(_)) {
                " AND "
            } else {
                " OR "
            };
            out.push('(');
            for (i, r) in v.iter().enumerate() {
                if i > 0 {
                    out.push_str(op);
                }
                render_into(r, out);
            }
            out.push(')');
        }
        MembershipRule::Not(r) => {
            out.push_str("NOT ");
            render_into(r, out);
        }
        MembershipRule::Department(d) => out.push_str(&format!("department {d}")),
        MembershipRule::Title(t) => out.push_str(&format!("title = {:?}", t.trim())),
        MembershipRule::Region(r) => out.push_str(&format!("region = {:?}", r.trim())),
        MembershipRule::ProjectTag(t) => out.push_str(&format!("project_tag {:?}", t.trim())),
    }
}

// ---- applying a rule ------------------------------------------------------------------------

/// What recomputing a rule changes: users to add to the channel and users to remove, ascending.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MembershipChange {
    pub join: Vec<i64>,
    pub leave: Vec<i64>,
}

impl MembershipChange {
    pub fn is_empty(&self) -> bool {
        self.join.is_empty() && self.leave.is_empty()
    }
}

/// Joins and leaves that bring a channel in line with its rule; the preview before saving a
/// rule calls it with the new rule's matches.
///
/// - `current_rule_members`: members whose membership comes from the rule.
/// - `would_match`: users the (new) rule matches now.
/// - `manual_members`: members who are there for any other reason (added by hand, or by a
///   geofence). They never leave because of the rule, and need no join when they match.
pub fn diff_membership(
    current_rule_members: &BTreeSet<i64>,
    would_match: &BTreeSet<i64>,
    manual_members: &BTreeSet<i64>,
) -> MembershipChange {
    MembershipChange {
        join: would_match
            .iter()
            .filter(|u| !current_rule_members.contains(u) && !manual_members.contains(u))
            .copied()
            .collect(),
        leave: current_rule_members
            .iter()
            .filter(|u| !would_match.contains(u) && !manual_members.contains(u))
            .copied()
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MembershipRule::{All, Any, Department, Not, ProjectTag, Region, Title};

    fn rule(json: &str) -> MembershipRule {
        serde_json::from_str(json).unwrap()
    }

    fn title(s: &str) -> MembershipRule {
        Title(s.into())
    }

    fn not(r: MembershipRule) -> MembershipRule {
        Not(Box::new(r))
    }

    /// The department tree of the realistic example:
    /// 1 Company ── 10 R&D ── 12 Platform ── 13 Storage
    ///          └── 20 HR
    fn parent(d: i64) -> Option<i64> {
        match d {
            10 | 20 => Some(1),
            12 => Some(10),
            13 => Some(12),
            _ => None,
        }
    }

    fn exists(d: i64) -> bool {
        matches!(d, 1 | 10 | 12 | 13 | 20)
    }

    fn is_ancestor(a: i64, b: i64) -> bool {
        std::iter::successors(parent(b), |&d| parent(d)).any(|d| d == a)
    }

    /// A user in `depts`; empty title or region means none; `tags` comma-separated.
    fn user(depts: &[i64], title: &str, region: &str, tags: &str) -> SubjectAttributes {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        SubjectAttributes {
            departments_with_ancestors: depts
                .iter()
                .flat_map(|&d| std::iter::successors(Some(d), |&d| parent(d)))
                .collect(),
            title: some(title),
            region: some(region),
            project_tags: tags
                .split(',')
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }

    fn reason(r: &MembershipRule) -> String {
        match validate_rule_with_ancestry(r, exists, is_ancestor) {
            Err(DomainError::Invalid { field, reason }) => {
                assert_eq!(field, "rule");
                reason
            }
            other => panic!("expected an invalid-rule error for {r:?}, got {other:?}"),
        }
    }

    const EXAMPLE: &str = r#"{"all":[{"department":12},{"any":[{"title":"Engineer"},{"region":"Shanghai"}]},{"not":{"project_tag":"apollo"}}]}"#;

    #[test]
    fn realistic_org_example() {
        let r = rule(EXAMPLE);
        validate_rule_with_ancestry(&r, exists, is_ancestor).unwrap();
        validate_rule(&r, exists).unwrap();
        // (id, attributes, expected)
        let people = [
            // Storage engineer: department 13 is inside 12; title differs in case and spacing.
            (101, user(&[13], "  engineer ", "Suzhou", ""), true),
            // Platform manager in Shanghai.
            (102, user(&[12], "Manager", "shanghai", "zeus"), true),
            // Platform engineer on project Apollo: excluded.
            (103, user(&[12], "Engineer", "", "Apollo"), false),
            // Engineer in HR: wrong subtree.
            (104, user(&[20], "Engineer", "Shanghai", ""), false),
            // HR person with a secondary membership in Platform.
            (105, user(&[20, 12], "Recruiter", "Shanghai", ""), true),
            // R&D (parent of 12) is not inside 12.
            (106, user(&[10], "Engineer", "", ""), false),
            // No title, no region.
            (107, user(&[13], "", "", ""), false),
        ];
        for (id, u, expected) in &people {
            assert_eq!(evaluate(&r, u), *expected, "user {id}");
        }
        let would_match: BTreeSet<i64> = people
            .iter()
            .filter(|(_, u, _)| evaluate(&r, u))
            .map(|(id, _, _)| *id)
            .collect();
        assert_eq!(would_match, BTreeSet::from([101, 102, 105]));

        // Currently: 101 and 103 came from an older rule; 104 and 106 were added by hand.
        let current = BTreeSet::from([101, 103]);
        let manual = BTreeSet::from([104, 106]);
        let change = diff_membership(&current, &would_match, &manual);
        assert_eq!(change.join, vec![102, 105]);
        assert_eq!(change.leave, vec![103]);
    }

    #[test]
    fn diff_spares_manual_members() {
        let current = BTreeSet::from([1, 2, 3]);
        let matches = BTreeSet::from([3, 4, 5]);
        let manual = BTreeSet::from([2, 5, 9]);
        let change = diff_membership(&current, &matches, &manual);
        // 5 is already in by hand: no join; 2 is in both ways: stays; 1 leaves; 9 untouched.
        assert_eq!(
            change,
            MembershipChange {
                join: vec![4],
                leave: vec![1]
            }
        );
        assert!(!change.is_empty());
        assert!(diff_membership(&matches, &matches, &BTreeSet::new()).is_empty());
        // A preview of a rule that matches nobody removes only rule members.
        let preview = diff_membership(&current, &BTreeSet::new(), &manual);
        assert_eq!(preview.leave, vec![1, 3]);
    }

    #[test]
    fn evaluation_basics() {
        let u = user(&[20], "HRBP", "Beijing", "apollo,Zeus");
        assert!(evaluate(&ProjectTag(" ZEUS ".into()), &u));
        assert!(!evaluate(&ProjectTag("hermes".into()), &u));
        assert!(evaluate(&Region("BEIJING".into()), &u));
        assert!(evaluate(&Department(1), &u));
        assert!(!evaluate(&Department(10), &u));
        assert!(evaluate(&not(title("engineer")), &u));
        // Chinese attributes compare exactly (case folding leaves them as they are).
        let w = user(&[20], "招聘专员", "苏州", "");
        assert!(evaluate(
            &All(vec![title("招聘专员"), Region(" 苏州".into())]),
            &w
        ));
    }

    #[test]
    fn structural_limits() {
        let deep = (0..MAX_RULE_DEPTH).fold(title("a"), |r, _| not(r));
        assert!(
            reason(&deep).contains("nested deeper than 8 levels"),
            "{}",
            reason(&deep)
        );
        let ok = (0..MAX_RULE_DEPTH - 1).fold(title("a"), |r, _| not(not(r)));
        // 15 levels of double negation is too deep as well; 7 `not`s over a leaf is fine.
        assert!(validate_rule(&ok, exists).is_err());
        let seven = (0..MAX_RULE_DEPTH - 1).fold(title("a"), |r, _| not(r));
        validate_rule(&seven, exists).unwrap();

        let wide = Any((0..MAX_RULE_NODES)
            .map(|i| title(&format!("t{i}")))
            .collect());
        assert!(reason(&wide).contains("more than 100"));
        let fits = Any((0..MAX_RULE_NODES - 1)
            .map(|i| title(&format!("t{i}")))
            .collect());
        validate_rule(&fits, exists).unwrap();

        assert_eq!(
            reason(&rule(r#"{"all":[{"title":"a"},{"any":[]}]}"#)),
            "\"any\" at all[1] has no conditions; give it at least one"
        );
        assert_eq!(
            reason(&All(vec![])),
            "\"all\" at the top level has no conditions; give it at least one"
        );
        assert_eq!(
            reason(&rule(r#"{"any":[{"region":"  "}]}"#)),
            "region at any[0] is empty"
        );
        let long = "长".repeat(101);
        assert_eq!(
            reason(&ProjectTag(long)),
            "project_tag at the top level is 101 characters long; the limit is 100"
        );
        validate_rule(&ProjectTag("长".repeat(100)), exists).unwrap();
        assert_eq!(
            reason(&rule(r#"{"not":{"department":99}}"#)),
            "department 99 at not does not exist"
        );
    }

    #[test]
    fn impossible_rules_name_the_contradiction() {
        assert_eq!(
            reason(&rule(
                r#"{"all":[{"department":12},{"title":"Engineer"},{"title":"manager"}]}"#
            )),
            "no user can ever match it: at the top level, title = \"Engineer\" AND title = \"manager\" can never all hold (a user has only one title)"
        );
        // Same title spelled differently is the same condition, hence satisfiable.
        validate_rule(&All(vec![title("Engineer"), title(" ENGINEER")]), exists).unwrap();
        // A dead branch inside an `any` is tolerated while another branch can match.
        validate_rule(
            &rule(
                r#"{"any":[{"title":"x"},{"all":[{"region":"Shanghai"},{"region":"Beijing"}]}]}"#,
            ),
            exists,
        )
        .unwrap();
        assert_eq!(
            reason(&rule(
                r#"{"all":[{"department":1},{"any":[{"all":[{"region":"Shanghai"},{"region":"Beijing"}]},{"all":[{"project_tag":"apollo"},{"not":{"project_tag":"Apollo"}}]}]}]}"#
            )),
            "no user can ever match it: at all[1], every branch of \"any\" is impossible \
             (at all[1].any[0], region = \"Shanghai\" AND region = \"Beijing\" can never all hold \
             (a user has only one region); at all[1].any[1], project_tag \"apollo\" AND \
             NOT project_tag \"Apollo\" can never all hold)"
        );
        // X AND NOT X, found inside a larger conjunction, showing only the conflicting pair.
        assert_eq!(
            reason(&rule(
                r#"{"all":[{"region":"Suzhou"},{"department":20},{"title":"Engineer"},{"not":{"department":20}}]}"#
            )),
            "no user can ever match it: at the top level, department 20 AND NOT department 20 can never all hold"
        );
        // NOT of something everyone satisfies.
        assert_eq!(
            reason(&rule(
                r#"{"all":[{"title":"a"},{"not":{"any":[{"region":"x"},{"not":{"region":"X"}}]}}]}"#
            )),
            "no user can ever match it: at all[1], NOT (region = \"x\" OR NOT region = \"X\") excludes \
             everyone, because (region = \"x\" OR NOT region = \"X\") holds for every user"
        );
    }

    #[test]
    fn department_ancestry_is_used_when_known() {
        // In Storage (13) but not in R&D (10), its grandparent: impossible in this tree.
        let r = rule(r#"{"all":[{"department":13},{"not":{"department":10}}]}"#);
        assert_eq!(
            reason(&r),
            "no user can ever match it: at the top level, department 13 AND NOT department 10 \
             can never all hold (department 13 is inside department 10)"
        );
        // Without the tree, departments are independent and the rule is accepted.
        validate_rule(&r, exists).unwrap();
        // The other way round is fine: in R&D but outside Storage.
        validate_rule_with_ancestry(
            &rule(r#"{"all":[{"department":10},{"not":{"department":13}}]}"#),
            exists,
            is_ancestor,
        )
        .unwrap();
        // Several departments at once are possible (secondary memberships).
        validate_rule_with_ancestry(
            &rule(r#"{"all":[{"department":20},{"department":13}]}"#),
            exists,
            is_ancestor,
        )
        .unwrap();
    }

    #[test]
    fn satisfiable_rules_that_look_suspicious_are_accepted() {
        for json in [
            r#"{"all":[{"any":[{"title":"A"},{"title":"B"}]},{"not":{"title":"A"}}]}"#,
            r#"{"all":[{"title":"A"},{"not":{"title":"B"}}]}"#,
            r#"{"not":{"title":"A"}}"#,
            r#"{"any":[{"region":"x"},{"not":{"region":"x"}}]}"#,
            r#"{"all":[{"not":{"title":"A"}},{"not":{"title":"B"}},{"not":{"region":"R"}}]}"#,
        ] {
            validate_rule_with_ancestry(&rule(json), exists, is_ancestor)
                .unwrap_or_else(|e| panic!("{json}: {e}"));
        }
    }

    #[test]
    fn large_rules_stay_fast() {
        // 33 tags in a chain of ORs of pairs: many atoms, still decided quickly (or accepted).
        let pairs: Vec<MembershipRule> = (0..24)
            .map(|i| {
                Any(vec![
                    ProjectTag(format!("t{i}")),
                    not(ProjectTag(format!("t{}", i + 1))),
                ])
            })
            .collect();
        let start = std::time::Instant::now();
        validate_rule(&All(pairs), exists).unwrap();
        // An impossible core hidden behind many independent atoms is still found.
        let mut parts: Vec<MembershipRule> = (0..40).map(|i| ProjectTag(format!("p{i}"))).collect();
        parts.push(title("a"));
        parts.push(title("b"));
        assert!(reason(&All(parts)).contains("title = \"a\" AND title = \"b\""));
        // Tautologies placed before the contradiction do not multiply the search.
        let mut parts: Vec<MembershipRule> = (0..20)
            .map(|i| {
                Any(vec![
                    ProjectTag(format!("p{i}")),
                    not(ProjectTag(format!("p{i}"))),
                ])
            })
            .collect();
        parts.push(Region("a".into()));
        parts.push(Region("b".into()));
        assert!(reason(&All(parts)).contains("region = \"a\" AND region = \"b\""));
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }
}
