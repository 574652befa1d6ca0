//! The read a search-index rebuild uses: every live file, in every channel, in id order, paged.

use super::{Fixture, at, channel, user};
use concord_core::store::{NewFile, NewFileVersion};
use concord_proto::{ChannelKind, FileId};

fn new_file(
    channel_id: concord_proto::ChannelId,
    name: &str,
    by: concord_proto::UserId,
) -> NewFile {
    NewFile {
        channel_id,
        name: name.into(),
        sensitive: false,
        first: NewFileVersion {
            sha256: format!("{:0>64}", name.len()),
            size: 3,
            mime: "text/plain".into(),
            width: None,
            height: None,
            uploaded_by: by,
            uploaded_at: at(2),
            comment: None,
            restored_from: None,
        },
    }
}

async fn files_after_lists_live_files_of_every_channel_in_id_order(f: Fixture) {
    let store = f.open().await;
    let alice = user(&store, "alice").await;
    let public = channel(&store, "open", ChannelKind::Public, &[alice]).await;
    let private = channel(&store, "closed", ChannelKind::Private, &[alice]).await;
    let a = store
        .create_file(new_file(public, "a.txt", alice))
        .await
        .unwrap();
    let b = store
        .create_file(new_file(private, "bb.txt", alice))
        .await
        .unwrap();
    let c = store
        .create_file(new_file(public, "ccc.txt", alice))
        .await
        .unwrap();
    store.delete_file(b.id, at(3)).await.unwrap();

    let all = store.files_after(FileId(0), 10).await.unwrap();
    let ids: Vec<FileId> = all.iter().map(|file| file.id).collect();
    assert_eq!(ids, vec![a.id, c.id]);
    assert_eq!(all[1].name, "ccc.txt");
    assert_eq!(all[1].channel_id, public);

    let first = store.files_after(FileId(0), 1).await.unwrap();
    assert_eq!(first.len(), 1);
    let rest = store.files_after(first[0].id, 10).await.unwrap();
    assert_eq!(
        rest.iter().map(|file| file.id).collect::<Vec<_>>(),
        vec![c.id]
    );
    assert!(store.files_after(c.id, 10).await.unwrap().is_empty());
}

all_backends!(files_after_lists_live_files_of_every_channel_in_id_order);
