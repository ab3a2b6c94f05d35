//! Editors' mutations. Each one does what the REST endpoint does, in the same order, with the
//! same permission checks, validation and error codes: `createX` is `POST /entries/x`,
//! `updateX` is `PATCH /entries/x/{id}` (data merged key by key; null clears a field),
//! `publishX` / `unpublishX` are a PATCH of the status, `deleteX` is the DELETE.

use std::sync::Arc;

use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldValue, InputValue, ObjectAccessor, ResolverContext, TypeRef, ValueAccessor};
use chrono::{DateTime, Utc};
use cit_core::content::{EntryInput, Slug, WriteError, WriteInput};
use cit_core::{Action, EntryId};
use cit_store::{EntryKey, EntryStatus};
use serde_json::Map;

use super::context::{Node, ReqCtx};
use super::errors::{GqlError, GqlResult};
use super::plan::{Shape, TypePlan};
use super::schema::{STATUS_ENUM, fallible, status_of};
use crate::error::{ApiError, FieldError};

fn root<'a>(ctx: &ResolverContext<'a>) -> GqlResult<&'a Arc<ReqCtx>> {
    ctx.parent_value
        .downcast_ref::<Arc<ReqCtx>>()
        .ok_or_else(|| GqlError::Api(ApiError::internal(anyhow::anyhow!("request context missing"))))
}

fn invalid_field(field: &str, code: &str, message: impl Into<String>) -> GqlError {
    GqlError::Api(ApiError::Validation(vec![FieldError::new(field, code, message)]))
}

fn given<'a>(args: &'a ObjectAccessor<'a>, name: &str) -> Option<ValueAccessor<'a>> {
    args.get(name).filter(|v| !v.is_null())
}

fn string<'a>(args: &'a ObjectAccessor<'a>, name: &str) -> GqlResult<Option<&'a str>> {
    given(args, name).map(|v| v.string().map_err(|e| invalid_field(name, "invalid_type", e.message))).transpose()
}

/// A nullable date-time argument: absent (None), null (Some(None)) or a value.
fn time_arg(args: &ObjectAccessor<'_>, name: &str) -> GqlResult<Option<Option<DateTime<Utc>>>> {
    let Some(v) = args.get(name) else { return Ok(None) };
    if v.is_null() {
        return Ok(Some(None));
    }
    let raw = v.string().map_err(|e| invalid_field(name, "invalid_type", e.message))?;
    DateTime::parse_from_rfc3339(raw)
        .map(|t| Some(Some(t.with_timezone(&Utc))))
        .map_err(|_| invalid_field(name, "invalid_value", "expected an RFC 3339 date-time with an offset"))
}

fn status_arg(args: &ObjectAccessor<'_>) -> GqlResult<Option<EntryStatus>> {
    given(args, "status")
        .map(|v| {
            v.enum_name()
                .ok()
                .and_then(status_of)
                .ok_or_else(|| invalid_field("status", "invalid_status", "status is draft, published or archived"))
        })
        .transpose()
}

fn entry_id(args: &ObjectAccessor<'_>) -> GqlResult<EntryId> {
    string(args, "id")?
        .and_then(|s| s.parse::<uuid::Uuid>().ok())
        .map(EntryId::from)
        .ok_or(GqlError::Api(ApiError::NotFound("entry")))
}

/// The data input as the REST API receives it: field names as in the content type, enum values
/// as stored. Keys given as null stay null (they clear a field on update).
fn data_of(t: &TypePlan, input: &ObjectAccessor<'_>) -> GqlResult<Map<String, serde_json::Value>> {
    let mut out = Map::new();
    for (key, v) in input.iter() {
        let Some(f) = t.field_by_gql(key.as_str()) else {
            return Err(invalid_field(
                &format!("data.{key}"),
                "unknown_field",
                format!("`{}` has no field `{key}`", t.ct.id),
            ));
        };
        let mut json = v
            .as_value()
            .clone()
            .into_json()
            .map_err(|e| invalid_field(&format!("data.{key}"), "invalid_type", e.to_string()))?;
        if let (Shape::Enum(e), serde_json::Value::String(name)) = (&f.shape, &json)
            && let Some(raw) = e.raw_of(name)
        {
            json = serde_json::Value::String(raw.to_owned());
        }
        out.insert(f.field.name.to_string(), json);
    }
    Ok(out)
}

/// A refused write, with the arguments named as GraphQL names them.
fn refused(e: WriteError) -> GqlError {
    match e {
        WriteError::Input { input, code, message } => {
            let name = match input {
                WriteInput::PublishAt => "publishAt",
                WriteInput::TranslationOf => "translationOf",
                other => other.as_str(),
            };
            invalid_field(name, code, message)
        }
        data => GqlError::Api(data.into()),
    }
}

fn slug_arg(args: &ObjectAccessor<'_>) -> GqlResult<Option<Slug>> {
    string(args, "slug")?
        .map(|s| Slug::parse(s).map_err(|e| invalid_field("slug", "invalid_value", e.message)))
        .transpose()
}

fn done(rc: &Arc<ReqCtx>, entry: cit_store::Entry) -> Option<FieldValue<'static>> {
    Some(FieldValue::owned_any(Node { entry: Arc::new(entry), statuses: EntryStatus::ALL.into(), rc: rc.clone() }))
}

fn schedule_args(field: Field) -> Field {
    field
        .argument(
            InputValue::new("slug", TypeRef::named(TypeRef::STRING))
                .description("Unique in the type and locale; by default derived from the title."),
        )
        .argument(
            InputValue::new("status", TypeRef::named(STATUS_ENUM))
                .description("PUBLISHED or ARCHIVED need the right to publish (editors, admins, `write` tokens)."),
        )
        .argument(
            InputValue::new("publishAt", TypeRef::named("DateTime"))
                .description("When a draft publishes itself; null clears it."),
        )
        .argument(
            InputValue::new("unpublishAt", TypeRef::named("DateTime"))
                .description("When a published entry archives itself; null clears it."),
        )
}

pub(crate) fn create_field(t: &Arc<TypePlan>) -> Field {
    let plan = t.clone();
    let f = Field::new(format!("create{}", t.name), TypeRef::named_nn(t.name.clone()), move |ctx| {
        let plan = plan.clone();
        fallible(Some(plan.clone()), async move {
            let rc = root(&ctx)?;
            create(rc, &plan, &ctx.args).await.map(|e| done(rc, e))
        })
    })
    .argument(InputValue::new("data", TypeRef::named_nn(format!("{}Input", t.name))).description("The entry's data."))
    .argument(InputValue::new("locale", TypeRef::named(TypeRef::STRING)).description("Default: the tenant's first locale."))
    .argument(
        InputValue::new("translationOf", TypeRef::named(TypeRef::ID))
            .description("The entry (same type) this one translates."),
    )
    .description(format!(
        "Create {}. Drafts may be incomplete; publishing or scheduling needs every required field and the right to publish.",
        t.ct.singular
    ));
    schedule_args(f)
}

async fn create(rc: &Arc<ReqCtx>, t: &TypePlan, args: &ObjectAccessor<'_>) -> GqlResult<cit_store::Entry> {
    let mut input =
        EntryInput { status: status_arg(args)?, publish_at: time_arg(args, "publishAt")?, ..EntryInput::default() };
    let access = rc.grant(input.create_action())?;
    let data = given(args, "data")
        .ok_or_else(|| invalid_field("data", "missing_field", "`data` is required"))?
        .object()
        .map_err(|e| invalid_field("data", "invalid_type", e.message))?;
    input.data = Some(data_of(t, &data)?);
    input.locale = string(args, "locale")?.map(str::to_owned);
    input.translation_of = string(args, "translationOf")?
        .map(|s| s.parse::<uuid::Uuid>().map_err(|_| invalid_field("translationOf", "invalid_value", "expected an id")))
        .transpose()?
        .map(EntryId::from);
    input.slug = slug_arg(args)?;
    input.unpublish_at = time_arg(args, "unpublishAt")?;
    let new = input.plan_create(&t.ct, &rc.tenant.locales).map_err(refused)?;
    Ok(rc.store.scoped(&access).create_entry(&t.ct, new).await?)
}

pub(crate) fn update_field(t: &Arc<TypePlan>) -> Field {
    let plan = t.clone();
    let f = Field::new(format!("update{}", t.name), TypeRef::named_nn(t.name.clone()), move |ctx| {
        let plan = plan.clone();
        fallible(Some(plan.clone()), async move {
            let rc = root(&ctx)?;
            let id = entry_id(&ctx.args)?;
            let data = match given(&ctx.args, "data") {
                Some(v) => Some(data_of(&plan, &v.object().map_err(|e| invalid_field("data", "invalid_type", e.message))?)?),
                None => None,
            };
            let change = Change {
                data,
                slug: slug_arg(&ctx.args)?,
                status: status_arg(&ctx.args)?,
                publish_at: time_arg(&ctx.args, "publishAt")?,
                unpublish_at: time_arg(&ctx.args, "unpublishAt")?,
                revision: revision_arg(&ctx.args)?,
            };
            update(rc, &plan, id, change).await.map(|e| done(rc, e))
        })
    })
    .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)).description("The entry's id."))
    .argument(InputValue::new("data", TypeRef::named(format!("{}Input", t.name))).description("Fields to change; null clears one."))
    .argument(revision_input())
    .description(format!(
        "Change {}: merge data, change slug, status or schedule. Changing a published entry, or publishing, needs the right to publish.",
        t.ct.singular
    ));
    schedule_args(f)
}

fn revision_input() -> InputValue {
    InputValue::new("revision", TypeRef::named(TypeRef::INT))
        .description("The revision you read; refused with `stale` if somebody saved since.")
}

fn revision_arg(args: &ObjectAccessor<'_>) -> GqlResult<Option<i32>> {
    given(args, "revision")
        .map(|v| {
            v.i64()
                .ok()
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| invalid_field("revision", "invalid_type", "expected a revision number"))
        })
        .transpose()
}

/// The arguments of an update, as REST's `EntryWrite`.
struct Change {
    data: Option<Map<String, serde_json::Value>>,
    slug: Option<Slug>,
    status: Option<EntryStatus>,
    publish_at: Option<Option<DateTime<Utc>>>,
    unpublish_at: Option<Option<DateTime<Utc>>>,
    revision: Option<i32>,
}

async fn update(rc: &Arc<ReqCtx>, t: &TypePlan, id: EntryId, w: Change) -> GqlResult<cit_store::Entry> {
    let write = rc.grant(Action::WriteContent)?;
    let current = rc
        .store
        .scoped(&write)
        .entry(t.ct.id.as_str(), EntryKey::Id(id), &EntryStatus::ALL)
        .await?
        .ok_or(GqlError::Api(ApiError::NotFound("entry")))?;
    let input = EntryInput {
        data: w.data,
        slug: w.slug,
        status: w.status,
        publish_at: w.publish_at,
        unpublish_at: w.unpublish_at,
        revision: w.revision,
        ..EntryInput::default()
    };
    let pending = input.plan_update(&current).map_err(refused)?;
    let access = if pending.action() == Action::WriteContent { write } else { rc.grant(pending.action())? };
    let change = pending.validate(&t.ct).map_err(refused)?;
    Ok(rc.store.scoped(&access).update_entry(&t.ct, change).await?)
}

/// `publishX` (status PUBLISHED, required fields enforced) or `unpublishX` (back to DRAFT).
pub(crate) fn publish_field(t: &Arc<TypePlan>, publish: bool) -> Field {
    let plan = t.clone();
    let name = if publish { format!("publish{}", t.name) } else { format!("unpublish{}", t.name) };
    Field::new(name, TypeRef::named_nn(t.name.clone()), move |ctx| {
        let plan = plan.clone();
        fallible(Some(plan.clone()), async move {
            let rc = root(&ctx)?;
            let id = entry_id(&ctx.args)?;
            let change = Change {
                data: None,
                slug: None,
                status: Some(if publish { EntryStatus::Published } else { EntryStatus::Draft }),
                publish_at: None,
                unpublish_at: None,
                revision: revision_arg(&ctx.args)?,
            };
            update(rc, &plan, id, change).await.map(|e| done(rc, e))
        })
    })
    .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)).description("The entry's id."))
    .argument(revision_input())
    .description(if publish {
        format!("Publish {} now (every required field must have a value). Needs the right to publish.", t.ct.singular)
    } else {
        format!("Take {} back to draft. Needs the right to publish.", t.ct.singular)
    })
}

pub(crate) fn delete_field(t: &Arc<TypePlan>) -> Field {
    let plan = t.clone();
    Field::new(format!("delete{}", t.name), TypeRef::named_nn(TypeRef::ID), move |ctx| {
        let plan = plan.clone();
        fallible(Some(plan.clone()), async move {
            let rc = root(&ctx)?;
            let id = entry_id(&ctx.args)?;
            let access = rc.grant(Action::PublishContent)?;
            rc.store.scoped(&access).delete_entry(plan.ct.id.as_str(), id).await?;
            Ok(Some(FieldValue::value(Value::String(id.to_string()))))
        })
    })
    .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)).description("The entry's id."))
    .description(format!("Delete {} and its revisions (editors and admins). Answers its id.", t.ct.singular))
}
