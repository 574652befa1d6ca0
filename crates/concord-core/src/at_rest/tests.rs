//! Tests of the sealed formats: published SM4-GCM vectors, round trips, tampering, wrapping
//! and the chunked stream.

use super::stream::{self, StreamHeader};
use super::*;

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.replace([' ', '\n'], "")).unwrap()
}

#[test]
fn sm4_gcm_matches_rfc_8998_appendix_a1() {
    let key = unhex("0123456789ABCDEFFEDCBA9876543210");
    let nonce: [u8; 12] = unhex("00001234567800000000ABCD").try_into().unwrap();
    let aad = unhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2");
    let plaintext = unhex(
        "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD\
         EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
    );
    let expected = unhex(
        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735\
         D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D\
         83DE3541E4C2B58177E065A9BF7B62EC",
    );
    let aead = Aead12::new(Algorithm::Sm4Gcm, &key).unwrap();
    assert_eq!(aead.encrypt(&nonce, &aad, &plaintext), expected);
    assert_eq!(aead.decrypt(&nonce, &aad, &expected).unwrap(), plaintext);
}

#[test]
fn aes_256_gcm_matches_the_nist_gcm_test_case_14() {
    // McGrew and Viega, "The Galois/Counter Mode of Operation", test case 14: zero key,
    // zero IV, one zero block.
    let aead = Aead12::new(Algorithm::Aes256Gcm, &[0u8; 32]).unwrap();
    let out = aead.encrypt(&[0u8; 12], b"", &[0u8; 16]);
    assert_eq!(
        out,
        unhex("cea7403d4d606b6e074ec5d3baf39d18 d0d1c8a799996bf0265b98b5d48ab919")
    );
}

#[test]
fn sealed_bytes_have_a_fixed_layout() {
    // A regression vector: pinning the nonce pins the bytes, so a format change shows here.
    let key = DataKey::new(7, Algorithm::Sm4Gcm, &[0x11; 16]).unwrap();
    let sealed = key.seal_with_nonce(&[0x22; 12], b"hi");
    assert_eq!(&sealed[..10], &[1, 2, 0, 0, 0, 0, 0, 0, 0, 7]);
    assert_eq!(&sealed[10..22], &[0x22; 12]);
    assert_eq!(sealed.len(), 10 + 12 + 2 + 16);
    let again = key.seal_with_nonce(&[0x22; 12], b"hi");
    assert_eq!(sealed, again);
    assert_eq!(key.open(&sealed).unwrap(), b"hi");
}

#[test]
fn text_round_trips_in_both_suites_and_detects_tampering() {
    for (algorithm, len) in [(Algorithm::Aes256Gcm, 32), (Algorithm::Sm4Gcm, 16)] {
        let key = DataKey::new(42, algorithm, &vec![5u8; len]).unwrap();
        let text = "机密 quarterly numbers 🚀";
        let sealed = key.seal_text(text);
        assert!(is_sealed_text(&sealed));
        assert!(!sealed.contains("quarterly"));
        assert_ne!(sealed, key.seal_text(text), "nonces are random");
        assert_eq!(key.open_text(&sealed).unwrap(), text);
        assert_eq!(sealed_text_key(&sealed).unwrap(), Some(42));
        assert_eq!(sealed_text_key("plain words").unwrap(), None);

        let mut bytes = sealed_text_bytes(&sealed).unwrap().unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(key.open(&bytes), Err(AtRestError::Authentication));
        // Relabelling to another key id fails too (the header is associated data).
        let mut bytes = sealed_text_bytes(&sealed).unwrap().unwrap();
        bytes[9] = 43;
        let other = DataKey::new(43, algorithm, &vec![5u8; len]).unwrap();
        assert_eq!(other.open(&bytes), Err(AtRestError::Authentication));
    }
    assert!(DataKey::new(1, Algorithm::Sm4Gcm, &[0u8; 32]).is_err());
}

fn keyring(suite: Suite, ids: &[&str]) -> Keyring {
    let len = Algorithm::for_suite(suite).key_len();
    let keys = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.to_string(), Zeroizing::new(vec![i as u8 + 1; len])))
        .collect();
    Keyring::new(
        suite,
        Arc::new(LocalMasterKeys::new(suite, keys, "test".into()).unwrap()),
    )
}

#[test]
fn data_keys_are_wrapped_by_the_active_master_and_unwrapped_by_any() {
    for suite in [Suite::Standard, Suite::Gm] {
        let old = keyring(suite, &["m1"]);
        let wrapped = old.generate().unwrap();
        assert_eq!(wrapped.master_key_id, "m1");
        let record = DataKeyRecord {
            id: 3,
            scope: "channel:9".into(),
            suite,
            master_key_id: wrapped.master_key_id,
            wrapped: wrapped.wrapped,
        };
        let key = old.load(&record).unwrap();
        let sealed = key.seal_text("hello");

        // After rotation the new ring still unwraps keys wrapped by m1, and wraps with m2.
        let rotated = keyring(suite, &["m1", "m2"]);
        assert_eq!(rotated.masters().active_id(), "m2");
        assert_eq!(
            rotated.open_cached(&sealed).unwrap(),
            None,
            "not loaded yet"
        );
        rotated.load(&record).unwrap();
        assert_eq!(
            rotated.open_cached(&sealed).unwrap().as_deref(),
            Some("hello")
        );
        assert!(rotated.for_scope("channel:9").is_some());
        assert_eq!(
            rotated.open_cached("legacy").unwrap().as_deref(),
            Some("legacy")
        );

        // A key wrapped by an unknown master, or with the wrong master id, fails.
        let other = keyring(suite, &["m3"]);
        assert!(matches!(
            other.load(&record),
            Err(AtRestError::UnknownMasterKey(_))
        ));
        let mislabelled = DataKeyRecord {
            master_key_id: "m2".into(),
            ..record
        };
        assert_eq!(
            rotated.load(&mislabelled).unwrap_err(),
            AtRestError::Authentication
        );
    }
}

#[test]
fn the_key_cache_is_bounded_and_reloads_what_it_dropped() {
    let ring = keyring(Suite::Standard, &["m1"]).with_max_cached(20);
    let records: Vec<DataKeyRecord> = (1..=50)
        .map(|id| {
            let w = ring.generate().unwrap();
            DataKeyRecord {
                id,
                scope: format!("channel:{id}"),
                suite: Suite::Standard,
                master_key_id: w.master_key_id,
                wrapped: w.wrapped,
            }
        })
        .collect();
    let sealed: Vec<String> = records
        .iter()
        .map(|r| ring.load(r).unwrap().seal_text("x"))
        .collect();
    assert!(ring.cached_len() <= 20, "{}", ring.cached_len());
    assert!(ring.for_scope("channel:50").is_some(), "the newest stays");
    // A dropped key opens again once reloaded.
    let dropped = (1..=50).find(|id| ring.by_id(*id).is_none()).unwrap();
    assert_eq!(
        ring.open_cached(&sealed[dropped as usize - 1]).unwrap(),
        None
    );
    assert!(ring.for_scope(&format!("channel:{dropped}")).is_none());
    ring.load(&records[dropped as usize - 1]).unwrap();
    assert_eq!(
        ring.open_cached(&sealed[dropped as usize - 1])
            .unwrap()
            .as_deref(),
        Some("x")
    );
}

fn sample(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn streams_round_trip_at_chunk_boundaries() {
    let key = DataKey::new(5, Algorithm::Aes256Gcm, &[9u8; 32]).unwrap();
    for len in [0, 1, 63, 64, 65, 128, 1000] {
        let data = sample(len);
        let mut sealed = Vec::new();
        assert_eq!(
            stream::seal_stream(&key, 64, &data[..], &mut sealed).unwrap(),
            len as u64
        );
        let header = StreamHeader::parse(&sealed).unwrap();
        assert_eq!(header.key_id, 5);
        assert_eq!(
            header.plaintext_len(sealed.len() as u64).unwrap(),
            len as u64
        );
        let mut opened = Vec::new();
        stream::open_stream(&key, &sealed[..], &mut opened).unwrap();
        assert_eq!(opened, data, "len {len}");
    }
}

#[test]
fn streams_detect_tampering_truncation_and_reordering() {
    let key = DataKey::new(5, Algorithm::Sm4Gcm, &[9u8; 16]).unwrap();
    let data = sample(300);
    let mut sealed = Vec::new();
    stream::seal_stream(&key, 100, &data[..], &mut sealed).unwrap();
    let chunk = 116;
    let open = |bytes: &[u8]| stream::open_stream(&key, bytes, &mut Vec::new());

    let mut flipped = sealed.clone();
    flipped[stream::HEADER_LEN + 5] ^= 1;
    assert!(open(&flipped).is_err());
    // Dropping the final chunk: the new last chunk was not sealed as last.
    assert!(open(&sealed[..sealed.len() - chunk]).is_err());
    let mut swapped = sealed[..stream::HEADER_LEN].to_vec();
    swapped.extend_from_slice(&sealed[stream::HEADER_LEN + chunk..stream::HEADER_LEN + 2 * chunk]);
    swapped.extend_from_slice(&sealed[stream::HEADER_LEN..stream::HEADER_LEN + chunk]);
    swapped.extend_from_slice(&sealed[stream::HEADER_LEN + 2 * chunk..]);
    assert!(open(&swapped).is_err());
    let wrong = DataKey::new(6, Algorithm::Sm4Gcm, &[9u8; 16]).unwrap();
    assert!(stream::open_stream(&wrong, &sealed[..], &mut Vec::new()).is_err());
}

#[test]
fn ranges_open_only_the_covering_chunks() {
    let key = DataKey::new(8, Algorithm::Aes256Gcm, &[3u8; 32]).unwrap();
    let data = sample(1000);
    let mut sealed = Vec::new();
    stream::seal_stream(&key, 64, &data[..], &mut sealed).unwrap();
    let len = sealed.len() as u64;
    for (start, end) in [
        (0, 1),
        (0, 1000),
        (63, 65),
        (640, 704),
        (999, 1000),
        (950, 5000),
        (10, 10),
    ] {
        let mut out = Vec::new();
        stream::open_range(
            &key,
            std::io::Cursor::new(&sealed),
            len,
            start,
            end,
            &mut out,
        )
        .unwrap();
        let want = &data[(start as usize).min(1000)..(end as usize).min(1000)];
        assert_eq!(out, want, "{start}..{end}");
    }
    // A range in an intact chunk still opens when another chunk was tampered with.
    let mut tampered = sealed.clone();
    tampered[stream::HEADER_LEN + 3] ^= 1;
    let mut out = Vec::new();
    stream::open_range(
        &key,
        std::io::Cursor::new(&tampered),
        len,
        500,
        510,
        &mut out,
    )
    .unwrap();
    assert_eq!(out, &data[500..510]);
    assert!(
        stream::open_range(
            &key,
            std::io::Cursor::new(&tampered),
            len,
            0,
            10,
            &mut Vec::new()
        )
        .is_err()
    );
}
