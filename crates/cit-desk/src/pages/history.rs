//! An entry's life after the editor: its status changed from its page (withdraw, archive, bring
//! back as a draft), its revisions with what changed in each, and an older revision restored
//! (as a new revision: the API keeps status and schedule).

use actix_web::web;
use minijinja::context;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::content::as_text;
use super::{InTenant, Posted, enc};
use crate::api::Body;
use crate::error::{DeskError, DeskResult};
use crate::model::{ContentType, Entry, List};
use crate::render::val;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/t/{tenant}/contenuti/{type}/{id}/stato", web::post().to(change_status))
        .route("/t/{tenant}/contenuti/{type}/{id}/revisioni", web::get().to(revisions))
        .route("/t/{tenant}/contenuti/{type}/{id}/revisioni/{n}", web::get().to(diff))
        .route("/t/{tenant}/contenuti/{type}/{id}/revisioni/{n}/ripristina", web::post().to(restore));
}

/// `GET …/revisions`, one item.
#[derive(Debug, Clone, Deserialize, Serialize)]
struct Revision {
    revision: i64,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    author: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    status: String,
}

/// `GET …/revisions/{n}/diff`.
#[derive(Debug, Deserialize)]
struct Diff {
    from: i64,
    to: i64,
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Debug, Deserialize)]
struct Change {
    field: String,
    #[serde(default)]
    before: Value,
    #[serde(default)]
    after: Value,
}

/// What a revision's note says, in Italian.
fn note_label(note: &str) -> String {
    match note {
        "created" => "Creato".into(),
        "updated" => "Modificato".into(),
        "published" => "Pubblicato".into(),
        "unpublished" => "Ritirato (tornato bozza)".into(),
        "archived" => "Archiviato".into(),
        "scheduled_publish" => "Pubblicato dalla programmazione".into(),
        "scheduled_unpublish" => "Ritirato dalla programmazione".into(),
        n => match n.strip_prefix("restored:") {
            Some(r) => format!("Ripristinata la revisione {r}"),
            None => n.to_owned(),
        },
    }
}

/// Who saved a revision: a member's name when the caller may read the members, else the id.
async fn authors(t: &InTenant) -> Vec<(String, String)> {
    #[derive(Deserialize)]
    struct Member {
        user_id: String,
        #[serde(default)]
        name: String,
        #[serde(default)]
        email: String,
    }
    match t.get::<List<Member>>(&t.api("members"), &[]).await {
        Ok(list) => {
            list.data.into_iter().map(|m| (m.user_id, if m.name.is_empty() { m.email } else { m.name })).collect()
        }
        Err(_) => Vec::new(),
    }
}

fn author_label(raw: &str, names: &[(String, String)]) -> String {
    let id = raw.strip_prefix("user:").unwrap_or(raw);
    names.iter().find(|(u, _)| u == id).map(|(_, n)| n.clone()).unwrap_or_else(|| match raw {
        "" => "—".into(),
        r if r.starts_with("token:") => "un token API".into(),
        r if r.starts_with("system") || r.starts_with("scheduler") => "la programmazione".into(),
        r => r.to_owned(),
    })
}

async fn load(t: &InTenant, type_id: &str, id: &str) -> DeskResult<(ContentType, Entry)> {
    let ct: ContentType = t.get(&t.api(&format!("content-types/{}", enc(type_id))), &[]).await?;
    let e: Entry = t.get(&t.api(&format!("entries/{}/{}", enc(type_id), enc(id))), &[("status", "any")]).await?;
    Ok((ct, e))
}

fn entry_href(t: &InTenant, type_id: &str, id: &str) -> String {
    t.link(&format!("contenuti/{}/{}", enc(type_id), enc(id)))
}

/// `POST …/stato`: `stato` is `draft` (withdraw, or bring back from the archive), `archived`
/// or `published`, with the revision the page showed.
async fn change_status(t: InTenant, path: web::Path<(String, String, String)>, form: Posted) -> DeskResult {
    t.require(t.rights.publish)?;
    let (_, type_id, id) = path.into_inner();
    let to = entry_href(&t, &type_id, &id);
    let status = match form.get("stato") {
        Some(s @ ("draft" | "archived" | "published")) => s,
        _ => return Err(DeskError::BadRequest("Stato non valido.".into())),
    };
    let revision: i64 = form.get("revision").and_then(|r| r.parse().ok()).unwrap_or_default();
    let mut body = json!({ "status": status, "revision": revision });
    if status != "published" {
        body["publish_at"] = Value::Null;
    }
    let api = t.api(&format!("entries/{}/{}", enc(&type_id), enc(&id)));
    match t.try_call::<Entry>(Method::PATCH, &api, &[], Body::Json(body)).await? {
        Ok(e) => {
            let text = match e.status.as_str() {
                "archived" => "Contenuto archiviato: non è più sul sito.",
                "published" => "Contenuto pubblicato.",
                _ => "Contenuto ritirato: ora è una bozza e non è più sul sito.",
            };
            Ok(t.redirect_with(&to, "success", text))
        }
        Err(p) if p.status == 409 => Ok(t.redirect_with(
            &to,
            "warning",
            "Qualcun altro ha salvato questo contenuto nel frattempo: controlla la versione attuale e riprova.",
        )),
        Err(p) => Ok(t.redirect_with(&to, "danger", format!("Operazione non riuscita: {}", p.message()))),
    }
}

#[derive(Debug, Serialize)]
struct RevisionRow {
    revision: i64,
    created_at: Option<String>,
    author: String,
    note: String,
    status: String,
    href: String,
    current: bool,
}

async fn revisions(t: InTenant, path: web::Path<(String, String, String)>) -> DeskResult {
    t.require(t.rights.write)?;
    let (_, type_id, id) = path.into_inner();
    let (ct, e) = load(&t, &type_id, &id).await?;
    let api = t.api(&format!("entries/{}/{}/revisions", enc(&type_id), enc(&id)));
    let (list, names) = tokio::join!(t.get::<List<Revision>>(&api, &[]), authors(&t));
    let rows: Vec<RevisionRow> = list?
        .data
        .into_iter()
        .map(|r| RevisionRow {
            href: t.link(&format!("contenuti/{}/{}/revisioni/{}", enc(&type_id), enc(&id), r.revision)),
            current: r.revision == e.revision,
            author: author_label(&r.author, &names),
            note: note_label(&r.note),
            revision: r.revision,
            created_at: r.created_at,
            status: r.status,
        })
        .collect();
    let title = ct.title_of(&e);
    let page = t
        .page(format!("Revisioni: {title}"), "contenuti")
        .crumb("Contenuti", Some(t.link("contenuti")))
        .crumb(ct.plural().to_owned(), Some(t.link(&format!("contenuti/{}", enc(&type_id)))))
        .crumb(title, Some(entry_href(&t, &type_id, &id)));
    Ok(page.render("content/revisions.html", context! { rows => val(&rows), entry => val(&e) }))
}

#[derive(Debug, Serialize)]
struct ChangeRow {
    label: String,
    before: String,
    after: String,
}

async fn diff(t: InTenant, path: web::Path<(String, String, String, i64)>) -> DeskResult {
    t.require(t.rights.write)?;
    let (_, type_id, id, n) = path.into_inner();
    let (ct, e) = load(&t, &type_id, &id).await?;
    let api = t.api(&format!("entries/{}/{}/revisions/{n}/diff", enc(&type_id), enc(&id)));
    // An older revision is compared with the current one (what restoring it would change);
    // the current one with the revision before it.
    let against = e.revision.to_string();
    let query: &[(&str, &str)] = if n == e.revision { &[] } else { &[("against", against.as_str())] };
    let diff: Diff = t.get(&api, query).await?;
    let label = |name: &str| {
        ct.definition.fields.iter().find(|f| f.name == name).map(|f| f.label().to_owned()).unwrap_or(name.to_owned())
    };
    let changes: Vec<ChangeRow> = diff
        .changes
        .iter()
        .map(|c| ChangeRow { label: label(&c.field), before: as_text(&c.before), after: as_text(&c.after) })
        .collect();
    let title = ct.title_of(&e);
    let revisions_href = t.link(&format!("contenuti/{}/{}/revisioni", enc(&type_id), enc(&id)));
    let page = t
        .page(format!("Revisione {n}: {title}"), "contenuti")
        .crumb("Contenuti", Some(t.link("contenuti")))
        .crumb(ct.plural().to_owned(), Some(t.link(&format!("contenuti/{}", enc(&type_id)))))
        .crumb(title, Some(entry_href(&t, &type_id, &id)))
        .crumb("Revisioni", Some(revisions_href.clone()));
    Ok(page.render(
        "content/diff.html",
        context! {
            changes => val(&changes),
            from => diff.from,
            to => diff.to,
            current => n == e.revision,
            restore => format!("{revisions_href}/{n}/ripristina"),
            entry => val(&e),
        },
    ))
}

async fn restore(t: InTenant, path: web::Path<(String, String, String, i64)>, _form: Posted) -> DeskResult {
    t.require(t.rights.write)?;
    let (_, type_id, id, n) = path.into_inner();
    let api = t.api(&format!("entries/{}/{}/revisions/{n}/restore", enc(&type_id), enc(&id)));
    let to = entry_href(&t, &type_id, &id);
    match t.try_call::<Entry>(Method::POST, &api, &[], Body::None).await? {
        Ok(e) => Ok(t.redirect_with(
            &to,
            "success",
            format!("Revisione {n} ripristinata: ora è la revisione {}.", e.revision),
        )),
        Err(p) => Ok(t.redirect_with(&to, "danger", format!("Ripristino non riuscito: {}", p.message()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_and_authors_are_said_in_italian() {
        assert_eq!(note_label("restored:3"), "Ripristinata la revisione 3");
        assert_eq!(note_label("published"), "Pubblicato");
        let names = vec![("u1".to_owned(), "Anna".to_owned())];
        assert_eq!(author_label("user:u1", &names), "Anna");
        assert_eq!(author_label("user:u2", &names), "user:u2");
    }
}
