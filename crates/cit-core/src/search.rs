//! Italian-aware text for search: words, stems and snippets. The same terms feed SQLite's FTS5
//! (which has no Italian stemmer) and the query side on every backend, so "servizi digitali"
//! finds "servizio di digitalizzazione": stems are matched as prefixes.

use rust_stemmers::{Algorithm, Stemmer};

use crate::error::InvalidInput;

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most terms used from a query.
pub const MAX_QUERY_TERMS: usize = 12;

/// Words too common to search for.
const STOPWORDS: &[&str] = &[
    "a", "ad", "al", "alla", "alle", "agli", "ai", "allo", "che", "chi", "con", "da", "dal", "dalla", "dei", "degli",
    "del", "della", "delle", "dello", "di", "e", "ed", "gli", "i", "il", "in", "la", "le", "lo", "ma", "nel", "nella",
    "nelle", "nei", "negli", "o", "per", "su", "sul", "sulla", "tra", "fra", "un", "una", "uno", "è", "the", "of",
    "and", "to",
];

fn fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ä' => 'a',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ò' | 'ó' | 'ô' | 'ö' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            other => other,
        })
        .collect()
}

/// The words of a text, lower-cased: runs of letters and digits. "L'ente" gives "l", "ente".
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase)
}

fn stem(stemmer: &Stemmer, word: &str) -> String {
    // Folding before and after stemming makes "città" and "citta" meet whatever the stemmer
    // does with accented endings.
    fold(&stemmer.stem(&fold(word)))
}

/// Stems of a text, accents folded, stopwords dropped: what the index holds.
pub fn stems(text: &str) -> Vec<String> {
    let stemmer = Stemmer::create(Algorithm::Italian);
    words(text).filter(|w| !STOPWORDS.contains(&w.as_str())).map(|w| stem(&stemmer, &w)).collect()
}

/// One searched word: as typed (lower-case, letters and digits only) and as stemmed by cit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub word: String,
    pub stem: String,
}

/// The terms to look for, from what a person typed. Operators, quotes and punctuation are just
/// separators, so no input can break the query syntax of either backend.
pub fn query_terms(q: &str) -> Result<Vec<Term>, InvalidInput> {
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(InvalidInput::new("query_too_long", format!("a search has at most {MAX_QUERY_CHARS} characters")));
    }
    let stemmer = Stemmer::create(Algorithm::Italian);
    let mut terms: Vec<Term> = Vec::new();
    for word in words(q).filter(|w| !STOPWORDS.contains(&w.as_str())) {
        let term = Term { stem: stem(&stemmer, &word), word };
        if !terms.iter().any(|t| t.stem == term.stem) {
            terms.push(term);
        }
    }
    terms.truncate(MAX_QUERY_TERMS);
    if terms.is_empty() {
        return Err(InvalidInput::new("empty_query", "give at least one word to search for"));
    }
    Ok(terms)
}

/// A short piece of `text` around the first word matching a term, with matches in `<mark>`.
/// The text is escaped for HTML.
pub fn snippet(text: &str, terms: &[Term], max_words: usize) -> String {
    let stemmer = Stemmer::create(Algorithm::Italian);
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let matches = |token: &str| -> bool {
        words(token).any(|w| {
            let s = stem(&stemmer, &w);
            terms.iter().any(|t| s.starts_with(t.stem.as_str()))
        })
    };
    let first = tokens.iter().position(|t| matches(t)).unwrap_or(0);
    let start = first.saturating_sub(max_words / 3);
    let end = (start + max_words).min(tokens.len());
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    for (i, token) in tokens[start..end].iter().enumerate() {
        if i > 0 || start > 0 {
            out.push(' ');
        }
        let escaped = escape(token);
        if matches(token) {
            out.push_str("<mark>");
            out.push_str(&escaped);
            out.push_str("</mark>");
        } else {
            out.push_str(&escaped);
        }
    }
    if end < tokens.len() {
        out.push_str(" …");
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Markdown to plain words, roughly: enough for indexing and snippets.
pub fn plain(markdown: &str) -> String {
    markdown.chars().map(|c| if matches!(c, '*' | '_' | '#' | '`' | '>' | '[' | ']' | '|') { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn matches(query: &str, text: &str) -> bool {
        let indexed = stems(text);
        query_terms(query).unwrap().iter().all(|t| indexed.iter().any(|s| s.starts_with(t.stem.as_str())))
    }

    #[test]
    fn italian_forms_meet() {
        assert!(matches("servizi digitali", "Un servizio di digitalizzazione per i comuni"));
        assert!(matches("biciclette", "La bicicletta del comune"));
        assert!(matches("città", "Citta metropolitana"));
        assert!(matches("connettivita", "Connettività"));
        assert!(matches("connettività", "connettivita"));
        assert!(!matches("servizi digitali", "Un servizio per i comuni"));
    }

    #[test]
    fn hostile_queries_become_plain_terms() {
        let stems_of = |q: &str| query_terms(q).unwrap().into_iter().map(|t| t.stem).collect::<Vec<_>>();
        assert_eq!(stems_of("e-bike"), ["bik"]);
        assert_eq!(stems_of("\"NOT\" OR *"), ["not", "or"]);
        assert_eq!(query_terms("\"").unwrap_err().code, "empty_query");
        assert_eq!(query_terms(&"a".repeat(201)).unwrap_err().code, "query_too_long");
        assert!(query_terms(&"parola ".repeat(28)).unwrap().len() <= MAX_QUERY_TERMS);
    }

    #[test]
    fn snippets_mark_and_escape() {
        let s = snippet("Il <b>servizio</b> di digitalizzazione dei comuni", &query_terms("digitali").unwrap(), 20);
        assert_eq!(s, "Il &lt;b&gt;servizio&lt;/b&gt; di <mark>digitalizzazione</mark> dei comuni");
    }
}
