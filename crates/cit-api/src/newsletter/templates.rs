//! The Italian messages of the newsletter. Plain text: a campaign is written in Markdown, which
//! reads as it is.

use chrono::{DateTime, Utc};
use cit_store::newsletter::List;
use cit_store::requests::OutMail;

use crate::mail::templates::Partner;

/// What every message of one list needs.
pub struct ListMail<'a> {
    pub partner: &'a Partner<'a>,
    pub tenant: &'a str,
    pub list: &'a List,
}

impl ListMail<'_> {
    pub fn confirm_link(&self, token: &str) -> String {
        format!("{}/newsletter/conferma/{token}", self.partner.site)
    }

    pub fn unsubscribe_link(&self, token: &str) -> String {
        format!("{}/newsletter/disiscrizione/{token}", self.partner.site)
    }

    fn signature(&self) -> String {
        format!("\n--\n{}\n{}\n", self.partner.name, self.partner.site)
    }

    /// The double opt-in: the link that confirms the subscription.
    pub fn confirm(&self, to: &str, token: &str, expires: DateTime<Utc>) -> OutMail {
        let body = format!(
            "Buongiorno,\n\nabbiamo ricevuto una richiesta di iscrizione di questo indirizzo alla newsletter «{}».\n\nPer confermarla apri questo collegamento e premi «Conferma l'iscrizione»:\n{}\n\nIl collegamento vale fino al {} (UTC). Se non hai chiesto tu l'iscrizione, ignora questo messaggio: senza conferma non riceverai nulla.\n{}",
            self.list.title,
            self.confirm_link(token),
            expires.format("%d/%m/%Y %H:%M"),
            self.signature()
        );
        OutMail::new(
            "newsletter_confirm",
            to,
            format!("[{}] Conferma l'iscrizione alla newsletter «{}»", self.partner.name, self.list.title),
            body,
        )
    }

    /// To an address that is subscribed already: nothing changed, and how to leave.
    pub fn already(&self, to: &str, unsubscribe: &str) -> OutMail {
        let body = format!(
            "Buongiorno,\n\nabbiamo ricevuto una nuova richiesta di iscrizione alla newsletter «{}», ma questo indirizzo è già iscritto: non devi fare nulla.\n\nSe non vuoi più riceverla:\n{}\n{}",
            self.list.title,
            self.unsubscribe_link(unsubscribe),
            self.signature()
        );
        OutMail::new(
            "newsletter_already",
            to,
            format!("[{}] Sei già iscritto alla newsletter «{}»", self.partner.name, self.list.title),
            body,
        )
    }

    /// One message of a campaign, with the one-click unsubscribe (RFC 8058) in its headers and a
    /// link at the bottom.
    pub fn campaign(&self, to: &str, subject: &str, markdown: &str, unsubscribe: &str, due: DateTime<Utc>) -> OutMail {
        let link = self.unsubscribe_link(unsubscribe);
        let body = format!(
            "{}\n\n--\nRicevi questo messaggio perché sei iscritto alla newsletter «{}» di {}.\nPer non riceverla più: {link}\n",
            markdown.trim_end(),
            self.list.title,
            self.partner.name
        );
        let mut mail = OutMail::new("newsletter", to, subject.to_owned(), body);
        mail.headers = vec![
            ("List-Unsubscribe".into(), format!("<{link}>")),
            ("List-Unsubscribe-Post".into(), "List-Unsubscribe=One-Click".into()),
            ("List-Id".into(), format!("{} <{}.{}.cit>", self.list.title, self.list.slug, self.tenant)),
            ("Precedence".into(), "bulk".into()),
        ];
        mail.due_at = Some(due);
        mail
    }
}

/// An entry of a digest: title, summary, link, and (events) when.
pub struct DigestItem {
    pub title: String,
    pub summary: String,
    pub link: String,
    pub when: Option<String>,
}

/// The Markdown of a digest of the latest news and the upcoming events.
pub fn digest(intro: &str, news: &[DigestItem], events: &[DigestItem]) -> String {
    let mut out = String::new();
    if !intro.trim().is_empty() {
        out.push_str(intro.trim());
        out.push_str("\n\n");
    }
    let mut section = |title: &str, items: &[DigestItem]| {
        if items.is_empty() {
            return;
        }
        out.push_str(&format!("## {title}\n\n"));
        for i in items {
            match &i.when {
                Some(w) => out.push_str(&format!("- **{}** ({w})  \n", i.title)),
                None => out.push_str(&format!("- **{}**  \n", i.title)),
            }
            if !i.summary.is_empty() {
                out.push_str(&format!("  {}  \n", i.summary));
            }
            out.push_str(&format!("  {}\n", i.link));
        }
        out.push('\n');
    };
    section("Notizie", news);
    section("Prossimi eventi", events);
    if out.is_empty() {
        out.push_str("Nessuna novità in questo periodo.\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_lists_news_then_events_and_says_when_there_is_nothing() {
        let n = DigestItem {
            title: "PNRR".into(),
            summary: "Bando".into(),
            link: "https://s/notizie/pnrr".into(),
            when: None,
        };
        let e = DigestItem {
            title: "Webinar".into(),
            summary: String::new(),
            link: "https://s/eventi/w".into(),
            when: Some("11 marzo".into()),
        };
        let md = digest("Ciao", &[n], &[e]);
        assert!(md.starts_with("Ciao\n\n## Notizie\n\n- **PNRR**"), "{md}");
        assert!(md.contains("## Prossimi eventi\n\n- **Webinar** (11 marzo)"), "{md}");
        assert_eq!(digest("", &[], &[]), "Nessuna novità in questo periodo.\n");
    }
}
