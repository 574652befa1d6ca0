//! Finding @mentions in message text.

/// What a message mentions, as written.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Mentions {
    /// Lowercased usernames after `@`, without duplicates, in order of appearance.
    pub usernames: Vec<String>,
    /// `@channel` or `@all`: every member.
    pub channel: bool,
    /// `@here`: members online now.
    pub here: bool,
}

/// Scan for `@name` where name is made of username characters and the `@` does not follow a
/// Latin letter or digit (so `a@b.com` is not a mention, while `请@wang` is). Mentions in code
/// spans still count: they are rare and Slack counts them too.
pub fn parse(text: &str) -> Mentions {
    let mut out = Mentions::default();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '@'
            && (i == 0 || !(chars[i - 1].is_ascii_alphanumeric() || chars[i - 1] == '_'))
        {
            let start = i + 1;
            let mut end = start;
            while end < chars.len()
                && (chars[end].is_ascii_alphanumeric() || "._-".contains(chars[end]))
            {
                end += 1;
            }
            // A trailing '.' or '-' is punctuation, not part of the name.
            while end > start && ".-".contains(chars[end - 1]) {
                end -= 1;
            }
            if end > start {
                let name: String = chars[start..end].iter().collect::<String>().to_lowercase();
                match name.as_str() {
                    "channel" | "all" | "everyone" => out.channel = true,
                    "here" => out.here = true,
                    _ => {
                        if !out.usernames.contains(&name) {
                            out.usernames.push(name);
                        }
                    }
                }
            }
            i = end.max(start);
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_users_and_broadcasts() {
        let m = parse("@Alice and @bob.smith, see @channel. @here! mail a@b.com @alice");
        assert_eq!(m.usernames, vec!["alice", "bob.smith"]);
        assert!(m.channel);
        assert!(m.here);
    }

    #[test]
    fn chinese_text_around_mentions() {
        let m = parse("请@wang 看一下，谢谢");
        assert_eq!(m.usernames, vec!["wang"]);
        let m = parse("没有提及");
        assert_eq!(m, Mentions::default());
    }

    #[test]
    fn trailing_punctuation() {
        assert_eq!(parse("thanks @li.").usernames, vec!["li"]);
        assert_eq!(parse("@ alone").usernames, Vec::<String>::new());
    }
}
