//! The query language of reads: `filter[field][op]=value`, `sort`, `fields`, `status`, and
//! how they become a typed list query.

use std::collections::HashSet;

use actix_web::HttpRequest;
use chrono::{DateTime, Utc};
use cit_core::Action;
use cit_core::content::ContentType;
use cit_store::{EntryStatus, Filter, FilterValue, Op, SortKey, SysField, Target, Tenant, ValueType};
use utoipa::IntoParams;

use crate::error::{ApiError, ApiResult};
use crate::http_cache::Cacheability;

/// Query parameters of reads. Filters are `filter[field][op]=value` (ops: eq, ne, lt, lte, gt,
/// gte, in (comma-separated), contains, starts_with, null (true/false)); see the README.
#[derive(Debug, Default, IntoParams)]
pub struct ReadParams {
    /// Comma-separated sort keys, `-` for descending: `-published_at,title`. Default `-published_at`.
    pub sort: Option<String>,
    /// Comma-separated data fields to return (others are left out of `data`).
    pub fields: Option<String>,
    /// Only entries in this locale (default: the tenant's first locale).
    pub locale: Option<String>,
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// published (default), draft, archived, or any; comma-separated. Other than published
    /// needs a preview token or an editor.
    pub status: Option<String>,
    /// Comma-separated reference fields to embed, resolved in one query.
    pub expand: Option<String>,
}

pub(super) fn bad_query(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::BadRequest { code: "invalid_query", detail: format!("{field}: {}", message.into()) }
}

pub(super) struct Parsed {
    pub(super) params: ReadParams,
    pub(super) filters: Vec<(String, String, String)>,
}

pub(super) fn parse_query(req: &HttpRequest) -> ApiResult<Parsed> {
    let mut params = ReadParams::default();
    let mut filters = Vec::new();
    for (key, value) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
        let value = value.into_owned();
        match key.as_ref() {
            "sort" => params.sort = Some(value),
            "fields" => params.fields = Some(value),
            "locale" => params.locale = Some(value),
            "limit" => params.limit = Some(value.parse().map_err(|_| bad_query("limit", "a number from 1 to 100"))?),
            "cursor" => params.cursor = Some(value),
            "status" => params.status = Some(value),
            "expand" => params.expand = Some(value),
            k if k.starts_with("filter[") => {
                let inner = k
                    .strip_prefix("filter[")
                    .and_then(|r| r.strip_suffix(']'))
                    .ok_or_else(|| bad_query(k, "write filter[field][op]=value"))?;
                let (field, op) = match inner.split_once("][") {
                    Some((f, o)) => (f.to_owned(), o.to_owned()),
                    None => (inner.to_owned(), "eq".to_owned()),
                };
                filters.push((field, op, value));
            }
            other => return Err(bad_query(other, "unknown parameter")),
        }
    }
    Ok(Parsed { params, filters })
}

fn target(ct: &ContentType, name: &str) -> ApiResult<Target> {
    if let Some(sys) = SysField::parse(name) {
        return Ok(Target::Sys(sys));
    }
    let field = ct.field(name).ok_or_else(|| bad_query(name, format!("{} has no field {name}", ct.id)))?;
    let vt = ValueType::of(field).ok_or_else(|| bad_query(name, "this field cannot be filtered or sorted"))?;
    Ok(Target::Data(field.name.clone(), vt))
}

fn scalar(vt: ValueType, raw: &str, name: &str) -> ApiResult<FilterValue> {
    Ok(match vt {
        ValueType::Text | ValueType::Array => FilterValue::Text(raw.to_owned()),
        ValueType::Number => FilterValue::Number(raw.parse().map_err(|_| bad_query(name, "expected a number"))?),
        ValueType::Bool => FilterValue::Bool(raw.parse().map_err(|_| bad_query(name, "expected true or false"))?),
        ValueType::Time => FilterValue::Time(
            DateTime::parse_from_rfc3339(raw)
                .map_err(|_| bad_query(name, "expected an RFC 3339 date-time"))?
                .with_timezone(&Utc),
        ),
        ValueType::Uuid => FilterValue::Uuid(raw.parse().map_err(|_| bad_query(name, "expected an id"))?),
    })
}

pub(super) fn parse_filter(ct: &ContentType, field: &str, op: &str, raw: &str) -> ApiResult<Filter> {
    let name = format!("filter[{field}][{op}]");
    let target = target(ct, field)?;
    let op = Op::parse(op).ok_or_else(|| bad_query(&name, "unknown operator"))?;
    let vt = target.value_type();
    let allowed = match vt {
        ValueType::Array => matches!(op, Op::Contains | Op::Null),
        ValueType::Bool => matches!(op, Op::Eq | Op::Ne | Op::Null),
        ValueType::Text => true,
        ValueType::Number | ValueType::Time | ValueType::Uuid => !matches!(op, Op::Contains | Op::StartsWith),
    };
    if !allowed {
        return Err(bad_query(&name, "this operator does not apply to this field"));
    }
    let value = match op {
        Op::Null => FilterValue::Bool(raw.parse().map_err(|_| bad_query(&name, "expected true or false"))?),
        Op::In => FilterValue::List(raw.split(',').map(|v| scalar(vt, v.trim(), &name)).collect::<ApiResult<_>>()?),
        _ => scalar(vt, raw, &name)?,
    };
    Ok(Filter { target, op, value })
}

pub(super) fn parse_sort(ct: &ContentType, raw: Option<&str>) -> ApiResult<Vec<SortKey>> {
    let raw = raw.unwrap_or("-published_at");
    let mut keys = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (desc, name) = match part.strip_prefix('-') {
            Some(n) => (true, n),
            None => (false, part),
        };
        let t = target(ct, name)?;
        if matches!(t.value_type(), ValueType::Array | ValueType::Bool) {
            return Err(bad_query("sort", format!("cannot sort by {name}")));
        }
        keys.push(SortKey { target: t, desc });
    }
    Ok(keys)
}

pub(super) fn parse_statuses(raw: Option<&str>) -> ApiResult<Vec<EntryStatus>> {
    match raw {
        None => Ok(vec![EntryStatus::Published]),
        Some("any") => Ok(EntryStatus::ALL.to_vec()),
        Some(raw_list) => raw_list
            .split(',')
            .map(|s| {
                EntryStatus::parse(s.trim()).ok_or_else(|| bad_query("status", "published, draft, archived or any"))
            })
            .collect(),
    }
}

pub(super) fn read_action(statuses: &[EntryStatus]) -> Action {
    if statuses.iter().all(|s| *s == EntryStatus::Published) { Action::ReadPublished } else { Action::ReadDrafts }
}

pub(super) fn cacheability(tenant: &Tenant, statuses: &[EntryStatus]) -> Cacheability {
    if tenant.public_read && statuses == [EntryStatus::Published] {
        Cacheability::Public
    } else {
        Cacheability::Private
    }
}

pub(super) fn field_set(raw: Option<&str>) -> Option<HashSet<String>> {
    raw.map(|r| r.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
}
