//! Inputs: typed filters, sort enums and the data input of mutations.

use async_graphql::dynamic::{Enum, EnumItem, InputObject, InputValue, TypeRef};
use cit_core::content::FieldKind;

use super::super::plan::{FieldPlan, Shape, TypePlan};
use super::*;

/// The filter input type of a data field, if it can be filtered.
pub(crate) fn filter_type(f: &FieldPlan) -> Option<String> {
    Some(match &f.shape {
        Shape::Text | Shape::Richtext => "StringFilter".into(),
        Shape::Int => "IntFilter".into(),
        Shape::Float => "FloatFilter".into(),
        Shape::Bool => "BooleanFilter".into(),
        Shape::Date => "DateFilter".into(),
        Shape::DateTime => "DateTimeFilter".into(),
        Shape::Enum(e) => e.filter_name(),
        Shape::Media | Shape::Reference { many: false, .. } => "ReferenceFilter".into(),
        Shape::Reference { many: true, .. } => "ReferencesFilter".into(),
        Shape::Tags => "ListFilter".into(),
        Shape::Geopoint | Shape::Json => return None,
    })
}

pub(super) fn filter_input(t: &TypePlan) -> InputObject {
    let mut i = InputObject::new(format!("{}Filter", t.name))
        .description(format!("Conditions on {}; all given must hold.", t.ct.plural))
        .field(InputValue::new("id", TypeRef::named("IDFilter")))
        .field(InputValue::new("slug", TypeRef::named("StringFilter")))
        .field(InputValue::new("createdAt", TypeRef::named("DateTimeFilter")))
        .field(InputValue::new("updatedAt", TypeRef::named("DateTimeFilter")))
        .field(InputValue::new("publishedAt", TypeRef::named("DateTimeFilter")));
    for f in &t.fields {
        if let Some(ty) = filter_type(f) {
            i = i.field(InputValue::new(f.gql.clone(), TypeRef::named(ty)).description(f.field.label.clone()));
        }
    }
    i
}

pub(super) fn sort_enum(t: &TypePlan) -> Enum {
    let mut e = Enum::new(format!("{}Sort", t.name))
        .description(format!("Orders of {}. Entries without a value come last; ties are broken by id.", t.ct.plural));
    for (name, _, _) in &t.sorts {
        e = e.item(EnumItem::new(name.clone()));
    }
    e
}

/// The GraphQL type of a data field, as written.
pub(crate) fn input_type(f: &FieldPlan) -> TypeRef {
    match &f.shape {
        Shape::Text | Shape::Richtext => TypeRef::named(TypeRef::STRING),
        Shape::Int => TypeRef::named(TypeRef::INT),
        Shape::Float => TypeRef::named(TypeRef::FLOAT),
        Shape::Bool => TypeRef::named(TypeRef::BOOLEAN),
        Shape::Date => TypeRef::named("Date"),
        Shape::DateTime => TypeRef::named("DateTime"),
        Shape::Enum(e) => TypeRef::named(e.name.clone()),
        Shape::Media | Shape::Reference { many: false, .. } => TypeRef::named(TypeRef::ID),
        Shape::Reference { many: true, .. } => TypeRef::named_nn_list(TypeRef::ID),
        Shape::Tags => TypeRef::named_nn_list(TypeRef::STRING),
        Shape::Geopoint => TypeRef::named("GeopointInput"),
        Shape::Json => TypeRef::named("JSON"),
    }
}

pub(super) fn data_input(t: &TypePlan) -> InputObject {
    let mut i = InputObject::new(format!("{}Input", t.name)).description(format!(
        "The data of {} {}. Drafts may leave required fields out; publishing needs them. On update, only the fields given change, and null clears one.",
        if t.ct.singular.starts_with(['A', 'E', 'I', 'O', 'U']) { "an" } else { "a" },
        t.ct.singular
    ));
    for f in &t.fields {
        let mut d = describe(f);
        if matches!(f.field.kind, FieldKind::Richtext) {
            d.push_str(" Markdown.");
        }
        i = i.field(InputValue::new(f.gql.clone(), input_type(f)).description(d));
    }
    i
}
