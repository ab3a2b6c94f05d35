//! Slugs: `webinar-cit-lecce-1`. Lower-case ASCII letters and digits in groups joined by single
//! hyphens, 1 to 200 characters.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::error::InvalidInput;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

/// The longest slug, in characters (all ASCII, so also in bytes).
pub(super) const SLUG_MAX_CHARS: usize = 200;

static SLUG_RE: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"^[a-z0-9]+(-[a-z0-9]+)*$").ok());

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let ok_shape = SLUG_RE.as_ref().is_some_and(|re| re.is_match(raw));
        if raw.len() > SLUG_MAX_CHARS || !ok_shape {
            return Err(InvalidInput::new(
                "invalid_slug",
                "a slug is 1 to 200 lower-case letters and digits in groups joined by single hyphens",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = InvalidInput;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Slug> for String {
    fn from(value: Slug) -> Self {
        value.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The ASCII a lower-case character folds to, or `None` when it separates words.
fn fold(c: char) -> Option<&'static str> {
    const ASCII: [&str; 36] = [
        "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u", "v",
        "w", "x", "y", "z", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
    ];
    let folded = match c {
        'a'..='z' => ASCII.get(usize::from(c as u8 - b'a')).copied()?,
        '0'..='9' => ASCII.get(26 + usize::from(c as u8 - b'0')).copied()?,
        'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => "i",
        'ò' | 'ó' | 'ô' | 'ö' | 'õ' | 'ø' | 'ō' | 'ő' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' => "u",
        'ç' | 'ć' | 'č' => "c",
        'ñ' | 'ń' | 'ň' => "n",
        'ý' | 'ÿ' => "y",
        'š' | 'ś' | 'ş' => "s",
        'ž' | 'ź' | 'ż' => "z",
        'đ' | 'ď' | 'ð' => "d",
        'ł' | 'ľ' => "l",
        'ř' => "r",
        'ť' => "t",
        'ğ' => "g",
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        'þ' => "th",
        _ => return None,
    };
    Some(folded)
}

/// A combining accent (as in decomposed text, `a` + U+0300): dropped, it does not split a word.
fn is_combining_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}')
}

/// The slug of a title: accents folded, every run of other characters (spaces, punctuation,
/// apostrophes) one hyphen, cut to 200 characters at a hyphen when possible. `None` when nothing
/// is left.
pub fn slugify(text: &str) -> Option<Slug> {
    let mut out = String::new();
    let mut separate = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        if is_combining_mark(c) {
            continue;
        }
        match fold(c) {
            Some(ascii) => {
                if separate && !out.is_empty() {
                    out.push('-');
                }
                separate = false;
                out.push_str(ascii);
            }
            None => separate = true,
        }
    }
    let cut = if out.len() > SLUG_MAX_CHARS {
        let head = out.get(..SLUG_MAX_CHARS).unwrap_or_default();
        if out.as_bytes().get(SLUG_MAX_CHARS) == Some(&b'-') {
            head
        } else {
            match head.rfind('-') {
                Some(at) if at > 0 => head.get(..at).unwrap_or(head),
                _ => head,
            }
        }
    } else {
        out.as_str()
    };
    Slug::parse(cut.trim_matches('-')).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slug(text: &str) -> Option<String> {
        slugify(text).map(String::from)
    }

    #[test]
    fn slugify_examples() {
        assert_eq!(slug("Attività").as_deref(), Some("attivita"));
        assert_eq!(slug("Webinar CIT Lecce #1").as_deref(), Some("webinar-cit-lecce-1"));
        assert_eq!(slug("Perché SPID?").as_deref(), Some("perche-spid"));
        assert_eq!(slug("  Città  Metropolitana di Genova ").as_deref(), Some("citta-metropolitana-di-genova"));
        assert_eq!(slug("L'Aquila").as_deref(), Some("l-aquila"));
        assert_eq!(slug("dell\u{2019}ente").as_deref(), Some("dell-ente"));
        assert_eq!(slug("ÀÉÌÒÙ Ç Ñ").as_deref(), Some("aeiou-c-n"));
        assert_eq!(slug("Straße Æsir Œuvre").as_deref(), Some("strasse-aesir-oeuvre"));
        assert_eq!(slug("citta\u{0300} nuova").as_deref(), Some("citta-nuova"));
        assert_eq!(slug("--a--b--").as_deref(), Some("a-b"));
        assert_eq!(slug("!!!"), None);
        assert_eq!(slug(""), None);
        assert_eq!(slug("   "), None);
        assert_eq!(slug("日本"), None);
    }

    #[test]
    fn slugify_cuts_at_a_hyphen() {
        let words = "parola ".repeat(40); // 7 * 40 = 280 characters
        let s = slug(&words).unwrap_or_default();
        assert!(s.len() <= 200, "{}", s.len());
        assert!(s.ends_with("parola"), "{s}");
        assert!(Slug::parse(&s).is_ok());

        let exact = format!("{} tail", "a".repeat(200));
        assert_eq!(slug(&exact), Some("a".repeat(200)));

        let one_word = "a".repeat(250);
        assert_eq!(slug(&one_word), Some("a".repeat(200)));

        let hyphen_at_end = format!("{} {}", "a".repeat(198), "bbbbbb");
        assert_eq!(slug(&hyphen_at_end), Some("a".repeat(198)));
    }

    #[test]
    fn slugs_parse() {
        for ok in ["a", "webinar-cit-lecce-1", "2026", &"a".repeat(200)] {
            assert!(Slug::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "a-", "a--b", "A", "à", "a b", "a_b", &"a".repeat(201)] {
            assert_eq!(Slug::parse(bad).map_err(|e| e.code), Err("invalid_slug"), "{bad}");
        }
        let s: Result<Slug, _> = serde_json::from_str("\"ok-slug\"");
        assert_eq!(s.map(String::from).ok().as_deref(), Some("ok-slug"));
        let s: Result<Slug, _> = serde_json::from_str("\"Bad\"");
        assert!(s.is_err());
    }
}
