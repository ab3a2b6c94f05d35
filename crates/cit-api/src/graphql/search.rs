//! The root field `search(q: …)`: the REST search (`GET …/search`) in GraphQL, with the same
//! arguments, ranking, facets, snippets and errors, and each hit's entry as its typed object.

use std::sync::Arc;

use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputValue, Object, TypeRef, Union};
use async_graphql::{Name, Value};
use cit_core::search::query_terms;
use cit_store::{EntryStatus, SearchQuery};

use super::context::{Node, ReqCtx};
use super::errors::{GqlError, GqlResult, invalid, shared};
use super::plan::Plan;
use super::query::{given, root, statuses};
use super::schema::{STATUS_ENUM, fallible, object, prime, status_name, value_field, wanted};
use crate::routes::search::{SearchHitView, SearchView, run};

/// The union of every content type's object, for `SearchHit.entry`.
const ANY_ENTRY: &str = "AnyEntry";
pub(crate) const DEFAULT_LIMIT: i64 = 10;
pub(crate) const MAX_LIMIT: i64 = 50;

/// An answer, as the fields below it read it.
struct Answer {
    rc: Arc<ReqCtx>,
    view: SearchView,
    statuses: Arc<[EntryStatus]>,
}

struct Hit {
    rc: Arc<ReqCtx>,
    hit: SearchHitView,
    statuses: Arc<[EntryStatus]>,
}

/// The types `search` answers with.
pub(crate) fn register(
    mut b: async_graphql::dynamic::SchemaBuilder,
    plan: &Arc<Plan>,
) -> async_graphql::dynamic::SchemaBuilder {
    let mut hit = Object::new("SearchHit")
        .description("An entry that matches, most relevant first.")
        .field(hit_field("id", TypeRef::named_nn(TypeRef::ID), |h| Value::String(h.id.to_string())))
        .field(
            hit_field("type", TypeRef::named_nn(TypeRef::STRING), |h| Value::String(h.type_id.clone()))
                .description("The api id of its content type (`notizia`)."),
        )
        .field(hit_field("slug", TypeRef::named_nn(TypeRef::STRING), |h| Value::String(h.slug.clone())))
        .field(hit_field("status", TypeRef::named_nn(STATUS_ENUM), |h| {
            let s = EntryStatus::ALL.into_iter().find(|s| s.as_str() == h.status).unwrap_or(EntryStatus::Published);
            Value::Enum(Name::new(status_name(s)))
        }))
        .field(hit_field("title", TypeRef::named_nn(TypeRef::STRING), |h| Value::String(h.title.clone())))
        .field(
            hit_field("snippet", TypeRef::named_nn(TypeRef::STRING), |h| Value::String(h.snippet.clone()))
                .description("A piece of the text with the matches in `<mark>`; HTML-escaped."),
        )
        .field(
            hit_field("score", TypeRef::named_nn(TypeRef::FLOAT), |h| Value::from(h.score))
                .description("Relevance; higher is better. Comparable only within one answer."),
        );
    if !plan.types.is_empty() {
        let mut union = Union::new(ANY_ENTRY).description("An entry of any content type.");
        for t in &plan.types {
            union = union.possible_type(t.name.clone());
        }
        b = b.register(union);
        hit = hit.field(entry_field(plan.clone()));
    }
    let facet = Object::new("SearchFacet")
        .description("How many matches have a value.")
        .field(
            value_field("value", TypeRef::named_nn(TypeRef::STRING))
                .description("A content type api id, or a topic id."),
        )
        .field(
            value_field("title", TypeRef::named(TypeRef::STRING)).description("The topic's title, for topic facets."),
        )
        .field(value_field("count", TypeRef::named_nn(TypeRef::INT)));
    let facets = Object::new("SearchFacets")
        .description("Matches by content type and by topic (`argomenti`), most first.")
        .field(value_field("types", TypeRef::named_nn_list_nn("SearchFacet")))
        .field(value_field("topics", TypeRef::named_nn_list_nn("SearchFacet")));
    let result = Object::new("SearchResult")
        .description("A page of matches, how many there are in all, and facets.")
        .field(Field::new("total", TypeRef::named_nn(TypeRef::INT), |ctx| {
            let total = ctx.parent_value.downcast_ref::<Answer>().map(|a| a.view.total);
            FieldFuture::Value(total.map(|t| FieldValue::value(i32::try_from(t).unwrap_or(i32::MAX))))
        }))
        .field(hits_field(plan.clone()))
        .field(Field::new("facets", TypeRef::named_nn("SearchFacets"), |ctx| {
            let facets = ctx.parent_value.downcast_ref::<Answer>().map(|a| {
                let list = |fs: &[crate::routes::search::Facet]| {
                    Value::List(
                        fs.iter()
                            .map(|f| {
                                object([
                                    ("value", Value::String(f.value.clone())),
                                    ("title", f.title.clone().map_or(Value::Null, Value::String)),
                                    ("count", Value::from(i32::try_from(f.count).unwrap_or(i32::MAX))),
                                ])
                            })
                            .collect(),
                    )
                };
                object([("types", list(&a.view.facets.types)), ("topics", list(&a.view.facets.topics))])
            });
            FieldFuture::Value(facets.map(FieldValue::value))
        }));
    b.register(hit).register(facet).register(facets).register(result)
}

fn hit_field(name: &'static str, ty: TypeRef, get: fn(&SearchHitView) -> Value) -> Field {
    Field::new(name, ty, move |ctx| {
        FieldFuture::Value(ctx.parent_value.downcast_ref::<Hit>().map(|h| FieldValue::value(get(&h.hit))))
    })
}

fn hits_field(plan: Arc<Plan>) -> Field {
    Field::new("hits", TypeRef::named_nn_list_nn("SearchHit"), move |ctx| {
        let plan = plan.clone();
        fallible(None, async move {
            let Some(a) = ctx.parent_value.downcast_ref::<Answer>() else { return Ok(None) };
            let la = ctx.look_ahead();
            let entry = la.field("entry");
            if entry.exists() && !a.view.data.is_empty() {
                // The hits' entries in one statement, then each type's selected references.
                let ids: Vec<uuid::Uuid> = a.view.data.iter().map(|h| h.id).collect();
                let loaded = a.rc.loader.load_many(ids).await.map_err(|e| shared(&e))?;
                for t in &plan.types {
                    let of_type: Vec<_> = loaded.values().filter(|e| e.type_id == t.ct.id.as_str()).collect();
                    if !of_type.is_empty() {
                        prime(&a.rc, wanted(&entry, t, of_type.iter().copied())).await;
                    }
                }
            }
            Ok(Some(FieldValue::list(a.view.data.iter().map(|h| {
                FieldValue::owned_any(Hit { rc: a.rc.clone(), hit: clone_hit(h), statuses: a.statuses.clone() })
            }))))
        })
    })
}

fn clone_hit(h: &SearchHitView) -> SearchHitView {
    SearchHitView {
        id: h.id,
        type_id: h.type_id.clone(),
        slug: h.slug.clone(),
        status: h.status.clone(),
        title: h.title.clone(),
        snippet: h.snippet.clone(),
        score: h.score,
    }
}

fn entry_field(plan: Arc<Plan>) -> Field {
    Field::new("entry", TypeRef::named(ANY_ENTRY), move |ctx| {
        let plan = plan.clone();
        fallible(None, async move {
            let Some(h) = ctx.parent_value.downcast_ref::<Hit>() else { return Ok(None) };
            let Some(t) = plan.types.iter().find(|t| t.ct.id.as_str() == h.hit.type_id) else { return Ok(None) };
            let entry = h.rc.loader.load_one(h.hit.id).await.map_err(|e| shared(&e))?;
            Ok(entry.filter(|e| h.statuses.contains(&e.status)).map(|entry| {
                FieldValue::owned_any(Node { entry, statuses: h.statuses.clone(), rc: h.rc.clone() })
                    .with_type(t.name.clone())
            }))
        })
    })
    .description("The entry itself, with all its fields: select them with `... on Notizia { … }`.")
}

/// `search(q, types, topic, locale, status, limit, offset)`.
pub(crate) fn search_field() -> Field {
    Field::new("search", TypeRef::named_nn("SearchResult"), |ctx| {
        fallible(None, async move {
            let rc = root(&ctx)?;
            let args = &ctx.args;
            let q = args.try_get("q").and_then(|v| v.string()).map_err(|e| invalid("q", e.message))?;
            let terms = query_terms(q).map_err(|e| invalid("q", e.message))?;
            let statuses = statuses(args)?;
            let access = rc.access_for(&statuses)?;
            let locale_raw = given(args, "locale").map(|v| v.string().map_err(|e| invalid("locale", e.message))).transpose()?;
            let locale = rc.locale(locale_raw)?;
            let int = |name: &str, default: i64| -> GqlResult<i64> {
                given(args, name).map_or(Ok(default), |v| v.i64().map_err(|e| invalid(name, e.message)))
            };
            let limit = int("limit", DEFAULT_LIMIT)?;
            if !(1..=MAX_LIMIT).contains(&limit) {
                return Err(invalid("limit", format!("limit is between 1 and {MAX_LIMIT}")));
            }
            let offset = usize::try_from(int("offset", 0)?).map_err(|_| invalid("offset", "0 or more"))?;
            let mut types = Vec::new();
            if let Some(list) = given(args, "types") {
                for v in list.list().map_err(|e| invalid("types", e.message))?.iter() {
                    types.push(v.string().map_err(|e| invalid("types", e.message))?.to_owned());
                }
            }
            let topic = match given(args, "topic") {
                None => None,
                Some(v) => Some(
                    v.string()
                        .ok()
                        .and_then(|s| s.parse::<uuid::Uuid>().ok())
                        .ok_or_else(|| invalid("topic", "an id of an argomento"))?,
                ),
            };
            let query = SearchQuery {
                terms,
                types,
                topic,
                locale: locale.to_string(),
                statuses: statuses.clone(),
                limit: limit as usize,
                offset,
            };
            let view = run(&rc.store.scoped(access), &query).await.map_err(GqlError::from)?;
            Ok(Some(FieldValue::owned_any(Answer { rc: rc.clone(), view, statuses: statuses.into() })))
        })
    })
    .argument(InputValue::new("q", TypeRef::named_nn(TypeRef::STRING)).description(
        "What to look for (1–200 characters). Words are stemmed: \"servizi digitali\" finds \"servizio di digitalizzazione\".",
    ))
    .argument(
        InputValue::new("types", TypeRef::named_nn_list(TypeRef::STRING))
            .description("Only these content types (api ids: `notizia`, `servizio`)."),
    )
    .argument(InputValue::new("topic", TypeRef::named(TypeRef::ID)).description("Only entries tagged with this topic (an `argomento` id)."))
    .argument(InputValue::new("locale", TypeRef::named(TypeRef::STRING)).description("A locale of the tenant; default its first."))
    .argument(
        InputValue::new("status", TypeRef::named_nn_list(STATUS_ENUM))
            .default_value(Value::List(vec![Value::Enum(Name::new(status_name(EntryStatus::Published)))]))
            .description("Statuses to include. Other than PUBLISHED needs a preview token or an author, editor or admin."),
    )
    .argument(
        InputValue::new("limit", TypeRef::named(TypeRef::INT))
            .default_value(Value::from(DEFAULT_LIMIT as i32))
            .description(format!("Hits per page, 1 to {MAX_LIMIT}.")),
    )
    .argument(InputValue::new("offset", TypeRef::named(TypeRef::INT)).default_value(Value::from(0)).description("Hits to skip."))
    .description("Italian-aware full-text search across the tenant's content types, ranked by relevance, with facets and highlighted snippets.")
}
