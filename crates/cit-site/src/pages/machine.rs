//! Documents for machines: the sitemap, robots.txt and the Atom feed of the news.

use super::{Answer, Ctx, PageResult, Tree, now_rfc3339, q};
use crate::api::types::{Basic, Notizia};

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

pub async fn sitemap(cx: &Ctx) -> PageResult {
    let mut urls: Vec<(String, Option<String>)> = [
        "/",
        "/servizi",
        "/notizie",
        "/eventi",
        "/progetti",
        "/community",
        "/documenti",
        "/formazione",
        "/argomenti",
        "/dove-siamo",
        "/contatti",
    ]
    .iter()
    .map(|p| (cx.absolute(p), None))
    .collect();
    let sections = [
        ("servizio", "/servizi"),
        ("notizia", "/notizie"),
        ("evento", "/eventi"),
        ("progetto", "/progetti"),
        ("ente", "/community"),
        ("documento", "/documenti"),
        ("pillola", "/formazione"),
        ("argomento", "/argomenti"),
        ("luogo", "/dove-siamo"),
    ];
    for (ty, prefix) in sections {
        let list = cx.list::<Basic>(ty, q(&[("fields", "title"), ("limit", "100"), ("sort", "title")])).await?;
        for e in list.items.into_iter().filter(|e| !e.slug.is_empty()) {
            urls.push((cx.absolute(&format!("{prefix}/{}", e.slug)), e.updated_at));
        }
    }
    let tree = Tree::new(cx.pages().await?);
    for p in tree.pages() {
        urls.push((cx.absolute(&tree.path_of(p)), None));
    }
    let mut body = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for (loc, modified) in urls {
        body.push_str(&format!("  <url><loc>{}</loc>", xml_escape(&loc)));
        if let Some(m) = modified.as_deref().and_then(|m| m.get(..10)) {
            body.push_str(&format!("<lastmod>{}</lastmod>", xml_escape(m)));
        }
        body.push_str("</url>\n");
    }
    body.push_str("</urlset>\n");
    Ok(Answer::Document { content_type: "application/xml; charset=utf-8", body })
}

pub fn robots(cx: &Ctx) -> PageResult {
    let body = format!(
        "User-agent: *\nAllow: {base}/\nDisallow: {base}/anteprima/\n\nSitemap: {sitemap}\n",
        base = cx.base,
        sitemap = cx.absolute("/sitemap.xml")
    );
    Ok(Answer::Document { content_type: "text/plain; charset=utf-8", body })
}

pub async fn feed(cx: &Ctx) -> PageResult {
    let list = cx.list::<Notizia>("notizia", q(&[("sort", "-published_at"), ("limit", "20")])).await?;
    let updated = list.items.first().and_then(|n| n.published_at.clone()).unwrap_or_else(now_rfc3339);
    let name = &cx.theme.file.name;
    let mut body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"it\">\n  <title>{title}</title>\n  <subtitle>Notizie di {title}</subtitle>\n  <id>{id}</id>\n  <link rel=\"self\" type=\"application/atom+xml\" href=\"{feed}\"/>\n  <link rel=\"alternate\" type=\"text/html\" href=\"{news}\"/>\n  <updated>{updated}</updated>\n  <author><name>{body_name}</name></author>\n  <rights>CC BY 4.0</rights>\n",
        title = xml_escape(name),
        id = xml_escape(&cx.absolute("/notizie")),
        feed = xml_escape(&cx.absolute("/notizie/feed.xml")),
        news = xml_escape(&cx.absolute("/notizie")),
        updated = xml_escape(&updated),
        body_name = xml_escape(&cx.theme.file.body),
    );
    for n in &list.items {
        let url = cx.absolute(&format!("/notizie/{}", n.slug));
        let published = n.published_at.as_deref().unwrap_or("");
        body.push_str(&format!(
            "  <entry>\n    <title>{}</title>\n    <id>urn:uuid:{}</id>\n    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n    <published>{}</published>\n    <updated>{}</updated>\n    <summary>{}</summary>\n  </entry>\n",
            xml_escape(&n.title()),
            xml_escape(&n.id),
            xml_escape(&url),
            xml_escape(published),
            xml_escape(n.updated_at.as_deref().unwrap_or(published)),
            xml_escape(n.data.summary.as_deref().unwrap_or("")),
        ));
    }
    body.push_str("</feed>\n");
    Ok(Answer::Document { content_type: "application/atom+xml; charset=utf-8", body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_is_escaped() {
        assert_eq!(xml_escape("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;");
    }
}
