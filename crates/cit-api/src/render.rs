//! Markdown to safe HTML for `richtext` fields: CommonMark with tables and strikethrough,
//! then sanitised (no scripts, no event handlers, no `javascript:` links; links get
//! `rel="noopener noreferrer"`).

use std::sync::LazyLock;

use pulldown_cmark::{Options, Parser, html};

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.link_rel(Some("noopener noreferrer"));
    b
});

pub fn markdown_to_html(markdown: &str) -> String {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut raw, Parser::new_ext(markdown, options));
    SANITIZER.clean(&raw).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_sanitises() {
        assert_eq!(markdown_to_html("**Servizi** digitali").trim(), "<p><strong>Servizi</strong> digitali</p>");
        let evil = markdown_to_html("<script>alert(1)</script>\n\ntext <img src=x onerror=alert(1)>");
        assert!(!evil.contains("<script") && !evil.contains("onerror"), "{evil}");
        let link = markdown_to_html("[x](javascript:alert(1))");
        assert!(!link.contains("href=\"javascript:"), "{link}");
        assert!(markdown_to_html("[CIT](https://cit.example)").contains(r#"rel="noopener noreferrer""#));
    }
}
