//! Files: who may upload, read, version, comment on, rename, flag and delete a channel's files,
//! and what is recorded. Access follows the channel: whoever cannot read the channel cannot
//! see its files, and a file in a channel they cannot see is *not found*, like the channel.
//!
//! The content itself never passes through here: the server streams it into its blob store and
//! hands over the digest, size and detected type ([`UploadedContent`]).

use super::Services;
use crate::authz::{Actor, ChannelAction};
use crate::error::DomainError;
use crate::mentions;
use crate::store::{FileUpdate, NewFile, NewFileComment, NewFileVersion, PolicyKind};
use crate::validate;
use concord_proto::{
    ChannelFilePolicy, ChannelId, FileComment, FileId, FileInfo, FilePage, FileVersion,
    UpdateFileRequest,
};

/// Longest file name kept, in characters.
pub const MAX_FILE_NAME_CHARS: usize = 255;
/// Longest version comment, in characters.
pub const MAX_VERSION_COMMENT_CHARS: usize = 1000;
const FILE_PAGE_MAX: i64 = 200;

/// What the blob store holds for an upload.
#[derive(Clone, Debug)]
pub struct UploadedContent {
    pub sha256: String,
    pub size: i64,
    pub mime: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
}

fn file_name(raw: &str) -> Result<String, DomainError> {
    let name = raw.trim();
    if name.is_empty() || name == "." || name == ".." {
        return Err(DomainError::invalid("name", "must not be empty"));
    }
    if name.chars().count() > MAX_FILE_NAME_CHARS {
        return Err(DomainError::invalid(
            "name",
            format!("at most {MAX_FILE_NAME_CHARS} characters"),
        ));
    }
    if name
        .chars()
        .any(|c| c.is_control() || c == '/' || c == '\\')
    {
        return Err(DomainError::invalid(
            "name",
            "must not contain slashes or control characters",
        ));
    }
    Ok(name.to_string())
}

fn version_comment(raw: Option<&str>) -> Result<Option<String>, DomainError> {
    let Some(raw) = raw.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    if raw.chars().count() > MAX_VERSION_COMMENT_CHARS {
        return Err(DomainError::invalid(
            "comment",
            format!("at most {MAX_VERSION_COMMENT_CHARS} characters"),
        ));
    }
    if raw.chars().any(|c| c.is_control() && c != '\n') {
        return Err(DomainError::invalid(
            "comment",
            "must not contain control characters",
        ));
    }
    Ok(Some(raw.to_string()))
}

impl Services {
    /// Checks that the actor may upload into `channel` (post there), before the content is
    /// streamed.
    pub async fn authorize_upload(
        &self,
        actor: &Actor,
        channel: ChannelId,
    ) -> Result<(), DomainError> {
        self.channel_for(actor, channel, ChannelAction::Post)
            .await
            .map(|_| ())
    }

    /// Records an upload as a new file in `channel`. `name` must already be made safe for
    /// downloads (the server does that); this checks what remains.
    pub async fn create_file(
        &self,
        actor: &Actor,
        channel: ChannelId,
        name: &str,
        sensitive: bool,
        comment: Option<&str>,
        content: UploadedContent,
    ) -> Result<FileInfo, DomainError> {
        let name = file_name(name)?;
        let comment = version_comment(comment)?;
        self.authorize_upload(actor, channel).await?;
        let file = self
            .store
            .create_file(NewFile {
                channel_id: channel,
                name,
                sensitive,
                first: self.new_version(actor, content, comment, None),
            })
            .await?;
        Ok(self.with_effective_flag(file))
    }

    fn new_version(
        &self,
        actor: &Actor,
        content: UploadedContent,
        comment: Option<String>,
        restored_from: Option<i64>,
    ) -> NewFileVersion {
        NewFileVersion {
            sha256: content.sha256,
            size: content.size,
            mime: content.mime,
            width: content.width,
            height: content.height,
            uploaded_by: actor.user_id,
            uploaded_at: self.clock.now(),
            comment,
            restored_from,
        }
    }

    /// `file` with `effective_sensitive` folded in from its channel's policy (search hits use it).
    pub fn with_effective_flag(&self, mut file: FileInfo) -> FileInfo {
        file.effective_sensitive =
            file.sensitive || self.policies().sensitive_files.contains(&file.channel_id);
        file
    }

    /// A file the actor may read (its channel's history), with its effective flag.
    pub async fn file(&self, actor: &Actor, id: FileId) -> Result<FileInfo, DomainError> {
        let file = self
            .store
            .file(id)
            .await?
            .ok_or(DomainError::NotFound("file"))?;
        self.channel_for(actor, file.channel_id, ChannelAction::ReadHistory)
            .await
            .map_err(|e| match e {
                // A file in a channel the actor cannot see does not exist for them.
                DomainError::NotFound(_) => DomainError::NotFound("file"),
                other => other,
            })?;
        Ok(self.with_effective_flag(file))
    }

    /// The version to read: `None` is the current one.
    pub async fn file_version(
        &self,
        actor: &Actor,
        id: FileId,
        version: Option<i64>,
    ) -> Result<(FileInfo, FileVersion), DomainError> {
        let file = self.file(actor, id).await?;
        let wanted = version.unwrap_or(file.version);
        let found = self
            .store
            .file_versions(id)
            .await?
            .into_iter()
            .find(|v| v.version == wanted)
            .ok_or(DomainError::NotFound("file version"))?;
        Ok((file, found))
    }

    /// Checks that the actor may add a version to the file (read it, and post in its channel).
    pub async fn authorize_new_version(
        &self,
        actor: &Actor,
        id: FileId,
    ) -> Result<FileInfo, DomainError> {
        let file = self.file(actor, id).await?;
        self.channel_for(actor, file.channel_id, ChannelAction::Post)
            .await?;
        Ok(file)
    }

    pub async fn add_file_version(
        &self,
        actor: &Actor,
        id: FileId,
        comment: Option<&str>,
        content: UploadedContent,
        flag_sensitive: bool,
    ) -> Result<FileInfo, DomainError> {
        let comment = version_comment(comment)?;
        self.authorize_new_version(actor, id).await?;
        let mut file = self
            .store
            .add_file_version(id, self.new_version(actor, content, comment, None))
            .await?;
        if flag_sensitive && !file.sensitive {
            file = self
                .store
                .update_file(
                    id,
                    FileUpdate {
                        name: None,
                        sensitive: Some(true),
                        at: self.clock.now(),
                    },
                )
                .await?;
        }
        Ok(self.with_effective_flag(file))
    }

    /// Makes an earlier version current again, as a new version with the same content (the
    /// history keeps every step).
    pub async fn restore_file_version(
        &self,
        actor: &Actor,
        id: FileId,
        version: i64,
    ) -> Result<FileInfo, DomainError> {
        let (_, old) = self.file_version(actor, id, Some(version)).await?;
        self.authorize_new_version(actor, id).await?;
        let content = UploadedContent {
            sha256: old.sha256,
            size: old.size,
            mime: old.mime,
            width: old.width,
            height: old.height,
        };
        let comment = Some(format!("restored version {version}"));
        let file = self
            .store
            .add_file_version(id, self.new_version(actor, content, comment, Some(version)))
            .await?;
        Ok(self.with_effective_flag(file))
    }

    pub async fn file_versions(
        &self,
        actor: &Actor,
        id: FileId,
    ) -> Result<Vec<FileVersion>, DomainError> {
        self.file(actor, id).await?;
        Ok(self.store.file_versions(id).await?)
    }

    /// Renames or (un)flags a file: its uploader, or whoever may edit others' messages there.
    pub async fn update_file(
        &self,
        actor: &Actor,
        id: FileId,
        req: UpdateFileRequest,
    ) -> Result<FileInfo, DomainError> {
        let name = req.name.as_deref().map(file_name).transpose()?;
        let file = self.file(actor, id).await?;
        self.channel_for(
            actor,
            file.channel_id,
            ChannelAction::EditMessage {
                author: file.created_by,
            },
        )
        .await?;
        if name.is_none() && req.sensitive.is_none() {
            return Ok(file);
        }
        let file = self
            .store
            .update_file(
                id,
                FileUpdate {
                    name,
                    sensitive: req.sensitive,
                    at: self.clock.now(),
                },
            )
            .await?;
        Ok(self.with_effective_flag(file))
    }

    /// Deletes a file: its uploader, or whoever may delete others' messages there.
    pub async fn delete_file(&self, actor: &Actor, id: FileId) -> Result<(), DomainError> {
        let file = self.file(actor, id).await?;
        self.channel_for(
            actor,
            file.channel_id,
            ChannelAction::DeleteMessage {
                author: file.created_by,
            },
        )
        .await?;
        Ok(self.store.delete_file(id, self.clock.now()).await?)
    }

    /// A page of the channel's files, newest first.
    pub async fn channel_files(
        &self,
        actor: &Actor,
        channel: ChannelId,
        before: Option<i64>,
        limit: Option<i64>,
    ) -> Result<FilePage, DomainError> {
        self.channel_for(actor, channel, ChannelAction::ReadHistory)
            .await?;
        let limit = limit.unwrap_or(50).clamp(1, FILE_PAGE_MAX);
        let files: Vec<FileInfo> = self
            .store
            .channel_files(channel, before.map(FileId), limit)
            .await?
            .into_iter()
            .map(|f| self.with_effective_flag(f))
            .collect();
        let next_before = if files.len() as i64 == limit {
            files.last().map(|f| f.id)
        } else {
            None
        };
        Ok(FilePage { files, next_before })
    }

    /// Comments on a version (the current one by default). `@name` mentions of channel
    /// members are recorded on the comment, and its event tells them.
    pub async fn comment_file(
        &self,
        actor: &Actor,
        id: FileId,
        text: &str,
        version: Option<i64>,
    ) -> Result<FileComment, DomainError> {
        let text = validate::message_text(text, self.limits.max_message_chars)?;
        let (file, version) = self.file_version(actor, id, version).await?;
        self.channel_for(actor, file.channel_id, ChannelAction::Post)
            .await?;
        let text = self.dlp_for(file.channel_id).apply(text)?;
        let found = mentions::parse(&text);
        let mentions = self
            .mentioned_members(actor, file.channel_id, &found)
            .await?;
        Ok(self
            .store
            .add_file_comment(NewFileComment {
                file_id: id,
                version: version.version,
                author_id: actor.user_id,
                text,
                mentions,
                created_at: self.clock.now(),
            })
            .await?)
    }

    pub async fn file_comments(
        &self,
        actor: &Actor,
        id: FileId,
    ) -> Result<Vec<FileComment>, DomainError> {
        self.file(actor, id).await?;
        Ok(self.store.file_comments(id).await?)
    }

    /// Applies the channel's DLP policy to the text of an uploaded text file: `block` refuses
    /// the upload when a detector fires; `mask` cannot rewrite a file, so the file is kept and
    /// flagged sensitive instead (returns true), making every download watermarked where
    /// possible and audited.
    pub fn check_uploaded_text(
        &self,
        channel: ChannelId,
        text: Option<String>,
    ) -> Result<bool, DomainError> {
        let Some(text) = text else {
            return Ok(false);
        };
        let policy = self.dlp_for(channel);
        match policy.action {
            crate::dlp::DlpAction::Off => Ok(false),
            crate::dlp::DlpAction::Block => policy.apply(text).map(|_| false),
            crate::dlp::DlpAction::Mask => Ok(!policy.scanner.scan(&text).is_empty()),
        }
    }

    /// The actor behind a signed link: the user it was made for, if still active.
    pub async fn link_actor(&self, user: concord_proto::UserId) -> Result<Actor, DomainError> {
        let profile = self
            .store
            .user_profile(user)
            .await?
            .ok_or(DomainError::Unauthenticated)?;
        if profile.status != concord_proto::UserStatus::Active {
            return Err(DomainError::Unauthenticated);
        }
        let record = profile.user;
        Ok(Actor {
            user_id: record.id,
            session: None,
            ip: None,
            org: self.org(),
            app: None,
        })
    }

    /// Records a download or preview of a sensitive file (who, which file and version, what).
    pub async fn audit_sensitive_read(
        &self,
        actor: &Actor,
        file: &FileInfo,
        version: i64,
        variant: &str,
    ) -> Result<(), DomainError> {
        self.audit(
            Some(actor),
            "file.sensitive_read",
            format!("file:{}", file.id),
            Some(serde_json::json!({
                "channel_id": file.channel_id,
                "version": version,
                "variant": variant,
                "name": file.name,
            })),
        )
        .await
    }

    /// The channel's file policy (readers of the channel may see it).
    pub async fn channel_file_policy(
        &self,
        actor: &Actor,
        channel: ChannelId,
    ) -> Result<ChannelFilePolicy, DomainError> {
        self.channel_for(actor, channel, ChannelAction::ReadHistory)
            .await?;
        Ok(ChannelFilePolicy {
            sensitive: self.policies().sensitive_files.contains(&channel),
        })
    }

    /// Sets the channel's file policy: channel admins with `channel.manage_any`, audited.
    pub async fn set_channel_file_policy(
        &self,
        actor: &Actor,
        channel: ChannelId,
        policy: ChannelFilePolicy,
    ) -> Result<ChannelFilePolicy, DomainError> {
        self.authorize_dynamic(actor, channel).await?;
        let before = self.policies().sensitive_files.contains(&channel);
        let body = policy
            .sensitive
            .then(|| serde_json::to_string(&policy))
            .transpose()
            .map_err(|e| DomainError::Unavailable(e.to_string()))?;
        let audit = self.audit_entry(
            Some(actor),
            "channel.files.set",
            format!("channel:{channel}"),
            Some(serde_json::json!({ "sensitive": before })),
            Some(serde_json::json!({ "sensitive": policy.sensitive })),
        );
        self.store
            .set_channel_policy(channel, PolicyKind::Files, body, audit)
            .await?;
        self.reload_policies().await?;
        Ok(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_checked() {
        assert_eq!(file_name("  设计稿 v2.png ").unwrap(), "设计稿 v2.png");
        assert!(file_name("").is_err());
        assert!(file_name("..").is_err());
        assert!(file_name("a/b").is_err());
        assert!(file_name("a\u{0}b").is_err());
        assert!(file_name(&"x".repeat(256)).is_err());
        assert!(file_name(&"x".repeat(255)).is_ok());
    }

    #[test]
    fn version_comments_are_optional_and_bounded() {
        assert_eq!(version_comment(None).unwrap(), None);
        assert_eq!(version_comment(Some("  ")).unwrap(), None);
        assert_eq!(
            version_comment(Some("颜色调整")).unwrap().as_deref(),
            Some("颜色调整")
        );
        assert!(version_comment(Some(&"x".repeat(1001))).is_err());
    }
}
