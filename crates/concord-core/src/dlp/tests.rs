//! Unit tests of the DLP detectors, validators, masks and policy.

use super::validators::*;
use super::*;

fn scanner() -> DlpScanner {
    DlpScanner::new(&[]).unwrap()
}

/// (kind name, value) of everything found.
fn found(text: &str) -> Vec<(String, String)> {
    scanner()
        .scan(text)
        .into_iter()
        .map(|f| (f.kind.name().to_string(), f.value))
        .collect()
}

fn one(kind: &str, value: &str) -> Vec<(String, String)> {
    vec![(kind.to_string(), value.to_string())]
}

#[test]
fn resident_id_check_character_and_dates() {
    // GB 11643's own example.
    assert_eq!(resident_id_check_char("11010519491231002"), Some('X'));
    assert!(is_resident_id("11010519491231002X"));
    assert!(is_resident_id("11010519491231002x"));
    assert!(!is_resident_id("110105194912310021"));
    assert!(is_birth_date("20000229"));
    assert!(!is_birth_date("19000229"));
    assert!(!is_birth_date("20230229"));
    assert!(!is_birth_date("19991301"));
    assert!(!is_birth_date("19990431"));
    assert!(!is_birth_date("1999043"));
    assert_eq!(resident_id_check_char("1101051949123100"), None);
    assert_eq!(resident_id_check_char("1101051949123100a"), None);
}

#[test]
fn luhn_cards_ssns_mobiles_ips() {
    assert!(luhn("4111111111111111"));
    assert!(!luhn("4111111111111112"));
    assert!(!luhn(""));
    assert!(is_bank_card("6222600260001072444"));
    assert!(is_bank_card("5500005555555559"));
    assert!(!is_bank_card("3530111333300000")); // JCB prefix
    assert!(!is_bank_card("411111111111111")); // 15 digits
    assert!(is_ssn("078", "05", "1120"));
    assert!(!is_ssn("000", "05", "1120"));
    assert!(!is_ssn("666", "05", "1120"));
    assert!(!is_ssn("900", "05", "1120"));
    assert!(!is_ssn("078", "00", "1120"));
    assert!(!is_ssn("078", "05", "0000"));
    assert!(is_mobile("13800138000"));
    assert!(!is_mobile("12800138000"));
    assert!(!is_mobile("1380013800"));
    assert!(is_ipv4("10.0.0.1"));
    assert!(!is_ipv4("10.0.0.256"));
    assert!(!is_ipv4("10.0.00.1"));
    assert!(!is_ipv4("10.0.0"));
    assert!(is_ipv6("2001:db8::1"));
    assert!(is_ipv6("FE80::A99E:CD72:2D4E:372D"));
    assert!(!is_ipv6("9A:5D:2D:81:68:4C"));
    assert!(!is_ipv6("::"));
}

#[test]
fn plain_values_are_found_with_code_point_offsets() {
    let f = scanner().scan("电话13800138000谢谢");
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].start, f[0].end), (2, 13));
    assert_eq!(
        found("ID#11010519491231002X ok"),
        one("cn_resident_id", "11010519491231002X")
    );
    assert_eq!(
        found("card 4111111111111111."),
        one("bank_card", "4111111111111111")
    );
    assert_eq!(found("SSN:078-05-1120"), one("us_ssn", "078-05-1120"));
    assert_eq!(found("Ping 10.0.0.1."), one("ip_address", "10.0.0.1"));
    assert_eq!(
        found("http://[2001:db8::1]:8080/x"),
        one("ip_address", "2001:db8::1")
    );
    assert_eq!(
        found("http://198.51.100.53:8080/login"),
        one("ip_address", "198.51.100.53")
    );
    assert_eq!(
        found("mailto:a.b+hr@example.com."),
        one("email", "a.b+hr@example.com")
    );
    assert_eq!(
        found("抄送a@example.com;b@example.org"),
        vec![
            ("email".to_string(), "a@example.com".to_string()),
            ("email".to_string(), "b@example.org".to_string())
        ]
    );
}

#[test]
fn mobile_prefixes_are_part_of_the_span() {
    for v in [
        "+8613800138000",
        "+86 13800138000",
        "+86-138-0013-8000",
        "＋86 138 0013 8000",
        "0086 13800138000",
        "008613800138000",
        "86-13800138000",
    ] {
        assert_eq!(found(&format!("手机：{v}。")), one("cn_mobile", v), "{v}");
    }
}

#[test]
fn disguised_forms_are_found() {
    let cases = [
        ("cn_resident_id", "110105 19491231 002X"),
        ("cn_resident_id", "110105-19491231-002x"),
        ("cn_resident_id", "１１０１０５１９４９１２３１００２Ｘ"),
        ("cn_resident_id", "1101051949\u{200B}1231002X"),
        ("cn_mobile", "138 0013 8000"),
        ("cn_mobile", "138\u{3000}0013\u{3000}8000"),
        ("cn_mobile", "１３８－００１３－８０００"),
        ("cn_mobile", "138\u{200B}00138000"),
        ("bank_card", "4111 1111 1111 1111"),
        ("bank_card", "6222\u{A0}6002\u{A0}6000\u{A0}1072\u{A0}444"),
        ("bank_card", "4111\u{2013}1111\u{2013}1111\u{2013}1111"),
        ("us_ssn", "078 05 1120"),
        ("us_ssn", "０７８－０５－１１２０"),
        ("us_ssn", "078-\u{2060}05-1120"),
        ("email", "zhang.wei＠example.com"),
        ("email", "zhang\u{200B}.wei@example.com"),
        ("ip_address", "１９２.１６８.１.１"),
        ("ip_address", "192．168．1．1"),
        ("ip_address", "10.0\u{200C}.0.1"),
    ];
    for (kind, v) in cases {
        assert_eq!(found(&format!("值 {v}，谢谢")), one(kind, v), "{v}");
    }
}

#[test]
fn decoys_and_look_alikes_are_not_flagged() {
    for text in [
        "ID 110105194912310021 has a wrong check digit",
        "ID 110101202302290014 was born on 29 February 2023",
        "card 4111111111111112 fails Luhn",
        "SSN 000-12-3456, 666-12-3456, 912-12-3456, 123-00-4567, 123-45-0000",
        "call 12800138000 or 1380013800 or 138001380001",
        "printer at 192.168.246.473",
        "Windows 10.0.19045.3693 and release 1.20.10",
        "MAC 9A:5D:2D:81:68:4C at 08:15:30",
        "timestamp 20231105123045, epoch 1726569041, amount 13,800.00",
        "hotline 400-607-3211 and 95588 and 12345",
        "ISBN 978-7-517-85543-9",
        "order 202503152014004719",
        "a@b and x@localhost",
    ] {
        assert_eq!(found(text), vec![], "{text}");
    }
}

#[test]
fn adjacent_values_and_boundaries() {
    // A digit touching the value makes it something else.
    assert_eq!(found("913800138000"), vec![]);
    assert_eq!(found("13800138000 13900139000").len(), 2);
    assert_eq!(found("138 0013 8000 139 0013 9000").len(), 2);
    assert_eq!(found("13800138000/a@example.com").len(), 2);
}

#[test]
fn masks_keep_the_shape_and_rescan_clean() {
    let s = scanner();
    let cases = [
        ("11010519491231002X", "110105********002X"),
        ("110105 19491231 002X", "110105 ******** 002X"),
        ("13800138000", "138****8000"),
        ("+86 138 0013 8000", "+86 138 **** 8000"),
        ("4111 1111 1111 1111", "4111 **** **** 1111"),
        ("6222600260001072444", "6222***********2444"),
        ("078-05-1120", "***-**-1120"),
        ("zhang.wei@example.com", "z***@example.com"),
        ("zhang.wei＠example.com", "z***＠example.com"),
        ("192.168.1.20", "192.168.*.**"),
        ("fe80::1", "****::*"),
        ("1101051949\u{200B}1231002X", "110105********002X"),
    ];
    for (value, want) in cases {
        let text = format!("见 {value}。");
        let (masked, findings) = s.mask(&text);
        assert_eq!(findings.len(), 1, "{value}");
        assert_eq!(masked, format!("见 {want}。"), "{value}");
        assert_eq!(s.scan(&masked), vec![], "{masked}");
    }
    let (unchanged, none) = s.mask("nothing here 2024-05-01");
    assert_eq!(
        (unchanged.as_str(), none.len()),
        ("nothing here 2024-05-01", 0)
    );
}

#[test]
fn custom_patterns_find_and_mask() {
    let mrn = CustomPattern {
        name: "medical_record".into(),
        regex: r"MRN[-:]?\d{6,10}".into(),
    };
    let s = DlpScanner::new(std::slice::from_ref(&mrn)).unwrap();
    let f = s.scan("病历号 MRN-００１２３４５６ 已归档");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].kind.name(), "medical_record");
    assert_eq!(f[0].value, "MRN-００１２３４５６");
    let (masked, _) = s.mask("see MRN:12345678 today");
    assert_eq!(masked, "see MRN:******** today");
    assert!(s.scan(&masked).is_empty());

    let loose = CustomPattern {
        name: "anything_code".into(),
        regex: r"[A-Z*]{3}-\S+".into(),
    };
    let s = DlpScanner::new(&[loose]).unwrap();
    let (masked, found) = s.mask("code ABC-123x");
    assert_eq!(found.len(), 1);
    assert!(masked.contains('*'), "{masked}");

    for bad in [
        CustomPattern {
            name: "".into(),
            regex: "x".into(),
        },
        CustomPattern {
            name: "Bad Name".into(),
            regex: "x".into(),
        },
        CustomPattern {
            name: "email".into(),
            regex: "x".into(),
        },
        CustomPattern {
            name: "ok".into(),
            regex: "(".into(),
        },
        CustomPattern {
            name: "ok".into(),
            regex: "x*".into(),
        },
    ] {
        let e = DlpScanner::new(std::slice::from_ref(&bad)).unwrap_err();
        assert!(
            e.to_string().contains("dlp.custom_patterns"),
            "{bad:?}: {e}"
        );
    }
    assert!(DlpScanner::new(&[mrn.clone(), mrn]).is_err());
}

#[test]
fn policy_actions() {
    let scanner = Arc::new(scanner());
    let text = "身份证 11010519491231002X，邮箱 a@example.com".to_string();
    let off = DlpPolicy::new(DlpAction::Off, scanner.clone());
    assert_eq!(off.apply(text.clone()).unwrap(), text);
    let mask = DlpPolicy::new(DlpAction::Mask, scanner.clone());
    assert_eq!(
        mask.apply(text.clone()).unwrap(),
        "身份证 110105********002X，邮箱 a***@example.com"
    );
    let block = DlpPolicy::new(DlpAction::Block, scanner);
    match block.apply(text.clone()) {
        Err(DomainError::DlpBlocked { detectors }) => {
            assert_eq!(detectors, vec!["cn_resident_id", "email"]);
        }
        other => panic!("{other:?}"),
    }
    let e = apply(&block, &text).unwrap_err().to_string();
    assert!(e.contains("cn_resident_id") && !e.contains("1101"), "{e}");
    assert_eq!(block.apply("hello".into()).unwrap(), "hello");
}

#[test]
fn odd_input_does_not_panic() {
    let s = scanner();
    for text in [
        "",
        "\u{200B}\u{200B}",
        "@",
        "@@a.bc",
        "::",
        ":::::",
        ".....",
        "1.2.3.4.5.6",
        "X",
        "12345678901234567X",
        "+86",
        "86-",
        "0086 ",
        "a@.com",
        "a@b..com",
        "- - - 1 - 2",
        "１２３４５６７８９０１２３４５６７８９０１２３４５６７８９０",
    ] {
        let _ = s.scan(text);
        let (masked, _) = s.mask(text);
        assert!(s.scan(&masked).is_empty(), "{text:?}");
    }
    let long: String = "13800138000 a@example.com 10.0.0.1 ".repeat(500);
    assert_eq!(s.scan(&long).len(), 1500);
}

#[test]
fn random_confusable_text_never_panics_and_masks_clean() {
    const ALPHABET: &[char] = &[
        '0', '1', '3', '6', '8', '9', '２', '８', ' ', '-', '\u{3000}', '\u{2013}', '\u{200B}',
        '\u{FEFF}', '@', '＠', '.', '．', ':', '+', '＋', 'X', 'x', 'a', 'f', 'z', '手', '，',
    ];
    let s = scanner();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..3000 {
        let len = (next() % 40) as usize;
        let text: String = (0..len)
            .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
            .collect();
        let chars: Vec<char> = text.chars().collect();
        for f in s.scan(&text) {
            assert!(f.start < f.end && f.end <= chars.len(), "{text:?}: {f:?}");
            assert_eq!(f.value, chars[f.start..f.end].iter().collect::<String>());
        }
        let (masked, _) = s.mask(&text);
        assert!(s.scan(&masked).is_empty(), "{text:?} -> {masked:?}");
    }
}
