//! What the editor's pickers offer: for a reference field, the entries it points to (with their
//! titles) and the results of a search in the target type (or, before any search, its first
//! published entries); for a media field, the item chosen and the newest of the library. Every
//! lookup of a form runs at once; one that fails leaves its picker with the ids it has.

use futures_util::future::join_all;

use super::fields::{Choice, Input};
use crate::model::{ContentType, Entry, List, MediaItem};
use crate::pages::{InTenant, enc};

/// Results of a search, and suggestions before one.
const SUGGESTIONS: &str = "8";
/// Newest media items offered by a media picker.
const LIBRARY: &str = "6";

/// A media item as a picker offers it.
fn choice(m: &MediaItem, t: &InTenant, checked: bool) -> Choice {
    let image = m.is_image();
    Choice {
        id: m.id.clone(),
        title: m.name().to_owned(),
        checked,
        thumb: image.then(|| super::super::media::thumb(t, m)),
        meta: match (&m.alt, image) {
            (Some(alt), true) if !alt.is_empty() => format!("Testo alternativo: {alt}"),
            (_, true) => "Immagine senza testo alternativo".into(),
            _ => m.content_type.clone(),
        },
    }
}

/// Fills the choices of every reference and media input of the form.
pub async fn fill(t: &InTenant, ct: &ContentType, inputs: &mut [Input]) {
    let jobs = inputs.iter().map(|input| {
        let field = ct.definition.fields.iter().find(|f| f.name == input.name);
        let to = field.and_then(|f| f.to.clone());
        async move {
            match input.kind.as_str() {
                "reference" if input.editable => references(t, to.as_deref(), input).await,
                "media" if input.editable => media(t, input).await,
                _ => None,
            }
        }
    });
    let filled = join_all(jobs).await;
    for (input, choices) in inputs.iter_mut().zip(filled) {
        if let Some((choices, searched)) = choices {
            input.choices = choices;
            input.searched = searched;
        }
    }
}

async fn references(t: &InTenant, to: Option<&str>, input: &Input) -> Option<(Vec<Choice>, bool)> {
    let unknown =
        |id: &String| Choice { id: id.clone(), title: id.clone(), checked: true, thumb: None, meta: String::new() };
    let Some(to) = to else { return Some((input.selected.iter().map(unknown).collect(), false)) };
    let target: Option<ContentType> = t.get(&t.api(&format!("content-types/{}", enc(to))), &[]).await.ok();
    let path = t.api(&format!("entries/{}", enc(to)));
    let title_field = target.as_ref().and_then(|ct| ct.title_field()).unwrap_or("title").to_owned();
    let ids = input.selected.join(",");
    let id_filter = ("filter[id][in]", ids.as_str());
    let chosen = async {
        if input.selected.is_empty() {
            return Vec::new();
        }
        let query = [id_filter, ("status", "any"), ("limit", "100")];
        t.get::<List<Entry>>(&path, &query).await.map(|l| l.data).unwrap_or_default()
    };
    let search = input.search.trim();
    let contains = format!("filter[{title_field}][contains]");
    let offered = async {
        let mut query = vec![("status", "published"), ("sort", title_field.as_str()), ("limit", SUGGESTIONS)];
        if !search.is_empty() {
            query.push((contains.as_str(), search));
        }
        t.get::<List<Entry>>(&path, &query).await.map(|l| l.data).unwrap_or_default()
    };
    let (chosen, offered) = tokio::join!(chosen, offered);
    let title = |e: &Entry| target.as_ref().map(|ct| ct.title_of(e)).unwrap_or_else(|| e.slug.clone());
    let meta = |e: &Entry| crate::render::status_label(e.shown_status()).to_owned();
    // The selected ones in their order, then what is offered that is not selected.
    let mut choices: Vec<Choice> = input
        .selected
        .iter()
        .map(|id| match chosen.iter().find(|e| &e.id == id) {
            Some(e) => Choice { id: id.clone(), title: title(e), checked: true, thumb: None, meta: meta(e) },
            None => unknown(id),
        })
        .collect();
    choices.extend(offered.iter().filter(|e| !input.selected.contains(&e.id)).map(|e| Choice {
        id: e.id.clone(),
        title: title(e),
        checked: false,
        thumb: None,
        meta: meta(e),
    }));
    Some((choices, !search.is_empty()))
}

async fn media(t: &InTenant, input: &Input) -> Option<(Vec<Choice>, bool)> {
    let newest = async {
        t.get::<List<MediaItem>>(&t.api("media"), &[("limit", LIBRARY)]).await.map(|l| l.data).unwrap_or_default()
    };
    let chosen = async {
        match input.selected.first() {
            Some(id) => t.get::<MediaItem>(&t.api(&format!("media/{}", enc(id))), &[]).await.ok(),
            None => None,
        }
    };
    let (newest, chosen) = tokio::join!(newest, chosen);
    let mut choices = Vec::new();
    match (chosen, input.selected.first()) {
        (Some(m), _) => choices.push(choice(&m, t, true)),
        (None, Some(id)) => {
            choices.push(Choice { id: id.clone(), title: id.clone(), checked: true, thumb: None, meta: String::new() })
        }
        _ => {}
    }
    choices.extend(newest.iter().filter(|m| !input.selected.contains(&m.id)).map(|m| choice(m, t, false)));
    Some((choices, false))
}
