//! Surveys: the charts of their results (SVG drawn by `charts-rs`, each with its text
//! alternative), the exports of their answers (CSV and XLSX) and the invitation e-mail. The
//! routes are in `routes/surveys/`; the rules in `cit_core::surveys`.

pub mod charts;
pub mod export;

use cit_store::requests::OutMail;

use crate::mail::templates::Partner;

/// The link a member body answers through.
pub fn invitation_link(site: &str, survey: &str, secret: &str) -> String {
    format!("{site}/questionari/{survey}/invito/{secret}")
}

/// To a member body: its own link to a survey. Sent once per body and survey.
pub fn invitation_mail(p: &Partner<'_>, survey_title: &str, ente_name: &str, link: &str, to: &str) -> OutMail {
    let body = format!(
        "Alla cortese attenzione di {ente_name},\n\nvi chiediamo di rispondere al questionario «{survey_title}».\n\n\
         Il collegamento è riservato al vostro ente: potete salvare le risposte e completarle in più volte.\n\n\
         {link}\n\n--\n{}\n{}\n\nQuesto messaggio è stato inviato automaticamente.\n",
        p.name, p.site
    );
    OutMail::new("survey_invitation", to, format!("[{}] Questionario: {survey_title}", p.name), body)
}
