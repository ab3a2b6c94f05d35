//! The Italian messages about an event. Plain text, with the event's `.ics` where the person
//! holds a place.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use cit_core::events::EventFacts;
use cit_store::events::{Registration, reminder_key};
use cit_store::requests::{MailAttachment, OutMail};

use crate::mail::templates::Partner;

/// What every message about one event needs.
pub struct EventMail<'a> {
    pub partner: &'a Partner<'a>,
    pub tenant: &'a str,
    pub event: uuid::Uuid,
    pub slug: &'a str,
    pub facts: &'a EventFacts,
}

/// "martedì 10 marzo 2027, ore 10:00" in the event's own offset.
pub fn when(at: DateTime<FixedOffset>) -> String {
    const DAYS: [&str; 7] = ["lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"];
    const MONTHS: [&str; 12] = [
        "gennaio",
        "febbraio",
        "marzo",
        "aprile",
        "maggio",
        "giugno",
        "luglio",
        "agosto",
        "settembre",
        "ottobre",
        "novembre",
        "dicembre",
    ];
    use chrono::Datelike;
    let day = DAYS[at.weekday().num_days_from_monday() as usize];
    let month = MONTHS[at.month0() as usize];
    format!("{day} {} {month} {}, ore {}", at.day(), at.year(), at.format("%H:%M"))
}

impl EventMail<'_> {
    pub fn page(&self) -> String {
        format!("{}/eventi/{}", self.partner.site, self.slug)
    }

    pub fn cancel_link(&self, secret: &str) -> String {
        format!("{}/eventi/iscrizione/{secret}", self.partner.site)
    }

    fn ics(&self) -> MailAttachment {
        let uid = format!("{}@{}.cit", self.event, self.tenant);
        MailAttachment {
            name: "evento.ics".into(),
            content_type: "text/calendar; charset=utf-8; method=PUBLISH".into(),
            content: super::calendar(&uid, self.facts, &self.page(), self.partner.name),
        }
    }

    fn details(&self) -> String {
        let mut out = format!("«{}»\n{}\n", self.facts.title, when(self.facts.start));
        if let Some(room) = &self.facts.online_room_url {
            out.push_str(&format!("Stanza online: {room}\n"));
        }
        out.push_str(&format!("Pagina dell'evento: {}\n", self.page()));
        out
    }

    fn signature(&self) -> String {
        format!(
            "\n--\n{}\n{}\n\nQuesto messaggio è stato inviato automaticamente: per annullare usa il collegamento indicato sopra.\n",
            self.partner.name, self.partner.site
        )
    }

    fn subject(&self, what: &str) -> String {
        format!("[{}] {what}: {}", self.partner.name, self.facts.title)
    }

    /// To the registrant: a place is theirs (`promoted`: it came from the waiting list).
    pub fn confirmed(&self, r: &Registration, secret: &str, promoted: bool) -> OutMail {
        let opening = if promoted {
            "si è liberato un posto e la tua iscrizione dalla lista d'attesa è ora confermata"
        } else {
            "la tua iscrizione è confermata"
        };
        let body = format!(
            "Gentile {},\n\n{opening}:\n\n{}\nIn allegato trovi l'evento da aggiungere al tuo calendario.\n\nSe non puoi più partecipare, annulla l'iscrizione qui, così il posto passa a chi è in attesa:\n{}\n{}",
            r.name,
            self.details(),
            self.cancel_link(secret),
            self.signature()
        );
        let subject = self.subject(if promoted { "Posto confermato" } else { "Iscrizione confermata" });
        let mut mail = OutMail::new(
            if promoted { "registration_promoted" } else { "registration_confirmed" },
            &r.email,
            subject,
            body,
        );
        mail.attachments.push(self.ics());
        mail
    }

    /// To the registrant: the places are taken, they wait.
    pub fn waiting(&self, r: &Registration, secret: &str, ahead: u64) -> OutMail {
        let body = format!(
            "Gentile {},\n\ni posti per questo evento sono esauriti e sei in lista d'attesa{}:\n\n{}\nSe si libera un posto ti scriveremo subito.\n\nPer uscire dalla lista d'attesa:\n{}\n{}",
            r.name,
            if ahead > 0 { format!(" (prima di te: {ahead})") } else { String::new() },
            self.details(),
            self.cancel_link(secret),
            self.signature()
        );
        OutMail::new("registration_waiting", &r.email, self.subject("In lista d'attesa"), body)
    }

    /// To an address that was registered already: where it stands, and the link again.
    pub fn already(&self, r: &Registration, secret: &str) -> OutMail {
        let state = match r.status {
            cit_core::events::RegistrationStatus::Waiting => "sei in lista d'attesa",
            _ => "la tua iscrizione è confermata",
        };
        let body = format!(
            "Gentile {},\n\nrisulti già iscritto a questo evento: {state}.\n\n{}\nPer annullare l'iscrizione:\n{}\n{}",
            r.name,
            self.details(),
            self.cancel_link(secret),
            self.signature()
        );
        OutMail::new("registration_again", &r.email, self.subject("Sei già iscritto"), body)
    }

    /// To the registrant: the cancellation is recorded.
    pub fn cancelled(&self, r: &Registration) -> OutMail {
        let body = format!(
            "Gentile {},\n\nabbiamo annullato la tua iscrizione a:\n\n{}\nSe cambi idea puoi iscriverti di nuovo dalla pagina dell'evento, se ci sono ancora posti.\n{}",
            r.name,
            self.details(),
            self.signature()
        );
        OutMail::new("registration_cancelled", &r.email, self.subject("Iscrizione annullata"), body)
    }

    /// To a confirmed registrant, `hours` before the start (none when that is already past).
    pub fn reminder(&self, r: &Registration, secret: &str, hours: u32, now: DateTime<Utc>) -> Option<OutMail> {
        let due = self.facts.start.with_timezone(&Utc) - Duration::hours(i64::from(hours));
        if hours == 0 || due <= now {
            return None;
        }
        let body = format!(
            "Gentile {},\n\nti ricordiamo l'evento a cui sei iscritto:\n\n{}\nSe non puoi più partecipare, annulla l'iscrizione:\n{}\n{}",
            r.name,
            self.details(),
            self.cancel_link(secret),
            self.signature()
        );
        let mut mail = OutMail::new("registration_reminder", &r.email, self.subject("Promemoria"), body);
        mail.attachments.push(self.ics());
        mail.dedupe = Some(reminder_key(r.id));
        mail.due_at = Some(due);
        Some(mail)
    }

    /// To a member body: an invitation, once per body and event.
    pub fn invitation(&self, ente: &str, ente_name: &str, to: &str) -> OutMail {
        let body = format!(
            "Alla cortese attenzione di {ente_name},\n\nsiete invitati a:\n\n{}\n{}\nPer iscrivervi: {}\n{}",
            self.details(),
            if self.facts.summary.is_empty() { String::new() } else { format!("{}\n", self.facts.summary) },
            self.page(),
            self.signature()
        );
        let mut mail = OutMail::new("event_invitation", to, self.subject("Invito"), body);
        mail.dedupe = Some(format!("invitation:{}:{ente}", self.event));
        mail
    }
}
