//! Dynamic membership: channels whose members follow a rule over people's attributes or a
//! geofence over their reported locations.
//!
//! Rules are recomputed when the rule changes and when a person's attributes or departments
//! change; geofences when a person reports a location and on a periodic sweep (so someone who
//! went home and stopped reporting still leaves once the dwell time has passed). Both add
//! members with their own source and remove only those, so people added by hand stay. Every
//! join and leave goes through the store as member events, like any other.

use super::Services;
use crate::authz::{Actor, ChannelAction};
use crate::error::DomainError;
use crate::geofence::{
    DwellState, DwellTracker, GeofenceLimits, GeofenceTransition, ValidGeofence, validate_geofence,
    validate_location,
};
use crate::membership_rule::{
    SubjectAttributes, diff_membership, evaluate, normalize_attribute, validate_rule_with_ancestry,
};
use crate::org::OrgSnapshot;
use crate::store::{MemberSource, MembershipSync, PolicyKind, RuleSubjectRecord};
use concord_proto::{
    ChannelDlp, ChannelId, Geofence, LocationOutcome, LocationReport, MembershipPreview,
    MembershipRule, User, UserId,
};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock};

/// The rules and geofences in force, parsed once.
#[derive(Default)]
pub struct Policies {
    rules: HashMap<ChannelId, MembershipRule>,
    dlp: HashMap<ChannelId, crate::dlp::DlpAction>,
    geofences: HashMap<ChannelId, (Geofence, ValidGeofence)>,
    /// Channels whose files are all sensitive (watermarked, audited downloads).
    pub(super) sensitive_files: std::collections::HashSet<ChannelId>,
}

#[derive(Default)]
pub struct DynamicState {
    policies: RwLock<Arc<Policies>>,
    /// Orders recomputations so two of them never interleave their reads and writes.
    changes: tokio::sync::Mutex<()>,
}

fn subject(org: &OrgSnapshot, r: &RuleSubjectRecord) -> SubjectAttributes {
    let mut departments = BTreeSet::new();
    if let Some(p) = org.placement(r.user_id) {
        for d in p.primary.iter().chain(&p.secondary) {
            departments.extend(org.ancestors_or_self(*d).into_iter().map(|a| a.0));
        }
    }
    SubjectAttributes {
        departments_with_ancestors: departments,
        title: r.title.clone(),
        region: r.region.clone(),
        project_tags: r
            .project_tags
            .iter()
            .map(|t| normalize_attribute(t))
            .collect(),
    }
}

impl Services {
    /// Rules and geofences can add many people to a channel: they need `channel.manage_any`
    /// on top of seeing the channel and being allowed to change it.
    pub(super) async fn authorize_dynamic(
        &self,
        actor: &Actor,
        channel: ChannelId,
    ) -> Result<(), DomainError> {
        self.channel_for(actor, channel, ChannelAction::Update)
            .await?;
        actor.require(crate::org::perm::CHANNEL_MANAGE_ANY, None)
    }

    pub(super) fn policies(&self) -> Arc<Policies> {
        self.dynamic
            .policies
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Reloads rules and geofences from the store (at start and after each change).
    pub async fn reload_policies(&self) -> Result<(), DomainError> {
        let mut p = Policies::default();
        let limits = GeofenceLimits {
            max_vertices: usize::MAX,
        };
        for record in self.store.channel_policies().await? {
            match record.kind {
                PolicyKind::Rule => match serde_json::from_str(&record.body) {
                    Ok(rule) => {
                        p.rules.insert(record.channel_id, rule);
                    }
                    Err(e) => {
                        tracing::error!(channel = %record.channel_id, error = %e, "stored membership rule is unreadable; ignored")
                    }
                },
                PolicyKind::Dlp => match serde_json::from_str(&record.body) {
                    Ok(action) => {
                        p.dlp.insert(record.channel_id, action);
                    }
                    Err(e) => {
                        tracing::error!(channel = %record.channel_id, error = %e, "stored DLP policy is unreadable; ignored")
                    }
                },
                PolicyKind::Files => {
                    match serde_json::from_str::<concord_proto::ChannelFilePolicy>(&record.body) {
                        Ok(policy) if policy.sensitive => {
                            p.sensitive_files.insert(record.channel_id);
                        }
                        Ok(_) => {}
                        Err(e) => {
                            tracing::error!(channel = %record.channel_id, error = %e, "stored file policy is unreadable; ignored")
                        }
                    }
                }
                PolicyKind::Geofence => {
                    let parsed = serde_json::from_str::<Geofence>(&record.body)
                        .map_err(|e| e.to_string())
                        .and_then(|g| {
                            validate_geofence(&g, limits)
                                .map(|v| (g, v))
                                .map_err(|e| e.to_string())
                        });
                    match parsed {
                        Ok(fence) => {
                            p.geofences.insert(record.channel_id, fence);
                        }
                        Err(e) => {
                            tracing::error!(channel = %record.channel_id, error = %e, "stored geofence is unreadable; ignored")
                        }
                    }
                }
            }
        }
        *self
            .dynamic
            .policies
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Arc::new(p);
        Ok(())
    }

    fn check_rule(&self, org: &OrgSnapshot, rule: &MembershipRule) -> Result<(), DomainError> {
        use concord_proto::DepartmentId;
        validate_rule_with_ancestry(
            rule,
            |d| org.department(DepartmentId(d)).is_some(),
            |a, b| a != b && org.is_within(DepartmentId(b), DepartmentId(a)),
        )
    }

    /// Who `rule` selects now, and who would join and leave `channel`.
    async fn rule_diff(
        &self,
        channel: ChannelId,
        rule: &MembershipRule,
    ) -> Result<(Vec<UserId>, Vec<UserId>), DomainError> {
        let org = self.org();
        let matching: BTreeSet<i64> = self
            .store
            .rule_subjects(None)
            .await?
            .iter()
            // Guests see only the channels they are invited to: rules never pull them in.
            .filter(|r| !org.is_guest(r.user_id) && evaluate(rule, &subject(&org, r)))
            .map(|r| r.user_id.0)
            .collect();
        let (mut by_rule, mut manual) = (BTreeSet::new(), BTreeSet::new());
        for (user, source) in self.store.member_sources(channel).await? {
            if source == MemberSource::Rule {
                by_rule.insert(user.0);
            } else {
                manual.insert(user.0);
            }
        }
        let change = diff_membership(&by_rule, &matching, &manual);
        Ok((
            change.join.into_iter().map(UserId).collect(),
            change.leave.into_iter().map(UserId).collect(),
        ))
    }

    async fn users_named(&self, ids: &[UserId]) -> Result<Vec<User>, DomainError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self
            .store
            .search_users(None, Some(ids), 0, ids.len() as i64)
            .await?)
    }

    pub async fn membership_rule(
        &self,
        actor: &Actor,
        channel: ChannelId,
    ) -> Result<MembershipRule, DomainError> {
        self.authorize_dynamic(actor, channel).await?;
        self.policies()
            .rules
            .get(&channel)
            .cloned()
            .ok_or(DomainError::NotFound("membership rule"))
    }

    /// Who would join and leave if `rule` were saved; changes nothing.
    pub async fn preview_membership_rule(
        &self,
        actor: &Actor,
        channel: ChannelId,
        rule: MembershipRule,
    ) -> Result<MembershipPreview, DomainError> {
        self.authorize_dynamic(actor, channel).await?;
        self.check_rule(&self.org(), &rule)?;
        let (join, leave) = self.rule_diff(channel, &rule).await?;
        Ok(MembershipPreview {
            join: self.users_named(&join).await?,
            leave: self.users_named(&leave).await?,
        })
    }

    /// Saves the rule and applies it at once.
    pub async fn set_membership_rule(
        &self,
        actor: &Actor,
        channel: ChannelId,
        rule: MembershipRule,
    ) -> Result<MembershipPreview, DomainError> {
        self.authorize_dynamic(actor, channel).await?;
        self.check_rule(&self.org(), &rule)?;
        let _guard = self.dynamic.changes.lock().await;
        let body =
            serde_json::to_string(&rule).map_err(|e| DomainError::Unavailable(e.to_string()))?;
        let before = self
            .policies()
            .rules
            .get(&channel)
            .map(|r| serde_json::json!(r));
        let audit = self.audit_entry(
            Some(actor),
            "channel.rule.set",
            format!("channel:{channel}"),
            before,
            Some(serde_json::json!(rule)),
        );
        self.store
            .set_channel_policy(channel, PolicyKind::Rule, Some(body), audit)
            .await?;
        self.reload_policies().await?;
        let (join, leave) = self.rule_diff(channel, &rule).await?;
        let (joined, left) = self
            .sync_by_rule(channel, join, leave, actor.user_id)
            .await?;
        Ok(MembershipPreview {
            join: self.users_named(&joined).await?,
            leave: self.users_named(&left).await?,
        })
    }

    /// Removes the rule; the members it added stay (an admin can remove them by hand).
    pub async fn delete_membership_rule(
        &self,
        actor: &Actor,
        channel: ChannelId,
    ) -> Result<(), DomainError> {
        self.authorize_dynamic(actor, channel).await?;
        let _guard = self.dynamic.changes.lock().await;
        let before = self
            .policies()
            .rules
            .get(&channel)
            .map(|r| serde_json::json!(r));
        if before.is_none() {
            return Err(DomainError::NotFound("membership rule"));
        }
        let audit = self.audit_entry(
            Some(actor),
            "channel.rule.delete",
            format!("channel:{channel}"),
            before,
            None,
        );
        self.store
            .set_channel_policy(channel, PolicyKind::Rule, None, audit)
            .await?;
        self.reload_policies().await
    }

    /// Adds `joins` and removes `leaves` as members the rule manages (never people added by
    /// hand or by a geofence).
    async fn sync_by_rule(
        &self,
        channel: ChannelId,
        joins: Vec<UserId>,
        leaves: Vec<UserId>,
        actor: UserId,
    ) -> Result<(Vec<UserId>, Vec<UserId>), DomainError> {
        Ok(self
            .store
            .sync_membership(MembershipSync {
                channel,
                joins,
                leaves,
                source: MemberSource::Rule,
                actor,
                at: self.clock.now(),
            })
            .await?)
    }

    /// After the department tree changed shape: every rule channel again.
    pub(crate) async fn recompute_all_rules(&self, actor: UserId) -> Result<(), DomainError> {
        let policies = self.policies();
        let _guard = self.dynamic.changes.lock().await;
        for (channel, rule) in &policies.rules {
            let (joins, leaves) = self.rule_diff(*channel, rule).await?;
            if joins.is_empty() && leaves.is_empty() {
                continue;
            }
            self.sync_by_rule(*channel, joins, leaves, actor).await?;
        }
        Ok(())
    }

    /// After a person's attributes or departments changed: joins or leaves the rule channels
    /// they now match or no longer match.
    pub(crate) async fn recompute_rules_for(
        &self,
        user: UserId,
        actor: UserId,
    ) -> Result<(), DomainError> {
        let policies = self.policies();
        if policies.rules.is_empty() {
            return Ok(());
        }
        let _guard = self.dynamic.changes.lock().await;
        let org = self.org();
        let record = self.store.rule_subjects(Some(user)).await?.pop();
        let attrs = record
            .as_ref()
            .filter(|r| !org.is_guest(r.user_id))
            .map(|r| subject(&org, r));
        for (channel, rule) in &policies.rules {
            let sources = self.store.member_sources(*channel).await?;
            let current = sources.iter().find(|(u, _)| *u == user).map(|(_, s)| *s);
            let matches = attrs.as_ref().is_some_and(|a| evaluate(rule, a));
            let (joins, leaves) = match (matches, current) {
                (true, None) => (vec![user], vec![]),
                (false, Some(MemberSource::Rule)) => (vec![], vec![user]),
                _ => continue,
            };
            self.sync_by_rule(*channel, joins, leaves, actor).await?;
        }
        Ok(())
    }

    // DLP.

    /// The DLP policy for messages in `channel`: the channel's own action if it has one,
    /// else the org default (config `[dlp]`).
    pub(crate) fn dlp_for(&self, channel: ChannelId) -> crate::dlp::DlpPolicy {
        match self.policies().dlp.get(&channel) {
            Some(action) => crate::dlp::DlpPolicy::new(*action, self.limits.dlp.scanner.clone()),
            None => self.limits.dlp.clone(),
        }
    }

    /// The channel's DLP action and whether it is the channel's own or the org default.
    pub async fn channel_dlp(
        &self,
        actor: &Actor,
        channel: ChannelId,
    ) -> Result<ChannelDlp, DomainError> {
        self.channel_for(actor, channel, ChannelAction::ReadHistory)
            .await?;
        let own = self.policies().dlp.get(&channel).copied();
        Ok(ChannelDlp {
            action: own.unwrap_or(self.limits.dlp.action),
            inherited: own.is_none(),
        })
    }

    /// Sets the channel's DLP action (`None`: follow the org default). Channel admins with
    /// `channel.manage_any`, audited.
    pub async fn set_channel_dlp(
        &self,
        actor: &Actor,
        channel: ChannelId,
        action: Option<crate::dlp::DlpAction>,
    ) -> Result<ChannelDlp, DomainError> {
        self.authorize_dynamic(actor, channel).await?;
        let _guard = self.dynamic.changes.lock().await;
        let before = self
            .policies()
            .dlp
            .get(&channel)
            .map(|a| serde_json::json!(a));
        let body = action
            .map(|a| serde_json::to_string(&a))
            .transpose()
            .map_err(|e| DomainError::Unavailable(e.to_string()))?;
        let audit = self.audit_entry(
            Some(actor),
            "channel.dlp.set",
            format!("channel:{channel}"),
            before,
            action.map(|a| serde_json::json!(a)),
        );
        self.store
            .set_channel_policy(channel, PolicyKind::Dlp, body, audit)
            .await?;
        self.reload_policies().await?;
        Ok(ChannelDlp {
            action: action.unwrap_or(self.limits.dlp.action),
            inherited: action.is_none(),
        })
    }

    // Geofences.

    pub async fn geofence(
        &self,
        actor: &Actor,
        channel: ChannelId,
    ) -> Result<Geofence, DomainError> {
        self.authorize_dynamic(actor, channel).await?;
        self.policies()
            .geofences
            .get(&channel)
            .map(|(g, _)| g.clone())
            .ok_or(DomainError::NotFound("geofence"))
    }

    pub async fn set_geofence(
        &self,
        actor: &Actor,
        channel: ChannelId,
        fence: Geofence,
    ) -> Result<Geofence, DomainError> {
        self.authorize_dynamic(actor, channel).await?;
        validate_geofence(
            &fence,
            GeofenceLimits {
                max_vertices: self.limits.max_geofence_vertices,
            },
        )?;
        let _guard = self.dynamic.changes.lock().await;
        let body =
            serde_json::to_string(&fence).map_err(|e| DomainError::Unavailable(e.to_string()))?;
        let before = self
            .policies()
            .geofences
            .get(&channel)
            .map(|(g, _)| serde_json::json!(g));
        let audit = self.audit_entry(
            Some(actor),
            "channel.geofence.set",
            format!("channel:{channel}"),
            before,
            Some(serde_json::json!(fence)),
        );
        self.store
            .set_channel_policy(channel, PolicyKind::Geofence, Some(body), audit)
            .await?;
        self.reload_policies().await?;
        Ok(fence)
    }

    /// Removes the geofence; members it added stay until removed by hand.
    pub async fn delete_geofence(
        &self,
        actor: &Actor,
        channel: ChannelId,
    ) -> Result<(), DomainError> {
        self.authorize_dynamic(actor, channel).await?;
        let _guard = self.dynamic.changes.lock().await;
        let before = self
            .policies()
            .geofences
            .get(&channel)
            .map(|(g, _)| serde_json::json!(g));
        if before.is_none() {
            return Err(DomainError::NotFound("geofence"));
        }
        let audit = self.audit_entry(
            Some(actor),
            "channel.geofence.delete",
            format!("channel:{channel}"),
            before,
            None,
        );
        self.store
            .set_channel_policy(channel, PolicyKind::Geofence, None, audit)
            .await?;
        self.reload_policies().await
    }

    pub async fn set_location_sharing(
        &self,
        actor: &Actor,
        enabled: bool,
    ) -> Result<(), DomainError> {
        self.store
            .set_location_sharing(actor.user_id, enabled)
            .await?;
        Ok(())
    }

    /// A location report: kept (only the latest), then every geofenced channel's dwell state
    /// for the person advances; entering joins at once, leaving after the dwell time.
    pub async fn report_location(
        &self,
        actor: &Actor,
        report: LocationReport,
    ) -> Result<LocationOutcome, DomainError> {
        validate_location(&report)?;
        if !self.store.location_sharing(actor.user_id).await? {
            return Err(DomainError::Forbidden(
                "turn on location sharing first (PATCH /api/v1/users/me {\"location_sharing\": true})",
            ));
        }
        let now = self.clock.now();
        self.store
            .record_location(
                actor.user_id,
                report.latitude,
                report.longitude,
                report.accuracy_m,
                now,
            )
            .await?;
        let _guard = self.dynamic.changes.lock().await;
        let policy = self.limits.geofence;
        let states: HashMap<ChannelId, DwellState> = self
            .store
            .geofence_states(Some(actor.user_id))
            .await?
            .into_iter()
            .filter_map(|(_, c, s)| serde_json::from_str(&s).ok().map(|s| (c, s)))
            .collect();
        let mut outcome = LocationOutcome {
            joined: Vec::new(),
            left: Vec::new(),
        };
        for (channel, (_, fence)) in &self.policies().geofences {
            let mut tracker = match states.get(channel) {
                Some(s) => DwellTracker::from_state(policy, *s),
                None => DwellTracker::new(policy),
            };
            let transition = tracker.observe(now, policy.is_inside(fence, &report));
            self.apply_transition(actor.user_id, *channel, transition, &mut outcome)
                .await?;
            self.save_tracker(actor.user_id, *channel, &tracker).await?;
        }
        Ok(outcome)
    }

    async fn save_tracker(
        &self,
        user: UserId,
        channel: ChannelId,
        tracker: &DwellTracker,
    ) -> Result<(), DomainError> {
        let state = tracker.state();
        let keep = state.member || state.last_inside_at.is_some();
        let body = keep
            .then(|| serde_json::to_string(&state))
            .transpose()
            .map_err(|e| DomainError::Unavailable(e.to_string()))?;
        self.store.save_geofence_state(user, channel, body).await?;
        Ok(())
    }

    async fn apply_transition(
        &self,
        user: UserId,
        channel: ChannelId,
        transition: Option<GeofenceTransition>,
        outcome: &mut LocationOutcome,
    ) -> Result<(), DomainError> {
        let (joins, leaves) = match transition {
            Some(GeofenceTransition::Enter) => (vec![user], vec![]),
            Some(GeofenceTransition::Leave) => (vec![], vec![user]),
            None => return Ok(()),
        };
        let (joined, left) = self
            .store
            .sync_membership(MembershipSync {
                channel,
                joins,
                leaves,
                source: MemberSource::Geofence,
                actor: user,
                at: self.clock.now(),
            })
            .await?;
        if !joined.is_empty() {
            outcome.joined.push(channel);
        }
        if !left.is_empty() {
            outcome.left.push(channel);
        }
        Ok(())
    }

    /// The periodic sweep: people who stayed outside (or stopped reporting) past the dwell
    /// time leave; old locations are forgotten. Returns how many left.
    pub async fn sweep_geofences(&self) -> Result<usize, DomainError> {
        let now = self.clock.now();
        let cutoff = now
            .checked_sub(self.limits.location_retention)
            .unwrap_or(now);
        self.store.purge_locations(cutoff).await?;
        let _guard = self.dynamic.changes.lock().await;
        let policy = self.limits.geofence;
        let fences = self.policies();
        let mut left = 0;
        for (user, channel, state) in self.store.geofence_states(None).await? {
            let Ok(state) = serde_json::from_str::<DwellState>(&state) else {
                continue;
            };
            if !fences.geofences.contains_key(&channel) {
                self.store.save_geofence_state(user, channel, None).await?;
                continue;
            }
            let mut tracker = DwellTracker::from_state(policy, state);
            let transition = tracker.tick(now);
            if transition.is_none() && tracker.state() == state {
                continue;
            }
            let mut outcome = LocationOutcome {
                joined: Vec::new(),
                left: Vec::new(),
            };
            self.apply_transition(user, channel, transition, &mut outcome)
                .await?;
            left += outcome.left.len();
            self.save_tracker(user, channel, &tracker).await?;
        }
        Ok(left)
    }
}
